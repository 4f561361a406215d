"""`trialdesk screen FILE` as a coordinator uses it: a checklist or exact JSON; exit 2 if bad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trialdesk.cli import run
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.loader import builtin_protocol_text

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ELIGIBLE_YAML = EXAMPLES / "screening-eligible.yaml"
INELIGIBLE_JSON = EXAMPLES / "screening-ineligible.json"
ELIGIBLE_FHIR = EXAMPLES / "fhir-bundle-eligible.json"


def _out(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> str:
    assert run(argv) == code
    return capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(_out(capsys, [*argv, "--json"]))
    return payload


def _all_ids() -> list[str]:
    return [i for c in builtin_protocol().protocol.criteria for i in c.ids]


@pytest.mark.parametrize("file", [ELIGIBLE_YAML, INELIGIBLE_JSON, ELIGIBLE_FHIR])
def test_json_has_exactly_the_documented_shape_and_every_criterion(
    capsys: pytest.CaptureFixture[str], file: Path
) -> None:
    payload = _json(capsys, ["screen", str(file), "--date", "2026-03-10"])
    assert set(payload) == {"verdict", "criteria"}
    assert all(set(item) == {"id", "status", "reason", "evidence"} for item in payload["criteria"])
    assert [item["id"] for item in payload["criteria"]] == _all_ids()
    assert all(isinstance(item["evidence"], dict) for item in payload["criteria"])


def test_verdicts_of_the_published_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, ["screen", str(ELIGIBLE_YAML)])["verdict"] == "eligible"
    assert _json(capsys, ["screen", str(ELIGIBLE_FHIR), "--date", "2026-03-10"])["verdict"] == (
        "eligible"
    )
    ineligible = _json(capsys, ["screen", str(INELIGIBLE_JSON)])
    assert ineligible["verdict"] == "ineligible"
    failing = {c["id"] for c in ineligible["criteria"] if c["status"] in ("met", "not_met")}
    statuses = {c["id"]: c["status"] for c in ineligible["criteria"]}
    # Born 1949-11-02, screened 2026-03-10: 76 years old, above the 75-year limit of I8.
    assert statuses["I8"] == "not_met" and "I8" in failing
    # ALT 130 U/L over a ULN of 40 U/L is 3.25 x ULN: fails I4b.alt and triggers E8.alt.
    assert (statuses["I4b.alt"], statuses["E8.alt"]) == ("not_met", "met")


def test_checklist_groups_criteria_with_marks_and_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _out(capsys, ["screen", str(INELIGIBLE_JSON)])
    inclusion, exclusion = out.index("Inclusion criteria"), out.index("Exclusion criteria")
    assert inclusion < out.index("I8  Aged 18 to 75 years.") < exclusion
    assert "✗ I8  Aged 18 to 75 years." in out
    assert "✓ E1  Pregnant or breastfeeding" in out  # an absent exclusion is a tick
    assert "✗ E8.alt" in out and "3.25×ULN" in out  # the evidence: the multiple of the ULN
    assert "Verdict: NOT ELIGIBLE" in out
    assert "Next: Do not enrol. Failing: I4b (I4b.alt), I8, E8 (E8.alt)." in out
    for criterion_id in _all_ids():
        assert f" {criterion_id}  " in out


def test_incomplete_record_lists_what_to_add_and_ask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record = tmp_path / "partial.yaml"
    record.write_text(
        "screening_date: 2026-03-10\nsex: female\nbirth_date: 1970-01-01\n", encoding="utf-8"
    )
    out = _out(capsys, ["screen", str(record)])
    assert "Verdict: INCOMPLETE" in out
    assert "Add the missing data for: I2," in out
    assert "Ask the investigator to answer: I1.confirmed," in out
    assert "? I2  ECOG performance status 0 to 3." in out


def test_fhir_bundle_checklist_shows_the_reported_units(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, ["screen", str(ELIGIBLE_FHIR), "--date", "2026-03-10"])
    assert "Haemoglobin 118 g/L (reported 11.8 g/dL)" in out
    assert "Verdict: ELIGIBLE" in out


def test_chinese_checklist(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out(capsys, ["screen", str(INELIGIBLE_JSON), "--lang", "zh"])
    assert "入选标准" in out and "排除标准" in out
    assert "✗ I8  年龄 18–75 岁。" in out
    assert "结论: 不符合入组条件" in out


def test_date_option_screens_on_another_day(capsys: pytest.CaptureFixture[str]) -> None:
    # Eight days after the sample (2026-03-06) the labs are too old to use: 7-day rule.
    payload = _json(capsys, ["screen", str(ELIGIBLE_YAML), "--date", "2026-03-14"])
    statuses = {c["id"]: c["status"] for c in payload["criteria"]}
    assert statuses["I4a.anc"] == "unknown" and payload["verdict"] == "incomplete"


def test_protocol_file_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(builtin_protocol_text(), encoding="utf-8")
    payload = _json(capsys, ["screen", str(ELIGIBLE_YAML), "--protocol", str(protocol)])
    assert payload["verdict"] == "eligible"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--date", "10/03/2026"],
            "error: --date: '10/03/2026' is not a date; write it as YYYY-MM-DD",
        ),
        (["--lang", "fr"], "error: --lang: must be en or zh"),
        (["--protocol", "/no/such.yaml"], "error: no such protocol file: /no/such.yaml"),
    ],
)
def test_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(["screen", str(ELIGIBLE_YAML), *argv]) == 2
    assert message in capsys.readouterr().err


def test_bad_input_files_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(["screen", str(tmp_path / "missing.json")]) == 2
    assert "error: no such file:" in capsys.readouterr().err
    bundle = json.loads(ELIGIBLE_FHIR.read_text(encoding="utf-8"))
    index = next(i for i, e in enumerate(bundle["entry"]) if e["resource"].get("id") == "crea")
    bundle["entry"][index]["resource"]["valueQuantity"]["code"] = "mg/dl/x"
    bad = tmp_path / "bundle.json"
    bad.write_text(json.dumps(bundle), encoding="utf-8")
    assert run(["screen", str(bad), "--date", "2026-03-10", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing half-written
    assert (
        f"error: entry[{index}].resource.valueQuantity.code: unknown unit 'mg/dl/x'" in captured.err
    )
    record = tmp_path / "record.yaml"
    record.write_text(
        "screening_date: 2026-03-10\nlabs:\n  - {analyte: haemoglobin, value: 800, unit: g/L, "
        "taken_on: 2026-03-06}\n",
        encoding="utf-8",
    )
    assert run(["screen", str(record)]) == 2
    assert "labs[0].value" in capsys.readouterr().err


def test_file_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["screen"]) == 2
    assert "error: give the FILE to screen" in capsys.readouterr().err
