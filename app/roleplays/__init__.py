from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..content.services import register_syncer
    from ..core.nav import NavItem, register_nav
    from . import services
    from .cli import roleplay_cli
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(roleplay_cli)
    register_nav(app, NavItem("roleplays.index", _l("Role-plays"), (Role.LEARNER,), "learn"))
    register_syncer(app, order=30, name="roleplays", syncer=services.sync_roleplays)
