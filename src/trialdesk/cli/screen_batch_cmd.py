"""`trialdesk screen-batch PATH`: how many patients of a whole table could the trial take?

PATH is a Parquet, CSV or NDJSON table in the flat layout of docs/screening-batch.md (one row per
patient). Prints the verdict counts and the attrition table; ``--out`` writes a verdict per
patient (Parquet or CSV by extension). Exit 2 with ``error: ...`` for a table that cannot be
screened; nothing is written then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from trialdesk.errors import TrialdeskError

WORDS = {
    "en": {
        "title": "Batch screening against {protocol} version {version}",
        "of": "Of {total} patients: {eligible} eligible, {ineligible} ineligible, "
        "{incomplete} incomplete, {needs_review} need review.",
        "sequential": "Sequential attrition in protocol order (each patient counted at the "
        "first criterion failed):",
        "start": "(start)",
        "per": "Per criterion (a patient may fail several):",
        "criterion": "criterion",
        "fail_here": "fail here",
        "remaining": "remaining",
        "fail": "fail",
        "unknown": "unknown",
        "nc": "needs confirmation",
        "written": "Verdicts per patient written to {out}",
    },
    "zh": {
        "title": "按方案 {protocol}（版本 {version}）批量筛选",
        "of": "共 {total} 名患者：{eligible} 名合格，{ineligible} 名不合格，"
        "{incomplete} 名资料不全，{needs_review} 名需审核。",
        "sequential": "按方案顺序的逐条淘汰（每名患者计入其首个未通过的标准）：",
        "start": "（起始）",
        "per": "各标准未通过人数（一名患者可未通过多条）：",
        "criterion": "标准",
        "fail_here": "在此淘汰",
        "remaining": "剩余",
        "fail": "未通过",
        "unknown": "未知",
        "nc": "待确认",
        "written": "每名患者的结论已写入 {out}",
    },
}


def register(app: typer.Typer) -> None:
    app.command("screen-batch")(screen_batch)


def screen_batch(
    path: Annotated[
        Path, typer.Argument(help="Patient table: .parquet, .csv or .ndjson (one row per patient).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write a verdict per patient here (.parquet or .csv)."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="Screening date YYYY-MM-DD for every row (default: screening_date)."
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option("--protocol", help="Protocol YAML file, or 'builtin' (NCT06021067)."),
    ] = "builtin",
    lang: Annotated[str, typer.Option(help="Language of the tables: en or zh.")] = "en",
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"total", "verdicts", "criteria": [...]} as JSON.'),
    ] = False,
) -> None:
    """Screen every patient of a table; print verdict counts and the attrition table."""
    from trialdesk.cli.screen_cmd import parse_date
    from trialdesk.eligibility.batch import screen_file
    from trialdesk.eligibility.columnar.tables import WRITE_FORMATS, table_format, write_table
    from trialdesk.protocol import load_protocol

    if lang not in WORDS:
        raise TrialdeskError(f"must be en or zh, not {lang!r}", field="--lang")
    if out is not None:
        table_format(out, WRITE_FORMATS, field="--out")
    on = parse_date(date) if date is not None else None
    loaded = load_protocol(None if protocol == "builtin" else Path(protocol))
    result = screen_file(loaded.protocol, path, on=on)
    if out is not None:
        write_table(result.patients, out)
    summary = result.attrition
    if as_json:
        data = summary.to_json()
        data["out"] = None if out is None else str(out)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    words = WORDS[lang]
    typer.echo(words["title"].format(protocol=loaded.protocol.id, version=loaded.protocol.version))
    counts = {key: f"{value:,}" for key, value in summary.verdicts.items()}
    typer.echo(words["of"].format(total=f"{summary.total:,}", **counts))
    texts = {c.id: c.text.get(lang) for c in loaded.protocol.criteria}
    for criterion in loaded.protocol.criteria:
        texts.update({s.id: s.text.get(lang) for s in criterion.sub})
    typer.echo("")
    typer.echo(words["sequential"])
    header = f"  {words['criterion']:<22} {words['fail_here']:>12} {words['remaining']:>12}"
    typer.echo(header)
    typer.echo(f"  {words['start']:<22} {'':>12} {summary.total:>12,}")
    for row in summary.rows:
        if row.parent is None:
            typer.echo(
                f"  {row.id:<22} {row.removed or 0:>12,} {row.remaining or 0:>12,}  "
                f"{_short(texts[row.id])}"
            )
    typer.echo("")
    typer.echo(words["per"])
    typer.echo(
        f"  {words['criterion']:<22} {words['fail']:>12} {words['unknown']:>12} {words['nc']:>20}"
    )
    for row in summary.rows:
        name = row.id if row.parent is None else f"  {row.id}"
        typer.echo(f"  {name:<22} {row.fail:>12,} {row.unknown:>12,} {row.needs_confirmation:>20,}")
    if out is not None:
        typer.echo("")
        typer.echo(words["written"].format(out=out))


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
