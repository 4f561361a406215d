"""Dose-escalation decisions: computed by the protocol's design when it can decide, stored with
their inputs and reasoning, and signed by an investigator who re-enters their password.

When can the design decide? When the outcomes still unknown cannot change its answer. The
decision is computed three ways: with the pending patients (and any places of the current
cohort still to fill) left out, all without a DLT, and all with a DLT. If the three agree, the
answer is certain now: for 3+3 that is a full cohort whose windows have all closed, or two DLTs
at a level, which decide whatever the others show. The stored input is the first of the three
(only known outcomes), so a replay gives the same answer from the stored state alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk import __version__
from trialdesk.design.base import Decision, LevelState, TrialState
from trialdesk.errors import TrialdeskError
from trialdesk.store.models import EscalationDecision
from trialdesk.store.session import read_once
from trialdesk.trial.cohorts import (
    CohortView,
    TrialReading,
    read_trial,
    state_to_json,
    the_design,
)
from trialdesk.trial.context import TrialContext
from trialdesk.trial.lookup import require_role
from trialdesk.trial.passwords import verify_password
from trialdesk.trial.records import check_actor, create, describe, update
from trialdesk.trial.roles import Action

SIGNATURE_MEANING: Final = "I approve this dose-escalation decision"


@dataclass(frozen=True)
class Readiness:
    """Whether the design can decide for ``cohort`` now; ``reason`` says why (not)."""

    ready: bool
    reason: str
    cohort: CohortView | None = None
    state: TrialState | None = None
    decision: Decision | None = None


def decision_to_json(decision: Decision) -> str:
    """The canonical text of a design's decision (0-based levels as the design gives them,
    plus 1-based ``next_level`` / ``mtd_level`` for readers)."""
    data: dict[str, Any] = {
        "action": decision.action,
        "next_dose": decision.next_dose,
        "next_level": None if decision.next_dose is None else decision.next_dose + 1,
        "stop": decision.stop,
        "reason": decision.reason,
        "stop_reason": decision.stop_reason,
        "mtd": decision.mtd,
        "mtd_level": None if decision.mtd is None else decision.mtd + 1,
        "suspended": decision.suspended,
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def stored_decision(row: EscalationDecision) -> dict[str, Any]:
    """A stored decision's JSON as a dict."""
    data: dict[str, Any] = json.loads(row.decision_json)
    return data


def readiness(
    session: Session, ctx: TrialContext, reading: TrialReading | None = None
) -> Readiness:
    """Can the design decide for the last cohort now, and on which state?"""
    reading = reading or read_trial(session, ctx)
    cohort = reading.last_cohort
    if cohort is None:
        return Readiness(False, "no patient has been enrolled yet")
    signed = signed_decision_for(session, cohort.number)
    if signed is not None:
        return Readiness(
            False, f"cohort {cohort.number} was decided by decision #{signed.id}", cohort
        )
    design = the_design(ctx)
    missing = max(0, reading.cohort_size - len(cohort.counted))
    known = _known_only(reading.state)
    worlds = [
        known,
        _resolved(reading.state, cohort.level - 1, missing, dlt=False),
        _resolved(reading.state, cohort.level - 1, missing, dlt=True),
    ]
    decisions = [design.decide(world) for world in worlds]
    if not decisions[0].suspended and len({_gist(d) for d in decisions}) == 1:
        return Readiness(True, decisions[0].reason, cohort, known, decisions[0])
    return Readiness(False, _why_waiting(reading, cohort, missing), cohort)


def compute_decision(session: Session, ctx: TrialContext, *, actor: str) -> EscalationDecision:
    """Compute and store the decision for the last cohort (refused, saying why, when the
    design cannot decide yet). An unsigned decision on the same input is returned as it is; one
    on an older input is marked superseded."""
    who = check_actor(actor)
    ready = readiness(session, ctx)
    if not ready.ready or ready.state is None or ready.decision is None or ready.cohort is None:
        raise TrialdeskError(f"the design cannot decide yet: {ready.reason}", field="decision")
    state_text = state_to_json(ready.state)
    for earlier in open_decisions(session, ready.cohort.number):
        if (
            earlier.state_json == state_text
            and earlier.protocol_version_id == ctx.protocol_version_id
        ):
            return earlier
        update(
            session,
            earlier,
            {"superseded": True},
            actor=who,
            reason="recomputed: the data changed since it was computed",
            clock=ctx.clock,
        )
    row = EscalationDecision(
        cohort_number=ready.cohort.number,
        dose_level=ready.cohort.level,
        state_json=state_text,
        decision_json=decision_to_json(ready.decision),
        protocol_version_id=ctx.protocol_version_id,
        software_version=__version__,
        computed_at=ctx.clock.now(),
        computed_by=who,
        superseded=False,
    )
    return create(
        session,
        row,
        actor=who,
        clock=ctx.clock,
        reason=f"escalation decision for cohort {ready.cohort.number} computed by the design",
    )


