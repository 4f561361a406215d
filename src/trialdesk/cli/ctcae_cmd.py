"""`trialdesk ctcae ...`: look up CTCAE v5.0 terms and what each grade means."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.errors import TrialdeskError

if TYPE_CHECKING:
    from trialdesk.clinical.ctcae import CtcaeTerm

app = typer.Typer(
    help="Look up CTCAE v5.0 adverse-event terms and their grade 1–5 criteria.",
    no_args_is_help=True,
)

WIDTH = 100
NOT_APPLICABLE = "—  not applicable"

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("search")
def search(
    words: Annotated[list[str], typer.Argument(help="Words of the term name or definition.")],
    limit: Annotated[
        int, typer.Option(help="Show at most this many terms (0 for all).", min=0)
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Print the terms matching all WORDS, best first, with SOC, MedDRA code and grades 1–5."""
    from trialdesk.clinical import ctcae

    query = " ".join(words)
    found = ctcae.search(query)
    if not found:
        raise TrialdeskError(
            f"no CTCAE v{ctcae.CTCAE_VERSION} term matches {query!r}; "
            "try fewer words or the start of a word (e.g. 'pneum')",
            field="words",
        )
    shown = found if limit == 0 else found[:limit]
    if as_json:
        payload = {
            "query": query,
            "matches": len(found),
            "terms": [one.to_dict() for one in shown],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo("\n\n".join(render_term(one) for one in shown))
    if len(shown) < len(found):
        typer.echo(
            f"\n{len(found)} terms match; showing the first {len(shown)} (--limit 0 for all)."
        )


@app.command("show")
def show(
    name_or_code: Annotated[
        list[str], typer.Argument(metavar="TERM-OR-CODE", help="Term name (any case) or code.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Print one term: SOC, MedDRA code, definition, grades 1–5 and navigational note."""
    from trialdesk.clinical import ctcae

    one = ctcae.term(" ".join(name_or_code))
    if as_json:
        typer.echo(json.dumps(one.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(render_term(one))


def _wrapped(label: str, text: str, indent: int) -> list[str]:
    """``label`` then ``text`` wrapped to WIDTH, each paragraph of ``text`` on its own lines."""
    lines: list[str] = []
    pad = " " * indent
    for number, paragraph in enumerate(text.split("\n\n")):
        for line in paragraph.split("\n"):
            first = f"  {label:<{indent - 2}}" if number == 0 and not lines else pad
            lines += textwrap.wrap(line, WIDTH, initial_indent=first, subsequent_indent=pad) or [
                first.rstrip()
            ]
    return lines


def render_term(one: CtcaeTerm) -> str:
    """A term as readable text: heading, SOC, definition, one wrapped block per grade."""
    heading = f"{one.term}  (MedDRA {one.meddra_code})"
    lines = [heading, f"  {one.soc}"]
    indent = 14
    if one.definition:
        lines += _wrapped("Definition", one.definition, indent)
    for grade in range(1, 6):
        text = one.grades[grade]
        lines += _wrapped(f"Grade {grade}", text if text is not None else NOT_APPLICABLE, indent)
    if one.navigational_note:
        lines += _wrapped("Note", one.navigational_note, indent)
    return "\n".join(lines)
