"""Reviews: trainers' queue of role-play attempts (newest, pending grading, failed, flagged), listening to
recordings, overriding automatic rubric verdicts with a comment, and how often trainers agree with each rule."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables)
    from .views import bp

    app.register_blueprint(bp)
    from ..roleplays.presenters import register_item_overrides
    from ..roleplays.sync import register_document_overlay
    from .lessons import overlay
    from .services import override_points
    register_document_overlay(app, overlay)
    register_item_overrides(app, override_points)  # every page shows items as trainers left them
    register_nav(app, NavItem("reviews.queue", _l("Reviews"), (Role.TRAINER,), "train"))
    from ..core.home import HomePanel, register_home_panel
    from . import home
    register_home_panel(
        app,
        HomePanel("flagged-calls", _l("Calls flagged for review"), (Role.TRAINER,), 10, home.flagged_panel),
        HomePanel("failed-rules", _l("Rules missed most this week"), (Role.TRAINER,), 30, home.failed_rules_panel),
        HomePanel("recent-calls", _l("Recent calls"), (Role.TRAINER,), 40, home.recent_panel),
        HomePanel("feedback", _l("Feedback from trainers"), (Role.LEARNER,), 40, home.feedback_panel))
