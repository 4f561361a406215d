"""Reading typed form fields (always text) into the values the use-cases take, refusing with
the field's name so the page can show the message beside it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, tzinfo

from trialdesk.errors import TrialdeskError


def text(values: Mapping[str, str], name: str) -> str | None:
    """The field stripped, None when empty."""
    value = (values.get(name) or "").strip()
    return value or None


def required(values: Mapping[str, str], name: str) -> str:
    value = text(values, name)
    if value is None:
        raise TrialdeskError("is required", field=name)
    return value


def day(values: Mapping[str, str], name: str, *, optional: bool = False) -> date | None:
    value = text(values, name)
    if value is None:
        if optional:
            return None
        raise TrialdeskError("is required: give a date (YYYY-MM-DD)", field=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TrialdeskError(f"{value!r} is not a date; use YYYY-MM-DD", field=name) from None


def required_day(values: Mapping[str, str], name: str) -> date:
    found = day(values, name)
    assert found is not None
    return found


def moment(values: Mapping[str, str], name: str, zone: tzinfo) -> datetime:
    """A ``datetime-local`` field (site time, no zone) as an aware time in the site's zone."""
    value = required(values, name)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TrialdeskError(
            f"{value!r} is not a date and time; use YYYY-MM-DDTHH:MM", field=name
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def number(values: Mapping[str, str], name: str, *, optional: bool = False) -> float | None:
    value = text(values, name)
    if value is None:
        if optional:
            return None
        raise TrialdeskError("is required: give a number", field=name)
    try:
        parsed = float(value.replace(",", "").replace("×10^", "e").replace("x10^", "e"))
    except ValueError:
        raise TrialdeskError(f"{value!r} is not a number", field=name) from None
    if not math.isfinite(parsed):
        raise TrialdeskError(f"{value!r} is not a number", field=name)
    return parsed


def required_number(values: Mapping[str, str], name: str) -> float:
    found = number(values, name)
    assert found is not None
    return found


def whole(values: Mapping[str, str], name: str, *, optional: bool = False) -> int | None:
    found = number(values, name, optional=optional)
    if found is None:
        return None
    if found != int(found):
        raise TrialdeskError(f"{found:g} is not a whole number", field=name)
    return int(found)


def required_whole(values: Mapping[str, str], name: str) -> int:
    found = whole(values, name)
    assert found is not None
    return found


def ticked(values: Mapping[str, str], name: str) -> bool:
    """A checkbox: present (any value but empty or 'off') means ticked."""
    return (values.get(name) or "").strip().lower() not in ("", "off", "false", "0", "no")


def seen_version(values: Mapping[str, str]) -> int | None:
    """The record version a correction form was opened on (its hidden ``version`` field)."""
    return whole(values, "version", optional=True)
