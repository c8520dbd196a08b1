"""The team gradebook (/team): one row per learner with their evidence, for trainers and HR."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..core.nav import NavItem, register_nav
    from ..core.i18n import content_language
    from .services import pick
    from .views import bp

    app.register_blueprint(bp)
    # Templates get a filter, not the services module: {{ titles|team_title }} in the content language.
    app.add_template_filter(lambda texts: pick(texts, content_language()), "team_title")
    register_nav(app, NavItem("team.gradebook", _l("Gradebook"), (Role.TRAINER, Role.HR), "records"))
