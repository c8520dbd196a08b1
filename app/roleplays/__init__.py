from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..content.services import register_syncer
    from ..core.startup import register_startup_task
    from ..core.nav import NavItem, register_nav
    from . import presenters, recovery, sync
    from .cli import roleplay_cli
    from .views import bp

    app.register_blueprint(bp)
    from ..core.progress import DRILLS, register_progress_source
    from .progress import drill_progress
    register_progress_source(app, DRILLS, drill_progress)  # the gradebook's and roster's batched evidence
    app.cli.add_command(roleplay_cli)
    register_nav(app, NavItem("roleplays.index", _l("Role-plays"), (Role.LEARNER, Role.TRAINER), "learn"))
    register_syncer(app, order=30, name="roleplays", syncer=sync.sync_roleplays)
    from ..core.home import HomePanel, register_home_panel
    from .home import practice_panel
    register_home_panel(app, HomePanel("practice", _l("My practice"), (Role.LEARNER,), 15, practice_panel))
    # Embedded mode (no queue): replies a crash left half-graded are graded when the server starts.
    register_startup_task(app, "roleplays: recover interrupted grading", recovery.recover_interrupted)

    def rule_label(item):
        """{{ item|rule_label }} or {{ 'intent:apologise'|rule_label }}: never an internal rule name."""
        from ..core.i18n import content_language
        return presenters.label_of(item, content_language())
    app.add_template_filter(rule_label)

    # A reply's share as a whole percentage: the same function computes the call screen's "percent".
    app.add_template_filter(presenters.reply_percent, "reply_percent")
