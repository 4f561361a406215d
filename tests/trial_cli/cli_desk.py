"""A coordinator at the command line, for tests: every command runs in-process against one
database, on a manual clock in Chengdu's time zone that the test moves forward."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trialdesk.cli import desk as desk_module
from trialdesk.cli import run
from trialdesk.trial.clock import ManualClock

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_DATE = date(2026, 3, 10)
"""The screening date of docs/examples/screening-eligible.yaml."""
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
"""09:00 in Chengdu."""
CHENGDU = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"
COORD_PASSWORD = "coordinator's own pw"


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    database_url: str
    clock: ManualClock
    capsys: pytest.CaptureFixture[str]
    tmp_path: Path

    def __call__(self, *argv: str, code: int = 0) -> Result:
        """Run ``trialdesk ARGV --database-url URL``; the exit code must be ``code``."""
        self.capsys.readouterr()
        got = run([*argv, "--database-url", self.database_url])
        captured = self.capsys.readouterr()
        result = Result(got, captured.out, captured.err)
        assert got == code, f"trialdesk {' '.join(argv)} exited {got}: {result}"
        return result

    @property
    def today(self) -> date:
        return self.clock.today()

    def at(self, day: date, hour: int = 9) -> str:
        """An ISO 8601 time with zone on ``day`` in Chengdu."""
        return datetime(day.year, day.month, day.day, hour, 0, tzinfo=CHENGDU).isoformat()

    def record_file(self, name: str = "screening-eligible.yaml") -> Path:
        """An example screening record with every date moved so that it is screened today."""
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        shift = self.today - EXAMPLE_DATE

        def moved(match: re.Match[str]) -> str:
            return (date.fromisoformat(match.group(0)) + shift).isoformat()

        path = self.tmp_path / f"{self.today}-{name}"
        path.write_text(re.sub(r"\d{4}-\d{2}-\d{2}", moved, text), encoding="utf-8")
        return path

    def go_to(self, day: date) -> None:
        self.clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=CHENGDU))


def open_cli(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """A migrated database with an investigator (dr.li) and a coordinator (coord)."""
    clock = ManualClock(START, zone=CHENGDU)
    monkeypatch.setattr(desk_module, "desk_clock", lambda: clock)
    cli = Cli(database_url, clock, capsys, tmp_path)
    cli("db", "upgrade")
    monkeypatch.setenv("TRIALDESK_PASSWORD", PASSWORD)
    cli("user", "add", "dr.li", "--name", "LI Ming, MD", "--role", "investigator")
    monkeypatch.setenv("TRIALDESK_PASSWORD", COORD_PASSWORD)
    cli("user", "add", "coord", "--name", "WANG Fang", "--role", "coordinator", "--as", "dr.li")
    monkeypatch.setenv("TRIALDESK_PASSWORD", PASSWORD)
    return cli


def candidate(cli: Cli) -> str:
    """A registered, eligible, consented participant; their screening number."""
    added = cli("participant", "add", "--sex", "female", "--as", "coord")
    number = added.out.split()[0]
    screened = cli("participant", "screen", number, str(cli.record_file()), "--as", "coord")
    assert "eligible" in screened.out
    cli(
        "participant", "consent", number, "--date", cli.today.isoformat(),
        "--form-version", "1.0", "--obtained-by", "LI Ming", "--as", "coord",
    )  # fmt: skip
    return number


def enrolled(cli: Cli) -> str:
    """A candidate enrolled at 60 kg today; their study id."""
    out = cli("participant", "enrol", candidate(cli), "--weight", "60", "--as", "coord").out
    found = re.search(r"enrolled as (\S+)", out)
    assert found is not None, out
    return found.group(1)


def give_all_infusions(cli: Cli, study_ids: list[str]) -> date:
    """Schedule and give the four infusions, 3 days apart, from today; returns day 0."""
    first = cli.today
    for study_id in study_ids:
        cli("infusion", "schedule", study_id, "--first-on", first.isoformat(), "--as", "coord")
    for number in range(1, 5):
        day = first + timedelta(days=3 * (number - 1))
        cli.go_to(day)
        for study_id in study_ids:
            cli(
                "infusion", "record", study_id, str(number), "--at", cli.at(day),
                "--cells", "2e7", "--lot", "LOT-1", "--as", "coord",
            )  # fmt: skip
    return first
