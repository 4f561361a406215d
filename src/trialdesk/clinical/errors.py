"""The clinical layer's errors: a unit nobody can read, or a value no living patient can have."""

from trialdesk.errors import TrialdeskError


class ClinicalError(TrialdeskError):
    """Base of every error raised by :mod:`trialdesk.clinical`."""


class UnitError(ClinicalError):
    """A unit spelling is unknown, or does not fit the quantity it was given for."""


class ClinicalValueError(ClinicalError):
    """A value is impossible (negative count, haemoglobin 800 g/L, creatinine 0, ...)."""
