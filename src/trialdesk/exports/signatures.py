"""The one place an export writes a signature's manifestation (21 CFR 11.50): the signer's
printed name, the date and time, and the meaning of the signature."""

from __future__ import annotations

from trialdesk.exports.values import iso_moment
from trialdesk.store.models import EscalationDecision


def manifestation(decision: EscalationDecision) -> str:
    """``Signed by LI Ming, MD on 2026-04-01T02:00:00+00:00: <meaning>``; empty when unsigned."""
    if decision.signed_at is None:
        return ""
    name = decision.signer_name or decision.signed_by or "?"
    meaning = decision.signature_meaning or ""
    return f"Signed by {name} on {iso_moment(decision.signed_at)}: {meaning}"
