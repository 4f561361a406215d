"""`trialdesk demo`: a living trial desk in one command, on a new database.

Seeds a synthetic NCT06021067 trial in progress (two dose levels, one confirmed DLT, DLT
windows open, an infusion due today, a screen failure, contact requests) through the same
use-cases as the desk, then prints one login per role with a password made for this database.
"""

from __future__ import annotations

from typing import Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption, ProtocolOption, options_named

DEFAULT_DEMO_DATABASE = "sqlite:///trialdesk-demo.sqlite3"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
    quiet: Annotated[bool, typer.Option(help="Print only the logins.")] = False,
) -> None:
    """Seed a demo trial in progress on a new, empty database and print the demo logins."""
    typer.echo(seed_and_describe(database_url or DEFAULT_DEMO_DATABASE, protocol, quiet=quiet))


def seed_and_describe(database_url: str, protocol: str, *, quiet: bool = False) -> str:
    """Seed ``database_url`` (brought to the latest schema first) and say what was made."""
    from datetime import UTC, datetime
    from pathlib import Path

    from trialdesk.protocol import load_protocol
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import upgrade_to_head
    from trialdesk.store.session import unit_of_work
    from trialdesk.trial.demo_seed import seed_demo

    loaded = load_protocol(None if protocol == "builtin" else Path(protocol))
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
        with options_named({"database_url": "--database-url"}), unit_of_work(engine) as session:
            seeded = seed_demo(session, loaded, datetime.now(UTC))
        shown = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    width = max(len(login.username) for login in seeded.logins)
    logins = [
        f"  {login.username:<{width}}  {login.password}  ({login.role}: {login.printed_name})"
        for login in seeded.logins
    ]
    if quiet:
        return "\n".join(logins)
    levels = ", ".join(
        f"level {level}: {' '.join(ids)}" for level, ids in sorted(seeded.enrolled.items())
    )
    lines = [
        f"demo trial {loaded.protocol.id} seeded on {shown}",
        f"  started {seeded.started_on.isoformat()}, today {seeded.today.isoformat()}",
        f"  enrolled {levels}",
        f"  confirmed DLT: {', '.join(seeded.dlt_study_ids)} (DLT windows of level 2 open)",
        f"  screen failures: {seeded.screen_failed}; pre-screen contacts waiting: "
        f"{seeded.waiting_contacts}; public contact requests: {seeded.public_requests}",
        "logins (user name, password, role) - synthetic data, for trying the desk only:",
        *logins,
        f"start it: trialdesk serve --database-url {shown}",
    ]
    return "\n".join(lines)
