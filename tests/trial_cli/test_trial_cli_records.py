"""Corrections, voids, missed infusions, withdrawal and linking a stored screening, from the
command line: what each prints, and what the trial state shows afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_desk import Cli, enrolled, open_cli


@pytest.fixture
def cli(
    sqlite_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    return open_cli(sqlite_database_url, tmp_path, capsys, monkeypatch)


def test_an_ae_corrected_below_the_dlt_grade_leaves_the_candidates_and_a_void_ends_its_clock(
    cli: Cli,
) -> None:
    patient = enrolled(cli)
    cli(
        "infusion", "record", patient, "1", "--at", cli.at(cli.today), "--cells", "2e7",
        "--lot", "LOT-1", "--as", "coord",
    )  # fmt: skip
    cli(
        "ae", "record", patient, "--term", "Pneumonitis", "--grade", "3",
        "--onset", cli.today.isoformat(), "--hdmsc", "possible", "--standard", "unlikely",
        "--serious", "hospitalisation", "--as", "coord",
    )  # fmt: skip
    corrected = cli("ae", "correct", "1", "--grade", "2", "--reason", "misread", "--as", "coord")
    # CTCAE v5.0, Pneumonitis grade 2.
    assert "grade 2: Symptomatic; medical intervention indicated; limiting instrumental ADL" in (
        corrected.out
    )
    assert "DLT assessment #1: rejected (no longer meets the DLT definition" in corrected.out
    assert "no candidate DLT waits" in cli("dlt", "list").out
    assert "SAE reports open: 1" in cli("status").out
    cli("ae", "void", "1", "--reason", "entered for the wrong patient", "--as", "coord")
    assert "SAE reports open: 0" in cli("status").out
    again = cli("ae", "void", "1", "--reason", "twice", "--as", "coord", code=2)
    assert again.err.startswith("error: AE_ID: adverse event #1 is already voided")


def test_missed_infusion_withdrawal_and_a_stored_screening_linked_by_id(cli: Cli) -> None:
    patient = enrolled(cli)
    cli("infusion", "schedule", patient, "--first-on", cli.today.isoformat(), "--as", "coord")
    assert f"{patient} infusion 1: DUE" in cli("status").out
    missed = cli("infusion", "missed", patient, "1", "--reason", "fever 38.9", "--as", "coord")
    assert f"infusion 1 of {patient} recorded as missed" in missed.out
    assert "infusions due or overdue: 0" in cli("status").out
    out = cli("participant", "withdraw", patient, "--reason", "withdrew consent", "--as", "coord")
    assert f"{patient} withdrawn: withdrew consent" in out.out
    refused = cli("participant", "withdraw", patient, "--reason", "again", "--as", "coord", code=2)
    assert refused.err.startswith(f"error: PARTICIPANT: {patient} is already withdrawn")

    cli("participant", "add", "--as", "coord")
    taken = cli("participant", "link-screening", "S-002", "1", "--as", "coord", code=2)
    assert taken.err.startswith(
        "error: SCREENING_ID: screening #1 already belongs to participant #1"
    )
