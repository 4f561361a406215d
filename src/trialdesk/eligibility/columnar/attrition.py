"""The attrition table of a batch: how many patients each criterion removes.

Two readings, both in protocol order: *sequential* attrition (patients still in the running who
fail this criterion, so the rows add up to the ineligible total) and *per criterion* counts
(every patient failing it, whatever else they fail; these overlap). Undecided counts (unknown,
needs confirmation) say how much data or investigator work stands between a patient and a
verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = ["Attrition", "AttritionRow", "attrition"]


@dataclass(frozen=True)
class AttritionRow:
    """One criterion (or sub-criterion, with ``parent``) of the attrition table."""

    id: str
    kind: str
    text: str
    parent: str | None
    fail: int
    removed: int | None
    remaining: int | None
    unknown: int
    needs_confirmation: int


@dataclass(frozen=True)
class Attrition:
    total: int
    rows: tuple[AttritionRow, ...]
    verdicts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "verdicts": self.verdicts,
            "criteria": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "parent": r.parent,
                    "fail": r.fail,
                    "removed": r.removed,
                    "remaining": r.remaining,
                    "unknown": r.unknown,
                    "needs_confirmation": r.needs_confirmation,
                }
                for r in self.rows
            ],
        }


def attrition(
    statuses: pl.DataFrame,
    criteria: list[tuple[str, str, str, str | None]],
    verdicts: tuple[str, ...],
) -> Attrition:
    """Count from a status frame (one Enum column per id, plus ``verdict``).

    ``criteria``: (id, kind, short text, parent id or None) in protocol order.
    """
    exprs: list[pl.Expr] = []
    earlier: pl.Expr = pl.lit(False)
    for criterion_id, kind, _text, parent in criteria:
        status = pl.col(criterion_id)
        failing = status == ("not_met" if kind == "inclusion" else "met")
        exprs += [
            failing.sum().alias(f"{criterion_id}\x1ffail"),
            (status == "unknown").sum().alias(f"{criterion_id}\x1funknown"),
            (status == "needs_confirmation").sum().alias(f"{criterion_id}\x1fnc"),
        ]
        if parent is None:
            exprs.append((failing & ~earlier).sum().alias(f"{criterion_id}\x1fremoved"))
            earlier = earlier | failing
    exprs += [(pl.col("verdict") == v).sum().alias(f"verdict\x1f{v}") for v in verdicts]
    counts = statuses.select(exprs).row(0, named=True) if statuses.height else {}

    def get(key: str) -> int:
        return int(counts.get(key) or 0)

    remaining = statuses.height
    rows: list[AttritionRow] = []
    for criterion_id, kind, text, parent in criteria:
        removed: int | None = None
        left: int | None = None
        if parent is None:
            removed = get(f"{criterion_id}\x1fremoved")
            remaining -= removed
            left = remaining
        rows.append(
            AttritionRow(
                id=criterion_id,
                kind=kind,
                text=text,
                parent=parent,
                fail=get(f"{criterion_id}\x1ffail"),
                removed=removed,
                remaining=left,
                unknown=get(f"{criterion_id}\x1funknown"),
                needs_confirmation=get(f"{criterion_id}\x1fnc"),
            )
        )
    return Attrition(
        total=statuses.height,
        rows=tuple(rows),
        verdicts={v: get(f"verdict\x1f{v}") for v in verdicts},
    )
