"""Speed of operating characteristics per design (issue 4 item 9). Not a test.

Setting: 5 levels, maximum N = 30, cohorts of 3, target 0.3, start at level 1, true DLT rates
0.05, 0.12, 0.30, 0.45, 0.60. For each design:

- compile s: exploring every reachable state once (cold cache),
- exact s: the exact OC on the compiled graph (warm), and cold = compile + exact,
- MC trials/s: Monte Carlo with 1,000,000 trials on the compiled graph (2 threads), compile
  excluded (it is cached per design configuration and reported in its own column), and the
  same with one compile added,
- TITE-BOIN: the event-time simulation (no compiled graph, no exact method).

Then the NCT06021067 3+3 (3 levels, max 15, read from the built-in protocol): exact OC cold
(compile + exact) and warm.

Run: .venv/bin/python benchmarks/design_throughput.py [--trials 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import partial

from trialdesk.design.base import Design
from trialdesk.design.oc import graph as graph_module
from trialdesk.design.oc.api import operating_characteristics
from trialdesk.design.oc.exact import exact_oc
from trialdesk.design.oc.montecarlo import simulate_oc
from trialdesk.design.registry import design_from_protocol, make_design
from trialdesk.protocol import builtin_protocol

RATES = (0.05, 0.12, 0.30, 0.45, 0.60)
DESIGNS = ("3+3", "boin", "crm", "mtpi2", "keyboard", "i3+3")
TARGETS = {"3+3": 1_000_000.0, "boin": 500_000.0, "crm": 50_000.0}


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def machine() -> str:
    model = "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
        f"numpy {__import__('numpy').__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tite-trials", type=int, default=2_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"setting: 5 levels, N = 30, cohorts of 3, target 0.3, true rates {RATES}\n")
    print(
        "| design | states | compile s | exact s (warm) | exact s (cold) | "
        f"MC trials/s ({args.trials:,}) | MC trials/s incl. compile | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in DESIGNS:

        def fresh(name: str = name) -> Design:
            """A new design object, so that no cache inside the design helps (cold figures)."""
            return make_design(name, n_levels=5, target=0.3, cohort_size=3, max_n=30)

        compile_s = best_of(args.repeat, lambda: graph_module.compile_design(fresh()))
        colds = []
        for _ in range(args.repeat):
            graph_module.clear_cache()
            design = fresh()
            began = time.perf_counter()
            operating_characteristics(design, [RATES], method="exact", target=0.3)
            colds.append(time.perf_counter() - began)
        graph = graph_module.compiled(design)
        exact_s = best_of(args.repeat, partial(exact_oc, graph, [RATES], target=0.3))
        mc_s = best_of(
            args.repeat,
            partial(simulate_oc, graph, RATES, trials=args.trials, seed=1, target=0.3),
        )
        rate = args.trials / mc_s
        with_compile = args.trials / (mc_s + compile_s)
        goal = TARGETS.get(name)
        verdict = "" if goal is None else f"≥ {goal:,.0f}: {'met' if rate >= goal else 'MISSED'}"
        print(
            f"| {name} | {graph.n_states:,} | {compile_s:.3f} | {exact_s:.4f} | "
            f"{min(colds):.3f} | {rate:,.0f} | {with_compile:,.0f} | {verdict} |"
        )
    tite = make_design("tite-boin", n_levels=5, target=0.3, cohort_size=3, max_n=30)
    tite_s = best_of(
        1,
        lambda: operating_characteristics(tite, [RATES], trials=args.tite_trials, seed=1),
    )
    print(
        f"| tite-boin (event-time MC, 6 arrivals per window) | – | – | no exact method | – | "
        f"{args.tite_trials / tite_s:,.0f} | – | – |"
    )

    began = time.perf_counter()
    protocol = builtin_protocol().protocol
    load_s = time.perf_counter() - began
    nct = design_from_protocol(protocol)
    nct_rates = (0.05, 0.15, 0.35)
    colds = []
    for _ in range(max(args.repeat, 5)):
        graph_module.clear_cache()
        began = time.perf_counter()
        operating_characteristics(nct, [nct_rates], method="exact", target=0.3)
        colds.append(time.perf_counter() - began)
    warm = best_of(
        max(args.repeat, 5),
        lambda: operating_characteristics(nct, [nct_rates], method="exact", target=0.3),
    )
    states = graph_module.compiled(nct).n_states
    print(
        f"\nNCT06021067 3+3 ({nct.n_levels} levels, max {getattr(nct, 'max_n', None)}, "
        f"{states} states), true rates {nct_rates}:"
    )
    print(
        f"  exact OC cold (compile + exact): median {1000 * statistics.median(colds):.2f} ms, "
        f"best {1000 * min(colds):.2f} ms; warm (cached graph) {1000 * warm:.2f} ms; "
        f"target ≤ 50 ms: {'met' if statistics.median(colds) <= 0.05 else 'MISSED'}"
    )
    print(f"  (loading and validating the built-in protocol once: {1000 * load_s:.0f} ms)")


if __name__ == "__main__":
    main()
