"""Certification: the 实习座席 → 座席 → 高级座席 → 专家座席 ladder, certificates, sign-offs, audit log."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..accounts.permissions import Role
    from ..content.services import register_syncer
    from ..core.nav import NavItem, register_nav
    from . import models  # noqa: F401  (tables and the append-only guard)
    from . import account_audit  # noqa: F401  (renames, role changes, password resets)
    from . import flags
    from .cli import cert_cli
    from .services import connect_receivers, sync_certification
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(cert_cli)
    register_nav(app,
                 NavItem("certification.mine", _l("My certification"), (Role.LEARNER,), "learn"),
                 NavItem("certification.roster", _l("Records"), (Role.HR,), "records"))
    register_syncer(app, 40, "certification", sync_certification)
    connect_receivers()
    flags.connect_receivers()
