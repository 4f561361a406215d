"""Replay: recompute every stored screening verdict and escalation decision from its stored
inputs and report any that differ.

A screening is re-run with its stored input, date and protocol text
(:func:`trialdesk.trial.screening.replay_screening`). A decision is re-run by the design of
its stored protocol text on its stored state; the result must be the stored decision text,
and both must still be what the audit trail recorded when the decision was computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk import __version__
from trialdesk.design.registry import design_from_protocol
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import load_protocol_text
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.models import EscalationDecision, ProtocolVersion, Screening
from trialdesk.trial.cohorts import state_from_json
from trialdesk.trial.decisions import decision_to_json
from trialdesk.trial.screening import replay_screening


@dataclass(frozen=True, slots=True)
class Difference:
    """One stored record whose replay differs: what it is, and how."""

    entity: str
    entity_id: int
    detail: str

    def __str__(self) -> str:
        return f"{self.entity} #{self.entity_id}: {self.detail}"


@dataclass(frozen=True)
class ReplayReport:
    """How many records were replayed and which differ."""

    software_version: str
    screenings: int = 0
    decisions: int = 0
    differences: tuple[Difference, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return not self.differences


def replay_all(session: Session) -> ReplayReport:
    """Replay every stored screening and decision (nothing is written)."""
    differences: list[Difference] = []
    screening_ids = list(session.scalars(select(Screening.id).order_by(Screening.id)))
    for screening_id in screening_ids:
        difference = _replay_screening(session, screening_id)
        if difference is not None:
            differences.append(difference)
    decisions = list(session.scalars(select(EscalationDecision).order_by(EscalationDecision.id)))
    for row in decisions:
        difference = replay_decision(session, row)
        if difference is not None:
            differences.append(difference)
    return ReplayReport(__version__, len(screening_ids), len(decisions), tuple(differences))


def replay_decision(session: Session, row: EscalationDecision) -> Difference | None:
    """None when the design of the stored protocol text, given the stored state, gives exactly
    the stored decision; otherwise the difference."""
    version = session.get(ProtocolVersion, row.protocol_version_id)
    if version is None:
        return Difference("decision", row.id, "its protocol version is missing from the database")
    try:
        protocol = load_protocol_text(version.yaml_text, f"stored protocol #{version.id}").protocol
        replayed = decision_to_json(
            design_from_protocol(protocol).decide(state_from_json(row.state_json))
        )
    except (TrialdeskError, ValueError, KeyError, TypeError) as exc:
        return Difference("decision", row.id, f"could not be replayed: {exc}")
    recorded = _as_recorded(session, row)
    if recorded is not None:
        return Difference("decision", row.id, recorded)
    if replayed != row.decision_json:
        return Difference(
            "decision",
            row.id,
            f"stored {row.decision_json} but the design now gives {replayed} "
            f"(computed with trialdesk {row.software_version}, replayed with {__version__})",
        )
    return None


def _as_recorded(session: Session, row: EscalationDecision) -> str | None:
    """Whether the stored inputs and output are still those the audit trail recorded when the
    decision was computed (a change made outside the application shows here)."""
    created = [e for e in audit_trail(session, "decision", str(row.id)) if e.field is None]
    if not created:
        return "its creation is missing from the audit trail"
    snapshot = from_json_text(created[0].new_value)
    for name in ("state_json", "decision_json"):
        if snapshot.get(name) != getattr(row, name):
            return (
                f"its {name} is not what the audit trail recorded when it was computed "
                "(changed outside trialdesk)"
            )
    return None


def _replay_screening(session: Session, screening_id: int) -> Difference | None:
    try:
        replay = replay_screening(session, screening_id)
    except TrialdeskError as exc:
        return Difference("screening", screening_id, f"could not be replayed: {exc}")
    if replay.identical:
        return None
    changed = ", ".join(replay.changed_criteria()) or "the result text"
    return Difference(
        "screening",
        screening_id,
        f"replay differs in {changed} (stored verdict {replay.screening.verdict}, replayed "
        f"{replay.replayed.result.get('verdict')})",
    )
