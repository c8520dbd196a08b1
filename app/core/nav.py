"""Navigation: each domain registers its own entries with the roles that see them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import LazyString

from .access import Role, has_role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString
    roles: tuple[Role, ...]
    section: str  # groups items in the header: learn | train | records | admin


def register_nav(app, *items: NavItem) -> None:
    app.extensions.setdefault("academy_nav", []).extend(items)


def nav_for(user) -> list[NavItem]:
    items = current_app.extensions.get("academy_nav", [])
    return [item for item in items if has_role(user, *item.roles)]
