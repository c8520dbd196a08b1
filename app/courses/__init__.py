from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..content.services import register_syncer
    from ..core import events
    from ..core.home import HomePanel, register_home_panel
    from ..core.nav import NavItem, register_nav
    from . import services
    from .views import announce_completion, bp, continue_panel

    app.register_blueprint(bp)
    from ..core.progress import COURSES, register_progress_source
    from .progress import course_progress
    register_progress_source(app, COURSES, course_progress)  # the gradebook's and roster's batched evidence
    register_nav(app,
                 NavItem("courses.dashboard", _l("My learning"), (Role.LEARNER,), "learn"),
                 NavItem("courses.catalog", _l("Courses"), (Role.LEARNER,), "learn"))
    register_syncer(app, order=20, name="courses", syncer=services.sync_courses)
    events.exam_attempt_graded.connect(services.on_exam_attempt_graded)
    events.course_completed.connect(announce_completion)
    register_home_panel(app, HomePanel("continue", _l("Continue where you left off"), (Role.LEARNER,), 10,
                                       continue_panel))
