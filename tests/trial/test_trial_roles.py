"""The role matrix: written once, enforced by the use-cases themselves (not only by the doors)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from trial_people import add_user, enrolled

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.models import ProtocolVersion
from trialdesk.trial.adverse_events import record_adverse_event
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.roles import MATRIX, ROLES, Action, PermissionDenied, allowed_roles, may
from trialdesk.trial.users import add_user as add_account


def test_every_action_names_known_roles_and_the_monitor_and_dsmb_write_nothing() -> None:
    assert set(MATRIX) == set(Action)
    for action in Action:
        assert set(allowed_roles(action)) <= set(ROLES)
    writes = {Action.WRITE_CLINICAL, Action.SCREEN, Action.SIGN_DECISION, Action.ADJUDICATE_DLT}
    for action in writes:
        assert not may("monitor", action) and not may("dsmb", action)
    # Issue 6: the DSMB sees aggregate safety views only.
    assert [a for a in Action if may("dsmb", a)] == [Action.READ_SAFETY_SUMMARY]


@pytest.mark.parametrize("role", ["monitor", "dsmb", "administrator"])
def test_a_role_that_may_not_write_is_refused_by_the_use_case(
    session: Session,
    protocol_version: ProtocolVersion,
    loaded: LoadedProtocol,
    clock: ManualClock,
    role: str,
) -> None:
    person = enrolled(session, protocol_version, clock)
    add_user(session, "someone", role)
    with pytest.raises(PermissionDenied, match=f"someone has the role '{role}'; only the roles"):
        record_adverse_event(
            session,
            person.id,
            term="Fatigue",
            grade=1,
            onset_date=date(2026, 1, 5),
            attribution_hdmsc="unlikely",
            attribution_standard="unrelated",
            protocol=loaded.protocol,
            actor="someone",
            clock=clock,
        )


def test_a_coordinator_records_and_an_inactive_user_is_refused(
    session: Session, protocol_version: ProtocolVersion, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    person = enrolled(session, protocol_version, clock)
    add_user(session, "coord", "coordinator")
    gone = add_user(session, "left", "coordinator")
    gone.active = False
    recorded = record_adverse_event(
        session,
        person.id,
        term="Fatigue",
        grade=1,
        onset_date=date(2026, 1, 5),
        attribution_hdmsc="unlikely",
        attribution_standard="unrelated",
        protocol=loaded.protocol,
        actor="coord",
        clock=clock,
    )
    assert recorded.event.recorded_by == "coord"
    with pytest.raises(TrialdeskError, match="no longer an active user"):
        record_adverse_event(
            session,
            person.id,
            term="Fatigue",
            grade=1,
            onset_date=date(2026, 1, 5),
            attribution_hdmsc="unlikely",
            attribution_standard="unrelated",
            protocol=loaded.protocol,
            actor="left",
            clock=clock,
        )


def test_the_first_administrator_adds_accounts_and_a_coordinator_may_not(
    session: Session, clock: ManualClock
) -> None:
    password = "correct horse battery"
    admin = add_account(
        session,
        username="admin",
        printed_name="Desk Admin",
        role="administrator",
        password=password,
        actor=None,
        clock=clock,
    )
    assert admin.role == "administrator"
    for name, role in (("mon", "monitor"), ("board", "dsmb"), ("coord", "coordinator")):
        add_account(
            session,
            username=name,
            printed_name=name.title(),
            role=role,
            password=password,
            actor="admin",
            clock=clock,
        )
    with pytest.raises(PermissionDenied, match="only the roles 'administrator' or 'investigator'"):
        add_account(
            session,
            username="other",
            printed_name="Other",
            role="coordinator",
            password=password,
            actor="coord",
            clock=clock,
        )
    with pytest.raises(TrialdeskError, match="'auditor' is not a role"):
        add_account(
            session,
            username="x",
            printed_name="X",
            role="auditor",
            password=password,
            actor="admin",
            clock=clock,
        )
