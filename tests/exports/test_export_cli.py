"""`trialdesk export csv|odm|sdtm` on a seeded trial, and the refusals a user can fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from seeded_trial import seed_trial
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.exports.odm_schema import odm_schema


def test_the_three_exports_are_written_from_the_command_line(
    session: Session, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_trial(session)
    session.commit()

    assert (
        run(["export", "csv", "--out", str(tmp_path / "csv"), "--database-url", database_url]) == 0
    )
    assert "wrote 12 files" in capsys.readouterr().out  # 10 entities + dictionary .csv and .md
    assert (tmp_path / "csv" / "adverse_events.csv").read_text(encoding="utf-8").count("\n") == 4

    odm = tmp_path / "trial.xml"
    assert run(["export", "odm", "--out", str(odm), "--database-url", database_url]) == 0
    assert "7 subject(s)" in capsys.readouterr().out
    assert odm_schema().validate(etree.parse(str(odm)))

    assert (
        run(["export", "sdtm", "--out", str(tmp_path / "sdtm"), "--database-url", database_url])
        == 0
    )
    assert "wrote 7 domains" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "sdtm").iterdir()) == [
        "ae.csv", "cm.csv", "dm.csv", "ds.csv", "ex.csv", "lb.csv", "vs.csv",
    ]  # fmt: skip


def test_refusals_name_what_to_fix(
    engine: object, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "taken.txt"
    a_file.write_text("not a directory", encoding="utf-8")
    assert run(["export", "csv", "--out", str(a_file), "--database-url", database_url]) == 2
    assert "error: --out: " in capsys.readouterr().err
    assert a_file.read_text(encoding="utf-8") == "not a directory"

    assert run(["export", "odm", "--out", str(tmp_path), "--database-url", database_url]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err

    missing = tmp_path / "no" / "such" / "folder"
    assert run(["export", "sdtm", "--out", str(missing), "--database-url", database_url]) == 2
    assert "does not exist" in capsys.readouterr().err

    # the database is migrated (engine fixture) but no trial was ever run on it
    assert (
        run(["export", "odm", "--out", str(tmp_path / "x.xml"), "--database-url", database_url])
        == 2
    )
    assert "holds no trial yet" in capsys.readouterr().err
    assert not (tmp_path / "x.xml").exists()