def sign_decision(
    session: Session,
    ctx: TrialContext,
    decision_id: int,
    *,
    username: str,
    password: str,
    meaning: str = SIGNATURE_MEANING,
) -> EscalationDecision:
    """The investigator's electronic signature: user name and password again, then printed
    name, UTC time and meaning are stored with the decision. Refused when the data changed
    since the decision was computed (compute it again and sign that)."""
    row = get_decision(session, decision_id)
    if row.signed_at is not None:
        raise TrialdeskError(
            f"{describe(row)} was already signed by {row.signer_name} at {row.signed_at}",
            field="decision_id",
        )
    if row.superseded:
        raise TrialdeskError(
            f"{describe(row)} was superseded by a newer computation; sign the newest one",
            field="decision_id",
        )
    user = require_role(session, username, Action.SIGN_DECISION)
    if not verify_password(user.password_hash, password):
        raise TrialdeskError("does not match; re-enter your own password to sign", field="password")
    ready = readiness(session, ctx)
    if ready.state is None or state_to_json(ready.state) != row.state_json:
        raise TrialdeskError(
            f"the trial data changed since {describe(row)} was computed; compute the decision "
            "again and sign the new one",
            field="decision_id",
        )
    if not meaning.strip():
        raise TrialdeskError("say what the signature means", field="meaning")
    update(
        session,
        row,
        {
            "signed_by": user.username,
            "signer_name": (user.printed_name or user.display_name).strip(),
            "signed_at": ctx.clock.now(),
            "signature_meaning": meaning.strip(),
        },
        actor=user.username,
        reason=f"electronic signature: {meaning.strip()}",
        clock=ctx.clock,
    )
    return row


def get_decision(session: Session, decision_id: int) -> EscalationDecision:
    row = session.get(EscalationDecision, decision_id)
    if row is None:
        raise TrialdeskError(f"there is no decision #{decision_id}", field="decision_id")
    return row


def signed_decision_for(session: Session, cohort_number: int) -> EscalationDecision | None:
    """The signed, current decision about ``cohort_number``, if any."""
    signed = [
        row
        for row in _in_force(session)
        if row.cohort_number == cohort_number and row.signed_at is not None
    ]
    return signed[-1] if signed else None


def open_decisions(session: Session, cohort_number: int) -> list[EscalationDecision]:
    """Computed, unsigned, not superseded decisions about ``cohort_number``."""
    return [
        row
        for row in _in_force(session)
        if row.cohort_number == cohort_number and row.signed_at is None
    ]


def signed_stop(session: Session) -> EscalationDecision | None:
    """The signed decision that stopped the trial, if there is one."""
    for row in _in_force(session):
        if row.signed_at is not None and stored_decision(row).get("stop"):
            return row
    return None


_IN_FORCE: Final = (
    select(EscalationDecision)
    .where(EscalationDecision.superseded.is_(False))
    .order_by(EscalationDecision.id)
)


def _in_force(session: Session) -> list[EscalationDecision]:
    """The decisions not superseded, oldest first; read once per page view (the trial summary
    asks for them from three places), afresh in a writing unit of work."""
    return read_once(
        session,
        "decisions in force",
        lambda: list(session.scalars(_IN_FORCE)),
    )


def _known_only(state: TrialState) -> TrialState:
    levels = tuple(
        LevelState(treated=level.complete, dlts=level.dlts, pending=()) for level in state.levels
    )
    return replace(state, levels=levels)


def _resolved(state: TrialState, level: int, missing: int, *, dlt: bool) -> TrialState:
    """Every pending patient (and ``missing`` more at ``level``) resolved, all alike."""
    levels = []
    for index, counts in enumerate(state.levels):
        extra = missing if index == level else 0
        unknown = len(counts.pending) + extra
        levels.append(
            LevelState(
                treated=counts.treated + extra,
                dlts=counts.dlts + (unknown if dlt else 0),
                pending=(),
            )
        )
    return replace(
        state, levels=tuple(levels), last_cohort_had_dlt=state.last_cohort_had_dlt or dlt
    )


def _gist(decision: Decision) -> tuple[object, ...]:
    return (decision.action, decision.next_dose, decision.stop, decision.mtd, decision.suspended)


def _why_waiting(reading: TrialReading, cohort: CohortView, missing: int) -> str:
    parts: list[str] = []
    for patient in cohort.pending:
        parts.append(f"{patient.label}: {patient.standing.reason}")
    others = [p for p in reading.patients if p.pending and p not in cohort.patients]
    parts += [
        f"{p.label} (cohort {p.enrolment.cohort_number}): {p.standing.reason}" for p in others
    ]
    if missing:
        noun = "place" if missing == 1 else "places"
        parts.append(f"cohort {cohort.number} has {missing} {noun} to fill at level {cohort.level}")
    return "; ".join(parts) or "outcomes still unknown"
