"""Batch screening gives each patient of a table what screen() gives that patient alone."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from trialdesk.cli import run
from trialdesk.eligibility import screen
from trialdesk.eligibility.batch import BatchError, screen_file, screen_table
from trialdesk.eligibility.columnar.layout import layout_for
from trialdesk.eligibility.columnar.read import read_patients
from trialdesk.eligibility.columnar.records import record_from_row
from trialdesk.protocol import builtin_protocol

PROTOCOL = builtin_protocol().protocol
COHORT_FILE = Path(__file__).parents[2] / "benchmarks" / "synthetic_cohort.py"


def _cohort_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synthetic_cohort", COHORT_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthetic_cohort"] = module
    spec.loader.exec_module(module)
    return module


generate_cohort = _cohort_module().generate_cohort


@pytest.fixture(scope="module")
def cohort() -> pl.DataFrame:
    return generate_cohort(2_000, seed=11)  # type: ignore[no-any-return]


def test_every_status_and_verdict_equals_the_single_patient_engine(cohort: pl.DataFrame) -> None:
    result = screen_table(PROTOCOL, cohort)
    layout = layout_for(PROTOCOL)
    typed = read_patients(cohort.lazy(), layout)
    differences = []
    verdicts = set()
    for row, batch in zip(
        typed.iter_rows(named=True), result.patients.iter_rows(named=True), strict=True
    ):
        single = screen(PROTOCOL, record_from_row(PROTOCOL, layout, row))
        verdicts.add(single.verdict)
        if single.verdict != batch["verdict"]:
            differences.append((row["patient_id"], "verdict", single.verdict, batch["verdict"]))
        for item in single.criteria:
            if item.status != batch[item.id]:
                differences.append((row["patient_id"], item.id, item.status, batch[item.id]))
    assert differences == []
    # the comparison means something only if the cohort reaches every verdict
    assert verdicts == {"eligible", "ineligible", "incomplete", "needs_review"}
    assert list(result.criterion_ids) == [i for c in PROTOCOL.criteria for i in c.ids]


def test_attrition_adds_up_and_matches_the_verdict_column(cohort: pl.DataFrame) -> None:
    result = screen_table(PROTOCOL, cohort)
    table = result.attrition
    patients = result.patients
    tops = [row for row in table.rows if row.parent is None]
    assert table.total == 2_000
    # sequential removals add up to the ineligible patients, and the last remaining count is
    # everyone else
    assert sum(row.removed or 0 for row in tops) == table.verdicts["ineligible"]
    assert tops[-1].remaining == table.total - table.verdicts["ineligible"]
    first = tops[0]
    assert first.removed == first.fail  # nobody is removed before the first criterion
    for row in tops:
        failing = "not_met" if row.kind == "inclusion" else "met"
        assert row.fail == patients.filter(pl.col(row.id) == failing).height
        assert row.unknown == patients.filter(pl.col(row.id) == "unknown").height
    i8 = next(row for row in tops if row.id == "I8")
    first_failed = patients.filter(pl.col("failing").str.split(";").list.first() == "I8").height
    assert i8.removed == first_failed
    counted = patients["verdict"].value_counts()
    for verdict, count in counted.iter_rows():
        assert table.verdicts[verdict] == count


def _one_patient(**changes: object) -> pl.DataFrame:
    base = generate_cohort(3, seed=5)
    return base.with_columns(**{k: pl.lit(v) for k, v in changes.items()})


def test_boundaries_in_mixed_units_agree_with_the_thresholds() -> None:
    # 1500 /µL is exactly 1.5 x10^9/L (issue 3, item 5); 8.0 g/dL is exactly 80 g/L.
    day = dt.date(2026, 3, 10)
    frame = _one_patient(
        screening_date=day,
        anc_value=1500.0,
        anc_unit="/µL",
        anc_taken_on=day,
        haemoglobin_value=7.9,
        haemoglobin_unit="g/dL",
        haemoglobin_taken_on=day,
        birth_date=dt.date(2008, 3, 10),  # 18th birthday on the screening day
    )
    patients = screen_table(PROTOCOL, frame).patients
    assert patients["I4a.anc"].to_list() == ["met"] * 3
    assert patients["I4a.hgb"].to_list() == ["not_met"] * 3
    assert patients["I8"].to_list() == ["met"] * 3


def test_a_missing_column_is_named_with_the_fix(tmp_path: Path) -> None:
    frame = generate_cohort(5, seed=1).rename({"anc_taken_on": "anc_taken"})
    with pytest.raises(BatchError) as caught:
        screen_table(PROTOCOL, frame)
    message = str(caught.value)
    assert caught.value.field == "anc_taken_on"
    assert "rename 'anc_taken' -> 'anc_taken_on'" in message


def test_an_unknown_unit_names_the_column_and_the_units_that_work() -> None:
    frame = _one_patient(creatinine_unit="mg/dl/x")
    with pytest.raises(BatchError) as caught:
        screen_table(PROTOCOL, frame)
    assert caught.value.field == "creatinine_unit"
    assert "'mg/dl/x'" in str(caught.value) and "µmol/L" in str(caught.value)


def test_an_impossible_value_names_the_row_and_the_likely_slip() -> None:
    frame = generate_cohort(4, seed=2).with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(800.0)
        .otherwise(pl.col("haemoglobin_value"))
        .alias("haemoglobin_value"),
        pl.lit("g/L").alias("haemoglobin_unit"),
    )
    with pytest.raises(BatchError) as caught:
        screen_table(PROTOCOL, frame)
    assert caught.value.field == "haemoglobin_value"
    assert "row 3" in str(caught.value) and "not possible" in str(caught.value)


def test_a_date_after_screening_is_refused() -> None:
    frame = _one_patient(screening_date=dt.date(2026, 6, 1), consent_signed_on=dt.date(2026, 6, 2))
    with pytest.raises(BatchError) as caught:
        screen_table(PROTOCOL, frame)
    assert caught.value.field == "consent_signed_on"


def test_a_cell_that_does_not_parse_in_csv(tmp_path: Path) -> None:
    frame = generate_cohort(3, seed=3).with_columns(pl.col("birth_date").cast(pl.String))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("31/12/1960"))
        .otherwise(pl.col("birth_date"))
        .alias("birth_date")
    )
    path = tmp_path / "patients.csv"
    frame.write_csv(path)
    with pytest.raises(BatchError) as caught:
        screen_file(PROTOCOL, path)
    assert caught.value.field == "birth_date"
    assert "row 2" in str(caught.value) and "YYYY-MM-DD" in str(caught.value)


def test_the_three_formats_give_the_same_verdicts(tmp_path: Path) -> None:
    frame = generate_cohort(300, seed=4)
    frame.write_parquet(tmp_path / "p.parquet")
    frame.write_csv(tmp_path / "p.csv")
    frame.write_ndjson(tmp_path / "p.ndjson")
    results = [
        screen_file(PROTOCOL, tmp_path / name).patients
        for name in ("p.parquet", "p.csv", "p.ndjson")
    ]
    assert results[0].equals(results[1]) and results[0].equals(results[2])


def test_cli_writes_verdicts_and_prints_attrition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort_path = tmp_path / "cohort.parquet"
    generate_cohort(200, seed=6).write_parquet(cohort_path)
    out = tmp_path / "verdicts.csv"
    assert run(["screen-batch", str(cohort_path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Of 200 patients:" in printed and "Sequential attrition" in printed
    written = pl.read_csv(out)
    assert written.height == 200 and {"patient_id", "verdict", "failing", "I4b.crcl"} <= set(
        written.columns
    )


def test_cli_bad_table_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    generate_cohort(5, seed=1).drop("sex").write_csv(bad)
    out = tmp_path / "verdicts.parquet"
    assert run(["screen-batch", str(bad), "--out", str(out)]) == 2
    assert "error: sex:" in capsys.readouterr().err
    assert not out.exists()
    assert run(["screen-batch", str(tmp_path / "cohort.xlsx")]) == 2
    assert ".parquet" in capsys.readouterr().err
