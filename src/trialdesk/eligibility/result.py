"""What a screening says: a status per criterion with its reason and evidence, and a verdict.

Statuses: ``met``, ``not_met``, ``unknown`` (a fact is missing; ``missing`` names it) and
``needs_confirmation`` (an investigator's answer is pending, or a protocol tension holds the
result). For an exclusion criterion ``met`` means the excluding condition is present.

Verdict precedence, first that applies:

1. ``ineligible``: an inclusion is not met or an exclusion is met. A definite failure stands
   whatever else is missing, so the coordinator can stop early; every failing criterion is named.
2. ``needs_review``: the protocol contradicts itself for this patient (a tension such as I4c
   versus E10 for a patient on anticoagulants). Only the investigator and sponsor can settle it.
3. ``incomplete``: facts are missing or judgement items unanswered; all of them are named.
4. ``eligible``: every inclusion met, no exclusion present, every judgement answered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CriterionResult", "ScreeningResult", "Status", "Verdict"]

Status = Literal["met", "not_met", "unknown", "needs_confirmation"]
Verdict = Literal["eligible", "ineligible", "incomplete", "needs_review"]


@dataclass(frozen=True)
class CriterionResult:
    """The result of one criterion or sub-criterion (``parent`` is set for a sub-criterion)."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    status: Status
    reason: str
    evidence: dict[str, Any]
    parent: str | None = None
    missing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()

    @property
    def failing(self) -> bool:
        """True when this result alone makes the patient ineligible."""
        return self.status == ("not_met" if self.kind == "inclusion" else "met")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ScreeningResult:
    """A whole screening: the verdict, why, and every criterion's result in protocol order."""

    verdict: Verdict
    reason: str
    criteria: tuple[CriterionResult, ...]
    screening_date: dt.date
    protocol_id: str
    protocol_version: str
    failing: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    tensions: tuple[str, ...] = field(default=())

    def criterion(self, criterion_id: str) -> CriterionResult:
        """The result of one (sub-)criterion by id; ``KeyError`` when the protocol has none."""
        for item in self.criteria:
            if item.id == criterion_id:
                return item
        raise KeyError(f"no criterion {criterion_id!r} in this screening")

    def to_json(self) -> dict[str, Any]:
        """``{"verdict": ..., "criteria": [{"id", "status", "reason", "evidence"}, ...]}``."""
        return {"verdict": self.verdict, "criteria": [c.to_json() for c in self.criteria]}
