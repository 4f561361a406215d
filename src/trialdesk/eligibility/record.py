"""trialdesk's own screening record: the patient facts one screening reads, as JSON or YAML.

Values are kept exactly as reported (value, unit, date) so a stored screening can be replayed
and audited; they are checked here and converted to canonical units only when evaluated. A bad
value never gets through: an unknown unit, an impossible value (a negative count, haemoglobin
800 g/L) or a date after the screening date is a :class:`RecordError` naming the field, for
example ``labs[2].unit: unknown unit 'mg/dl/x'; use one of: ...``.

The shape maps onto flat columns: one column per scalar, per laboratory analyte (the latest
result of each), per code set (from ``history``) and per medication category.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic import ValidationInfo as Info

from trialdesk.clinical import (
    Measurement,
    analyte,
    parse_unit,
    scale,
    to_canonical,
    uln_multiple,
)
from trialdesk.clinical.errors import ClinicalError
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.criteria import LAB_ANALYTES, CodeSystem, MedicationCategory

__all__ = [
    "BodyMeasurement",
    "HistoryEntry",
    "JudgementAnswer",
    "LabResult",
    "MedicationEntry",
    "RecordError",
    "ScreeningRecord",
]

Sex = Literal["female", "male"]
Code = Annotated[str, Field(min_length=1, max_length=64)]


class RecordError(TrialdeskError):
    """A screening record that cannot be used; ``problems`` lists (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        first_field = problems[0][0] if problems else None
        if len(problems) == 1:
            super().__init__(problems[0][1], field=first_field)
        else:
            listing = "\n".join(f"  - {where}: {message}" for where, message in problems)
            Exception.__init__(
                self, f"{len(problems)} problems in the screening record:\n{listing}"
            )
            self.field = first_field


class _LocatedError(ValueError):
    """A validation problem that knows its own location below the model raising it."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


def _plain(exc: ClinicalError) -> str:
    """The clinical error's message without its ``field:`` prefix (pydantic adds the location)."""
    text = str(exc)
    prefix = f"{exc.field}: " if exc.field else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabResult(_Strict):
    """One laboratory result with its own laboratory's upper limit of normal (ULN)."""

    analyte: str = Field(description="trialdesk analyte code, e.g. anc, creatinine, alt")
    unit: str = Field(description="the unit as reported, e.g. 10^9/L, /µL, µmol/L, g/dL")
    value: float
    taken_on: dt.date = Field(description="date the sample was taken")
    uln: float | None = Field(default=None, description="the laboratory's upper limit of normal")
    uln_unit: str | None = Field(default=None, description="unit of the ULN; default: unit")
    loinc: str | None = None

    @field_validator("analyte")
    @classmethod
    def _known_analyte(cls, code: str) -> str:
        if code not in LAB_ANALYTES:
            raise ValueError(f"unknown analyte {code!r}; use one of: {', '.join(LAB_ANALYTES)}")
        return code

    @field_validator("unit")
    @classmethod
    def _unit_fits(cls, unit: str, info: Info) -> str:
        code = info.data.get("analyte")
        if code is not None:
            try:
                parse_unit(unit, field="unit", accepted=analyte(code).accepted_units)
            except ClinicalError as exc:
                raise ValueError(_plain(exc)) from None
        return unit

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: float, info: Info) -> float:
        code, unit = info.data.get("analyte"), info.data.get("unit")
        if code is not None and unit is not None:
            try:
                to_canonical(code, value, unit)
            except ClinicalError as exc:
                raise ValueError(_plain(exc)) from None
        return value

    @model_validator(mode="after")
    def _uln(self) -> LabResult:
        if self.uln_unit is not None and self.uln is None:
            raise _LocatedError(("uln",), "uln_unit is given without uln; add the ULN value")
        if self.uln is not None:
            try:
                uln_multiple(
                    self.value,
                    self.uln,
                    self.unit,
                    self.uln_unit,
                    analyte_code=self.analyte,
                    field="value",
                )
            except ClinicalError as exc:
                where = (exc.field or "uln").removeprefix("value.")
                raise _LocatedError((where,), _plain(exc)) from None
        return self

    def measurement(self) -> Measurement:
        """The value in the analyte's canonical unit (checked at validation)."""
        return to_canonical(self.analyte, self.value, self.unit)


class BodyMeasurement(_Strict):
    """Body weight or height as measured, with its unit (kg, lb; cm, m, in)."""

    value: float
    unit: str
    measured_on: dt.date | None = None


class HistoryEntry(_Strict):
    """A coded condition or procedure; ``abatement`` is omitted while it is still going on."""

    system: CodeSystem
    code: Code
    display: str | None = None
    onset: dt.date | None = None
    abatement: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> HistoryEntry:
        if self.onset and self.abatement and self.abatement < self.onset:
            raise _LocatedError(
                ("abatement",),
                f"abatement {self.abatement} is before onset {self.onset}; check both dates",
            )
        return self


class MedicationEntry(_Strict):
    """A medication or transfusion, by category and/or code. ``end`` is the last day given;
    omit it only while the treatment is still going on. A single dose has ``end`` = ``start``."""

    category: MedicationCategory | None = None
    system: CodeSystem | None = None
    code: Code | None = None
    display: str | None = None
    start: dt.date
    end: dt.date | None = None

    @model_validator(mode="after")
    def _identified(self) -> MedicationEntry:
        if self.category is None and (self.system is None or self.code is None):
            raise _LocatedError(
                ("category",),
                "give a category (anticoagulant, growth_factor, transfusion) or a system and code",
            )
        if (self.system is None) != (self.code is None):
            raise _LocatedError(("code",), "system and code go together; give both or neither")
        if self.end is not None and self.end < self.start:
            raise _LocatedError(
                ("end",), f"end {self.end} is before start {self.start}; check both dates"
            )
        return self


