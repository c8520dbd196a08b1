"""Home dashboards: each domain registers the panels it shows on the home page, with the roles
that see them (like app.core.nav), so core imports no domain.

A panel's ``build(user)`` returns the panel's body, rendered from the domain's own template. It
must only read (the home page is a GET): bounded queries, no query per learner, no writes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app
from flask_babel import LazyString, lazy_gettext as _l
from markupsafe import Markup

from .access import Role

# The order the groups appear in for someone with several roles, and each group's heading.
ROLE_GROUPS: dict[Role, LazyString] = {
    Role.LEARNER: _l("My learning"),
    Role.TRAINER: _l("Training"),
    Role.HR: _l("Certification records"),
    Role.ADMIN: _l("Administration"),
}


@dataclass(frozen=True)
class HomePanel:
    key: str                        # unique; the panel's element id is "panel-<key>"
    title: LazyString
    roles: tuple[Role, ...]
    order: int                      # lower first, within the role's group
    build: Callable[..., str]       # build(user) -> the panel's body (HTML rendered from a template)


@dataclass
class ShownPanel:
    key: str
    title: str
    body: Markup


@dataclass
class HomeGroup:
    role: Role
    label: str
    panels: list[ShownPanel]


def register_home_panel(app, *panels: HomePanel) -> None:
    registered = app.extensions.setdefault("academy_home_panels", [])
    keys = {panel.key for panel in registered}
    for panel in panels:
        if panel.key in keys:
            raise ValueError(f"home panel {panel.key!r} registered twice")
        keys.add(panel.key)
        registered.append(panel)


def panels_for(user) -> list[tuple[Role, list[HomePanel]]]:
    """The panels each of the user's roles sees, grouped by role (in ROLE_GROUPS order). A panel
    meant for several roles the user holds is shown once, in the first of those groups."""
    registered = current_app.extensions.get("academy_home_panels", [])
    roles = getattr(user, "role_set", set())
    shown: set[str] = set()
    groups = []
    for role in ROLE_GROUPS:
        if role not in roles:
            continue
        mine = sorted((p for p in registered if role in p.roles and p.key not in shown),
                      key=lambda p: (p.order, p.key))
        shown.update(p.key for p in mine)
        if mine:
            groups.append((role, mine))
    return groups


def home_groups(user) -> list[HomeGroup]:
    return [HomeGroup(role, str(ROLE_GROUPS[role]),
                      [ShownPanel(panel.key, str(panel.title), Markup(panel.build(user))) for panel in panels])
            for role, panels in panels_for(user)]
