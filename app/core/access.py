"""The one way a view says who may use it, and the one place that enforces it.

Every view carries an ``access`` declaration set by :func:`allow`. A single
``before_request`` hook enforces it, and create_app refuses to start if any
view lacks one, so a forgotten decorator cannot become an open door.
"""
from __future__ import annotations

from enum import StrEnum
from functools import wraps
from typing import Callable

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from .errors import wants_json
from ..extensions import login_manager


class Role(StrEnum):
    LEARNER = "learner"   # new hire / trainee: courses, exams, drills
    TRAINER = "trainer"   # authoring, assignments, reviews (the QA inspector's job)
    HR = "hr"             # certification records
    ADMIN = "admin"       # user administration


ALL_ROLES = frozenset(Role)
PUBLIC = "public"                  # anyone, logged in or not
AUTHENTICATED = "authenticated"    # any logged-in user, whatever their roles

# Framework endpoints that serve files, not pages.
_EXEMPT_SUFFIXES = ("static",)
# Reachable while a password change is forced, so the user can do it (or leave).
_ALLOWED_DURING_PASSWORD_CHANGE = {"accounts.change_password", "accounts.logout", "core.set_language"}


def allow(*roles: Role | str) -> Callable:
    """Declare who may use a view: ``@allow(PUBLIC)``, ``@allow(AUTHENTICATED)`` or roles."""
    if not roles:
        raise ValueError("allow() needs PUBLIC, AUTHENTICATED or at least one role")
    if len(roles) == 1 and roles[0] in (PUBLIC, AUTHENTICATED):
        access: str | frozenset[Role] = roles[0]  # type: ignore[assignment]
    else:
        access = frozenset(Role(r) for r in roles)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)
        wrapper.access = access  # type: ignore[attr-defined]
        return wrapper
    return decorate


def access_of(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def _is_exempt(endpoint: str) -> bool:
    return endpoint.split(".")[-1] in _EXEMPT_SUFFIXES


def check_declarations(app: Flask) -> None:
    """Refuse to start when a view has no access declaration."""
    missing = [ep for ep in app.view_functions if not _is_exempt(ep) and access_of(app, ep) is None]
    if missing:
        raise RuntimeError(f"views without an @allow(...) declaration: {sorted(missing)}")


def enforce_access():
    endpoint = request.endpoint
    if endpoint is None or _is_exempt(endpoint):
        return None  # unknown URL → 404 handler; static files are public
    access = access_of(current_app, endpoint)
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            # A script cannot follow a redirect to the login page; it needs to be told to log in.
            abort(401)
        return login_manager.unauthorized()
    if access != AUTHENTICATED and not current_user.role_set & access:  # type: ignore[operator]
        abort(403)
    if current_user.must_change_password and endpoint not in _ALLOWED_DURING_PASSWORD_CHANGE:
        if request.method == "GET" and not request.is_json:
            return redirect(url_for("accounts.change_password", next=request.full_path))
        abort(403)
    return None


def has_role(user, *roles: Role | str) -> bool:
    """For templates and services: does this user hold any of these roles?"""
    return bool(getattr(user, "is_authenticated", False)) and bool(user.role_set & {Role(r) for r in roles})
