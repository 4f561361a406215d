"""Infusions of a running trial: schedule them, record each as given or missed, correct, void.

The schedule comes from the protocol (:mod:`trialdesk.trial.schedule`), the amount from the
enrolment's dose level and baseline weight (:mod:`trialdesk.trial.dosing`). An amount above the
assigned dose is refused. Every write is audited through :mod:`trialdesk.trial.records`.
Day 0 is the first infusion actually given: when it is given on another day than planned, the
infusions still scheduled move with it (audited, with that reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Administrations, Protocol
from trialdesk.store.models import Infusion
from trialdesk.store.participant_rows import rows_of
from trialdesk.trial import records
from trialdesk.trial.clock import Clock
from trialdesk.trial.dosing import PlannedDose, check_amount_given, planned_dose
from trialdesk.trial.lookup import check_text, enrolment_of, get_row, site_date
from trialdesk.trial.schedule import (
    Check,
    check_infusions,
    first_infusion_on,
    infusion_plan,
)

LOT_LENGTH: Final = 100
CORRECTABLE: Final = frozenset(
    {"given_at", "cells_given", "product_lot", "interrupted", "interruption_note", "reaction_note"}
)
"""What a correction of an infusion may change (status changes go through record/void)."""


@dataclass(frozen=True, slots=True)
class InfusionRecorded:
    """A recorded infusion and how it stands against its window (late/early/on time)."""

    infusion: Infusion
    check: Check


def _administrations(protocol: Protocol) -> Administrations:
    if protocol.schedule is None:
        raise TrialdeskError(
            "the protocol has no schedule; add schedule.administrations to the protocol file",
            field="schedule",
        )
    return protocol.schedule.administrations


def _planned(session: Session, participant_id: int, protocol: Protocol) -> PlannedDose:
    enrolment = enrolment_of(session, participant_id)
    return planned_dose(protocol, enrolment.dose_level, enrolment.baseline_weight_kg)


def active_infusions(session: Session, participant_id: int) -> list[Infusion]:
    """The participant's infusions that are not voided, by number."""
    return rows_of(session, Infusion, participant_id, order_by=("number", "id"), active_only=True)


def given_dates(session: Session, participant_id: int, clock: Clock) -> dict[int, date]:
    """Infusion number -> the site date it was given, for the infusions given (not voided)."""
    return given_dates_of(active_infusions(session, participant_id), clock)


def given_dates_of(rows: Sequence[Infusion], clock: Clock) -> dict[int, date]:
    """:func:`given_dates` of rows already read with :func:`active_infusions`."""
    return {
        row.number: site_date(row.given_at, clock)
        for row in rows
        if row.status == "given" and row.given_at is not None
    }


