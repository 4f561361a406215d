"""What the command line refuses, and that a refusal writes nothing: exit 2 with
``error: <option>: <what is wrong and how to fix it>``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cli_desk import Cli, candidate, enrolled, give_all_infusions, open_cli
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from trialdesk.cli import _register, app


@pytest.fixture
def cli(
    sqlite_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    return open_cli(sqlite_database_url, tmp_path, capsys, monkeypatch)


def test_a_full_cohort_with_open_windows_refuses_the_next_patient_and_writes_nothing(
    cli: Cli,
) -> None:
    for _ in range(3):
        enrolled(cli)
    waiting = candidate(cli)
    refused = cli("participant", "enrol", waiting, "--weight", "60", "--as", "coord", code=2)
    assert refused.err.startswith(
        "error: --level: cohort 1 at level 1 is full and its DLT outcomes are not all known"
    )
    assert "3 enrolled" in cli("status").out
    # Only an investigator may override the interlock, and only with a written reason.
    override = ["participant", "enrol", waiting, "--weight", "60", "--level", "1"]
    no_reason = cli(*override, "--as", "dr.li", code=2)
    assert "error: --override-reason: enrolling at level 1 is an override" in no_reason.err
    by_coordinator = cli(*override, "--override-reason", "urgent", "--as", "coord", code=2)
    assert "only the role 'investigator' may override" in by_coordinator.err
    done = cli(*override, "--override-reason", "DSMB agreed", "--as", "dr.li")
    assert "enrolled as RLI-004" in done.out and "OVERRIDE of the design" in done.out


def test_only_an_investigator_adjudicates_and_every_adjudication_needs_a_reason(cli: Cli) -> None:
    patient = enrolled(cli)
    give_all_infusions(cli, [patient])
    cli(
        "ae", "record", patient, "--term", "10035742", "--grade", "3",
        "--onset", cli.today.isoformat(), "--hdmsc", "probable", "--standard", "unrelated",
        "--as", "coord",
    )  # fmt: skip
    by_coordinator = cli(
        "dlt", "confirm", "1", "--reason", "looks like it", "--as", "coord", code=2
    )
    assert by_coordinator.err.startswith(
        "error: --as: coord has the role 'coordinator'; only the role 'investigator' may "
        "confirm or reject a DLT"
    )
    no_reason = cli("dlt", "reject", "1", "--as", "dr.li", code=2)
    assert no_reason.err.startswith("error: --reason: is required")
    assert "#1 " in cli("dlt", "list").out  # still waiting
    cli("dlt", "reject", "1", "--reason", "pre-existing, unchanged", "--as", "dr.li")
    assert "no candidate DLT waits" in cli("dlt", "list").out


def test_corrections_and_voids_need_a_reason(cli: Cli) -> None:
    patient = enrolled(cli)
    cli(
        "infusion", "record", patient, "1", "--at", cli.at(cli.today), "--cells", "2e7",
        "--lot", "LOT-1", "--as", "coord",
    )  # fmt: skip
    missing = cli("infusion", "void", "1", "--as", "coord", code=2)
    assert missing.err.startswith("error: --reason: is required: say why")
    blank = cli(
        "infusion", "correct", "1", "--lot", "LOT-2", "--reason", " ", "--as", "coord", code=2
    )
    assert blank.err.startswith("error: --reason: is required")
    corrected = cli(
        "infusion", "correct", "1", "--lot", "LOT-2", "--reason", "lot misread", "--as", "coord"
    )
    assert "lot LOT-2" in corrected.out
    assert (
        "voided: entered twice"
        in cli("infusion", "void", "1", "--reason", "entered twice", "--as", "coord").out
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["participant", "consent", "S-001", "--date", "2026-13-01", "--form-version", "1.0",
             "--obtained-by", "LI Ming", "--as", "coord"],
            "error: --date: '2026-13-01' is not a date; write it as YYYY-MM-DD",
        ),
        (
            ["participant", "consent", "S-001", "--form-version", "2.0", "--obtained-by", "LI",
             "--as", "coord"],
            "error: --form-version: '2.0' is not the consent form in use ('1.0')",
        ),
        (
            ["participant", "add", "--as", "nobody"],
            "error: --as: 'nobody' is not an active user of this desk",
        ),
        (["participant", "add"], "error: --as: is required"),
        (
            ["participant", "enrol", "S-009", "--weight", "60", "--as", "coord"],
            "error: PARTICIPANT: no participant has the screening number or study id 'S-009'",
        ),
        (
            ["participant", "enrol", "S-001", "--weight", "60", "--as", "coord"],
            "error: PARTICIPANT: S-001 has no screening; link an eligible screening first",
        ),
    ],
    ids=["bad-date", "old-consent-form", "unknown-user", "no-actor", "unknown-participant",
         "not-screened"],
)  # fmt: skip
def test_bad_input_names_the_option_and_the_fix(cli: Cli, argv: list[str], message: str) -> None:
    cli("participant", "add", "--as", "coord")
    assert cli(*argv, code=2).err.startswith(message)


def test_ae_terms_times_and_the_schema_are_checked(cli: Cli, tmp_path: Path) -> None:
    patient = enrolled(cli)
    typo = cli(
        "ae", "record", patient, "--term", "Pneumonitits", "--grade", "3",
        "--onset", cli.today.isoformat(), "--hdmsc", "possible", "--standard", "unlikely",
        "--as", "coord", code=2,
    )  # fmt: skip
    assert typo.err.startswith("error: --term: no CTCAE v5.0 term named 'Pneumonitits'")
    assert "'Pneumonitis'" in typo.err
    no_zone = cli(
        "infusion", "record", patient, "1", "--at", f"{cli.today}T09:00", "--cells", "2e7",
        "--lot", "L", "--as", "coord", code=2,
    )  # fmt: skip
    assert no_zone.err.startswith("error: --at: '") and "has no time zone" in no_zone.err
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    cli.database_url = empty
    assert "run `trialdesk db upgrade`" in cli("status", code=2).err


def test_signing_needs_the_investigators_own_password_and_replay_finds_a_changed_decision(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    patients = [enrolled(cli) for _ in range(3)]
    first = give_all_infusions(cli, patients)
    cli.go_to(first + timedelta(days=31))
    # 3+3 (Storer 1989): no DLT among three patients -> escalate to the next level.
    assert "escalate: next cohort at level 2" in cli("decision", "compute", "--as", "coord").out
    monkeypatch.setenv("TRIALDESK_PASSWORD", "not my password")
    wrong = cli("decision", "sign", "1", "--as", "dr.li", code=2)
    assert wrong.err.startswith("error: password: does not match")
    assert "decisions to sign: #1" in cli("status").out
    assert "enrolment blocked (decision_pending)" in cli("status").out

    engine = create_engine(cli.database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE decisions SET decision_json = replace(decision_json, '1,', '2,')")
        )
    engine.dispose()
    replay = cli("replay", code=1)
    assert "replayed 3 screening(s) and 1 decision(s)" in replay.out
    assert "decision #1: its decision_json is not what the audit trail recorded" in replay.err


def test_user_add_asks_for_the_password_twice_without_showing_it(sqlite_database_url: str) -> None:
    _register()
    runner = CliRunner()
    url = ["--database-url", sqlite_database_url]
    assert runner.invoke(app, ["db", "upgrade", *url]).exit_code == 0
    result = runner.invoke(
        app,
        ["user", "add", "dr.li", "--name", "LI Ming, MD", "--role", "investigator", *url],
        input="a long secret\na long secret\n",
        env={"TRIALDESK_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "a long secret" not in result.output
    assert "user dr.li added: LI Ming, MD, investigator" in result.output
