"""Serious adverse events: the standard seriousness criteria and the reporting clock.

The criteria are those of ICH E2A (1994), section II.B, which China's GCP (2020, article 11)
repeats: an adverse event is serious when it results in death, is life-threatening, requires
inpatient hospitalisation or prolongs an existing one, results in persistent or significant
disability or incapacity, is a congenital anomaly or birth defect, or is another important medical
event that needs intervention to prevent one of these. Seriousness is about the outcome, not the
severity grade; only CTCAE grade 5 (death related to the AE) ties the two together.

An SAE must be reported within the protocol's number of hours of the site learning of it (24 for
NCT06021067); :func:`report_status` says, as of a moment, whether that report is due, overdue,
or was made on time or late. Pure: the caller passes the moments (timezone-aware).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from trialdesk.errors import TrialdeskError


class SaeCriterion(StrEnum):
    """Why an adverse event is serious (ICH E2A II.B)."""

    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALISATION = "hospitalisation"
    DISABILITY = "disability"
    CONGENITAL_ANOMALY = "congenital_anomaly"
    IMPORTANT_MEDICAL_EVENT = "important_medical_event"

    @property
    def text_en(self) -> str:
        return _TEXTS[self][0]

    @property
    def text_zh(self) -> str:
        return _TEXTS[self][1]

    def text(self, lang: str) -> str:
        """The criterion in English, or in Simplified Chinese for a ``zh*`` language."""
        return self.text_zh if lang.lower().startswith("zh") else self.text_en


_TEXTS: dict[SaeCriterion, tuple[str, str]] = {
    SaeCriterion.DEATH: ("Results in death", "导致死亡"),
    SaeCriterion.LIFE_THREATENING: (
        "Is life-threatening (at risk of death at the time of the event)",
        "危及生命（事件发生时有死亡风险）",
    ),
    SaeCriterion.HOSPITALISATION: (
        "Requires inpatient hospitalisation or prolongs an existing hospitalisation",
        "需要住院治疗或延长住院时间",
    ),
    SaeCriterion.DISABILITY: (
        "Results in persistent or significant disability or incapacity",
        "导致永久或严重的残疾或功能丧失",
    ),
    SaeCriterion.CONGENITAL_ANOMALY: (
        "Is a congenital anomaly or birth defect",
        "先天性异常或出生缺陷",
    ),
    SaeCriterion.IMPORTANT_MEDICAL_EVENT: (
        "Is another important medical event that may need intervention to prevent one of the above",
        "其他重要医学事件，可能需要干预以防止出现上述结果之一",
    ),
}


def parse_criteria(values: Iterable[str]) -> tuple[SaeCriterion, ...]:
    """The criteria named by ``values`` (their codes), in the standard order, each once."""
    allowed = ", ".join(c.value for c in SaeCriterion)
    found: set[SaeCriterion] = set()
    for value in values:
        try:
            found.add(SaeCriterion(value.strip().lower()))
        except ValueError:
            raise TrialdeskError(
                f"{value!r} is not a seriousness criterion; use one or more of {allowed}",
                field="serious_criteria",
            ) from None
    return tuple(c for c in SaeCriterion if c in found)


def check_seriousness(
    serious: bool, criteria: Iterable[str], grade: int
) -> tuple[SaeCriterion, ...]:
    """The criteria of a consistent seriousness record; refuses a contradictory one.

    A serious AE names at least one criterion and a non-serious one none. CTCAE grade 5 means
    death related to the AE, so grade 5 is serious with ``death``, and ``death`` needs grade 5.
    """
    parsed = parse_criteria(criteria)
    if serious and not parsed:
        raise TrialdeskError(
            "a serious adverse event needs at least one seriousness criterion; choose why it is "
            "serious (death, life-threatening, hospitalisation, ...)",
            field="serious_criteria",
        )
    if not serious and parsed:
        raise TrialdeskError(
            "seriousness criteria are given but the event is not marked serious; mark it "
            "serious, or remove the criteria",
            field="serious",
        )
    if grade == 5 and SaeCriterion.DEATH not in parsed:
        raise TrialdeskError(
            "grade 5 means death related to the adverse event (CTCAE v5.0), so the event is "
            "serious with the criterion 'death'; add it, or correct the grade",
            field="serious_criteria",
        )
    if SaeCriterion.DEATH in parsed and grade != 5:
        raise TrialdeskError(
            f"an adverse event that results in death is grade 5 in CTCAE v5.0, not grade {grade}; "
            "correct the grade, or remove the criterion 'death'",
            field="grade",
        )
    return parsed


class ReportState(StrEnum):
    """Where an SAE's report stands."""

    DUE = "due"
    OVERDUE = "overdue"
    REPORTED = "reported"
    REPORTED_LATE = "reported_late"

    def text(self, lang: str) -> str:
        en, zh = _REPORT_TEXTS[self]
        return zh if lang.lower().startswith("zh") else en


_REPORT_TEXTS: dict[ReportState, tuple[str, str]] = {
    ReportState.DUE: ("report due", "待报告"),
    ReportState.OVERDUE: ("report overdue", "报告已逾期"),
    ReportState.REPORTED: ("reported on time", "已按时报告"),
    ReportState.REPORTED_LATE: ("reported late", "已逾期报告"),
}


@dataclass(frozen=True, slots=True)
class ReportClock:
    """An SAE's reporting clock: started when the site learned of it, due ``hours`` later."""

    started_at: datetime
    due_at: datetime
    reported_at: datetime | None
    state: ReportState
    time_left: timedelta
    """Until the deadline as of the moment asked (negative once overdue); zero once reported."""


def report_status(
    started_at: datetime, hours: int, as_of: datetime, reported_at: datetime | None = None
) -> ReportClock:
    """The reporting clock of an SAE the site learned of at ``started_at``, as of ``as_of``."""
    for name, moment in (
        ("started_at", started_at),
        ("as_of", as_of),
        ("reported_at", reported_at),
    ):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise TrialdeskError(
                f"{moment.isoformat()} has no time zone; give a timezone-aware time", field=name
            )
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise TrialdeskError(
            f"the SAE reporting time must be a whole number of hours above 0, not {hours!r}; "
            "fix the protocol",
            field="sae_report_hours",
        )
    if reported_at is not None and reported_at < started_at:
        raise TrialdeskError(
            f"the report time {reported_at.isoformat()} is before the SAE was known "
            f"({started_at.isoformat()}); check the report time",
            field="reported_at",
        )
    due_at = started_at + timedelta(hours=hours)
    if reported_at is not None:
        state = ReportState.REPORTED if reported_at <= due_at else ReportState.REPORTED_LATE
        return ReportClock(started_at, due_at, reported_at, state, timedelta(0))
    left = due_at - as_of
    state = ReportState.DUE if left >= timedelta(0) else ReportState.OVERDUE
    return ReportClock(started_at, due_at, None, state, left)
