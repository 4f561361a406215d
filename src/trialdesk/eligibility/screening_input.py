"""One door for patient facts: a file in trialdesk's own record format or a FHIR R4 Bundle.

The format is recognised from the content, not the file name: parsed JSON whose
``resourceType`` is ``Bundle`` is read by :mod:`trialdesk.eligibility.fhir`; any other mapping
is a screening record (JSON or YAML). A FHIR resource that is not a Bundle is refused with a
hint, as it would otherwise be misread as a record with unknown fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trialdesk.eligibility.fhir import is_fhir_bundle, record_from_fhir
from trialdesk.eligibility.loading import parse_record_text
from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Protocol

__all__ = ["InputFormat", "ScreeningInput", "load_screening_input", "read_screening_input"]

InputFormat = Literal["record", "fhir"]


@dataclass(frozen=True)
class ScreeningInput:
    """The record read, the format it came in, and where from (for messages)."""

    record: ScreeningRecord
    format: InputFormat
    source: str


def read_screening_input(
    text: str, *, protocol: Protocol, screening_date: dt.date, source: str = "<input>"
) -> ScreeningInput:
    """Parse ``text`` (JSON or YAML) in either format.

    ``screening_date`` is the screening date of a FHIR Bundle, which carries none; a record in
    trialdesk's format keeps its own ``screening_date`` (the caller screens ``on`` another day).
    """
    data = parse_record_text(text, source)
    if is_fhir_bundle(data):
        record = record_from_fhir(data, protocol=protocol, screening_date=screening_date)
        return ScreeningInput(record, "fhir", source)
    if not isinstance(data, dict):
        raise TrialdeskError(
            f"{source}: expected a screening record (keys such as screening_date:, labs:) or a "
            "FHIR R4 Bundle, not "
            + ("an empty file" if data is None else f"a {type(data).__name__}")
        )
    kind = data.get("resourceType")
    if isinstance(kind, str):
        raise TrialdeskError(
            f"{source}: a single FHIR {kind} resource; screening reads one patient's resources "
            'in a Bundle ({"resourceType": "Bundle", "type": "collection", "entry": [...]})'
        )
    return ScreeningInput(ScreeningRecord.from_data(data), "record", source)


def load_screening_input(
    path: Path, *, protocol: Protocol, screening_date: dt.date
) -> ScreeningInput:
    """Read a file in either format (see :func:`read_screening_input`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrialdeskError(f"no such file: {path}; check the path") from None
    except IsADirectoryError:
        raise TrialdeskError(f"{path} is a folder; give a screening record or FHIR file") from None
    except UnicodeDecodeError:
        raise TrialdeskError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    return read_screening_input(
        text, protocol=protocol, screening_date=screening_date, source=str(path)
    )
