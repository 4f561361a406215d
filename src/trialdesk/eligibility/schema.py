"""The published JSON Schema of trialdesk's own screening-record format.

Generated from :class:`ScreeningRecord` so the schema and the code cannot drift apart:
``scripts/export_screening_schema.py`` writes it to ``docs/screening-record.schema.json`` and a
test fails when the committed file differs. The schema checks shape and types; units, plausible
values and dates are checked by trialdesk itself when the record is read.
"""

from __future__ import annotations

import json
from typing import Any

from trialdesk.eligibility.record import ScreeningRecord

__all__ = ["SCHEMA_ID", "screening_record_schema", "screening_record_schema_text"]

SCHEMA_ID = "urn:trialdesk:schema:screening-record:1"


def screening_record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a screening record."""
    schema = ScreeningRecord.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "trialdesk screening record",
        "description": (
            "The patient facts one eligibility screening reads, as reported (values with their "
            "units and dates). See docs/screening.md. trialdesk also checks units, plausible "
            "values and that no date is after screening_date."
        ),
    }


def screening_record_schema_text() -> str:
    """The schema as the exact text of the published file."""
    return json.dumps(screening_record_schema(), indent=2, ensure_ascii=False) + "\n"
