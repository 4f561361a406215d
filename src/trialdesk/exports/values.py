"""How a stored value is written in an export: the same text in CSV, ODM and SDTM."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal


def iso_date(day: date | None) -> str:
    """``2026-03-10``; empty when unknown."""
    return "" if day is None else day.isoformat()


def iso_moment(moment: datetime | None) -> str:
    """An instant in UTC, ISO 8601 to the second: ``2026-03-10T01:00:00+00:00``."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def decimal_text(number: float | None) -> str:
    """A number without exponent (``60000000``, ``0.5``), as ODM's decimal ``float`` needs."""
    if number is None:
        return ""
    text = format(Decimal(repr(float(number))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def flag(value: bool | None) -> str:
    """``true`` / ``false`` (ODM boolean); empty when unknown."""
    if value is None:
        return ""
    return "true" if value else "false"


def text(value: object) -> str:
    """Any stored value as export text, by its type."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, datetime):
        return iso_moment(value)
    if isinstance(value, date):
        return iso_date(value)
    if isinstance(value, float):
        return decimal_text(value)
    return str(value)
