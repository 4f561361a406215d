"""The published JSON Schema of the screening record matches the code, and the examples fit it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from trialdesk.eligibility import RecordError, ScreeningRecord, load_record
from trialdesk.eligibility.schema import screening_record_schema, screening_record_schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs"
OWN_FORMAT_EXAMPLES = [
    DOCS / "examples" / "screening-eligible.yaml",
    DOCS / "examples" / "screening-ineligible.json",
]


def _as_json(data: Any) -> Any:
    """YAML's dates as the ISO strings JSON carries."""
    return json.loads(
        json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    )


def _validator() -> jsonschema.Draft202012Validator:
    schema = screening_record_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_committed_schema_is_the_generated_one() -> None:
    committed = (DOCS / "screening-record.schema.json").read_text(encoding="utf-8")
    assert committed == screening_record_schema_text(), (
        "docs/screening-record.schema.json is out of date: "
        "run .venv/bin/python scripts/export_screening_schema.py"
    )


@pytest.mark.parametrize("path", OWN_FORMAT_EXAMPLES, ids=lambda p: p.name)
def test_examples_fit_the_schema_and_load(path: Path) -> None:
    data = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(data)]
    assert errors == []
    assert load_record(path).patient_id == data["patient_id"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            {
                "labs": [
                    {"analyte": "anc", "value": "high", "unit": "10^9/L", "taken_on": "2026-03-06"}
                ]
            },
            "'high' is not of type 'number'",
        ),
        ({"screening_date": "10/03/2026"}, "'10/03/2026' is not a 'date'"),
        ({"sex": "F"}, "'F' is not valid under any of the given schemas"),
        ({"labz": []}, "Additional properties are not allowed ('labz' was unexpected)"),
    ],
)
def test_schema_rejects_what_the_reader_rejects(change: dict[str, Any], complaint: str) -> None:
    data = _as_json(yaml.safe_load(OWN_FORMAT_EXAMPLES[0].read_text(encoding="utf-8")))
    data.update(change)
    messages = [e.message for e in _validator().iter_errors(data)]
    assert any(complaint in m for m in messages), messages
    with pytest.raises(RecordError):
        ScreeningRecord.from_data(data)
