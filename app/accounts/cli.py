import click
from flask.cli import AppGroup

from ..extensions import db
from . import services
from ..core.access import Role

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]),
              help="Role to grant; repeat for several.")
@click.option("--name", default=None, help="Full name (defaults to the username).")
@click.option("--email", default=None)
@click.option("--cohort", default=None)
@click.option("--password", default=None, help="Initial password; generated and printed when omitted.")
def create_command(username, roles, name, email, cohort, password):
    """Create USERNAME; the user must change the password at first login."""
    try:
        user, initial = services.create_user(username, name or username, roles, email=email, cohort=cohort,
                                             password=password)
    except services.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.username} ({', '.join(sorted(r.value for r in user.role_set))})")
    if not password:
        click.echo(f"initial password: {initial}")


@users_cli.command("unlock")
@click.argument("username")
def unlock_command(username):
    """Let USERNAME log in again: forget the failed logins counted against it, from every address."""
    user = services.find_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    services.unlock(user)
    db.session.commit()
    click.echo(f"unlocked {user.username}")
