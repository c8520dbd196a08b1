from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..content.services import register_syncer
    from ..core import events
    from ..core.nav import NavItem, register_nav
    from . import services
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app,
                 NavItem("courses.dashboard", _l("My learning"), (Role.LEARNER,), "learn"),
                 NavItem("courses.catalog", _l("Courses"), (Role.LEARNER,), "learn"))
    register_syncer(app, order=20, name="courses", syncer=services.sync_courses)
    events.exam_attempt_graded.connect(services.on_exam_attempt_graded)
