"""A pre-screen contact from the public page becomes a participant at the desk.

The person's name, phone and email stay in ``prescreen_contacts``; the participant only gets a
contact note naming the request by its number. Which participant a request became is an audit
entry on the request (entity ``prescreen_contact``, field ``participant_id``), so the link is
append-only, says who made it and when, and survives a later correction of the contact note.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import record_change
from trialdesk.store.models import AuditEntry, Participant
from trialdesk.store.prescreen_contacts import PrescreenContact
from trialdesk.trial.context import TrialContext
from trialdesk.trial.lookup import require_role
from trialdesk.trial.participants import register_contact
from trialdesk.trial.records import check_actor
from trialdesk.trial.roles import Action

CONTACT_ENTITY: Final = "prescreen_contact"
LINK_FIELD: Final = "participant_id"


def contact_note(contact_id: int) -> str:
    """The participant's contact note: where they came from, without who they are."""
    return f"pre-screen contact #{contact_id} (public trial page)"


_LINKS_OF_CONTACTS: Final = (
    select(AuditEntry)
    .where(
        AuditEntry.entity == CONTACT_ENTITY,
        AuditEntry.entity_id.in_(bindparam("keys", expanding=True)),
        AuditEntry.field == LINK_FIELD,
    )
    .order_by(AuditEntry.id)
)
"""Built once: the dashboard reads it on every view."""


def participants_of(session: Session, contact_ids: Iterable[int]) -> dict[int, int]:
    """Contact id -> the participant id it became, for those already started."""
    keys = [str(contact_id) for contact_id in contact_ids]
    if not keys:
        return {}
    entries = session.scalars(_LINKS_OF_CONTACTS, {"keys": keys})
    return {int(entry.entity_id): int(json.loads(entry.new_value)) for entry in entries}


def start_screening(
    session: Session, ctx: TrialContext, contact_id: int, *, actor: str
) -> Participant:
    """Register the contact as a new participant (next screening number) and record the link.

    Refused for a role that may not write clinical data, for an unknown contact, and for a
    contact already started (it names the participant it became).
    """
    who = require_role(session, check_actor(actor), Action.WRITE_CLINICAL).username
    contact = session.get(PrescreenContact, contact_id)
    if contact is None:
        raise TrialdeskError(f"there is no pre-screen contact #{contact_id}", field="contact_id")
    _refuse_if_started(session, contact_id)
    person = register_contact(session, ctx, actor=who, contact_note=contact_note(contact_id))
    # Checked again now that this transaction holds the audit chain (a second coordinator who
    # clicked at the same moment waited for the first to commit and is refused here).
    _refuse_if_started(session, contact_id)
    record_change(
        session,
        actor=who,
        entity=CONTACT_ENTITY,
        entity_id=str(contact_id),
        field=LINK_FIELD,
        old=None,
        new=person.id,
        reason=f"screening started as participant {person.screening_number}",
        now=ctx.clock.now(),
    )
    return person


def _refuse_if_started(session: Session, contact_id: int) -> None:
    started = participants_of(session, [contact_id]).get(contact_id)
    if started is not None:
        raise TrialdeskError(
            f"pre-screen contact #{contact_id} is already participant #{started}; open that "
            "participant instead",
            field="contact_id",
        )
