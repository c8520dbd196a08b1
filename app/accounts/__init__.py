from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.nav import NavItem, register_nav
    from .cli import users_cli
    from ..core.access import Role
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    register_nav(app, NavItem("accounts.user_list", _l("Users"), (Role.ADMIN, Role.HR), "admin"))
    from ..core.home import HomePanel, register_home_panel
    from .views import imports_panel
    register_home_panel(app, HomePanel("user-imports", _l("Recent user imports"), (Role.ADMIN,), 40, imports_panel))
