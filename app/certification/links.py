"""Links to the evidence a certificate rests on and to the work still missing, in other domains' pages
(named by endpoint: this package imports none of them)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from werkzeug.routing import BuildError

from ..core.access import AUTHENTICATED, PUBLIC, access_of, has_role

# Where each kind of evidence (or of missing work) is shown, by endpoint of the owning domain.
EVIDENCE_ENDPOINTS = {
    "course": ("courses.course", "slug"),
    "exam_attempt": ("exams.result", "attempt_id"),
    "listen_type": ("exams.result", "attempt_id"),
    "roleplay_attempt": ("roleplays.report", "attempt_id"),
}


def viewer_may_open(endpoint: str) -> bool:
    """Whether the user of this request may open the endpoint (no links to pages that answer 403)."""
    access = access_of(current_app, endpoint)
    if access is None:
        return False
    if access == PUBLIC:
        return True
    if not current_user.is_authenticated:
        return False
    return access == AUTHENTICATED or has_role(current_user, *access)


def build_path(endpoint: str, *, for_viewer: bool = False, **values) -> str | None:
    """The path of an endpoint when it exists in this app (works without a request).

    for_viewer: only when the current user may open it."""
    if endpoint not in current_app.view_functions:
        return None
    if for_viewer and not viewer_may_open(endpoint):
        return None
    try:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    except BuildError:
        return None


def evidence_href(ref: dict, *, for_viewer: bool = False) -> str | None:
    target = EVIDENCE_ENDPOINTS.get(ref.get("kind"))
    if target is None:
        return None
    endpoint, argument = target
    return build_path(endpoint, for_viewer=for_viewer, **{argument: ref["id"]})


def with_hrefs(requirement: dict) -> dict:
    """An evaluated requirement (as a dict) with a link on each piece of evidence that has a page."""
    for ref in requirement["used"]:
        href = evidence_href(ref)
        if href:
            ref["href"] = href
    return requirement


def work_href(requirement: dict) -> str | None:
    """A link to the work that closes an unmet requirement (courses link each missing course instead)."""
    spec = requirement.get("spec", {})
    kind = requirement.get("kind")
    if kind == "exam_passed":
        return build_path("exams.start", for_viewer=True, slug=spec["exam"])
    if kind == "roleplay_passes":
        return build_path("roleplays.index", for_viewer=True)
    if kind == "listen_type":
        exam = requirement.get("exam")  # the level's certification exam holds the listen-and-type tasks
        return build_path("exams.start", for_viewer=True, slug=exam) if exam else None
    return None
