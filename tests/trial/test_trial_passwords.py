"""Passwords: argon2id hashes that verify only the right password; the audit never holds one."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import User
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.passwords import hash_password, set_password, verify_password


def test_a_hash_verifies_the_password_and_nothing_else() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(None, "correct horse battery")
    assert not verify_password("not a hash", "correct horse battery")


def test_a_short_password_is_refused() -> None:
    with pytest.raises(TrialdeskError, match=r"^password: has 5 characters; choose at least 10"):
        hash_password("short")


def test_setting_a_password_is_audited_without_the_hash(
    session: Session, clock: ManualClock
) -> None:
    user = User(username="dr.li", display_name="Dr Li", role="investigator")
    session.add(user)
    session.flush()
    set_password(
        session, user, "correct horse battery", actor="admin", reason="first login", clock=clock
    )
    assert user.password_hash is not None and verify_password(
        user.password_hash, "correct horse battery"
    )
    [entry] = audit_trail(session, "user", str(user.id))
    assert user.password_hash not in entry.new_value + entry.old_value
    assert (entry.field, entry.actor, entry.at) == ("password_hash", "admin", clock.now())
