"""Server-side login sessions: a random token in the cookie, its sha256 in ``web_sessions``.

A session ends after :data:`IDLE` without use, after :data:`LONGEST` in any case, or at logout.
Each session has its own CSRF token, which every unsafe request made with the cookie must echo.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trialdesk.store.accounts import WebSession
from trialdesk.store.models import User
from trialdesk.trial.clock import Clock

IDLE: Final = timedelta(minutes=30)
"""A session unused this long has expired (the user logs in again)."""
LONGEST: Final = timedelta(hours=12)
"""No session outlives a working day, however busy."""
TOUCH_EVERY: Final = timedelta(minutes=1)
"""Use moves the expiry forward at most this often (one write a minute, not one a request)."""


@dataclass(frozen=True, slots=True)
class Account:
    """Who a request acts for, as the pages and the API see them."""

    username: str
    display_name: str
    printed_name: str
    role: str
    session_id: int
    csrf_token: str
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session, user: User, *, ip: str | None, clock: Clock
) -> tuple[str, Account]:
    """A new session: the cookie token (returned once, only its hash is stored) and the account."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(
        token_sha256=token_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        ip=(ip or "")[:64] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=min(now + IDLE, now + LONGEST),
    )
    session.add(row)
    session.flush()
    return token, _account(row, user)


def resolve_session(session: Session, token: str, *, clock: Clock) -> Account | None:
    """The account of a live session with this cookie token; None when unknown, ended, expired,
    or its user is no longer active. Use moves the idle expiry forward (at most once a minute,
    so that most requests only read)."""
    found = _live_session(session, token, clock.now())
    if found is None:
        return None
    row, user = found
    if touch_due(row, clock):
        touch(row, clock)
        session.flush()
    return _account(row, user)


def session_for_reading(
    session: Session, token: str, *, clock: Clock
) -> tuple[Account | None, bool]:
    """Like :func:`resolve_session` without writing: the account (None as there), and whether
    its expiry is due to move (the caller then resolves it in a writing unit of work)."""
    found = _live_session(session, token, clock.now())
    if found is None:
        return None, False
    return _account(*found), touch_due(found[0], clock)


def touch_due(row: WebSession, clock: Clock) -> bool:
    return clock.now() - row.last_seen_at >= TOUCH_EVERY


def touch(row: WebSession, clock: Clock) -> None:
    now = clock.now()
    row.last_seen_at = now
    row.expires_at = min(now + IDLE, row.created_at + LONGEST)


_SESSION_BY_DIGEST: Final = (
    select(WebSession, User)
    .join(User, User.id == WebSession.user_id)
    .where(WebSession.token_sha256 == bindparam("digest"))
)
"""Built once: every request looks its session up, and building the statement (and its cache
key) each time cost as much as running it."""


def _live_session(session: Session, token: str, now: datetime) -> tuple[WebSession, User] | None:
    found = session.execute(_SESSION_BY_DIGEST, {"digest": token_digest(token)}).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or now >= row.expires_at or now >= row.created_at + LONGEST:
        return None
    if not user.active:
        return None
    return row, user


def end_session(session: Session, session_id: int, *, clock: Clock) -> None:
    """Log out: the session stays stored, marked ended."""
    row = session.get(WebSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = clock.now()
        session.flush()


def _account(row: WebSession, user: User) -> Account:
    return Account(
        username=user.username,
        display_name=user.display_name,
        printed_name=user.printed_name or user.display_name,
        role=user.role,
        session_id=row.id,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
    )
