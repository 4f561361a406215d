"""Tables of the web accounts and the data queries (migration 0005): login sessions, login
attempts, and the monitors' questions about recorded values.

Declared on the same :class:`~trialdesk.store.models.Base` as every other table; imported by
:mod:`trialdesk.store.models` so that its metadata always holds them.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trialdesk.store.clock import UTCDateTime
from trialdesk.store.models import NAME_LENGTH, SHA256_HEX_LENGTH, Base, Versioned


class WebSession(Base):
    """A login session. Only the sha256 of the cookie's token is kept; ``expires_at`` moves
    forward while the session is used; a logout sets ``ended_at`` (rows are never deleted)."""

    __tablename__ = "web_sessions"
    __table_args__ = (UniqueConstraint("token_sha256", name="uq_web_sessions_token_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_web_sessions_user"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """One login attempt, kept so that throttling counts failures across restarts."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_ip_at", "username", "ip", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(NAME_LENGTH))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


DATA_QUERY_STATUSES = ("open", "answered", "closed")


class DataQuery(Versioned, Base):
    """A monitor's question about one field of one record, the site's answer (or correction),
    and its closing. Every step is also in the audit log."""

    AUDIT_ENTITY: ClassVar[str] = "data_query"
    __tablename__ = "data_queries"
    __table_args__ = (
        Index("ix_data_queries_entity", "entity", "entity_id"),
        CheckConstraint("status IN ('open', 'answered', 'closed')", name="ck_data_queries_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(NAME_LENGTH))
    entity_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    field: Mapped[str] = mapped_column(String(NAME_LENGTH))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", name="fk_data_queries_participant"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    opened_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[bool | None] = mapped_column(Boolean)
    answered_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
