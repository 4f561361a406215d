"""`trialdesk user add`: the people who record, adjudicate and sign."""

from __future__ import annotations

from typing import Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption, ProtocolOption, open_desk, password

app = typer.Typer(
    help="Users of the desk (who records, adjudicates and signs).", no_args_is_help=True
)

FIELDS = {
    "username": "USERNAME",
    "printed_name": "--name",
    "role": "--role",
    "password": "password",
}


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. dr.li.")],
    name: Annotated[
        str, typer.Option("--name", help='Printed name shown on signatures, e.g. "LI Ming, MD".')
    ],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="administrator, investigator, coordinator, monitor or dsmb (docs/roles.md).",
        ),
    ],
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="USERNAME",
            help="Who adds this user (an active user; leave out only for the very first user).",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Add a user; the password (at least 10 characters) is asked twice with hidden input, or
    taken from TRIALDESK_PASSWORD."""
    from trialdesk.trial.users import ROLES, add_user

    if role not in ROLES:
        from trialdesk.errors import TrialdeskError

        raise TrialdeskError(
            f"{role!r} is not a role; use one of {', '.join(ROLES)}", field="--role"
        )
    secret = password(confirm=True)
    with open_desk(database_url, protocol, FIELDS) as desk:
        user = add_user(
            desk.session,
            username=username,
            printed_name=name,
            role=role,
            password=secret,
            actor=actor,
            clock=desk.clock,
        )
    typer.echo(f"user {user.username} added: {user.printed_name}, {user.role}")
