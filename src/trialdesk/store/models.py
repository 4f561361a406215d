"""The tables, as typed SQLAlchemy 2 declarative models. The schema itself is made by migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from trialdesk.store.clock import UTCDateTime, utc_now

SHA256_HEX_LENGTH = 64


class Base(DeclarativeBase):
    """Base of every trialdesk table."""


class ProtocolVersion(Base):
    """The exact protocol text a desk ran, once per distinct text (identified by its sha256)."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("sha256", name="uq_protocol_versions_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(100))
    yaml_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"ProtocolVersion({self.protocol_id!r}, {self.version!r}, {self.sha256[:12]}...)"


class User(Base):
    """A person who uses the desk (placeholder until authentication lands)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(Base):
    """One change: who, when, what (entity, id, field), old and new value (JSON text), and why.

    Rows form a hash chain: ``row_hash`` is the sha256 of this row's content together with the
    previous row's hash (``prev_hash``), so editing or removing a row breaks the chain.
    ``prev_hash`` is unique, so two writers cannot both extend the chain from the same row.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),
        UniqueConstraint("row_hash", name="uq_audit_log_row_hash"),
        Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    row_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))

    def __repr__(self) -> str:
        return f"AuditEntry(#{self.id} {self.entity}/{self.entity_id} {self.field} by {self.actor})"


class Screening(Base):
    """One eligibility screening as it was done: the input exactly as received, the screening
    date, the protocol text and software version used, who and when, and the result.

    A clinical record: appended, never changed or removed (the database refuses, like the audit
    log), so that ``trialdesk screen --replay`` can re-run it later.
    """

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    protocol_version_id: Mapped[int] = mapped_column(
        ForeignKey("protocol_versions.id", name="fk_screenings_protocol_version"), index=True
    )
    protocol_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    software_version: Mapped[str] = mapped_column(String(100))
    input_format: Mapped[str] = mapped_column(String(20))
    input_text: Mapped[str] = mapped_column(Text)
    screening_date: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(30))
    result_json: Mapped[str] = mapped_column(Text)
    screened_by: Mapped[str] = mapped_column(String(100))
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return (
            f"Screening(#{self.id} {self.verdict} on {self.screening_date} by {self.screened_by})"
        )
