"""Decision tables of BOIN-like designs: the action for every number of patients treated at a
level (1..max) and of DLTs among them, printable and as CSV.

E escalate, S stay, D de-escalate, DU de-escalate and eliminate the level (never used again).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from trialdesk.design.base import Design
from trialdesk.design.interval import IntervalDesign, TableAction
from trialdesk.errors import TrialdeskError

LEGEND = "E = escalate, S = stay, D = de-escalate, DU = de-escalate and eliminate the level"


@dataclass(frozen=True, slots=True)
class DecisionTable:
    """``actions[n - 1][y]`` is the action for y DLTs among n patients (y = 0..n)."""

    design: str
    target: float
    actions: tuple[tuple[TableAction, ...], ...]

    @property
    def max_n(self) -> int:
        return len(self.actions)

    def action(self, n: int, dlts: int) -> TableAction:
        return self.actions[n - 1][dlts]

    def to_text(self) -> str:
        """Rows: patients treated; columns: number of DLTs."""
        width = max(3, len(str(self.max_n)) + 1)
        header = (
            "patients".rjust(8)
            + " | DLTs "
            + "".join(str(y).rjust(width) for y in range(self.max_n + 1))
        )
        lines = [
            f"Decision table: {self.design}, target DLT rate {self.target:g}",
            header,
            "-" * len(header),
        ]
        for n, row in enumerate(self.actions, start=1):
            lines.append(str(n).rjust(8) + " |      " + "".join(a.rjust(width) for a in row))
        lines.append(LEGEND)
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """Wide CSV: one row per number of patients, one column per number of DLTs."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["patients", *(f"dlts_{y}" for y in range(self.max_n + 1))])
        for n, row in enumerate(self.actions, start=1):
            writer.writerow([n, *row, *([""] * (self.max_n - n))])
        return buffer.getvalue()


def decision_table(design: Design, max_n: int) -> DecisionTable:
    """The table of ``design`` (BOIN, TITE-BOIN with complete data, mTPI-2, keyboard, i3+3)."""
    if not isinstance(design, IntervalDesign):
        raise TrialdeskError(
            f"design {design.name} has no decision table; tables exist for BOIN, TITE-BOIN, "
            "mTPI-2, keyboard and i3+3",
            field="design",
        )
    if not isinstance(max_n, int) or max_n < 1:
        raise TrialdeskError(f"must be a whole number, 1 or more (got {max_n!r})", field="max_n")
    actions = tuple(
        tuple(design.action_at(n, y) for y in range(n + 1)) for n in range(1, max_n + 1)
    )
    return DecisionTable(design=design.name, target=design.target, actions=actions)
