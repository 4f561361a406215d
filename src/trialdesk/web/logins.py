"""Checking a login: argon2 password, throttling per user name and address, and the audit.

After :data:`MAX_FAILURES` failed attempts for one user name from one address within
:data:`WINDOW`, further attempts are refused without looking at the password until the oldest
of those failures is :data:`WINDOW` old. Attempts are stored, so a restart does not reset the
count. Every login, failed login and logout is in the audit log (never the password).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.accounts import LoginAttempt
from trialdesk.store.audit import record_change
from trialdesk.store.models import NAME_LENGTH, User
from trialdesk.trial.clock import Clock
from trialdesk.trial.passwords import hash_password, verify_password
from trialdesk.web.sessions import Account, end_session, start_session

MAX_FAILURES: Final = 5
WINDOW: Final = timedelta(minutes=15)
UNKNOWN_ADDRESS: Final = "unknown"


class LoginFailed(TrialdeskError):
    """Wrong user name or password (which of the two is not said). The web answers 401."""


class LoginThrottled(TrialdeskError):
    """Too many failures for this user name from this address. The web answers 429."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, field="username")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What a login attempt gave: a session (token and account) or the refusal to raise once
    the attempt itself is committed."""

    token: str | None
    account: Account | None
    refusal: TrialdeskError | None


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """The password check of one attempt, done before the write lock is taken (argon2 is
    slow on purpose; holding the lock through it would queue every other writer behind it)."""

    name: str
    address: str
    user_id: int | None
    right: bool
    refusal: TrialdeskError | None


def check_credentials(
    session: Session, username: str, password: str, *, ip: str | None, clock: Clock
) -> CredentialCheck:
    """Read-only: whether the user name and password are right (or why the attempt is refused
    without looking at the password)."""
    name = (username or "").strip()[:NAME_LENGTH]
    address = (ip or UNKNOWN_ADDRESS)[:64]
    if not name:
        return CredentialCheck(
            name, address, None, False, LoginFailed("is required", field="username")
        )
    throttled = _throttle(session, name, address, clock)
    if throttled is not None:
        return CredentialCheck(name, address, None, False, throttled)
    user = session.scalars(select(User).where(User.username == name)).one_or_none()
    # Verify against a dummy hash for an unknown name so both failures take the same time.
    stored_hash = user.password_hash if user is not None else _dummy_hash()
    right = verify_password(stored_hash, password) and user is not None and user.active
    return CredentialCheck(name, address, user.id if user is not None else None, right, None)


def record_attempt(session: Session, checked: CredentialCheck, *, clock: Clock) -> LoginOutcome:
    """Under the write lock: store and audit the checked attempt and, when right, start the
    session. The throttle and the account are looked at again, as they may have changed
    since the password was checked."""
    name, address = checked.name, checked.address
    throttled = _throttle(session, name, address, clock)
    if throttled is not None:
        return LoginOutcome(None, None, throttled)
    now = clock.now()
    user = session.get(User, checked.user_id) if checked.user_id is not None else None
    right = checked.right and user is not None and user.active
    session.add(LoginAttempt(username=name, ip=address, at=now, succeeded=right))
    if not right or user is None:
        record_change(
            session,
            actor=name,
            entity="login",
            entity_id=name,
            field=None,
            old=None,
            new={"ip": address, "result": "failed"},
            reason="login failed: wrong user name or password, or inactive account",
            now=now,
        )
        left = MAX_FAILURES - _recent_failures(session, name, address, clock)
        hint = (
            f"{left} more attempt{'s' if left != 1 else ''} before a "
            f"{_minutes(WINDOW)}-minute pause"
            if left > 0
            else f"logins for this user name from here are paused for {_minutes(WINDOW)} minutes"
        )
        return LoginOutcome(
            None,
            None,
            LoginFailed(
                f"the user name or the password is wrong ({hint}); an administrator can "
                "reset a forgotten password",
                field="password",
            ),
        )
    token, account = start_session(session, user, ip=address, clock=clock)
    record_change(
        session,
        actor=user.username,
        entity="login",
        entity_id=user.username,
        field=None,
        old=None,
        new={"ip": address, "result": "succeeded", "session": account.session_id},
        reason="logged in",
        now=now,
    )
    return LoginOutcome(token, account, None)


def log_out(session: Session, account: Account, *, clock: Clock) -> None:
    """End the session and audit it."""
    end_session(session, account.session_id, clock=clock)
    record_change(
        session,
        actor=account.username,
        entity="login",
        entity_id=account.username,
        field=None,
        old=None,
        new={"session": account.session_id, "result": "logged out"},
        reason="logged out",
        now=clock.now(),
    )


def _recent_failures(session: Session, name: str, address: str, clock: Clock) -> int:
    """Failures in the window since the last success (a success clears the count)."""
    since = clock.now() - WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name,
            LoginAttempt.ip == address,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at > since,
        )
    )
    start = max(since, last_success) if last_success is not None else since
    return int(
        session.scalar(
            select(func.count()).where(
                LoginAttempt.username == name,
                LoginAttempt.ip == address,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > start,
            )
        )
        or 0
    )


def _throttle(session: Session, name: str, address: str, clock: Clock) -> LoginThrottled | None:
    if _recent_failures(session, name, address, clock) < MAX_FAILURES:
        return None
    oldest = session.scalar(
        select(func.min(LoginAttempt.at)).where(
            LoginAttempt.username == name,
            LoginAttempt.ip == address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > clock.now() - WINDOW,
        )
    )
    reopens = (oldest or clock.now()) + WINDOW
    wait = max(1, int((reopens - clock.now()).total_seconds()) + 1)
    return LoginThrottled(
        f"{MAX_FAILURES} failed logins for {name!r} from this address in the last "
        f"{_minutes(WINDOW)} minutes; wait {max(1, -(-wait // 60))} minute(s) and try again, "
        "or ask an administrator to reset the password",
        retry_after_seconds=wait,
    )


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


@cache
def _dummy_hash() -> str:
    return hash_password("not a password of anyone's")
