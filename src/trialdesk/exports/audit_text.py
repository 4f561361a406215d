"""An audit entry as one line of export text, without what an export must not carry.

The audit log keeps every column of a new participant, the free-text contact note and the
birth date among them; exports are pseudonymous, so those values are replaced by a marker."""

from __future__ import annotations

import json
from typing import Final

from trialdesk.store.models import AuditEntry

NOT_EXPORTED: Final = "(not exported)"
PRIVATE_FIELDS: Final = {"participant": frozenset({"contact_note", "birth_date"})}
"""Per audit entity, the fields whose values never leave the desk."""


def change_text(entry: AuditEntry) -> str:
    """``audit_log #12: adverse_event 5 grade: 2 -> 3 (row sha256 ...)``."""
    what = f"{entry.entity} {entry.entity_id}"
    if entry.field:
        what += f" {entry.field}"
    old = shown_value(entry, entry.old_value)
    new = shown_value(entry, entry.new_value)
    return f"audit_log #{entry.id}: {what}: {old} -> {new} (row sha256 {entry.row_hash})"


def shown_value(entry: AuditEntry, value_json: str) -> str:
    """The stored JSON value with private fields masked."""
    private = PRIVATE_FIELDS.get(entry.entity, frozenset())
    if not private:
        return value_json
    if entry.field is not None:
        return NOT_EXPORTED if entry.field in private else value_json
    value = json.loads(value_json)
    if isinstance(value, dict):
        value = {
            k: (NOT_EXPORTED if k in private and v is not None else v) for k, v in value.items()
        }
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
