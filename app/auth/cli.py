"""`flask users create` and `flask users set-password`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.audit.recorder import acting_as
from app.auth import services
from app.auth.roles import Role
from app.errors import DomainError

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
@click.option("--time-zone", default="UTC", show_default=True)
@click.password_option("--password", help="Prompted for when not given.")
def create_user(email: str, role: str, name: str | None, time_zone: str, password: str) -> None:
    """Create a user account."""
    with acting_as("cli"):
        try:
            user = services.create_user(email=email, name=name or email.split("@")[0], role=role,
                                        password=password, time_zone=time_zone)
        except DomainError as error:
            raise click.ClickException(error.message) from None
    click.echo(f"Created {user.email} ({user.role.value}).")


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.password_option("--password", help="Prompted for when not given.")
def set_password(email: str, password: str) -> None:
    """Set a user's password."""
    with acting_as("cli"):
        user = services.find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with email {email}.")
        try:
            services.set_password(user, password)
        except DomainError as error:
            raise click.ClickException(error.message) from None
    click.echo(f"Password set for {user.email}.")
