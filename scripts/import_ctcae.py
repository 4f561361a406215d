"""Turn NCI's CTCAE v5.0 workbook into trialdesk's packaged term file.

Usage::

    .venv/bin/python scripts/import_ctcae.py [WORKBOOK] [OUTPUT]

Reads the sheet "CTCAE v5.0 Clean Copy" (the other two sheets, "Tracked Changes" and the v4 -> v5
mapping, are history, not the terminology) and writes every term with its MedDRA code, SOC,
definition, navigational note and grade 1-5 texts as UTF-8 JSON. A grade written "-" does not apply
to the term and is stored as null; the 26 "Other, specify" terms have "-" as their definition,
stored as null too. Whitespace is cleaned (non-breaking spaces, runs of spaces, stray spaces around
line breaks); paragraph breaks inside a cell (adult / paediatric variants) are kept as a blank line.
Nothing else in the text is changed. The output depends only on the workbook, so running the
script twice gives identical bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import openpyxl

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKBOOK = Path("/work/shared/data/ctcae/CTCAE_v5.0.xlsx")
DEFAULT_OUTPUT = REPO_ROOT / "src" / "trialdesk" / "clinical" / "data" / "ctcae_v5.json"
SHEET = "CTCAE v5.0 Clean Copy"
EXPECTED_HEADER = (
    "MedDRA Code",
    "MedDRA SOC",
    "CTCAE Term",
    "Grade 1",
    "Grade 2",
    "Grade 3",
    "Grade 4",
    "Grade 5",
    "Definition",
    "Navigational Note",
    "CTCAE v5.0 Change",
)
NOT_APPLICABLE = "-"
SOURCE = {
    "title": "Common Terminology Criteria for Adverse Events (CTCAE) v5.0",
    "publisher": "National Cancer Institute (NCI), US Department of Health and Human Services",
    "published": "2017-11-27",
    "sheet": SHEET,
    "note": "A grade of null is written '-' in the workbook: it does not apply to the term. "
    "A ';' inside a grade text means 'or'.",
}


class WorkbookError(Exception):
    """The workbook is not the CTCAE v5.0 layout this script knows."""


def clean(text: str) -> str:
    """Text with non-breaking spaces, runs of spaces and stray spaces at line ends removed.

    Line breaks are kept: one or more blank lines become exactly one blank line (a paragraph).
    """
    text = text.replace("\xa0", " ").replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def _optional_text(value: object, where: str) -> str | None:
    """Cleaned cell text; None for an empty cell or the '-' not-applicable marker."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise WorkbookError(f"{where}: expected text, found {type(value).__name__} {value!r}")
    text = clean(value)
    return None if text in ("", NOT_APPLICABLE) else text


def _required_text(value: object, where: str) -> str:
    text = _optional_text(value, where)
    if text is None:
        raise WorkbookError(f"{where}: the cell is empty or '-', but this column must have text")
    return text


def _grade(value: object, where: str) -> str | None:
    """A grade cell must hold text; '-' (stored as None) says the grade does not apply."""
    if value is None or (isinstance(value, str) and not clean(value)):
        raise WorkbookError(
            f"{where}: the grade cell is empty; the workbook writes '-' for a grade that does not "
            "apply, so an empty cell means the layout changed"
        )
    return _optional_text(value, where)


def read_terms(workbook: Path) -> list[dict[str, Any]]:
    """Every term of the Clean Copy sheet, in workbook order, as JSON-ready dicts."""
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    try:
        if SHEET not in book.sheetnames:
            raise WorkbookError(
                f"{workbook}: no sheet named {SHEET!r}; the sheets are {book.sheetnames}. "
                "Is this the CTCAE v5.0 workbook?"
            )
        rows = list(book[SHEET].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise WorkbookError(f"{workbook}: sheet {SHEET!r} is empty")
    header = [clean(c) if isinstance(c, str) else c for c in rows[0]]
    while header and header[-1] is None:
        header.pop()
    if tuple(header) != EXPECTED_HEADER:
        raise WorkbookError(
            f"{workbook}: sheet {SHEET!r} has the columns {header}; "
            f"expected {list(EXPECTED_HEADER)}"
        )
    terms: list[dict[str, Any]] = []
    seen_codes: dict[int, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        row = (*cells, *([None] * (len(EXPECTED_HEADER) - len(cells))))
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
            continue
        where = f"{SHEET}!row {number}"
        code = row[0]
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code.strip())
        if not isinstance(code, int) or isinstance(code, bool) or code <= 0:
            raise WorkbookError(f"{where}, MedDRA Code: expected a positive number, got {code!r}")
        if code in seen_codes:
            raise WorkbookError(
                f"{where}: MedDRA code {code} already used on row {seen_codes[code]}; "
                "codes must be unique"
            )
        seen_codes[code] = number
        terms.append(
            {
                "meddra_code": code,
                "soc": _required_text(row[1], f"{where}, MedDRA SOC"),
                "term": _required_text(row[2], f"{where}, CTCAE Term"),
                "definition": _optional_text(row[8], f"{where}, Definition"),
                "navigational_note": _optional_text(row[9], f"{where}, Navigational Note"),
                "grades": {str(g): _grade(row[2 + g], f"{where}, Grade {g}") for g in range(1, 6)},
            }
        )
    if not terms:
        raise WorkbookError(f"{workbook}: sheet {SHEET!r} has no terms")
    return terms


def render(workbook: Path) -> str:
    """The packaged JSON text for ``workbook`` (source, then terms in workbook order)."""
    terms = read_terms(workbook)
    digest = hashlib.sha256(workbook.read_bytes()).hexdigest()
    document = {
        "source": {**SOURCE, "workbook_sha256": digest, "term_count": len(terms)},
        "terms": terms,
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "workbook", nargs="?", type=Path, default=DEFAULT_WORKBOOK, help="CTCAE_v5.0.xlsx"
    )
    parser.add_argument(
        "output", nargs="?", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write"
    )
    args = parser.parse_args(argv)
    workbook: Path = args.workbook
    output: Path = args.output
    if not workbook.is_file():
        print(
            f"error: no workbook at {workbook}; pass its path as the first argument",
            file=sys.stderr,
        )
        return 2
    try:
        text = render(workbook)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(text.encode("utf-8"))
    count = text.count('"meddra_code"')
    print(f"wrote {count} CTCAE v5.0 terms to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
