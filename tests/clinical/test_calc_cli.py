"""`trialdesk calc ...`: the conversions and clearance a coordinator checks by hand.

Bad input (an unknown unit, a negative weight, a creatinine of 0, an impossible haemoglobin) must
give one message naming the field and what to do, and exit 2.
"""

from __future__ import annotations

import json

import pytest

from trialdesk.cli import run


def _crcl(age: str, sex: str, weight: str, creatinine: str) -> list[str]:
    return [
        "calc",
        "crcl",
        "--age",
        age,
        "--sex",
        sex,
        "--weight",
        weight,
        "--creatinine",
        creatinine,
    ]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert run([*argv, "--json"]) == 0
    payload: dict[str, object] = json.loads(capsys.readouterr().out)
    return payload


def test_haemoglobin_in_g_per_dl_converts_to_g_per_l(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 3 item 5: haemoglobin 8.2 g/dL = 82 g/L (1 dL = 0.1 L).
    assert run(["calc", "convert", "haemoglobin", "8.2 g/dL"]) == 0
    assert capsys.readouterr().out.strip() == "Haemoglobin: 8.2 g/dL = 82 g/L"


def test_creatinine_in_micromol_per_litre(capsys: pytest.CaptureFixture[str]) -> None:
    # NCT06021067.md clinical definitions: µmol/L ÷ 88.4 → mg/dL, so 97 µmol/L ≈ 1.10 mg/dL.
    payload = _json(capsys, ["calc", "convert", "creatinine", "97 µmol/L", "--to", "mg/dL"])
    assert payload["result"] == pytest.approx(97 / 88.4, rel=1e-3)


def test_neutrophils_per_microlitre(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _json(capsys, ["calc", "convert", "anc", "1500 /µL"])
    assert payload["result"] == pytest.approx(1.5) and payload["result_unit"] == "10^9/L"


def test_cockcroft_gault_published_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    # Worked example published at superglobalcalculator.com/formulas/health/creatinine-clearance
    # (Example 1): a 60-year-old man, 80 kg, serum creatinine 1.2 mg/dL -> CrCl ≈ 74.1 mL/min.
    assert run(_crcl("60", "male", "80 kg", "1.2 mg/dL")) == 0
    assert capsys.readouterr().out.strip().endswith("= 74.1 mL/min")


def test_clearance_from_pounds_and_micromol(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _json(
        capsys,
        _crcl("60", "female", "176.37 lb", "106.08 µmol/L"),
    )
    # 176.37 lb = 80.0 kg and 106.08 µmol/L = 1.2 mg/dL: the man's 74.1 × 0.85 for a woman.
    assert payload["crcl_ml_min"] == pytest.approx(74.07 * 0.85, rel=1e-3)


@pytest.mark.parametrize(
    ("argv", "field", "hint"),
    [
        (["calc", "convert", "creatinine", "1.2 mg/dl/x"], "quantity", "use one of: mg/dL"),
        (["calc", "convert", "haemoglobin", "800 g/L"], "quantity", "not possible"),
        (["calc", "convert", "sodium", "140 mmol/L"], "analyte", "use one of"),
        (["calc", "convert", "anc", "many /µL"], "quantity", "does not start with a number"),
        (
            _crcl("60", "male", "-5 kg", "1.0 mg/dL"),
            "--weight",
            "cannot be negative",
        ),
        (
            _crcl("60", "male", "70 kg", "0 mg/dL"),
            "--creatinine",
            "not possible",
        ),
        (
            _crcl("60", "M", "70 kg", "1 mg/dL"),
            "sex",
            "'male' or 'female'",
        ),
    ],
)
def test_bad_input_names_the_field_and_exits_2(
    argv: list[str], field: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: ")
    assert hint in lines[0]
