"""benchmarks/load_mixed.py works end to end, in a tiny configuration (issue 8, item 5).

Three signed-in clients send 15 requests to a real ``trialdesk serve`` process on a fresh SQLite
file; the script prints its tables and its reconciliation and exits 0 only when every request
was answered as expected and every acknowledged write is in the database exactly once, with its
audit entry. No timing is asserted (the machine is shared).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "load_mixed.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_mixed", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_mixed"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_tiny_run_on_sqlite_answers_everything_and_reconciles() -> None:
    argv = ["--backends", "sqlite", "--clients", "3", "--requests", "15", "--think-ms", "0"]

    # Its own interpreter, as people run it (and no event loop left running by another test).
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), *argv], capture_output=True, text=True, timeout=300
    )
    out = run.stdout

    assert run.returncode == 0, out + run.stderr
    assert "- zero errors: met (0 failed)" in out
    assert "zero lost writes (and none extra, audit matching, chain intact): met" in out
    total = re.search(r"\| \*\*all\*\* \| (\d+) \| (\d+) \|", out)
    assert total is not None and total.groups() == ("15", "0"), out
    # Client 0 starts its round with a screening and an adverse event, client 2 reaches the
    # new contact: each kind of write is acknowledged and found again, with its audit entry.
    for entity in ("screening", "adverse_event", "participant"):
        row = re.search(rf"\| {entity} \| (\d+) \| (\d+) \| 0 \| 0 \| (\d+) / (\d+) \|", out)
        assert row is not None, out
        acknowledged, new_rows, expected, found = map(int, row.groups())
        assert acknowledged >= 1
        assert acknowledged == new_rows == expected == found


def test_several_runs_end_with_a_summary_of_each_run_and_of_the_targets_met() -> None:
    argv = ["--backends", "sqlite", "--clients", "2", "--requests", "6", "--think-ms", "0"]

    run = subprocess.run(
        [sys.executable, str(BENCHMARK), *argv, "--runs", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout

    assert run.returncode == 0, out + run.stderr
    assert "## Run 1 of 2" in out and "## Run 2 of 2" in out
    summary = out.split("## Summary of the runs", 1)[1]
    rows = re.findall(
        r"^\| ([12]) \| \d\d:\d\d \| \d+ \| sqlite \| .* \| 0 \| yes \|$", summary, re.M
    )
    assert rows == ["1", "2"], summary
    assert "- sqlite: p95 ≤ 150 ms for every operation in " in summary
    assert "of 2 runs; zero errors in 2; zero lost writes in 2" in summary


def test_zero_runs_is_a_usage_error() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), "--runs", "0"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert "--runs must be at least 1" in run.stderr


def test_an_acknowledged_write_missing_from_the_database_is_reported_lost(tmp_path: Path) -> None:
    bench = load_benchmark()
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        upgrade_to_head(engine)
        before = bench.Before()
        bench.take_before(engine, before)
        reconciled, other, entries, intact = bench.reconcile(engine, before, {"screening": {7}})
    finally:
        engine.dispose()

    screening = next(r for r in reconciled if r.entity == "screening")
    assert (screening.acknowledged, screening.new_rows, screening.lost) == (1, 0, 1)
    assert screening.audit_found == 0
    assert not screening.ok
    assert (entries, intact, other) == (0, True, {})
