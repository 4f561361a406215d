"""Batch eligibility screening of 1,000,000 synthetic patients (issue 3, item 8). Not a test.

The cohort (benchmarks/synthetic_cohort.py, seed 0) is generated once to a Parquet file in a
temporary folder. Each measured run is a fresh child process that reads the file, screens every
row against the built-in NCT06021067 protocol and writes the verdicts to Parquet; it reports its
own wall time, CPU time (user + system, all threads) and peak RSS (``resource.getrusage``), so
generation never counts. The load average is printed too: on a shared machine, other work
lengthens the wall time but hardly the CPU time.

Run: .venv/bin/python benchmarks/eligibility_batch.py [--patients 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 10.0
TARGET_GB = 4.0

CHILD = """
import json, resource, sys, time
began = time.perf_counter()
from pathlib import Path
from trialdesk.eligibility.batch import screen_file
from trialdesk.eligibility.columnar.tables import write_table
from trialdesk.protocol import builtin_protocol
result = screen_file(builtin_protocol().protocol, Path(sys.argv[1]))
write_table(result.patients, Path(sys.argv[2]))
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_kb": usage.ru_maxrss, "verdicts": result.attrition.verdicts}))
"""


def run_child(cohort: Path, out: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(cohort), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import polars as pl
    from synthetic_cohort import generate_cohort

    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"polars {pl.__version__}"
    )
    with tempfile.TemporaryDirectory() as folder:
        cohort = Path(folder) / "cohort.parquet"
        began = time.perf_counter()
        frame = generate_cohort(args.patients, seed=0)
        frame.write_parquet(cohort)
        columns = frame.width
        del frame
        generated = time.perf_counter() - began
        size_mb = cohort.stat().st_size / 1e6
        print(
            f"cohort: {args.patients:,} patients x {columns} columns, Parquet {size_mb:,.0f} MB, "
            f"generated in {generated:.1f} s\n"
        )
        load_before = os.getloadavg()[0]
        runs = [run_child(cohort, Path(folder) / "verdicts.parquet") for _ in range(args.repeat)]
        load_after = os.getloadavg()[0]
    seconds = sorted(float(str(r["seconds"])) for r in runs)
    peak_gb = max(int(str(r["peak_kb"])) for r in runs) * 1024 / 1e9
    best = seconds[0]
    median = seconds[len(seconds) // 2]
    print("| patients | wall s (best) | wall s (median) | patients/s | peak RSS GB | target |")
    print("|---:|---:|---:|---:|---:|---|")
    met = "met" if median <= TARGET_SECONDS and peak_gb <= TARGET_GB else "NOT met"
    print(
        f"| {args.patients:,} | {best:.2f} | {median:.2f} | {args.patients / median:,.0f} | "
        f"{peak_gb:.2f} | ≤ {TARGET_SECONDS:g} s and ≤ {TARGET_GB:g} GB: {met} |"
    )
    listing = ", ".join(
        f"{float(str(r['seconds'])):.2f} s wall / {float(str(r['cpu_seconds'])):.2f} s CPU"
        for r in runs
    )
    print(f"\nruns: {listing}")
    print(f"load average (1 min) before / after the runs: {load_before:.1f} / {load_after:.1f}")
    print(f"verdicts: {runs[0]['verdicts']}")


if __name__ == "__main__":
    main()
