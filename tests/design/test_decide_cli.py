"""`trialdesk decide` as a coordinator or statistician uses it."""

from __future__ import annotations

import json

import pytest

from trialdesk.cli import run


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert run(argv) == 0
    payload: dict[str, object] = json.loads(capsys.readouterr().out)
    return payload


def test_json_has_exactly_the_documented_keys_with_levels_from_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = _json(
        capsys,
        [
            "decide",
            "--design",
            "boin",
            "--target",
            "0.3",
            "--doses",
            "5",
            "--outcomes",
            "1NNN 2NNN",
            "--json",
        ],
    )
    assert set(payload) == {"action", "next_dose", "stop", "mtd", "reason"}
    assert payload["action"] == "escalate" and payload["next_dose"] == 3
    assert payload["stop"] is False and payload["mtd"] is None


def test_three_plus_three_stop_names_the_mtd(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _json(
        capsys,
        [
            "decide",
            "--design",
            "3+3",
            "--doses",
            "5",
            "--outcomes",
            "1NNN 1NNN 2NTN 2TNN",
            "--json",
        ],
    )
    assert payload["stop"] is True and payload["next_dose"] is None and payload["mtd"] == 1
    assert "level 1 is the MTD" in str(payload["reason"])


def test_crm_with_a_skeleton_reproduces_dfcrm(capsys: pytest.CaptureFixture[str]) -> None:
    # dfcrm crm() documented example: next dose 2.
    payload = _json(
        capsys,
        [
            "decide",
            "--design",
            "crm",
            "--target",
            "0.2",
            "--doses",
            "6",
            "--skeleton",
            "0.05,0.10,0.20,0.35,0.50,0.70",
            "--outcomes",
            "3N 4N 4T 3N 3N 4T 3T 2N 2N 2N",
            "--json",
        ],
    )
    assert payload["next_dose"] == 2


def test_readable_output(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "decide",
        "--design",
        "i3+3",
        "--target",
        "0.3",
        "--doses",
        "4",
        "--outcomes",
        "1nnn 2ntn",
    ]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "Decision: stay — next cohort at level 2" in out
    assert "Why: 1 of 3 patients had a DLT at level 2" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--design", "boinx", "--target", "0.3", "--doses", "5"], "unknown design 'boinx'"),
        (["--design", "boin", "--target", "1", "--doses", "5"], "--target"),
        (["--design", "boin", "--doses", "5"], "needs a target DLT rate"),
        (["--design", "boin", "--target", "0.3", "--doses", "0"], "--doses"),
        (
            ["--design", "boin", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NXN"],
            "'X' in cohort '2NXN' is not N or T at character 8",
        ),
        (
            ["--design", "boin", "--target", "0.3", "--doses", "2", "--outcomes", "3NNN"],
            "does not exist",
        ),
        (
            ["--design", "crm", "--target", "0.3", "--doses", "3", "--skeleton", "0.1,0.2"],
            "one prior DLT rate per level",
        ),
        (
            ["--design", "boin", "--target", "0.3", "--doses", "3", "--skeleton", "0.1,0.2,0.3"],
            "only apply to --design crm",
        ),
    ],
)
def test_invalid_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decide", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
