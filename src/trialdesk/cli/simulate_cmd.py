"""`trialdesk simulate` and `trialdesk compare`: operating characteristics of designs.

Percentages everywhere a probability is shown (selection, none selected, early stop, treating
above the true MTD); means for patients, DLTs and N. Definitions are in
:mod:`trialdesk.design.oc.results`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trialdesk.errors import TrialdeskError

if TYPE_CHECKING:
    from trialdesk.design.base import Design
    from trialdesk.design.oc.results import OperatingCharacteristics, Scenario

DEFAULT_TRIALS = 10_000


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("compare")(compare)


# Shared options ------------------------------------------------------------------------------
TargetOpt = Annotated[
    float | None,
    typer.Option(
        help="Target DLT rate, e.g. 0.3 (needed by all designs but 3+3; it also defines the "
        "true MTD: the highest level with true rate <= target)."
    ),
]
CohortOpt = Annotated[int, typer.Option(help="Patients per cohort.")]
MaxNOpt = Annotated[int, typer.Option(help="Maximum sample size (a multiple of the cohort size).")]
StartOpt = Annotated[int, typer.Option(help="Starting dose level (from 1).")]
TrialsOpt = Annotated[
    int | None,
    typer.Option(help=f"Monte Carlo trials (default {DEFAULT_TRIALS:,}); not with --exact."),
]
SeedOpt = Annotated[int, typer.Option(help="Random seed: the same seed gives the same result.")]
ExactOpt = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Exact operating characteristics (not for tite-boin, which is time-to-event).",
    ),
]
NStopOpt = Annotated[
    int | None,
    typer.Option(help="Stop once the current level holds this many and the design stays."),
]
SkeletonOpt = Annotated[
    str | None, typer.Option(help="CRM prior DLT rates per level, e.g. 0.05,0.1,0.2,0.35,0.5.")
]
ModelOpt = Annotated[str | None, typer.Option(help="CRM model: empiric or logistic.")]
ArrivalsOpt = Annotated[
    float,
    typer.Option(help="tite-boin: mean patients arriving per DLT window (Poisson accrual)."),
]


def _check_method(exact: bool, trials: int | None) -> int:
    if exact and trials is not None:
        raise TrialdeskError("give either --exact or --trials, not both", field="--trials")
    return DEFAULT_TRIALS if trials is None else trials


def _build(
    name: str,
    *,
    n_levels: int,
    target: float | None,
    cohort_size: int,
    max_n: int,
    start: int,
    n_stop: int | None,
    skeleton: str | None,
    model: str | None,
) -> Design:
    from trialdesk.design.oc.results import parse_rates
    from trialdesk.design.registry import canonical_name, make_design

    key = canonical_name(name)
    if target is not None and not 0 < target < 1:
        raise TrialdeskError(
            f"must be strictly between 0 and 1, e.g. 0.3 (got {target:g})", field="--target"
        )
    if not 1 <= start <= n_levels:
        raise TrialdeskError(f"must be a level from 1 to {n_levels} (got {start})", field="--start")
    if cohort_size < 1:
        raise TrialdeskError(f"must be 1 or more (got {cohort_size})", field="--cohort-size")
    if max_n < 1 or max_n % cohort_size:
        raise TrialdeskError(
            f"must be a positive multiple of the cohort size {cohort_size} (got {max_n})",
            field="--max-n",
        )
    params: dict[str, Any] = {}
    if n_stop is not None and key != "3+3":
        params["n_stop"] = n_stop
    if key == "crm":
        if skeleton is not None:
            params["skeleton"] = parse_rates(skeleton, "--skeleton")
        if model is not None:
            params["model"] = model
    return make_design(
        key,
        n_levels=n_levels,
        target=target,
        cohort_size=cohort_size,
        max_n=max_n,
        start_level=start - 1,
        **params,
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def render_oc(oc: OperatingCharacteristics, title: str) -> str:
    """A readable table of one design in one scenario."""
    levels = oc.n_levels
    mtd = oc.true_mtd
    width = 8
    head = "".join(f"{i + 1:>{width}}" for i in range(levels))
    rates = "".join(
        f"{(f'{rate:.2f}' + ('*' if i == mtd else '')):>{width}}"
        for i, rate in enumerate(oc.true_tox)
    )
    lines = [
        title,
        f"{'level':<22}{head}{'none':>{width}}",
        f"{'true DLT rate':<22}{rates}",
        f"{'selected as MTD (%)':<22}"
        + "".join(f"{100 * p:>{width}.1f}" for p in oc.selection)
        + f"{100 * oc.none_selected:>{width}.1f}",
        f"{'patients (mean)':<22}" + "".join(f"{x:>{width}.2f}" for x in oc.patients),
        f"{'DLTs (mean)':<22}" + "".join(f"{x:>{width}.2f}" for x in oc.dlts),
        f"mean N {oc.mean_n:.2f} (max {oc.max_n}); mean DLTs {oc.mean_dlts:.2f}; "
        f"early stop (before max N) {_percent(oc.early_stop)}%",
    ]
    if oc.target is not None:
        where = "none" if mtd is None else f"level {mtd + 1}"
        lines.append(
            f"treating above the true MTD {_percent(oc.treated_above_mtd)}% "
            f"(true MTD* = {where}: the highest level with true rate <= {oc.target:g})"
        )
    if oc.mean_duration is not None:
        lines.append(
            f"mean trial duration {oc.mean_duration:.2f} DLT windows (first patient in to last "
            "outcome known)"
        )
    if oc.trials is not None:
        worst = max(oc.standard_error(p) for p in (*oc.selection, oc.none_selected))
        lines.append(
            f"{oc.method}, {oc.trials:,} trials, seed {oc.seed}; standard error of a "
            f"percentage at most {100 * worst:.2f}"
        )
    else:
        lines.append("exact (all cohort outcomes enumerated)")
    return "\n".join(lines)


def _from_protocol(reference: str, n_rates: int) -> tuple[Design, int, int, int]:
    """(design, cohort size, max N, start level from 1) of a protocol file, or of the built-in
    NCT06021067 protocol for ``builtin``."""
    from trialdesk.design.registry import design_from_protocol
    from trialdesk.protocol import load_protocol

    loaded = load_protocol(None if reference.strip().lower() == "builtin" else Path(reference))
    protocol = loaded.protocol
    built = design_from_protocol(protocol)
    section = protocol.design
    assert section is not None  # design_from_protocol refuses a protocol without one
    if n_rates != built.n_levels:
        raise TrialdeskError(
            f"{n_rates} rates given but protocol {protocol.id} has {built.n_levels} dose levels; "
            "give one rate per level",
            field="--true-tox",
        )
    max_n = getattr(built, "max_n", None)
    if not isinstance(max_n, int):
        raise TrialdeskError(
            f"protocol {protocol.id} sets no maximum sample size", field="max_sample_size"
        )
    return built, section.cohort_size, max_n, section.start_level


def simulate(
    true_tox: Annotated[
        str, typer.Option(help="True DLT rate per level, e.g. 0.05,0.12,0.30,0.45,0.60.")
    ],
    design: Annotated[
        str | None,
        typer.Option(help="3+3, boin, tite-boin, crm, mtpi2, keyboard or i3+3 (or --protocol)."),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            help="Simulate the design of a protocol file instead of --design ('builtin': the "
            "built-in NCT06021067); cohort size, max N and start level come from it."
        ),
    ] = None,
    target: TargetOpt = None,
    cohort_size: Annotated[
        int | None, typer.Option(help="Patients per cohort (default 3).")
    ] = None,
    max_n: Annotated[
        int | None,
        typer.Option(help="Maximum sample size, a multiple of the cohort size (default 30)."),
    ] = None,
    start: Annotated[int | None, typer.Option(help="Starting dose level (default 1).")] = None,
    trials: TrialsOpt = None,
    seed: SeedOpt = 1,
    exact: ExactOpt = False,
    n_stop: NStopOpt = None,
    skeleton: SkeletonOpt = None,
    model: ModelOpt = None,
    arrivals_per_window: ArrivalsOpt = 6.0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"method", "trials", "selection", "none_selected", "patients", "dlts", '
            '"mean_n", "early_stop"}: percentages for selection, none_selected and early_stop '
            "(stopped before --max-n), means for patients, dlts and mean_n; trials null if exact.",
        ),
    ] = False,
) -> None:
    """Operating characteristics of a design in one scenario: exact or Monte Carlo."""
    from trialdesk.design.oc.api import operating_characteristics
    from trialdesk.design.oc.event_time import Accrual
    from trialdesk.design.oc.results import parse_rates

    count = _check_method(exact, trials)
    rates = parse_rates(true_tox, "--true-tox")
    if (design is None) == (protocol is None):
        raise TrialdeskError("give either --design or --protocol", field="--design")
    if protocol is not None:
        settings = {
            "--cohort-size": cohort_size,
            "--max-n": max_n,
            "--start": start,
            "--n-stop": n_stop,
            "--skeleton": skeleton,
            "--model": model,
        }
        given = [option for option, value in settings.items() if value is not None]
        if given:
            raise TrialdeskError(
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} set by the protocol; "
                "leave it out with --protocol",
                field=given[0],
            )
        built, cohort_size, max_n, start = _from_protocol(protocol, len(rates))
    else:
        assert design is not None
        cohort_size = 3 if cohort_size is None else cohort_size
        max_n = 30 if max_n is None else max_n
        start = 1 if start is None else start
        built = _build(
            design,
            n_levels=len(rates),
            target=target,
            cohort_size=cohort_size,
            max_n=max_n,
            start=start,
            n_stop=n_stop,
            skeleton=skeleton,
            model=model,
        )
    if target is not None and not 0 < target < 1:
        raise TrialdeskError(
            f"must be strictly between 0 and 1, e.g. 0.3 (got {target:g})", field="--target"
        )
    (oc,) = operating_characteristics(
        built,
        [rates],
        method="exact" if exact else "monte-carlo",
        trials=count,
        seed=seed,
        target=target,
        cohort_size=cohort_size,
        accrual=Accrual(arrivals_per_window),
    )
    if as_json:
        typer.echo(json.dumps(oc.to_json()))
        return
    goal = "" if oc.target is None else f", target {oc.target:g}"
    title = (
        f"{built.name}{goal}, {len(rates)} levels, cohorts of {cohort_size}, max N {max_n}, "
        f"start at level {start}"
    )
    typer.echo(render_oc(oc, title))
    if oc.method == "event-time monte-carlo":
        typer.echo(
            f"accrual: {arrivals_per_window:g} patients per DLT window on average (Poisson); "
            "a DLT happens at a uniform time within the window"
        )


# compare -------------------------------------------------------------------------------------
def parse_scenarios(text: str) -> list[Scenario]:
    """Scenarios from a file (YAML/JSON: a mapping name -> rates, or a list of rate lists) or
    inline: ``"low=0.05,0.1,0.2;high=0.3,0.45,0.6"`` (names optional, ``;`` between scenarios).
    """
    import yaml

    from trialdesk.design.oc.results import Scenario, check_true_tox, parse_rates

    path = Path(text)
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TrialdeskError(f"cannot read {path}: {exc}", field="--scenarios") from exc
        items: list[tuple[str, object]]
        if isinstance(data, dict):
            items = [(str(name), rates) for name, rates in data.items()]
        elif isinstance(data, list):
            items = [("", rates) for rates in data]
        else:
            raise TrialdeskError(
                f"{path} must hold a mapping of scenario name to rates, or a list of rate lists",
                field="--scenarios",
            )
        scenarios: list[Scenario] = []
        for name, rates in items:
            if isinstance(rates, str):
                values = parse_rates(rates, "--scenarios")
            elif isinstance(rates, list):
                values = check_true_tox(rates)
            else:
                raise TrialdeskError(
                    f"scenario {name or len(scenarios) + 1} in {path} is not a list of rates",
                    field="--scenarios",
                )
            scenarios.append(Scenario(values, name))
    else:
        scenarios = []
        for part in (piece.strip() for piece in text.split(";")):
            if not part:
                continue
            name, _, rates = part.rpartition("=")
            scenarios.append(Scenario(parse_rates(rates, "--scenarios"), name.strip()))
    if not scenarios:
        raise TrialdeskError(
            'give at least one scenario, e.g. "0.05,0.12,0.30,0.45,0.60" or a YAML file',
            field="--scenarios",
        )
    return scenarios


def comparison_rows(
    results: Sequence[tuple[Scenario, str, OperatingCharacteristics]], n_levels: int
) -> list[dict[str, Any]]:
    """One CSV row per (scenario, design); percentages for probabilities, levels from 1."""
    rows = []
    for scenario, label, oc in results:
        mtd = oc.true_mtd
        row: dict[str, Any] = {
            "scenario": label,
            "design": oc.design,
            "method": oc.method,
            "trials": "" if oc.trials is None else oc.trials,
            "seed": "" if oc.seed is None else oc.seed,
            "true_tox": " ".join(f"{r:g}" for r in scenario.true_tox),
            "target": "" if oc.target is None else oc.target,
            "true_mtd": "none" if mtd is None else mtd + 1,
        }
        for i in range(n_levels):
            row[f"select_{i + 1}_pct"] = 100 * oc.selection[i] if i < oc.n_levels else ""
        row["none_selected_pct"] = 100 * oc.none_selected
        for i in range(n_levels):
            row[f"patients_{i + 1}"] = oc.patients[i] if i < oc.n_levels else ""
        for i in range(n_levels):
            row[f"dlts_{i + 1}"] = oc.dlts[i] if i < oc.n_levels else ""
        row["mean_n"] = oc.mean_n
        row["early_stop_pct"] = 100 * oc.early_stop
        above = oc.treated_above_mtd
        row["treated_above_mtd_pct"] = "" if above is None else 100 * above
        row["mean_duration_windows"] = "" if oc.mean_duration is None else oc.mean_duration
        rows.append(row)
    return rows


def comparison_text(results: Sequence[tuple[Scenario, str, OperatingCharacteristics]]) -> str:
    """One block per scenario, one line per design."""
    blocks = []
    for label in dict.fromkeys(label for _, label, _ in results):
        group = [(s, oc) for s, lab, oc in results if lab == label]
        scenario = group[0][0]
        levels = len(scenario.true_tox)
        mtd = group[0][1].true_mtd
        rates = " ".join(
            f"{rate:g}" + ("*" if i == mtd else "") for i, rate in enumerate(scenario.true_tox)
        )
        head = "".join(f"{f'L{i + 1}':>7}" for i in range(levels))
        lines = [
            f"{label}: true DLT rates {rates} (* true MTD)",
            f"{'design':<10}{'method':<13}{head}{'none':>7}{'mean N':>8}{'early':>7}{'above':>7}",
        ]
        for _, oc in group:
            method = "exact" if oc.method == "exact" else f"MC {oc.trials:,}"
            above = oc.treated_above_mtd
            lines.append(
                f"{oc.design:<10}{method:<13}"
                + "".join(f"{100 * p:>7.1f}" for p in oc.selection)
                + f"{100 * oc.none_selected:>7.1f}{oc.mean_n:>8.2f}{100 * oc.early_stop:>7.1f}"
                + ("    n/a" if above is None else f"{100 * above:>7.1f}")
            )
        blocks.append("\n".join(lines))
    legend = (
        "L1..: % of trials selecting each level as the MTD; none: % selecting no level; "
        "early: % stopped before max N; above: % of trials treating anyone above the true MTD."
    )
    return "\n\n".join(blocks) + "\n\n" + legend + "\n"


def plot_comparison(
    results: Sequence[tuple[Scenario, str, OperatingCharacteristics]], out: Path
) -> list[Path]:
    """Selection probability per level, bars grouped by design, one panel per scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(label for _, label, _ in results))
    designs = list(dict.fromkeys(oc.design for _, _, oc in results))
    columns = min(len(labels), 3)
    rows = -(-len(labels) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False, sharey=True
    )
    width = 0.8 / len(designs)
    for index, label in enumerate(labels):
        axis = axes[index // columns][index % columns]
        group = {oc.design: (s, oc) for s, lab, oc in results if lab == label}
        scenario = next(iter(group.values()))[0]
        levels = len(scenario.true_tox)
        ticks = [*(f"{i + 1}\n{r:g}" for i, r in enumerate(scenario.true_tox)), "none"]
        for j, name in enumerate(designs):
            if name not in group:
                continue
            oc = group[name][1]
            values = [100 * p for p in oc.selection] + [100 * oc.none_selected]
            positions = [i - 0.4 + width * (j + 0.5) for i in range(levels + 1)]
            axis.bar(positions, values, width=width, label=name)
        mtd = next(iter(group.values()))[1].true_mtd
        if mtd is not None:
            axis.axvspan(mtd - 0.45, mtd + 0.45, color="0.9", zorder=0)
        axis.set_xticks(range(levels + 1), ticks)
        axis.set_title(label)
        axis.set_xlabel("dose level / true DLT rate (shaded: true MTD)")
        if index % columns == 0:
            axis.set_ylabel("selected as MTD (%)")
    for index in range(len(labels), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    axes[0][0].legend(title="design", fontsize="small")
    figure.tight_layout()
    written = []
    for suffix in ("png", "svg"):
        path = out / f"compare.{suffix}"
        figure.savefig(path, dpi=120)
        written.append(path)
    plt.close(figure)
    return written


def compare(
    designs: Annotated[
        str, typer.Option(help="Comma-separated designs, e.g. 3+3,boin,crm,tite-boin.")
    ],
    scenarios: Annotated[
        str,
        typer.Option(
            help='Scenarios inline, "name=0.05,0.1,0.3;other=0.3,0.4,0.5" (names optional), or '
            "a YAML/JSON file mapping names to rate lists."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for compare.txt, compare.csv, compare.png, compare.svg."),
    ] = None,
    target: TargetOpt = None,
    cohort_size: CohortOpt = 3,
    max_n: MaxNOpt = 30,
    start: StartOpt = 1,
    trials: TrialsOpt = None,
    seed: SeedOpt = 1,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="Exact OC where the design allows (tite-boin falls back to Monte Carlo).",
        ),
    ] = False,
    n_stop: NStopOpt = None,
    arrivals_per_window: ArrivalsOpt = 6.0,
) -> None:
    """Run several designs over several scenarios into one table (text, CSV) and one plot."""
    from trialdesk.design.oc.api import Request, is_time_to_event, operating_characteristics
    from trialdesk.design.oc.event_time import Accrual
    from trialdesk.design.registry import canonical_name

    count = _check_method(exact, trials)
    names = list(dict.fromkeys(canonical_name(part) for part in designs.split(",") if part.strip()))
    if not names:
        raise TrialdeskError("give at least one design, e.g. 3+3,boin", field="--designs")
    cases = parse_scenarios(scenarios)
    labels = [scenario.label(i) for i, scenario in enumerate(cases)]
    if len(set(labels)) != len(labels):
        raise TrialdeskError("scenario names must be different", field="--scenarios")
    results: list[tuple[Scenario, str, OperatingCharacteristics]] = []
    for scenario, label in zip(cases, labels, strict=True):
        for name in names:
            built = _build(
                name,
                n_levels=len(scenario.true_tox),
                target=target,
                cohort_size=cohort_size,
                max_n=max_n,
                start=start,
                n_stop=n_stop,
                skeleton=None,
                model=None,
            )
            method: Request = "exact" if exact and not is_time_to_event(built) else "monte-carlo"
            (oc,) = operating_characteristics(
                built,
                [scenario.true_tox],
                method=method,
                trials=count,
                seed=seed,
                target=target,
                cohort_size=cohort_size,
                accrual=Accrual(arrivals_per_window),
            )
            results.append((scenario, label, oc))
    text = comparison_text(results)
    typer.echo(text, nl=False)
    if out is None:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrialdeskError(f"cannot create {out}: {exc}", field="--out") from exc
    width = max(len(s.true_tox) for s in cases)
    rows = comparison_rows(results, width)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "compare.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (out / "compare.txt").write_text(text, encoding="utf-8")
    written = plot_comparison(results, out)
    typer.echo(
        f"wrote {out / 'compare.txt'}, {out / 'compare.csv'}, " + ", ".join(map(str, written))
    )
