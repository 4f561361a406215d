"""`trialdesk status`: where the trial stands today and what needs doing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption, ProtocolOption, open_desk, when

if TYPE_CHECKING:
    from trialdesk.trial.clock import Clock
    from trialdesk.trial.desk_status import DeskStatus


FOLLOWED = ("following", "awaiting_adjudication")
"""Standings whose DLT window is still watched (a withdrawn or replaced patient's is not)."""


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Current level and cohort, open DLT windows, infusions due, SAE clocks, pending
    adjudications and decisions."""
    from trialdesk.cli.decision_cmd import decision_line
    from trialdesk.trial.desk_status import desk_status
    from trialdesk.trial.signatures import manifest, signed_decisions

    with open_desk(database_url, protocol) as desk:
        found = desk_status(desk.session, desk.ctx)
        signed = [(decision_line(row), manifest(row)) for row in signed_decisions(desk.session)]
        if as_json:
            data = to_json(found)
            data["signed_decisions"] = [{"decision": d, "signature": m} for d, m in signed]
            text = json.dumps(data, ensure_ascii=False, indent=2)
        else:
            lines = render(found, desk.clock)
            lines.append(f"signed decisions: {len(signed)}")
            lines += [f"  {decision}\n    {signature}" for decision, signature in signed]
            text = "\n".join(lines)
    typer.echo(text)


def to_json(found: DeskStatus) -> dict[str, object]:
    """The status as JSON-ready data (dates and times ISO 8601)."""

    def plain(value: object) -> object:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    data = plain(dataclasses.asdict(found))
    assert isinstance(data, dict)
    return data


def render(found: DeskStatus, clock: Clock) -> list[str]:
    """The status as lines of text for a terminal."""
    s = found.summary
    lines = [f"{s.protocol_id} as of {s.as_of}"]
    if s.current_cohort is None:
        lines.append("no patient enrolled yet")
    else:
        limit = f" of at most {s.max_sample_size}" if s.max_sample_size else ""
        lines.append(
            f"current: cohort {s.current_cohort} at level {s.current_level}; "
            f"{s.enrolled} enrolled{limit}"
        )
    for level in s.levels:
        if level.treated or level.pending:
            lines.append(
                f"  level {level.level}: {level.treated} treated, {level.dlts} with DLT, "
                f"{level.pending} pending"
            )
    if s.stopped:
        mtd = f"MTD level {s.mtd_level}" if s.mtd_level else "no MTD"
        lines.append(f"STOPPED ({mtd}): {s.stop_reason}")
    elif s.next_level is not None:
        lines.append(f"next patient: level {s.next_level}, cohort {s.next_cohort}")
    else:
        lines.append(f"enrolment blocked ({s.interlock}): {s.enrolment_blocked}")
    lines.append("")
    windows = [p for p in s.patients if p.window_open and p.standing in FOLLOWED]
    lines.append(f"open DLT windows: {len(windows)}")
    for p in windows:
        lines.append(
            f"  {p.study_id} (level {p.level}, cohort {p.cohort}): day {p.window_day}, "
            f"{p.days_left} day(s) left, ends {p.window_end}"
        )
    lines.append(f"infusions due or overdue: {len(found.infusions)}")
    for due in found.infusions:
        lines.append(
            f"  {due.study_id} infusion {due.number}: {due.state.upper()} "
            f"(window {due.earliest} to {due.latest})"
        )
    lines.append(f"SAE reports open: {len(found.sae_clocks)}")
    for sae in found.sae_clocks:
        lines.append(
            f"  adverse event #{sae.adverse_event_id} {sae.study_id} {sae.term} grade "
            f"{sae.grade}: {sae.state.upper()}, due by {when(sae.due_at, clock)} "
            f"({sae.hours_left:g} h left)"
        )
    lines.append(f"candidate DLTs to adjudicate: {len(found.adjudications)}")
    for item in found.adjudications:
        lines.append(
            f"  #{item.assessment_id} {item.study_id}: {item.term} grade {item.grade}, onset "
            f"{item.onset_date}"
        )
    if s.unsigned_decisions:
        ids = ", ".join(f"#{i}" for i in s.unsigned_decisions)
        lines.append(f"decisions to sign: {ids}")
    elif s.decision_ready:
        lines.append(f"decision ready to compute: {s.decision_reason}")
    elif s.current_cohort is not None and not s.stopped:
        lines.append(f"no decision yet: {s.decision_reason}")
    return lines
