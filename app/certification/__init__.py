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
    from .evidence_sources import register_voice_languages
    from .operations import connect_receivers
    from .requirements import sync_certification
    from .views import bp

    app.register_blueprint(bp)
    _register_template_helpers(app)
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


def _register_template_helpers(app) -> None:
    """What pages (this domain's, the gradebook's) say about levels and certificates, as filters and
    globals: templates never receive a module to call into."""
    from ..core.clock import utcnow
    from . import flags, labels, links
    from .presenters import requirements_text

    def certificate_status(certificate) -> str:
        # As every reader sees it: an active certificate past its end date is expired.
        return certificate.status_at(utcnow())

    app.add_template_filter(labels.level_label, "level_label")
    app.add_template_filter(labels.status_label, "status_label")
    app.add_template_filter(labels.action_label, "action_label")
    app.add_template_filter(certificate_status, "certificate_status")
    app.add_template_filter(requirements_text, "requirements_text")
    app.add_template_filter(flags.kind_label, "evidence_flag_kind")
    app.add_template_global(labels.LEVELS, "certificate_levels")
    app.add_template_global(links.evidence_href, "evidence_href")