def schedule_infusions(
    session: Session,
    participant_id: int,
    *,
    first_on: date,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> list[Infusion]:
    """Plan the protocol's infusions from ``first_on`` for an enrolled participant, each with
    the planned amount. Refused if the participant already has infusions."""
    administrations = _administrations(protocol)
    enrolment = enrolment_of(session, participant_id)
    if first_on < enrolment.enrolled_on:
        raise TrialdeskError(
            f"the first infusion ({first_on}) cannot be before enrolment ({enrolment.enrolled_on})",
            field="first_on",
        )
    if active_infusions(session, participant_id):
        raise TrialdeskError(
            "this participant's infusions are already scheduled; record or correct them instead",
            field="participant_id",
        )
    planned = _planned(session, participant_id, protocol)
    return [
        records.create(
            session,
            Infusion(
                participant_id=participant_id,
                number=item.number,
                scheduled_on=item.window.target,
                planned_cells=planned.amount,
                status="scheduled",
                interrupted=False,
            ),
            actor=actor,
            clock=clock,
            reason="scheduled from the protocol",
        )
        for item in infusion_plan(administrations, first_on)
    ]


def _check_number(number: int, administrations: Administrations) -> None:
    if not 1 <= number <= administrations.count:
        raise TrialdeskError(
            f"infusion {number} is not in the schedule, which has infusions 1 to "
            f"{administrations.count}",
            field="number",
        )


def _slot(session: Session, participant_id: int, number: int) -> Infusion | None:
    """The active row of infusion ``number``; refused if it is already given or missed."""
    for row in active_infusions(session, participant_id):
        if row.number == number:
            if row.status != "scheduled":
                raise TrialdeskError(
                    f"infusion {number} is already recorded as {row.status} (infusion "
                    f"#{row.id}); correct or void that record instead",
                    field="number",
                )
            return row
    return None


def _check_interruption(interrupted: bool, note: str | None) -> str | None:
    text = check_text(note, "interruption_note", limit=10_000, required=False)
    if interrupted and text is None:
        raise TrialdeskError(
            "is required when the infusion was interrupted: say when, why and for how long",
            field="interruption_note",
        )
    if not interrupted and text is not None:
        raise TrialdeskError(
            "is given but the infusion is not marked interrupted; mark it interrupted or "
            "leave the note out",
            field="interruption_note",
        )
    return text


def _check_given_at(
    session: Session, participant_id: int, number: int, given_at: datetime, clock: Clock
) -> date:
    if given_at.tzinfo is None or given_at.utcoffset() is None:
        raise TrialdeskError(
            f"{given_at.isoformat()} has no time zone; give the time with its zone",
            field="given_at",
        )
    if given_at > clock.now():
        raise TrialdeskError(
            f"{given_at.isoformat()} is in the future; record an infusion once it is given",
            field="given_at",
        )
    day = site_date(given_at, clock)
    enrolled_on = enrolment_of(session, participant_id).enrolled_on
    if day < enrolled_on:
        raise TrialdeskError(
            f"the infusion date {day} is before enrolment ({enrolled_on})", field="given_at"
        )
    for other, other_day in given_dates(session, participant_id, clock).items():
        if other == number:
            continue
        if (other < number and other_day >= day) or (other > number and other_day <= day):
            raise TrialdeskError(
                f"infusion {number} on {day} is out of order with infusion {other} on "
                f"{other_day}; check the date and the infusion number",
                field="given_at",
            )
    return day


def record_infusion(
    session: Session,
    participant_id: int,
    number: int,
    *,
    given_at: datetime,
    cells_given: float,
    product_lot: str,
    interrupted: bool = False,
    interruption_note: str | None = None,
    reaction_note: str | None = None,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> InfusionRecorded:
    """Record infusion ``number`` as given: when, how many cells, which lot, interruptions and
    reactions. Refused above the assigned dose; flagged when outside its window."""
    administrations = _administrations(protocol)
    _check_number(number, administrations)
    planned = _planned(session, participant_id, protocol)
    check_amount_given(planned, cells_given, protocol.dose_tolerance.above_fraction)
    lot = check_text(product_lot, "product_lot", limit=LOT_LENGTH, required=True)
    note = _check_interruption(interrupted, interruption_note)
    reaction = check_text(reaction_note, "reaction_note", limit=10_000, required=False)
    given_on = _check_given_at(session, participant_id, number, given_at, clock)
    values: dict[str, object] = {
        "given_at": given_at,
        "cells_given": float(cells_given),
        "product_lot": lot,
        "interrupted": interrupted,
        "interruption_note": note,
        "reaction_note": reaction,
        "status": "given",
    }
    row = _slot(session, participant_id, number)
    if row is None:
        row = records.create(
            session,
            Infusion(
                participant_id=participant_id,
                number=number,
                scheduled_on=given_on,
                planned_cells=planned.amount,
                **values,
            ),
            actor=actor,
            clock=clock,
            reason="infusion given",
        )
    else:
        records.update(session, row, values, actor=actor, reason="infusion given", clock=clock)
    if number == 1:
        _follow_day_zero(session, participant_id, given_on, administrations, actor, clock)
    return InfusionRecorded(row, _check_of(session, participant_id, number, protocol, clock))


def record_missed_infusion(
    session: Session,
    participant_id: int,
    number: int,
    *,
    reason: str,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> Infusion:
    """Record that infusion ``number`` was not given, and why."""
    administrations = _administrations(protocol)
    _check_number(number, administrations)
    why = records.check_reason(reason)
    row = _slot(session, participant_id, number)
    if row is None:
        planned = _planned(session, participant_id, protocol)
        return records.create(
            session,
            Infusion(
                participant_id=participant_id,
                number=number,
                scheduled_on=clock.today(),
                planned_cells=planned.amount,
                status="missed",
                interrupted=False,
            ),
            actor=actor,
            clock=clock,
            reason=f"infusion missed: {why}",
        )
    records.update(
        session,
        row,
        {"status": "missed"},
        actor=actor,
        reason=f"infusion missed: {why}",
        clock=clock,
    )
    return row


def correct_infusion(
    session: Session,
    infusion_id: int,
    changes: Mapping[str, object],
    *,
    reason: str,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> InfusionRecorded:
    """Correct a given infusion (time, amount, lot, interruption, reaction) with a reason; the
    corrected values pass the same checks as a new record."""
    row = get_row(session, Infusion, infusion_id, "infusion")
    unknown = sorted(set(changes) - CORRECTABLE)
    if unknown:
        raise TrialdeskError(
            f"cannot be corrected here; correctable: {', '.join(sorted(CORRECTABLE))}",
            field=unknown[0],
        )
    if row.status != "given":
        raise TrialdeskError(
            f"infusion #{row.id} is {row.status}, not given; record it as given instead",
            field="id",
        )
    merged = {name: changes.get(name, getattr(row, name)) for name in CORRECTABLE}
    planned = _planned(session, row.participant_id, protocol)
    cells = merged["cells_given"]
    if not isinstance(cells, int | float) or isinstance(cells, bool):
        raise TrialdeskError(f"{cells!r} is not a number of cells", field="cells_given")
    check_amount_given(planned, float(cells), protocol.dose_tolerance.above_fraction)
    given_at = merged["given_at"]
    if not isinstance(given_at, datetime):
        raise TrialdeskError(f"{given_at!r} is not a date and time", field="given_at")
    given_on = _check_given_at(session, row.participant_id, row.number, given_at, clock)
    interrupted = bool(merged["interrupted"])
    note = merged["interruption_note"]
    cleaned = dict(changes)
    if "interruption_note" in changes or "interrupted" in changes:
        cleaned["interruption_note"] = _check_interruption(
            interrupted, note if isinstance(note, str) else None
        )
    if "product_lot" in changes:
        lot = changes["product_lot"]
        cleaned["product_lot"] = check_text(
            lot if isinstance(lot, str) else None, "product_lot", limit=LOT_LENGTH, required=True
        )
    records.update(session, row, cleaned, actor=actor, reason=reason, clock=clock)
    if row.number == 1 and "given_at" in changes:
        _follow_day_zero(
            session, row.participant_id, given_on, _administrations(protocol), actor, clock
        )
    return InfusionRecorded(
        row, _check_of(session, row.participant_id, row.number, protocol, clock)
    )


def void_infusion(
    session: Session, infusion_id: int, *, reason: str, actor: str, clock: Clock
) -> Infusion:
    """Withdraw an infusion record entered by mistake (it stays, voided, with the reason)."""
    row = get_row(session, Infusion, infusion_id, "infusion")
    records.void(session, row, actor=actor, reason=reason, clock=clock)
    return row


def infusion_checks(
    session: Session, participant_id: int, protocol: Protocol, clock: Clock
) -> tuple[Check, ...]:
    """Every planned infusion's status as of the clock's today (due, late, missed, ...)."""
    return infusion_checks_of(active_infusions(session, participant_id), protocol, clock)


def infusion_checks_of(
    rows: Sequence[Infusion], protocol: Protocol, clock: Clock
) -> tuple[Check, ...]:
    """:func:`infusion_checks` of rows already read with :func:`active_infusions` (the desk's
    status screens read each participant's infusions once, not once per question)."""
    administrations = _administrations(protocol)
    if not rows:
        return ()
    given = given_dates_of(rows, clock)
    earliest = rows[0]
    planned_first = earliest.scheduled_on - timedelta(
        days=(earliest.number - 1) * administrations.interval_days
    )
    plan = infusion_plan(administrations, first_infusion_on(planned_first, given))
    missed = {row.number for row in rows if row.status == "missed"}
    return check_infusions(plan, given, clock.today(), recorded_missed=missed)


def _check_of(
    session: Session, participant_id: int, number: int, protocol: Protocol, clock: Clock
) -> Check:
    return next(
        c for c in infusion_checks(session, participant_id, protocol, clock) if c.key == str(number)
    )


def _follow_day_zero(
    session: Session,
    participant_id: int,
    first_on: date,
    administrations: Administrations,
    actor: str,
    clock: Clock,
) -> None:
    """Move the still-scheduled infusions so that they count from the first one given."""
    for row in active_infusions(session, participant_id):
        if row.status != "scheduled":
            continue
        target = first_on + timedelta(days=(row.number - 1) * administrations.interval_days)
        records.update(
            session,
            row,
            {"scheduled_on": target},
            actor=actor,
            reason=f"rescheduled from the first infusion, given on {first_on}",
            clock=clock,
        )
