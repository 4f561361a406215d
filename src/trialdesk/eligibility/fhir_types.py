"""Reading FHIR R4 JSON datatypes with every problem located (``entry[3].resource.code``).

A FHIR Bundle is plain JSON; this module walks it with :class:`Node`, which remembers where each
value came from, so that an error names the exact element a coordinator must fix in the source
system. Only the datatypes the screening reader needs are here: CodeableConcept, Quantity,
date/dateTime and Period.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from trialdesk.errors import TrialdeskError

__all__ = ["UCUM_SYSTEM", "Coding", "FhirError", "Node"]

UCUM_SYSTEM = "http://unitsofmeasure.org"

_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2}))?)?$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$"
)


class FhirError(TrialdeskError):
    """A FHIR Bundle element the screening needs is missing or malformed."""


@dataclass(frozen=True)
class Coding:
    """One ``Coding`` of a CodeableConcept (``system`` may be empty when the source omits it)."""

    system: str
    code: str
    display: str


@dataclass(frozen=True)
class Node:
    """A JSON value and its location in the Bundle."""

    value: Any
    path: str

    def error(self, message: str) -> FhirError:
        return FhirError(message, field=self.path or "bundle")

    def child(self, key: str) -> Node:
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return Node(value, f"{self.path}.{key}" if self.path else key)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def first_present(self, *keys: str) -> Node | None:
        """The first of the choice-type elements ``keys`` (``valueQuantity``, ...) that is given."""
        for key in keys:
            if self.has(key):
                return self.child(key)
        return None

    def require(self, key: str, hint: str) -> Node:
        node = self.child(key)
        if node.value is None:
            raise node.error(f"is missing; {hint}")
        return node

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error(f"must be a JSON object, not {_kind(self.value)}")
        return self.value

    def items(self) -> Iterator[Node]:
        """The elements of a JSON array (an absent array has none)."""
        if self.value is None:
            return
        if not isinstance(self.value, list):
            raise self.error(f"must be a JSON array, not {_kind(self.value)}")
        for index, item in enumerate(self.value):
            yield Node(item, f"{self.path}[{index}]")

    def text(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.error(f"must be a non-empty string, not {_kind(self.value)}")
        return self.value.strip()

    def number(self) -> float:
        value = self.value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(f"must be a number, not {_kind(value)}")
        return float(value)

    def integer(self) -> int:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be a whole number, not {_kind(value)}")
        return value

    def codings(self) -> list[Coding]:
        """The codings of a CodeableConcept (codings without a code are skipped)."""
        found: list[Coding] = []
        for coding in self.child("coding").items():
            data = coding.object()
            code = data.get("code")
            if not isinstance(code, str) or not code.strip():
                continue
            system = data.get("system")
            display = data.get("display")
            found.append(
                Coding(
                    system=system.strip() if isinstance(system, str) else "",
                    code=code.strip(),
                    display=display if isinstance(display, str) else "",
                )
            )
        return found

    def date(self) -> dt.date:
        """A FHIR ``date`` or ``dateTime``, as the calendar date written in it.

        The date of a dateTime is the one written (the source's local date), not converted to UTC:
        a sample taken at 23:30 in Chengdu belongs to that day there. A partial date (``"2024"``,
        ``"2024-05"``) is refused: screening counts days, so it needs the day.
        """
        raw = self.value
        if not isinstance(raw, str):
            raise self.error(f"must be a date such as 2026-03-01, not {_kind(raw)}")
        text = raw.strip()
        match = _DATETIME.match(text)
        if match is None:
            partial = _DATE.match(text)
            if partial is None:
                raise self.error(f"{raw!r} is not a FHIR date; write it as YYYY-MM-DD")
            if partial.group(5) is None:
                raise self.error(
                    f"{raw!r} gives no day; screening counts days, so give the full date "
                    "(YYYY-MM-DD)"
                )
            match = partial
            year, month, day = partial.group(1), partial.group(3), partial.group(5)
        else:
            year, month, day = match.group(1), match.group(2), match.group(3)
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise self.error(f"{raw!r} is not a real calendar date") from None

    def code_text(self) -> str | None:
        """A FHIR ``code`` primitive (``status``), or ``None`` when absent."""
        value = self.value
        return value.strip() if isinstance(value, str) and value.strip() else None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"
