"""The aggregate safety view the DSMB may see: per dose level, counts only (no participant)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.store.models import AdverseEvent, Enrolment
from trialdesk.trial.context import TrialContext
from trialdesk.trial.state import trial_summary


@dataclass(frozen=True, slots=True)
class LevelSafety:
    level: int
    treated: int
    dlts: int
    pending: int
    adverse_events_by_grade: dict[int, int]
    serious_adverse_events: int


@dataclass(frozen=True, slots=True)
class SafetySummary:
    protocol_id: str
    as_of: str
    enrolled: int
    stopped: bool
    mtd_level: int | None
    levels: tuple[LevelSafety, ...]


def safety_summary(session: Session, ctx: TrialContext) -> SafetySummary:
    """Counts per level of treated patients, DLTs, AEs by grade and SAEs (voided AEs left out)."""
    summary = trial_summary(session, ctx)
    by_grade: dict[int, dict[int, int]] = {}
    serious: dict[int, int] = {}
    rows = session.execute(
        select(Enrolment.dose_level, AdverseEvent.grade, AdverseEvent.serious, func.count())
        .join(Enrolment, Enrolment.participant_id == AdverseEvent.participant_id)
        .where(AdverseEvent.voided_at.is_(None))
        .group_by(Enrolment.dose_level, AdverseEvent.grade, AdverseEvent.serious)
    )
    for level, grade, is_serious, count in rows:
        grades = by_grade.setdefault(int(level), {})
        grades[int(grade)] = grades.get(int(grade), 0) + int(count)
        if is_serious:
            serious[int(level)] = serious.get(int(level), 0) + int(count)
    levels = tuple(
        LevelSafety(
            level=line.level,
            treated=line.treated,
            dlts=line.dlts,
            pending=line.pending,
            adverse_events_by_grade={
                g: by_grade.get(line.level, {}).get(g, 0) for g in range(1, 6)
            },
            serious_adverse_events=serious.get(line.level, 0),
        )
        for line in summary.levels
    )
    return SafetySummary(
        protocol_id=summary.protocol_id,
        as_of=summary.as_of.isoformat(),
        enrolled=summary.enrolled,
        stopped=summary.stopped,
        mtd_level=summary.mtd_level,
        levels=levels,
    )
