"""`trialdesk report safety` on a seeded trial: writes the PDF or HTML, refuses bad input with
exit 2 and an 'error: ...' line, and never leaves a partial file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_fixtures import SeededDatabase, seeded_database

from trialdesk.cli import desk as desk_module
from trialdesk.cli import run
from trialdesk.trial.clock import FixedClock

Report = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDatabase]:
    yield from seeded_database(tmp_path_factory.mktemp("seeded"))


@pytest.fixture
def report(
    seeded: SeededDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Report]:
    """``report(*args)`` runs `trialdesk report safety ARGS` on the seeded database at the
    trial's own clock; returns (exit code, stdout, stderr)."""
    moment = seeded.trial.desk.clock.now()
    monkeypatch.setattr(desk_module, "desk_clock", lambda: FixedClock(moment))

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["report", "safety", *args, "--database-url", seeded.url])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield call


def test_writes_a_pdf_with_the_cutoff_on_the_cover(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "dsmb.pdf"
    code, stdout, _ = report("--out", str(out), "--cutoff", "2026-05-01")
    assert code == 0 and str(out) in stdout
    assert out.read_bytes().startswith(b"%PDF-")
    first_page = PdfReader(out).pages[0].extract_text()
    assert "2026-05-01" in first_page


def test_writes_html_in_chinese(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "dsmb.html"
    code, _, _ = report("--out", str(out), "--lang", "zh")
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "剂量递增决策记录" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{dir}/dsmb.docx"], "--out: 'dsmb.docx' must end in .pdf or .html"),
        (["--out", "{dir}/missing/dsmb.pdf"], "does not exist; create it first"),
        (["--out", "{dir}/dsmb.pdf", "--cutoff", "01/05/2026"], "--cutoff: '01/05/2026' is not"),
        (["--out", "{dir}/dsmb.pdf", "--cutoff", "2030-01-01"], "--cutoff: 2030-01-01 is after"),
        (["--out", "{dir}/dsmb.pdf", "--lang", "fr"], "--lang: 'fr' is not a report language"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    report: Report, tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, stderr = report(*(a.format(dir=tmp_path) for a in args))
    assert code == 2
    assert stderr.startswith("error: ") and message in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_the_schema_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        [
            "report",
            "safety",
            "--out",
            str(tmp_path / "dsmb.pdf"),
            "--database-url",
            f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        ]
    )
    assert code == 2
    assert "no trialdesk schema yet" in capsys.readouterr().err
    assert not (tmp_path / "dsmb.pdf").exists()
