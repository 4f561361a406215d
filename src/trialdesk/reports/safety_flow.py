"""The CONSORT-style participant flow: pre-screened -> screened -> eligible -> consented ->
enrolled -> treated -> DLT-evaluable, with why people went no further. Pure: the query layer
passes one :class:`FlowFacts` per participant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trialdesk.reports.safety_model import FlowStep, Reason
from trialdesk.trial.dlt import Evaluability

FLOW_KEYS = ("prescreened", "screened", "eligible", "consented", "enrolled", "treated", "evaluable")

_VERDICT_REASONS = {
    "ineligible": "ineligible",
    "incomplete": "screening incomplete",
    "needs_review": "screening needs review",
}
_WAITING = {
    "prescreened": "not screened yet",
    "eligible": "not consented yet",
    "consented": "not enrolled yet",
    "enrolled": "no infusion given yet",
}


@dataclass(frozen=True, slots=True)
class FlowFacts:
    """One participant as of the cut-off. ``verdict``: the latest screening's (None: never
    screened); ``standing``: DLT evaluability when enrolled; ``withdrawn_reason`` when they left."""

    verdict: str | None
    screen_fail_reason: str | None
    consented: bool
    enrolled: bool
    treated: bool
    standing: Evaluability | None
    withdrawn_reason: str | None


def _reached(step: str, f: FlowFacts) -> bool:
    checks: dict[str, Callable[[FlowFacts], bool]] = {
        "prescreened": lambda _: True,
        "screened": lambda x: x.verdict is not None,
        "eligible": lambda x: x.verdict == "eligible",
        "consented": lambda x: x.consented,
        "enrolled": lambda x: x.enrolled,
        "treated": lambda x: x.treated,
        "evaluable": lambda x: x.standing is not None and x.standing.counts,
    }
    index = FLOW_KEYS.index(step)
    return all(checks[key](f) for key in FLOW_KEYS[: index + 1])


def _why_not_further(step: str, f: FlowFacts) -> tuple[str, str | None]:
    if step == "screened":
        verdict = f.verdict or ""
        detail = f.screen_fail_reason if verdict == "ineligible" else None
        return _VERDICT_REASONS.get(verdict, verdict), detail
    if step == "treated" and f.standing is not None:
        return f.standing.text("en"), f.withdrawn_reason
    if f.withdrawn_reason is not None:
        return "withdrawn", f.withdrawn_reason
    return _WAITING.get(step, step), None


def consort_flow(people: Sequence[FlowFacts]) -> tuple[FlowStep, ...]:
    """The steps with their counts; each step's ``left`` counts who reached it but not the
    next, by reason (most frequent first)."""
    steps = []
    for index, key in enumerate(FLOW_KEYS):
        here = [f for f in people if _reached(key, f)]
        left: Counter[tuple[str, str | None]] = Counter()
        if index + 1 < len(FLOW_KEYS):
            following = FLOW_KEYS[index + 1]
            left.update(_why_not_further(key, f) for f in here if not _reached(following, f))
        reasons = tuple(
            Reason(reason, detail, count)
            for (reason, detail), count in sorted(
                left.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or "")
            )
        )
        steps.append(FlowStep(key, len(here), reasons))
    return tuple(steps)
