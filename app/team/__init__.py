"""The team gradebook (/team): one row per learner with their evidence, for trainers and HR."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..core.nav import NavItem, register_nav
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, NavItem("team.gradebook", _l("Gradebook"), (Role.TRAINER, Role.HR), "records"))
