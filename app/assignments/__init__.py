"""Assignments: trainers give courses, exams and role-play drills to a cohort or to named learners, with a
due date; each learner's status is read from the real evidence (lessons, quiz and exam passes, drill passes)."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables)
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, NavItem("assignments.index", _l("Assignments"), (Role.TRAINER,), "train"))
