"""Passwords for logging in and for electronic signatures: argon2id hashes, never the password.

A signature asks the signer to enter the password again (the two-component rule of 21 CFR
11.200 uses user name and password); :func:`verify_password` is that check.
"""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import record_change
from trialdesk.store.models import User
from trialdesk.trial.clock import Clock
from trialdesk.trial.records import check_actor

MIN_LENGTH: Final = 10
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (refused when shorter than :data:`MIN_LENGTH`)."""
    if len(password) < MIN_LENGTH:
        raise TrialdeskError(
            f"has {len(password)} characters; choose at least {MIN_LENGTH}", field="password"
        )
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False when there is no hash)."""
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(
    session: Session, user: User, password: str, *, actor: str, reason: str, clock: Clock
) -> None:
    """Give ``user`` a new password. The audit says that it changed, never the hash."""
    user.password_hash = hash_password(password)
    record_change(
        session,
        actor=check_actor(actor),
        entity="user",
        entity_id=str(user.id),
        field="password_hash",
        old="(hidden)",
        new="(hidden)",
        reason=reason,
        now=clock.now(),
    )
    session.flush()
