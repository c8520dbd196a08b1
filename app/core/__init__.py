from flask_babel import lazy_gettext as _l


def init_app(app):
    from . import inputs
    inputs.init_app(app)  # first: the <int:> converter applies only to routes added after it
    from . import limits
    from .access import Role
    from .home import HomePanel, register_home_panel
    from .views import bp, system_panel
    limits.init_app(app)
    app.register_blueprint(bp)
    register_home_panel(app, HomePanel("system", _l("System state"), (Role.ADMIN,), 10, system_panel))
