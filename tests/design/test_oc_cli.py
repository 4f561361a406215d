"""`trialdesk simulate` and `trialdesk compare` as a statistician uses them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from trialdesk.cli import run

TOX = "0.05,0.12,0.30,0.45,0.60"
KEYS = {
    "method",
    "trials",
    "selection",
    "none_selected",
    "patients",
    "dlts",
    "mean_n",
    "early_stop",
}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert run(argv) == 0
    payload: dict[str, object] = json.loads(capsys.readouterr().out)
    return payload


def test_simulate_json_has_exactly_the_documented_keys_in_percent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["simulate", "--design", "boin", "--target", "0.3", "--true-tox", TOX]
    payload = _json(capsys, [*argv, "--trials", "2000", "--seed", "1", "--json"])
    assert set(payload) == KEYS
    assert payload["method"] == "monte-carlo" and payload["trials"] == 2000
    selection = payload["selection"]
    patients = payload["patients"]
    assert isinstance(selection, list) and len(selection) == 5
    assert isinstance(patients, list) and len(patients) == 5
    none = payload["none_selected"]
    assert isinstance(none, float)
    assert sum(selection) + none == pytest.approx(100.0)  # percentages
    assert sum(patients) == pytest.approx(payload["mean_n"])
    assert _json(capsys, [*argv, "--trials", "2000", "--seed", "1", "--json"]) == payload


def test_simulate_exact_json_has_no_trial_count(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _json(
        capsys, ["simulate", "--design", "3+3", "--true-tox", "0.1,0.2,0.3", "--exact", "--json"]
    )
    assert payload["method"] == "exact" and payload["trials"] is None
    assert set(payload) == KEYS


def test_simulate_prints_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--design", "3+3", "--target", "0.3", "--true-tox", TOX, "--exact"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "selected as MTD (%)" in out and "0.30*" in out
    assert "true MTD* = level 3" in out and "exact" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--true-tox", "0.1,1.2,0.3"], "from 0 to 1"),
        (["--true-tox", "0.1,abc"], "not a number"),
        (["--true-tox", TOX, "--target", "1.0"], "strictly between 0 and 1"),
        (["--true-tox", TOX, "--design", "rolling-six"], "unknown design"),
        (["--true-tox", TOX, "--max-n", "31"], "multiple of the cohort size"),
        (["--true-tox", TOX, "--exact", "--trials", "100"], "either --exact or --trials"),
        (["--true-tox", TOX, "--design", "tite-boin", "--exact"], "no exact"),
        (["--true-tox", TOX, "--start", "6"], "level from 1 to 5"),
    ],
)
def test_invalid_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = ["simulate", "--design", "boin", "--target", "0.3", "--trials", "10"]
    if "--exact" in extra:
        argv.remove("--trials")
        argv.remove("10")
    # a later --design or --target overrides the default ones above
    assert run([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_simulate_the_design_of_the_builtin_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """NCT06021067: 3+3 over 3 levels, at most 15 patients (docs/NCT06021067.md)."""
    argv = ["simulate", "--protocol", "builtin", "--true-tox", "0.05,0.15,0.35", "--exact"]
    payload = _json(capsys, [*argv, "--json"])
    patients = payload["patients"]
    assert isinstance(patients, list) and len(patients) == 3
    mean_n = payload["mean_n"]
    assert isinstance(mean_n, float) and mean_n <= 15
    assert run([*argv, "--max-n", "12"]) == 2
    assert "set by the protocol" in capsys.readouterr().err
    assert run(["simulate", "--protocol", "builtin", "--true-tox", "0.1,0.2", "--exact"]) == 2
    assert "has 3 dose levels" in capsys.readouterr().err
    assert run(["simulate", "--true-tox", "0.1,0.2", "--exact"]) == 2
    assert "either --design or --protocol" in capsys.readouterr().err


def test_compare_writes_one_table_and_one_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text("safe: [0.02, 0.05, 0.10]\ntoxic: '0.35, 0.5, 0.6'\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["compare", "--designs", "3+3,boin", "--scenarios", str(scenarios), "--target", "0.3"]
    assert run([*argv, "--max-n", "12", "--exact", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "safe: true DLT rates" in printed and "toxic: true DLT rates" in printed
    with (out / "compare.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["scenario"], row["design"]) for row in rows] == [
        ("safe", "3+3"),
        ("safe", "boin"),
        ("toxic", "3+3"),
        ("toxic", "boin"),
    ]
    for row in rows:
        total = sum(float(row[f"select_{i}_pct"]) for i in (1, 2, 3))
        assert total + float(row["none_selected_pct"]) == pytest.approx(100.0)
    assert rows[2]["true_mtd"] == "none" and rows[0]["true_mtd"] == "3"
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (out / "compare.svg").read_text(encoding="utf-8")
    assert (out / "compare.txt").read_text(encoding="utf-8").startswith("safe:")


def test_compare_inline_scenarios_and_tite_falls_back_to_monte_carlo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["compare", "--designs", "boin,tite-boin", "--scenarios", "a=0.1,0.3;0.3,0.5"]
    assert run([*argv, "--target", "0.3", "--max-n", "9", "--exact"]) == 0
    out = capsys.readouterr().out
    assert "a: true DLT rates" in out and "scenario 2: true DLT rates" in out
    assert "MC 10,000" in out  # tite-boin has no exact method


def test_compare_refuses_an_empty_scenario_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compare", "--designs", "boin", "--scenarios", " ; ", "--target", "0.3"]) == 2
    assert "at least one scenario" in capsys.readouterr().err
