"""Follow-up of a running trial: measurements per protocol visit and concomitant medications
(the corticosteroid course of the standard treatment among them).

A measurement is a coded value: the efficacy measures of radiation pneumonitis (grade, SpO2,
oxygen flow, FVC and DLCO in % predicted, mMRC, chest CT score) or ``lab:<analyte>`` for a
laboratory value, converted to the analyte's canonical unit by :mod:`trialdesk.clinical`.
Each value is checked against what a living patient can have; a visit must be one of the
protocol's, and the answer says whether the date falls inside that visit's window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.clinical.analytes import ANALYTES, to_canonical
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Protocol
from trialdesk.store.models import DOSE_UNITS, ConcomitantMedication, Infusion, Measurement
from trialdesk.trial import records
from trialdesk.trial.clock import Clock
from trialdesk.trial.infusions import active_infusions, given_dates
from trialdesk.trial.lookup import check_text, enrolment_of, get_row, not_in_future
from trialdesk.trial.schedule import Check, check_visits, first_infusion_on, visit_plan

LAB_PREFIX: Final = "lab:"


@dataclass(frozen=True, slots=True)
class Measure:
    """A follow-up measure: its stored unit and the plausible range of its values."""

    code: str
    name_en: str
    name_zh: str
    unit: str | None
    minimum: float
    maximum: float
    integer: bool = False


MEASURES: Final = {
    m.code: m
    for m in (
        Measure(
            "pneumonitis_grade",
            "Pneumonitis grade (CTCAE v5.0; 0 = none)",
            "肺炎分级（CTCAE v5.0；0 = 无）",
            None,
            0,
            5,
            integer=True,
        ),
        Measure("spo2", "SpO2", "血氧饱和度", "%", 50, 100),
        Measure("oxygen_l_min", "Oxygen flow", "吸氧流量", "L/min", 0, 60),
        Measure("fvc_pct", "FVC, % predicted", "FVC 占预计值%", "%", 10, 200),
        Measure("dlco_pct", "DLCO, % predicted", "DLCO 占预计值%", "%", 10, 200),
        Measure("mmrc", "mMRC dyspnoea grade", "mMRC 呼吸困难分级", None, 0, 4, integer=True),
        Measure("ct_score", "Chest CT score", "胸部 CT 评分", None, 0, 100),
    )
}
"""The non-laboratory measures; ``lab:<analyte>`` covers the analytes of
:data:`trialdesk.clinical.analytes.ANALYTES`."""


@dataclass(frozen=True, slots=True)
class MeasurementRecorded:
    """A stored measurement and, for a protocol visit, whether it fell inside the visit window."""

    measurement: Measurement
    visit: Check | None


def known_codes() -> tuple[str, ...]:
    """Every measurement code a follow-up value may have."""
    return (*MEASURES, *(f"{LAB_PREFIX}{a.code}" for a in ANALYTES))


def checked_value(code: str, value: float, unit: str | None) -> tuple[float, str | None]:
    """``(value, unit)`` as stored: checked against the measure's range, labs converted to the
    analyte's canonical unit."""
    if code.startswith(LAB_PREFIX):
        analyte = code[len(LAB_PREFIX) :]
        if analyte not in {a.code for a in ANALYTES}:
            raise TrialdeskError(
                f"{analyte!r} is not a known analyte; use one of "
                + ", ".join(a.code for a in ANALYTES),
                field="code",
            )
        measured = to_canonical(analyte, value, unit or "", field="value")
        return measured.value, measured.unit
    measure = MEASURES.get(code)
    if measure is None:
        raise TrialdeskError(
            f"{code!r} is not a follow-up measure; use one of {', '.join(MEASURES)} or "
            f"{LAB_PREFIX}<analyte>",
            field="code",
        )
    if unit not in (None, "", measure.unit):
        expected = measure.unit or "no unit"
        raise TrialdeskError(
            f"{measure.name_en} is recorded in {expected}, not {unit!r}", field="unit"
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrialdeskError(f"{value!r} is not a number", field="value")
    if measure.integer and value != int(value):
        raise TrialdeskError(f"{measure.name_en} is a whole number, not {value}", field="value")
    if not measure.minimum <= value <= measure.maximum:
        raise TrialdeskError(
            f"{measure.name_en} of {value:g} is not possible; it is from {measure.minimum:g} to "
            f"{measure.maximum:g}" + (f" {measure.unit}" if measure.unit else ""),
            field="value",
        )
    return float(value), measure.unit


def _visit_check(
    session: Session,
    participant_id: int,
    visit_id: str | None,
    measured_on: date,
    protocol: Protocol,
    clock: Clock,
) -> Check | None:
    if visit_id is None:
        return None
    if protocol.schedule is None:
        raise TrialdeskError("the protocol has no visit schedule", field="visit_id")
    rows: list[Infusion] = active_infusions(session, participant_id)
    given = given_dates(session, participant_id, clock)
    if not rows and not given:
        planned_first = enrolment_of(session, participant_id).enrolled_on
    else:
        planned_first = next((r.scheduled_on for r in rows if r.number == 1), measured_on)
    plan = visit_plan(protocol.schedule, first_infusion_on(planned_first, given))
    checks = check_visits(plan, {visit_id: measured_on}, clock.today())
    return next(c for c in checks if c.key == visit_id)


def record_measurement(
    session: Session,
    participant_id: int,
    *,
    code: str,
    value: float,
    measured_on: date,
    unit: str | None = None,
    visit_id: str | None = None,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> MeasurementRecorded:
    """Record one follow-up value of an enrolled participant."""
    enrolment_of(session, participant_id)
    stored_value, stored_unit = checked_value(code, value, unit)
    day = not_in_future(measured_on, clock, "measured_on")
    visit = _visit_check(session, participant_id, visit_id, day, protocol, clock)
    row = records.create(
        session,
        Measurement(
            participant_id=participant_id,
            visit_id=visit_id,
            measured_on=day,
            code=code,
            value=stored_value,
            unit=stored_unit,
        ),
        actor=actor,
        clock=clock,
    )
    return MeasurementRecorded(row, visit)


def correct_measurement(
    session: Session,
    measurement_id: int,
    changes: Mapping[str, object],
    *,
    reason: str,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> MeasurementRecorded:
    """Correct a measurement's value/unit, date or visit with a reason (re-checked as new)."""
    row = get_row(session, Measurement, measurement_id, "measurement")
    allowed = {"value", "unit", "measured_on", "visit_id"}
    for name in changes:
        if name not in allowed:
            raise TrialdeskError(
                f"cannot be corrected; correctable: {', '.join(sorted(allowed))}", field=name
            )
    value = changes.get("value", row.value)
    unit = changes.get("unit", row.unit)
    measured_on = changes.get("measured_on", row.measured_on)
    visit_id = changes.get("visit_id", row.visit_id)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TrialdeskError(f"{value!r} is not a number", field="value")
    if not isinstance(measured_on, date) or (unit is not None and not isinstance(unit, str)):
        raise TrialdeskError("give a date and a unit as text", field="measured_on")
    if visit_id is not None and not isinstance(visit_id, str):
        raise TrialdeskError(f"{visit_id!r} is not a visit id", field="visit_id")
    stored_value, stored_unit = checked_value(row.code, value, unit)
    day = not_in_future(measured_on, clock, "measured_on")
    visit = _visit_check(session, row.participant_id, visit_id, day, protocol, clock)
    records.update(
        session,
        row,
        {"value": stored_value, "unit": stored_unit, "measured_on": day, "visit_id": visit_id},
        actor=actor,
        reason=reason,
        clock=clock,
    )
    return MeasurementRecorded(row, visit)


def void_measurement(
    session: Session, measurement_id: int, *, reason: str, actor: str, clock: Clock
) -> Measurement:
    """Withdraw a measurement entered by mistake (kept, voided, with the reason)."""
    row = get_row(session, Measurement, measurement_id, "measurement")
    records.void(session, row, actor=actor, reason=reason, clock=clock)
    return row


def measurements_of(
    session: Session, participant_id: int, code: str | None = None
) -> list[Measurement]:
    """A participant's measurements that are not voided, by date (one code, or all)."""
    query = select(Measurement).where(
        Measurement.participant_id == participant_id, Measurement.voided_at.is_(None)
    )
    if code is not None:
        query = query.where(Measurement.code == code)
    return list(session.scalars(query.order_by(Measurement.measured_on, Measurement.id)))


def _check_medication(
    drug: object,
    dose: object,
    dose_unit: object,
    start_date: object,
    end_date: object,
    clock: Clock,
) -> dict[str, object]:
    """The columns of a medication course, each checked; types are checked too because
    corrections arrive as loose mappings."""
    if not isinstance(drug, str):
        raise TrialdeskError(f"{drug!r} is not a drug name", field="drug")
    for field, day in (("start_date", start_date), ("end_date", end_date)):
        if day is not None and not isinstance(day, date):
            raise TrialdeskError(f"{day!r} is not a date", field=field)
    if not isinstance(start_date, date) or (
        end_date is not None and not isinstance(end_date, date)
    ):
        raise TrialdeskError("is required", field="start_date")
    name = check_text(drug, "drug", limit=200, required=True)
    if (
        isinstance(dose, bool)
        or not isinstance(dose, int | float)
        or not math.isfinite(dose)
        or dose <= 0
    ):
        raise TrialdeskError(f"{dose!r} is not a dose; give an amount above 0", field="dose")
    if dose_unit not in DOSE_UNITS:
        raise TrialdeskError(
            f"{dose_unit!r} is not a dose unit here; use {' or '.join(DOSE_UNITS)}",
            field="dose_unit",
        )
    start = not_in_future(start_date, clock, "start_date")
    if end_date is not None:
        not_in_future(end_date, clock, "end_date")
        if end_date < start:
            raise TrialdeskError(
                f"{end_date} is before the start {start}; check both dates", field="end_date"
            )
    return {
        "drug": name,
        "dose": float(dose),
        "dose_unit": dose_unit,
        "start_date": start,
        "end_date": end_date,
    }


def record_concomitant_medication(
    session: Session,
    participant_id: int,
    *,
    drug: str,
    dose: float,
    dose_unit: str,
    start_date: date,
    end_date: date | None = None,
    route: str | None = None,
    indication: str | None = None,
    actor: str,
    clock: Clock,
) -> ConcomitantMedication:
    """Record a concomitant medication course (e.g. prednisone 30 mg from 5 Jan), mg or mg/kg."""
    enrolment_of(session, participant_id)
    values = _check_medication(drug, dose, dose_unit, start_date, end_date, clock)
    return records.create(
        session,
        ConcomitantMedication(
            participant_id=participant_id,
            route=check_text(route, "route", limit=50, required=False),
            indication=check_text(indication, "indication", limit=10_000, required=False),
            **values,
        ),
        actor=actor,
        clock=clock,
    )


def correct_concomitant_medication(
    session: Session,
    medication_id: int,
    changes: Mapping[str, object],
    *,
    reason: str,
    actor: str,
    clock: Clock,
) -> ConcomitantMedication:
    """Correct a medication course (dose, unit, dates, route, indication) with a reason; ending a
    course is a correction of ``end_date``."""
    row = get_row(session, ConcomitantMedication, medication_id, "concomitant medication")
    allowed = {"drug", "dose", "dose_unit", "start_date", "end_date", "route", "indication"}
    for name in changes:
        if name not in allowed:
            raise TrialdeskError(
                f"cannot be corrected; correctable: {', '.join(sorted(allowed))}", field=name
            )
    merged = {name: changes.get(name, getattr(row, name)) for name in allowed}
    values = _check_medication(
        merged["drug"],
        merged["dose"],
        merged["dose_unit"],
        merged["start_date"],
        merged["end_date"],
        clock,
    )
    for name in ("route", "indication"):
        if name in changes:
            text = changes[name]
            values[name] = check_text(
                text if isinstance(text, str) else None,
                name,
                limit=10_000 if name == "indication" else 50,
                required=False,
            )
    records.update(session, row, values, actor=actor, reason=reason, clock=clock)
    return row


def void_concomitant_medication(
    session: Session, medication_id: int, *, reason: str, actor: str, clock: Clock
) -> ConcomitantMedication:
    """Withdraw a medication record entered by mistake (kept, voided, with the reason)."""
    row = get_row(session, ConcomitantMedication, medication_id, "concomitant medication")
    records.void(session, row, actor=actor, reason=reason, clock=clock)
    return row
