"""Authoring for trainers: role-play scenarios and question banks in the browser, with validation,
a graph diagram, preview audio, "try a reply", publishing as new versions, and YAML export/import."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401
    from .views import bp

    app.register_blueprint(bp)
    register_nav(app, NavItem("authoring.index", _l("Authoring"), (Role.TRAINER,), "train"))
