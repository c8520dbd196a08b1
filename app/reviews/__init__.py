"""Reviews: trainers' queue of role-play attempts (newest, pending grading, failed, flagged), listening to
recordings, overriding automatic rubric verdicts with a comment, and how often trainers agree with each rule."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables)
    from .views import bp

    app.register_blueprint(bp)
    from ..roleplays.services import register_document_overlay
    from .lessons import overlay
    register_document_overlay(app, overlay)
    register_nav(app, NavItem("reviews.queue", _l("Reviews"), (Role.TRAINER,), "train"))
