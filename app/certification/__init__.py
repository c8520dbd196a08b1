"""Certification: the 实习座席 → 座席 → 高级座席 → 专家座席 ladder, certificates, sign-offs, audit log."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.access import Role
    from ..content.services import register_syncer
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables and the append-only guard)
    from . import account_audit  # noqa: F401  (renames, role changes, password resets)
    from . import flags
    from .cli import cert_cli
    from .services import connect_receivers, register_voice_languages, sync_certification
    from .views import bp

    app.register_blueprint(bp)
    from ..core.home import HomePanel, register_home_panel
    from . import home
    register_home_panel(
        app,
        HomePanel("next-certification", _l("My next certification step"), (Role.LEARNER,), 30,
                  home.next_requirement_panel),
        HomePanel("pending-certificates", _l("Certificates awaiting approval"), (Role.HR,), 10, home.pending_panel),
        HomePanel("expiring-certificates", _l("Certificates expiring in 30 days"), (Role.HR,), 20,
                  home.expiring_panel),
        HomePanel("cohort-levels", _l("Levels and pass rates per cohort"), (Role.HR,), 30, home.cohorts_panel))
    app.cli.add_command(cert_cli)
    register_nav(app,
                 NavItem("certification.mine", _l("My certification"), (Role.LEARNER,), "learn"),
                 NavItem("certification.roster", _l("Records"), (Role.HR,), "records"))
    register_syncer(app, 40, "certification", sync_certification)
    connect_receivers()
    from ..speechops.services import voice_languages
    register_voice_languages(app, voice_languages)  # which languages this server can grade by voice
    flags.connect_receivers()
    from . import notices
    notices.connect_receivers()  # expiring / expired, for `flask notifications sweep`
