"""How a signed record shows its electronic signature, everywhere it is shown or exported: the
signer's printed name, the date and time in UTC, and the meaning of the signature (21 CFR
11.50), in one sentence, in English or Simplified Chinese.

The meaning is shown exactly as it was signed (it is not translated): a translation is not what
the signer agreed to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.store.models import EscalationDecision

Language = Literal["en", "zh"]


class SignedRecord(Protocol):
    """Anything that carries a signature (an escalation decision does)."""

    @property
    def signer_name(self) -> str | None: ...

    @property
    def signed_at(self) -> datetime | None: ...

    @property
    def signature_meaning(self) -> str | None: ...


def manifest(record: SignedRecord, language: Language = "en") -> str:
    """``Signed by <printed name> on <YYYY-MM-DD HH:MM:SS UTC>: <meaning>`` (or the Chinese
    sentence); ``Not signed`` / ``未签署`` for a record not signed yet."""
    if record.signed_at is None or not record.signer_name:
        return "未签署" if language == "zh" else "Not signed"
    moment = signed_at_utc(record.signed_at)
    meaning = (record.signature_meaning or "").strip()
    if language == "zh":
        return f"由 {record.signer_name} 于 {moment} 签署，签署含义：{meaning}"
    return f"Signed by {record.signer_name} on {moment}: {meaning}"


def signed_at_utc(moment: datetime) -> str:
    """A signature time as ``2026-03-10 01:00:00 UTC`` (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def signed_decisions(session: Session) -> list[EscalationDecision]:
    """The signed escalation decisions still in force, oldest first (the escalation history)."""
    return list(
        session.scalars(
            select(EscalationDecision)
            .where(
                EscalationDecision.signed_at.is_not(None),
                EscalationDecision.superseded.is_(False),
            )
            .order_by(EscalationDecision.signed_at, EscalationDecision.id)
        )
    )