class JudgementAnswer(_Strict):
    """The investigator's answer to a judgement item of the protocol."""

    answer: Literal["yes", "no"]
    answered_by: str = Field(min_length=1, description="who answered (the investigator)")
    answered_on: dt.date = Field(description="date of the answer")
    note: str | None = None

    @field_validator("answer", mode="before")
    @classmethod
    def _yaml_boolean(cls, value: Any) -> Any:
        """YAML reads an unquoted yes/no as true/false; take it as the answer meant."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value


class ScreeningRecord(_Strict):
    """Everything one screening reads about a patient, as reported."""

    patient_id: str | None = Field(default=None, max_length=128)
    screening_date: dt.date
    birth_date: dt.date | None = None
    sex: Sex | None = None
    labs: list[LabResult] = Field(default_factory=list)
    weight: BodyMeasurement | None = None
    height: BodyMeasurement | None = None
    ecog: int | None = Field(default=None, description="ECOG performance status 0-5")
    lvef_percent: float | None = Field(default=None, description="echocardiographic LVEF, %")
    ecg: Literal["normal", "abnormal"] | None = None
    pneumonitis_grade: int | None = Field(
        default=None, description="radiation pneumonitis grade by CTCAE v5.0, 1-5"
    )
    consent_signed_on: dt.date | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    childbearing_potential: bool | None = None
    will_use_contraception: bool | None = Field(
        default=None, description="willing and able to use effective contraception"
    )
    history: list[HistoryEntry] = Field(default_factory=list)
    medications: list[MedicationEntry] = Field(default_factory=list)
    judgements: dict[str, JudgementAnswer] = Field(default_factory=dict)

    @field_validator("weight")
    @classmethod
    def _weight(cls, weight: BodyMeasurement | None) -> BodyMeasurement | None:
        return _body(weight, "weight")

    @field_validator("height")
    @classmethod
    def _height(cls, height: BodyMeasurement | None) -> BodyMeasurement | None:
        return _body(height, "height")

    @field_validator("ecog")
    @classmethod
    def _ecog(cls, value: int | None) -> int | None:
        if value is not None:
            try:
                scale("ecog").grade(value)
            except ClinicalError as exc:
                raise ValueError(_plain(exc)) from None
        return value

    @field_validator("lvef_percent")
    @classmethod
    def _lvef(cls, value: float | None) -> float | None:
        if value is not None:
            try:
                to_canonical("lvef", value, "%")
            except ClinicalError as exc:
                raise ValueError(_plain(exc)) from None
        return value

    @field_validator("pneumonitis_grade")
    @classmethod
    def _grade(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 5:
            raise ValueError(f"a CTCAE grade is 1 to 5, got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ScreeningRecord:
        for loc, when in self.dated():
            if when > self.screening_date:
                raise _LocatedError(
                    loc,
                    f"{when} is after the screening date {self.screening_date}; "
                    f"a date cannot be in the future: check {loc[-1]} or the screening date",
                )
        if self.sex == "male" and (self.pregnant or self.lactating):
            raise _LocatedError(("pregnant",), "recorded for a male patient; check sex and this")
        return self

    def dated(self) -> list[tuple[tuple[str | int, ...], dt.date]]:
        """Every clinical date with its location (answers' dates are not clinical dates)."""
        found: list[tuple[tuple[str | int, ...], dt.date]] = []
        if self.birth_date:
            found.append((("birth_date",), self.birth_date))
        if self.consent_signed_on:
            found.append((("consent_signed_on",), self.consent_signed_on))
        for name in ("weight", "height"):
            body = getattr(self, name)
            if body is not None and body.measured_on is not None:
                found.append(((name, "measured_on"), body.measured_on))
        found += [(("labs", i, "taken_on"), lab.taken_on) for i, lab in enumerate(self.labs)]
        for i, entry in enumerate(self.history):
            if entry.onset:
                found.append((("history", i, "onset"), entry.onset))
        found += [(("medications", i, "start"), m.start) for i, m in enumerate(self.medications)]
        return found

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ScreeningRecord:
        """Validate plain data (parsed JSON/YAML); raises :class:`RecordError` listing every
        problem with its field, e.g. ``labs[2].unit``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise RecordError(_problems(exc)) from None


def _body(value: BodyMeasurement | None, code: str) -> BodyMeasurement | None:
    if value is None:
        return None
    try:
        parse_unit(value.unit, field="unit", accepted=analyte(code).accepted_units)
    except ClinicalError as exc:
        raise _LocatedError(("unit",), _plain(exc)) from None
    try:
        to_canonical(code, value.value, value.unit)
    except ClinicalError as exc:
        raise _LocatedError(("value",), _plain(exc)) from None
    return value


def _location(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(record)"


_MESSAGES = {
    "missing": "is required; add it",
    "extra_forbidden": "is not a field of the screening record; check its spelling or remove it",
}


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _LocatedError):
            loc = loc + cause.loc
            message = str(cause)
        elif error["type"] in _MESSAGES:
            message = _MESSAGES[error["type"]]
        elif error["type"] == "value_error" and cause is not None:
            message = str(cause)
        else:
            message = f"{error['msg'][0].lower()}{error['msg'][1:]} (found {error['input']!r})"
        problems.append((_location(loc), message))
    return problems
