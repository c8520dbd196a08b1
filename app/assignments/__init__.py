"""Assignments: trainers give courses, exams and role-play drills to a cohort or to named learners, with a
due date; each learner's status is read from the real evidence (lessons, quiz and exam passes, drill passes)."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..core.home import HomePanel, register_home_panel
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables)
    from .notices import connect_receivers
    from .views import assigned_panel, bp, overdue_panel

    app.register_blueprint(bp)
    register_nav(app, NavItem("assignments.index", _l("Assignments"), (Role.TRAINER,), "train"))
    register_home_panel(app,
                        HomePanel("assigned", _l("Assigned to me"), (Role.LEARNER,), 20, assigned_panel),
                        HomePanel("overdue", _l("Overdue assignments by cohort"), (Role.TRAINER,), 20, overdue_panel))
    connect_receivers()  # due tomorrow / overdue, for `flask notifications sweep`
    from ..roleplays.queries import register_assigned_drills
    from .services import assigned_drills
    register_assigned_drills(app, assigned_drills)  # the role-play library's "assigned to me, due …" badge
    from ..courses.views import register_assigned_work
    from .services import my_assignments
    register_assigned_work(app, my_assignments)  # the full list on 我的学习
