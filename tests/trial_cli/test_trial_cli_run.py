"""A short NCT06021067 trial run from the command line only, as a coordinator and an
investigator would: users, screening, consent, enrolment, infusions, an adverse event that
becomes a DLT, adjudication, the signed decision, status and a clean replay."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cli_desk import enrolled, give_all_infusions, open_cli


def test_a_cohort_with_one_dlt_is_expanded_at_the_same_level(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = open_cli(database_url, tmp_path, capsys, monkeypatch)
    patients = [enrolled(cli) for _ in range(3)]
    assert patients == ["RLI-001", "RLI-002", "RLI-003"]

    first = give_all_infusions(cli, patients)
    cli.go_to(first + timedelta(days=10))
    # Grade 3 pneumonitis possibly related to hDMSC inside the window is a candidate DLT by the
    # built-in protocol's DLT rule 1; its grade text is CTCAE v5.0's for Pneumonitis grade 3.
    ae = cli(
        "ae", "record", "RLI-002", "--term", "Pneumonitis", "--grade", "3",
        "--onset", (first + timedelta(days=9)).isoformat(),
        "--hdmsc", "possible", "--standard", "unlikely",
        "--serious", "hospitalisation", "--as", "coord",
    )  # fmt: skip
    assert "Pneumonitis (MedDRA 10035742), grade 3 SERIOUS" in ae.out
    assert "grade 3: Severe symptoms; limiting self care ADL; oxygen indicated" in ae.out
    assert "DLT assessment #1: candidate (rule 1" in ae.out
    assert "SAE report due" in ae.out

    status = cli("status").out
    assert "current: cohort 1 at level 1; 3 enrolled of at most 15" in status
    # Day 0 was the first infusion; ten days on, 20 of the 30 days are left.
    assert "RLI-001 (level 1, cohort 1): day 10, 20 day(s) left" in status
    assert "adverse event #1 RLI-002 Pneumonitis grade 3: DUE" in status
    assert "#1 RLI-002: Pneumonitis grade 3" in status
    assert "enrolment blocked (cohort_full)" in status

    assert "#1 RLI-002: Pneumonitis grade 3" in cli("dlt", "list").out
    confirmed = cli(
        "dlt", "confirm", "1", "--reason", "severe pneumonitis in the window", "--as", "dr.li"
    )
    assert "DLT assessment #1 confirmed by dr.li" in confirmed.out
    cli.clock.advance(hours=2)
    reported = cli("ae", "reported", "1", "--at", cli.at(cli.today, 10), "--as", "coord")
    assert "reported on time" in reported.out

    cli("decision", "compute", "--as", "coord", code=2)  # windows still open
    cli.go_to(first + timedelta(days=31))
    computed = cli("decision", "compute", "--as", "coord").out
    # 3+3 (Storer 1989): one DLT among three patients -> three more at the same level.
    assert "decision #1 for cohort 1 at level 1:" in computed
    assert "next cohort at level 1" in computed
    signed = cli("decision", "sign", "1", "--as", "dr.li").out
    signature = (
        "Signed by LI Ming, MD on 2026-04-10 01:00:00 UTC: I approve this dose-escalation decision"
    )
    assert signed.startswith("decision #1 (user dr.li, 2026-04-10T09:00+08:00 site time): ")
    assert signature in signed
    listed = cli("decision", "list").out
    decided = "#1 cohort 1 at level 1: stay, next cohort at level 1"
    assert listed == f"{decided}\n  {signature}\n"
    assert f"signed decisions: 1\n  {decided}\n    {signature}" in cli("status").out

    cli(
        "measure", "record", "RLI-001", "spo2", "96", "--unit", "%", "--visit", "day14",
        "--date", (first + timedelta(days=14)).isoformat(), "--as", "coord",
    )  # fmt: skip

    data = json.loads(cli("status", "--json").out)
    assert [d["signature"] for d in data["signed_decisions"]] == [signature]
    assert (data["summary"]["next_level"], data["summary"]["next_cohort"]) == (1, 2)
    assert data["sae_clocks"] == [] and data["adjudications"] == []
    assert [p["window_open"] for p in data["summary"]["patients"]] == [False] * 3
    assert enrolled(cli) == "RLI-004"

    replay = cli("replay").out
    assert "replayed 4 screening(s) and 1 decision(s)" in replay
    assert "all identical" in replay
