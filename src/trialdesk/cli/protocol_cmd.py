"""`trialdesk protocol ...`: read, check and import protocol files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import load_protocol, load_protocol_file
from trialdesk.protocol.ctgov import draft_yaml
from trialdesk.protocol.summary import ProtocolSummary, summarise

app = typer.Typer(help="Show, validate and import dose-escalation protocols.", no_args_is_help=True)

FileArg = Annotated[
    Path | None,
    typer.Argument(help="A protocol YAML file; the built-in NCT06021067 protocol when omitted."),
]


@app.command("show")
def show(
    file: FileArg = None,
    weight: Annotated[
        float | None, typer.Option(help="Body weight in kg for the dose table.")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of texts: en or zh.")] = "en",
) -> None:
    """Print a readable summary: quick facts, doses for a weight, schedule, design, criteria."""
    if lang not in ("en", "zh"):
        raise TrialdeskError(f"--lang must be en or zh, not {lang!r}")
    loaded = load_protocol(file)
    typer.echo(render_summary(summarise(loaded.protocol, weight_kg=weight, lang=lang)))
    typer.echo(f"\nsha256 of the protocol text: {loaded.sha256}")


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The protocol YAML file to check.")],
) -> None:
    """Check a protocol file and report every problem with its location; exit 2 if any."""
    loaded = load_protocol_file(file)
    protocol = loaded.protocol
    kind = "draft protocol" if protocol.status == "draft" else "protocol"
    typer.echo(f"{file}: valid {kind} {protocol.id} version {protocol.version}")
    assumptions = protocol.assumptions()
    if assumptions:
        typer.echo(
            f"{len(assumptions)} values are marked as assumptions (not in the public record):"
        )
        for where, note in assumptions:
            typer.echo(f"  - {where}: {note.strip()}")


@app.command("import-ctgov")
def import_ctgov(
    record: Annotated[
        Path, typer.Argument(help="A ClinicalTrials.gov API v2 study record (JSON).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the draft here instead of printing it."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
) -> None:
    """Turn a registry record into a draft protocol YAML (criteria split, marked not computable)."""
    data = _read_json(record)
    text = draft_yaml(data)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        raise TrialdeskError(
            f"{out} already exists; choose another path or add --force to overwrite it"
        )
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote draft protocol to {out}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrialdeskError(f"no such file: {path}; check the path") from None
    except json.JSONDecodeError as exc:
        raise TrialdeskError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise TrialdeskError(
            f"{path}: expected one study record (a JSON object), not a {type(data).__name__}"
        )
    return data


def render_summary(summary: ProtocolSummary) -> str:
    """The summary as plain text for a terminal."""
    lines = [summary.title, "=" * min(len(summary.title), 100), ""]
    if summary.summary:
        lines += [*textwrap.wrap(summary.summary, 100), ""]
    width = max(len(label) for label, _ in summary.facts)
    lines += [f"{label:<{width}}  {value}" for label, value in summary.facts]
    lines += ["", f"Doses (for {summary.weight_kg:g} kg)"]
    lines += [
        f"  Level {row.level}: {row.per_unit:<38} -> {row.for_weight}"
        + ("   [assumption]" if row.assumption else "")
        for row in summary.doses
    ]
    for title, items in (
        ("Schedule", summary.schedule),
        ("Design", summary.design),
        ("DLT", summary.dlt),
    ):
        if items:
            lines += ["", title]
            for item in items:
                lines += textwrap.wrap(item, 98, initial_indent="  ", subsequent_indent="    ")
    for title, rows in (
        ("Inclusion criteria", summary.inclusion),
        ("Exclusion criteria", summary.exclusion),
    ):
        lines += ["", title]
        for row in rows:
            lines += textwrap.wrap(
                f"{row.id:<4} {row.text}", 98, initial_indent="  ", subsequent_indent="       "
            )
    if summary.assumptions:
        lines += [
            "",
            f"Assumptions ({len(summary.assumptions)} values not stated in the public record)",
        ]
        lines += [f"  - {where}" for where, _ in summary.assumptions]
    return "\n".join(lines)
