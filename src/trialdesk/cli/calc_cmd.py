"""`trialdesk calc ...`: the bedside sums screening relies on, with their working shown.

A coordinator checks a lab value in another unit or a creatinine clearance by hand before trusting
the screening; these commands use the same :mod:`trialdesk.clinical` code the screening uses.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from trialdesk.errors import TrialdeskError

app = typer.Typer(
    help="Convert lab values between units and compute creatinine clearance (Cockcroft-Gault).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def split_quantity(text: str, *, field: str) -> tuple[float, str]:
    """``"97 µmol/L"`` -> ``(97.0, "µmol/L")``; a bare number keeps an empty unit."""
    number, _, unit = text.strip().partition(" ")
    try:
        value = float(number)
    except ValueError:
        raise TrialdeskError(
            f"{text!r} does not start with a number; write the value then its unit, "
            "e.g. '97 µmol/L' or '72 kg'",
            field=field,
        ) from None
    return value, unit.strip()


@app.command("convert")
def convert(
    analyte: Annotated[
        str, typer.Argument(help="Analyte code, e.g. haemoglobin, creatinine, anc.")
    ],
    quantity: Annotated[str, typer.Argument(help="Value and unit, e.g. '8.2 g/dL'.")],
    to: Annotated[
        str | None, typer.Option(help="Unit to convert to (default: the analyte's canonical unit).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Convert QUANTITY of ANALYTE to another unit, refusing impossible values."""
    from trialdesk.clinical import ANALYTES, convert, parse_unit, to_canonical

    known = {item.code: item for item in ANALYTES}
    if analyte not in known:
        raise TrialdeskError(
            f"unknown analyte {analyte!r}; use one of: {', '.join(sorted(known))}",
            field="analyte",
        )
    item = known[analyte]
    value, unit = split_quantity(quantity, field="quantity")
    measured = to_canonical(analyte, value, unit, field="quantity")
    target = item.canonical_unit
    result = measured.value
    if to is not None:
        target = parse_unit(to, field="--to", accepted=item.accepted_units)
        result = convert(
            measured.value,
            measured.unit,
            target,
            field="--to",
            molar_mass_g_per_mol=item.molar_mass_g_per_mol,
        )
    if as_json:
        payload = {"analyte": analyte, "value": value, "unit": unit, "result": result}
        typer.echo(json.dumps({**payload, "result_unit": target}, ensure_ascii=False))
        return
    typer.echo(f"{item.name_en}: {_shown(value, unit)} = {_shown(result, target)}")


def _shown(value: float, unit: str) -> str:
    """A number with its unit; unitless quantities (INR, ECOG) print bare."""
    return f"{value:.4g}" if unit in ("", "1") else f"{value:.4g} {unit}"


@app.command("crcl")
def crcl(
    age: Annotated[float, typer.Option(help="Age in completed years.")],
    sex: Annotated[str, typer.Option(help="male or female.")],
    weight: Annotated[str, typer.Option(help="Body weight with unit, e.g. '72 kg' or '160 lb'.")],
    creatinine: Annotated[
        str, typer.Option(help="Serum creatinine with unit, e.g. '1.0 mg/dL' or '97 µmol/L'.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Creatinine clearance by Cockcroft-Gault, showing the formula's inputs."""
    from trialdesk.clinical import cockcroft_gault, to_canonical

    weight_value, weight_unit = split_quantity(weight, field="--weight")
    creatinine_value, creatinine_unit = split_quantity(creatinine, field="--creatinine")
    weight_kg = to_canonical("weight", weight_value, weight_unit, field="--weight")
    creatinine_mg_dl = to_canonical(
        "creatinine", creatinine_value, creatinine_unit, field="--creatinine"
    )
    result = cockcroft_gault(
        age_years=age,
        weight_kg=weight_kg.value,
        creatinine_mg_dl=creatinine_mg_dl.value,
        sex=sex,
    )
    if as_json:
        payload = {
            "crcl_ml_min": result.ml_per_min,
            "age_years": result.age_years,
            "weight_kg": result.weight_kg,
            "creatinine_mg_dl": result.creatinine_mg_dl,
            "sex": str(result.sex),
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(result.explain())
