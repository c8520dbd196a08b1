"""Exams: course quizzes and certification exams, attempts with a server-side clock, results
and item statistics for trainers."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..content.services import register_syncer
    from ..core.nav import NavItem, register_nav
    from .cli import exams_cli
    from .services import sync_exams
    from .views import bp

    app.register_blueprint(bp)
    from ..core.progress import EXAMS, register_progress_source
    from .progress import exam_progress
    register_progress_source(app, EXAMS, exam_progress)  # the gradebook's and roster's batched evidence
    app.cli.add_command(exams_cli)
    register_syncer(app, order=10, name="exams", syncer=sync_exams)
    register_nav(app,
                 NavItem("exams.index", _l("Exams"), (Role.LEARNER, Role.TRAINER), "learn"),
                 NavItem("exams.stats", _l("Exam statistics"), (Role.TRAINER,), "train"))
