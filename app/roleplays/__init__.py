import os

from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..content.services import register_syncer
    from ..core.startup import register_startup_task
    from ..core.nav import NavItem, register_nav
    from . import services
    from .cli import roleplay_cli
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(roleplay_cli)
    register_nav(app, NavItem("roleplays.index", _l("Role-plays"), (Role.LEARNER,), "learn"))
    register_syncer(app, order=30, name="roleplays", syncer=services.sync_roleplays)
    # Embedded mode (no queue): replies a crash left half-graded are graded when the server starts.
    register_startup_task(app, "roleplays: recover interrupted grading", services.recover_interrupted)
    app.config.setdefault("RECORDINGS_PENDING_MAX_MB", float(os.environ.get("RECORDINGS_PENDING_MAX_MB", "50")))
    app.config.setdefault("RECOVER_ON_START_SECONDS", float(os.environ.get("RECOVER_ON_START_SECONDS", "60")))

    def rule_label(item):
        """{{ item|rule_label }} or {{ 'intent:apologise'|rule_label }}: never an internal rule name."""
        from ..core.i18n import content_language
        return services.label_of(item, content_language())
    app.add_template_filter(rule_label)

    def reply_percent(fraction) -> int:
        """A reply's share as the call screen shows it (drill.js: Math.round), so both agree."""
        return int(float(fraction) * 100 + 0.5)
    app.add_template_filter(reply_percent)
