"""`trialdesk screen --replay ID`: re-run a stored screening and prove it gives the same result.

The stored input text, screening date and protocol text are used, not the current files. Exit
0 when the result is reproduced exactly; 1 when it differs (the message says whether the
software version changed since); 2 for a bad id or database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import typer

REPRODUCED: Final = 0
DIFFERS: Final = 1

WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "header": "screening #{id}: screening date {date}, by {by} at {at}, input {format}, "
        "protocol sha256 {sha}..., trialdesk {version}",
        "same": "reproduced exactly: the result is identical to the stored one{note}",
        "versions": " (stored with trialdesk {stored}, replayed with {now})",
        "differs": "NOT reproduced: the replayed result differs from the stored one in "
        "{criteria}; {cause}. The stored result remains the record of the screening of {day}.",
        "changed": "the software changed since: stored with trialdesk {stored}, "
        "replayed with {now}",
        "defect": "with the same trialdesk {now}; this should never happen: please report it "
        "with the screening id",
    },
    "zh": {
        "header": "筛选 #{id}：筛选日期 {date}，由 {by} 于 {at} 完成，输入格式 {format}，"
        "方案 sha256 {sha}…，trialdesk {version}",
        "same": "完全重现：结果与存储的结果一致{note}",
        "versions": "（存储时为 trialdesk {stored}，重现时为 {now}）",
        "differs": "未能重现：重现的结果与存储的结果在 {criteria} 上不同；{cause}。"
        "存储的结果仍是 {day} 筛选的记录。",
        "changed": "软件已更新：存储时为 trialdesk {stored}，重现时为 {now}",
        "defect": "软件版本相同（trialdesk {now}），这不应发生：请连同筛选编号报告此问题",
    },
}


def replay_screening(
    screening_id: int, *, database_url: str | None, as_json: bool, lang: str
) -> int:
    """Replay screening ``screening_id``; print the result (the checklist, or JSON as
    ``trialdesk screen --json`` prints it) and the comparison with the stored result; return
    the exit code."""
    from trialdesk.cli.screen_checklist import render_checklist_data
    from trialdesk.errors import TrialdeskError
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision
    from trialdesk.store.session import unit_of_work
    from trialdesk.trial.screening import replay_screening as rerun

    url = resolve(database_url)
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            raise TrialdeskError(
                f"{engine.url.render_as_string(hide_password=True)} has no trialdesk schema, "
                "so it holds no screenings; give the database the screening was stored in",
                field="--database-url",
            )
        with unit_of_work(engine) as session:
            outcome = rerun(session, screening_id)
    finally:
        engine.dispose()
    stored = outcome.screening
    words = WORDS["zh" if lang == "zh" else "en"]
    if as_json:
        typer.echo(json.dumps(outcome.replayed.result, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            words["header"].format(
                id=stored.id,
                date=stored.screening_date.isoformat(),
                by=stored.screened_by,
                at=stored.screened_at.isoformat(timespec="seconds"),
                format=stored.input_format,
                sha=stored.protocol_sha256[:12],
                version=stored.software_version,
            )
        )
        typer.echo(
            render_checklist_data(outcome.replayed.result, outcome.protocol.protocol, lang=lang)
        )
    versions = {"stored": stored.software_version, "now": outcome.software_version}
    if outcome.identical:
        note = words["versions"].format(**versions) if outcome.software_changed else ""
        typer.echo(words["same"].format(note=note), err=as_json)
        return REPRODUCED
    cause = words["changed" if outcome.software_changed else "defect"].format(**versions)
    typer.secho(
        words["differs"].format(
            criteria=", ".join(outcome.changed_criteria()) or "-",
            cause=cause,
            day=stored.screened_at.date().isoformat(),
        ),
        err=True,
        fg=typer.colors.RED,
    )
    return DIFFERS


def refuse_with_replay(*, file: Path | None, date: str | None, protocol: str) -> None:
    """A replay uses what was stored; a FILE, --date or --protocol given with it is a mistake."""
    from trialdesk.errors import TrialdeskError

    for given, option in ((file, "FILE"), (date, "--date"), (protocol != "builtin", "--protocol")):
        if given:
            raise TrialdeskError(
                "--replay re-runs the stored input, screening date and protocol text; "
                f"leave out {option}",
                field=option,
            )
