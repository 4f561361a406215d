"""`trialdesk protocol ...` as a coordinator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trialdesk.cli import run
from trialdesk.protocol.loader import builtin_protocol_text

RECORD = Path(__file__).parent / "data" / "ctgov_record.json"


def test_show_prints_doses_for_a_weight(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["protocol", "show", "--weight", "75"]) == 0
    out = capsys.readouterr().out
    assert "Doses (for 75 kg)" in out
    assert "Level 1: 3.3×10^5 cells/kg per infusion" in out
    assert "2.5×10^7 cells" in out  # 3.3e5 × 75 = 2.475e7 → 2 significant figures
    assert "E15" in out and "DLT window 30 days" in out


def test_show_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["protocol", "show", "--lang", "zh"]) == 0
    assert "灭活间充质干细胞治疗放射性肺损伤" in capsys.readouterr().out


def test_validate_reports_location_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(builtin_protocol_text())
    data["doses"][2]["amount"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert run(["protocol", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "doses[2].amount" in err and "must be > 0" in err


def test_validate_lists_assumptions_of_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(builtin_protocol_text(), encoding="utf-8")
    assert run(["protocol", "validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "valid protocol NCT06021067" in out and "dlt.definition" in out


def test_import_ctgov_writes_a_draft_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "draft.yaml"
    assert run(["protocol", "import-ctgov", str(RECORD), "--out", str(out)]) == 0
    assert "NCT09999991" in out.read_text(encoding="utf-8")
    assert run(["protocol", "validate", str(out)]) == 0
    before = out.read_text(encoding="utf-8")
    assert run(["protocol", "import-ctgov", str(RECORD), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before


def test_import_ctgov_rejects_broken_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert run(["protocol", "import-ctgov", str(broken)]) == 2
    assert "not valid JSON (line 1" in capsys.readouterr().err
