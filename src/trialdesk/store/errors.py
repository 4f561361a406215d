"""Errors of the store layer: problems a user or operator can fix (URL, missing reason, ...)."""

from trialdesk.errors import TrialdeskError


class StoreError(TrialdeskError):
    """A persistence problem described so that the reader knows what to change."""


class AuditLogIsAppendOnly(StoreError):
    """Someone tried to change or remove an audit entry; corrections are new entries instead."""


class ClinicalRecordsAreNeverDeleted(StoreError):
    """Someone tried to delete a clinical row; a record entered by mistake is voided instead."""


class AuditLogTampered(StoreError):
    """The audit log was changed outside trialdesk; nothing more is written until it is restored."""
