"""`trialdesk decide`: the next-dose decision of a design for a trial history."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from trialdesk.errors import TrialdeskError


def register(app: typer.Typer) -> None:
    app.command("decide")(decide)


def _floats(text: str, option: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise TrialdeskError(
            f"{text!r} is not a comma-separated list of numbers, e.g. 0.05,0.1,0.2",
            field=option,
        ) from None


def _level(value: int | None) -> int | None:
    return None if value is None else value + 1


def decide(
    design: Annotated[
        str, typer.Option(help="3+3, boin, tite-boin, crm, mtpi2, keyboard or i3+3.")
    ],
    doses: Annotated[int, typer.Option(help="Number of dose levels.")],
    outcomes: Annotated[
        str,
        typer.Option(help='Trial history, e.g. "1NNN 2NTN" (level from 1; N no DLT, T DLT).'),
    ] = "",
    target: Annotated[
        float | None, typer.Option(help="Target DLT rate (all designs but 3+3), e.g. 0.3.")
    ] = None,
    cohort_size: Annotated[int, typer.Option(help="Patients per cohort.")] = 3,
    start: Annotated[int, typer.Option(help="Starting dose level (from 1).")] = 1,
    max_n: Annotated[
        int | None, typer.Option(help="Maximum sample size; the trial stops there.")
    ] = None,
    n_stop: Annotated[
        int | None,
        typer.Option(help="Stop once the current level holds this many and the design stays."),
    ] = None,
    skeleton: Annotated[
        str | None, typer.Option(help="CRM prior DLT rates per level, e.g. 0.05,0.1,0.2,0.35.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="CRM model: empiric or logistic.")] = None,
    prior_mtd: Annotated[
        int | None, typer.Option(help="CRM prior guess of the MTD level (from 1), to calibrate.")
    ] = None,
    pathways: Annotated[
        int | None,
        typer.Option(help="Also show every course of the next K cohorts (dose-transition tree)."),
    ] = None,
    true_tox: Annotated[
        str | None,
        typer.Option(help="True DLT rate per level for pathway probabilities, e.g. 0.05,0.1,0.3."),
    ] = None,
    table: Annotated[
        int | None,
        typer.Option(help="Print the design's decision table for 1..N patients instead."),
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="With --table: print CSV.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"action", "next_dose", "stop", "mtd", "reason"} as JSON (with '
            '--pathways: {"decision", "cohorts", "true_rates", "next"}).',
        ),
    ] = False,
) -> None:
    """Print what the design says to do next after OUTCOMES (levels numbered from 1)."""
    from trialdesk.design.outcomes import state_from_outcomes
    from trialdesk.design.registry import canonical_name, make_design

    if doses < 1:
        raise TrialdeskError(f"must be 1 or more (got {doses})", field="--doses")
    if not 1 <= start <= doses:
        raise TrialdeskError(f"must be a level from 1 to {doses} (got {start})", field="--start")
    if target is not None and not 0 < target < 1:
        raise TrialdeskError(
            f"must be strictly between 0 and 1, e.g. 0.3 (got {target:g})", field="--target"
        )
    name = canonical_name(design)
    params: dict[str, Any] = {}
    if n_stop is not None:
        params["n_stop"] = n_stop
    crm_options = {"--skeleton": skeleton, "--model": model, "--prior-mtd": prior_mtd}
    if name == "crm":
        if skeleton is not None:
            params["skeleton"] = _floats(skeleton, "--skeleton")
        if model is not None:
            params["model"] = model
        if prior_mtd is not None:
            if not 1 <= prior_mtd <= doses:
                raise TrialdeskError(
                    f"must be a level from 1 to {doses} (got {prior_mtd})", field="--prior-mtd"
                )
            params["prior_mtd"] = prior_mtd - 1
    else:
        given = [option for option, value in crm_options.items() if value is not None]
        if given:
            raise TrialdeskError(f"{', '.join(given)} only apply to --design crm")
    built = make_design(
        name,
        n_levels=doses,
        target=target,
        cohort_size=cohort_size,
        max_n=max_n,
        start_level=start - 1,
        **params,
    )
    if table is not None:
        from trialdesk.design.decision_table import decision_table

        if as_json:
            raise TrialdeskError("--table prints text or --csv, not --json", field="--json")
        result = decision_table(built, table)
        typer.echo(result.to_csv() if csv else result.to_text(), nl=False)
        return
    if csv:
        raise TrialdeskError("--csv only applies with --table N", field="--csv")
    state = state_from_outcomes(outcomes, doses)
    if pathways is not None:
        from trialdesk.design.pathways import dose_transition_pathways

        rates = None if true_tox is None else _floats(true_tox, "--true-tox")
        if rates is not None and (len(rates) != doses or not all(0 <= r <= 1 for r in rates)):
            raise TrialdeskError(
                f"needs {doses} rates between 0 and 1, one per level (got {true_tox!r})",
                field="--true-tox",
            )
        tree = dose_transition_pathways(
            built, state, cohorts=pathways, cohort_size=cohort_size, true_rates=rates
        )
        typer.echo(json.dumps(tree.to_dict()) if as_json else tree.to_text(), nl=as_json)
        return
    if true_tox is not None:
        raise TrialdeskError("--true-tox only applies with --pathways K", field="--true-tox")
    decision = built.decide(state)
    if as_json:
        from trialdesk.design.pathways import decision_dict

        typer.echo(json.dumps(decision_dict(decision)))
        return
    if decision.stop:
        mtd = "no MTD" if decision.mtd is None else f"MTD level {decision.mtd + 1}"
        headline = f"stop the trial ({mtd})"
    elif decision.suspended:
        headline = f"wait (accrual suspended) at level {_level(decision.next_dose)}"
    else:
        headline = f"{decision.action} — next cohort at level {_level(decision.next_dose)}"
    target_text = "" if target is None else f", target {target:g}"
    typer.echo(f"Design: {built.name}{target_text}, {doses} levels")
    typer.echo(f"Decision: {headline}")
    typer.echo(f"Why: {decision.reason}")
