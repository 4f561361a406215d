"""Data queries through the use-cases: who may open, answer and close; what can be corrected."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from trial_people import add_user, enrolled

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import Enrolment, ProtocolVersion
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.follow_up import record_measurement
from trialdesk.trial.queries import answer_query, close_query, list_queries, open_query
from trialdesk.trial.roles import PermissionDenied


@pytest.fixture
def ctx(session: Session, loaded: LoadedProtocol, clock: ManualClock) -> TrialContext:
    add_user(session, "mon", "monitor")
    add_user(session, "coord", "coordinator")
    return TrialContext.open(session, loaded, clock)


def test_a_measurement_queried_corrected_and_closed_leaves_a_full_trail(
    session: Session, protocol_version: ProtocolVersion, ctx: TrialContext, clock: ManualClock
) -> None:
    person = enrolled(session, protocol_version, clock)
    value = record_measurement(
        session,
        person.id,
        code="spo2",
        value=89,
        measured_on=date(2026, 1, 5),
        protocol=ctx.protocol,
        actor="coord",
        clock=clock,
    ).measurement
    query = open_query(
        session,
        ctx,
        entity="measurement",
        entity_id=value.id,
        field="value",
        question="Source says 98 %",
        actor="mon",
    )
    with pytest.raises(PermissionDenied):
        answer_query(session, ctx, query.id, answer="fixed", actor="mon", corrected_value=98)
    clock.advance(hours=2)
    answer_query(
        session, ctx, query.id, answer="typo, 98 per source", actor="coord", corrected_value=98
    )
    assert value.value == 98
    close_query(session, ctx, query.id, note=None, actor="mon")
    assert query.status == "closed" and query.closed_by == "mon"
    steps = audit_trail(session, "data_query", str(query.id))
    assert [(s.actor, s.reason) for s in steps] == [
        ("mon", "query opened"),
        ("coord", "query answered"),
        ("mon", "query closed"),
    ]
    (change,) = [
        e
        for e in audit_trail(session, "measurement", str(value.id))
        if e.field not in (None, "version")
    ]
    assert (change.actor, change.old_value, change.new_value) == ("coord", "89.0", "98.0")
    assert list_queries(session, status="closed").total == 1


def test_what_cannot_be_queried_or_corrected_is_refused_with_the_choices(
    session: Session, protocol_version: ProtocolVersion, ctx: TrialContext, clock: ManualClock
) -> None:
    person = enrolled(session, protocol_version, clock)
    with pytest.raises(TrialdeskError, match="'screening' cannot be queried; query one of"):
        open_query(
            session,
            ctx,
            entity="screening",
            entity_id=1,
            field="verdict",
            question="?",
            actor="mon",
        )
    with pytest.raises(PermissionDenied, match="only the role 'monitor' may open a data query"):
        open_query(
            session,
            ctx,
            entity="participant",
            entity_id=person.id,
            field="sex",
            question="?",
            actor="coord",
        )
    enrolment = session.query(Enrolment).filter_by(participant_id=person.id).one()
    query = open_query(
        session,
        ctx,
        entity="enrolment",
        entity_id=enrolment.id,
        field="baseline_weight_kg",
        question="Weight 60 or 66 kg?",
        actor="mon",
    )
    with pytest.raises(TrialdeskError, match="cannot be corrected from a data query"):
        answer_query(session, ctx, query.id, answer="66", actor="coord", corrected_value=66.0)
    assert enrolment.baseline_weight_kg == 60.0
    with pytest.raises(TrialdeskError, match="is required"):
        answer_query(session, ctx, query.id, answer="  ", actor="coord")
