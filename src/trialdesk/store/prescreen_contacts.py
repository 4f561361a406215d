"""Contact requests left on the public trial page, kept only with consent to be contacted.

A row holds what the person typed (name, phone and/or email, preferred language), their
pre-screen answers and the result they were shown, the exact consent sentence they ticked and
the protocol version the questions came from. It is not a clinical record: the coordinator turns
a request into a participant at the desk. Kept in its own module so that the table and its
writer travel together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from trialdesk.store.clock import UTCDateTime
from trialdesk.store.models import Base, Versioned

RESULTS: Final = ("may_be_eligible", "probably_not_eligible")
LANGUAGES: Final = ("en", "zh")
NAME_LENGTH: Final = 200
PHONE_LENGTH: Final = 40
EMAIL_LENGTH: Final = 254


class PrescreenContact(Versioned, Base):
    __tablename__ = "prescreen_contacts"
    __table_args__ = (
        CheckConstraint("consent_to_contact", name="ck_prescreen_contacts_consent"),
        CheckConstraint(
            "phone IS NOT NULL OR email IS NOT NULL", name="ck_prescreen_contacts_reachable"
        ),
        CheckConstraint(
            "result IN ('may_be_eligible', 'probably_not_eligible')",
            name="ck_prescreen_contacts_result",
        ),
        CheckConstraint(
            "preferred_language IN ('en', 'zh')", name="ck_prescreen_contacts_language"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    preferred_language: Mapped[str] = mapped_column(String(5))
    answers_json: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(30))
    reasons_json: Mapped[str] = mapped_column(Text)
    consent_to_contact: Mapped[bool] = mapped_column(Boolean)
    consent_text: Mapped[str] = mapped_column(Text)
    protocol_version_id: Mapped[int] = mapped_column(
        ForeignKey("protocol_versions.id", name="fk_prescreen_contacts_protocol_version"),
        index=True,
    )

    def __repr__(self) -> str:
        return f"PrescreenContact(#{self.id} {self.result} {self.created_at:%Y-%m-%d})"


def add_contact(session: Session, contact: PrescreenContact) -> PrescreenContact:
    """Store one request; the caller has checked consent and the fields."""
    if not contact.consent_to_contact:
        raise ValueError("a contact request is stored only with consent to be contacted")
    session.add(contact)
    session.flush()
    return contact


_NEWEST_FIRST: Final = (
    select(PrescreenContact)
    .order_by(PrescreenContact.created_at.desc(), PrescreenContact.id.desc())
    .limit(bindparam("limit"))
)
"""Built once: the dashboard reads it on every view."""


def recent_contacts(session: Session, limit: int = 20) -> list[PrescreenContact]:
    """The newest requests first (for the coordinator's queue)."""
    return list(session.scalars(_NEWEST_FIRST, {"limit": limit}))
