"""Notifications: notices for one person made from the other domains' events (app.core.events), shown at
/notifications with an unread count in the header, optionally mailed (SMTP), and `flask notifications sweep`
for the time-based ones (due tomorrow, overdue, expiring, expired)."""


def init_app(app):
    from . import mail, models  # noqa: F401  (tables; the outbox's session hooks)
    from .cli import notifications_cli
    from .services import connect_receivers
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(notifications_cli)
    app.teardown_appcontext(mail.deliver_committed)
    connect_receivers()
