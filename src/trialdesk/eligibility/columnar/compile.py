"""Criteria compiled to Polars expressions: one status column per (sub-)criterion, one verdict.

Each rule node becomes an ``Int8`` expression over all patients at once, with the codes below;
the rules of combination, negation, tensions and the verdict are those of
:mod:`trialdesk.eligibility.evaluate`, written column-wise (no per-patient Python).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from trialdesk.clinical import analyte, convert
from trialdesk.eligibility.columnar.facts import ColumnFacts
from trialdesk.eligibility.columnar.layout import (
    history_columns,
    judgement_column,
    medication_columns,
)
from trialdesk.protocol.criteria import (
    NUMERIC_FACTS,
    AllOf,
    AnyOf,
    Compare,
    Elapsed,
    Equals,
    Expr,
    History,
    Interval,
    Judgement,
    Medication,
    Not,
    Period,
    UlnCompare,
)
from trialdesk.protocol.models import Criterion, Protocol

__all__ = [
    "MET",
    "NEEDS_CONFIRMATION",
    "NOT_MET",
    "STATUSES",
    "UNKNOWN",
    "VERDICTS",
    "CompiledProtocol",
    "compile_protocol",
]

MET, NOT_MET, UNKNOWN, NEEDS_CONFIRMATION = 0, 1, 2, 3
STATUSES = ("met", "not_met", "unknown", "needs_confirmation")
"""Status names by code."""
ELIGIBLE, INELIGIBLE, INCOMPLETE, NEEDS_REVIEW = 0, 1, 2, 3
VERDICTS = ("eligible", "ineligible", "incomplete", "needs_review")
"""Verdict names by code."""

_OPS: dict[str, Callable[[pl.Expr, float], pl.Expr]] = {
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
}


def _code(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int8)


def _decided(holds: pl.Expr) -> pl.Expr:
    """met / not_met from a boolean; a null (missing fact) is unknown."""
    return (
        pl.when(holds.is_null())
        .then(_code(UNKNOWN))
        .when(holds)
        .then(_code(MET))
        .otherwise(_code(NOT_MET))
    )


def combine(statuses: list[pl.Expr], mode: str) -> pl.Expr:
    """Tri-state AND (``all``) / OR (``any``): the decisive status wins; otherwise, if not every
    child is complete, unknown beats needs confirmation."""
    if len(statuses) == 1:
        return statuses[0]
    decisive, complete = (NOT_MET, MET) if mode == "all" else (MET, NOT_MET)
    return (
        pl.when(pl.any_horizontal([s == decisive for s in statuses]))
        .then(_code(decisive))
        .when(pl.all_horizontal([s == complete for s in statuses]))
        .then(_code(complete))
        .when(pl.any_horizontal([s == UNKNOWN for s in statuses]))
        .then(_code(UNKNOWN))
        .otherwise(_code(NEEDS_CONFIRMATION))
    )


def months_back(on: pl.Expr, months: int) -> pl.Expr:
    """The same day ``months`` earlier, clamped to the end of a shorter month."""
    return on.dt.offset_by(f"-{months}mo")


def cutoff(on: pl.Expr, period: Period) -> pl.Expr:
    """Column-wise :func:`trialdesk.eligibility.dates.cutoff`."""
    if period.unit == "days":
        return on - pl.duration(days=period.amount)
    months = period.amount * (12 if period.unit == "years" else 1)
    return months_back(on, months)


def elapsed_holds(since: pl.Expr, on: pl.Expr, interval: Interval) -> pl.Expr:
    """Column-wise :func:`trialdesk.eligibility.dates.elapsed_holds`."""
    limit = cutoff(on, interval)
    if interval.op == "<":
        return since > limit
    if interval.op == "<=":
        return since >= limit
    if interval.op == ">":
        return since < limit
    return since <= limit


class _Compiler:
    def __init__(self, protocol: Protocol, facts: ColumnFacts) -> None:
        self.protocol = protocol
        self.facts = facts
        self.on = facts.on

    def node(self, node: Expr) -> pl.Expr:
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, UlnCompare):
            multiple = self.facts.uln_multiple(node.analyte)
            return _decided(_OPS[node.op](multiple, node.multiple))
        if isinstance(node, Equals):
            return _decided(self.facts.category(node.fact) == node.value)
        if isinstance(node, Elapsed):
            return _decided(elapsed_holds(pl.col(node.since), self.on, node.interval))
        if isinstance(node, History):
            return self.history(node)
        if isinstance(node, Medication):
            return self.medication(node)
        if isinstance(node, Judgement):
            return self.judgement(node.id)
        if isinstance(node, Not):
            inner = self.node(node.of)
            return (
                pl.when(inner == MET)
                .then(_code(NOT_MET))
                .when(inner == NOT_MET)
                .then(_code(MET))
                .otherwise(inner)
            )
        assert isinstance(node, AllOf | AnyOf)
        return combine([self.node(child) for child in node.of], node.kind)

    def compare(self, node: Compare) -> pl.Expr:
        threshold = node.value
        if node.unit is not None:
            molar = (
                analyte(node.fact).molar_mass_g_per_mol
                if node.fact not in ("crcl", "pneumonitis_grade")
                else None
            )
            threshold = convert(
                node.value,
                node.unit,
                NUMERIC_FACTS[node.fact],
                field=node.fact,
                molar_mass_g_per_mol=molar,
            )
        return _decided(_OPS[node.op](self.facts.number(node.fact), threshold))

    def history(self, node: History) -> pl.Expr:
        names = history_columns(node.code_set)
        onset, abatement = pl.col(names["onset"]), pl.col(names["abatement"])
        # An entry counts as held when flagged and it started on or before the screening date.
        present = pl.col(names["present"]).fill_null(False) & (
            onset.is_null() | (onset <= self.on)
        ).fill_null(False)
        counts = pl.lit(True)
        if node.active_at_screening:
            counts = counts & ~(abatement.is_not_null() & (abatement < self.on))
        if node.active_within is not None:
            limit = cutoff(self.on, node.active_within)
            counts = counts & ~(abatement.is_not_null() & (abatement < limit))
        if node.onset is not None:
            counts = counts & pl.when(onset.is_null()).then(None).otherwise(
                elapsed_holds(onset, self.on, node.onset)
            )
        absent = _code(UNKNOWN if node.absent == "unknown" else NOT_MET)
        return pl.when(~present).then(absent).otherwise(_decided(counts))

    def medication(self, node: Medication) -> pl.Expr:
        names = medication_columns(node.category)
        start, end = pl.col(names["start"]), pl.col(names["end"])
        last = end.fill_null(self.on)
        if node.within is not None:
            counts = (start <= self.on) & (last >= cutoff(self.on, node.within))
        elif node.active_at_screening:
            counts = (start <= self.on) & (self.on <= last)
        else:
            counts = start <= self.on
        return pl.when(counts.fill_null(False)).then(_code(MET)).otherwise(_code(NOT_MET))

    def judgement(self, judgement_id: str) -> pl.Expr:
        answer = pl.col(judgement_column(judgement_id))
        return (
            pl.when(answer.is_null())
            .then(_code(NEEDS_CONFIRMATION))
            .when(answer == "yes")
            .then(_code(MET))
            .otherwise(_code(NOT_MET))
        )


@dataclass(frozen=True)
class CompiledProtocol:
    """The protocol as three stages of column expressions (each reads the previous ones)."""

    results: list[pl.Expr]
    parents: list[pl.Expr]
    verdict: pl.Expr
    ids: list[str]
    top_ids: list[str]
    kinds: dict[str, str]


def _failing_code(kind: str) -> int:
    return NOT_MET if kind == "inclusion" else MET


def compile_protocol(protocol: Protocol, facts: ColumnFacts) -> CompiledProtocol:
    """Status expressions named by criterion id, then the verdict (named ``verdict``)."""
    compiler = _Compiler(protocol, facts)
    active = [(t, compiler.node(t.when) == MET) for t in protocol.tensions]
    held_by: dict[str, list[pl.Expr]] = {}
    for tension, is_active in active:
        for criterion_id in tension.hold:
            held_by.setdefault(criterion_id, []).append(is_active)
    kinds: dict[str, str] = {}
    results: list[pl.Expr] = []
    parents: list[pl.Expr] = []
    held_flags: list[pl.Expr] = []
    ids: list[str] = []

    def _with_hold(result_id: str, kind: str, status: pl.Expr) -> pl.Expr:
        tensions = held_by.get(result_id)
        if not tensions:
            return status
        failing = status == _failing_code(kind)
        is_held = failing & pl.any_horizontal(tensions)
        held_flags.append(is_held)
        return pl.when(is_held).then(_code(NEEDS_CONFIRMATION)).otherwise(status)

    for criterion in protocol.criteria:
        kinds[criterion.id] = criterion.kind
        ids.append(criterion.id)
        if not criterion.sub:
            rule = _top_rule(criterion)
            status = compiler.node(rule) if rule is not None else compiler.judgement(criterion.id)
            results.append(_with_hold(criterion.id, criterion.kind, status).alias(criterion.id))
            continue
        for item in criterion.sub:
            kinds[item.id] = criterion.kind
            ids.append(item.id)
            status = _with_hold(item.id, criterion.kind, compiler.node(item.rule))
            results.append(status.alias(item.id))
        parents.append(
            combine([pl.col(item.id) for item in criterion.sub], criterion.combine).alias(
                criterion.id
            )
        )
    top_ids = [c.id for c in protocol.criteria]
    failing = pl.any_horizontal([pl.col(i) == _failing_code(kinds[i]) for i in top_ids])
    undecided = pl.any_horizontal([pl.col(i) >= UNKNOWN for i in top_ids])
    held = pl.any_horizontal(held_flags) if held_flags else pl.lit(False)
    verdict = (
        pl.when(failing)
        .then(_code(INELIGIBLE))
        .when(pl.col("__held"))
        .then(_code(NEEDS_REVIEW))
        .when(undecided)
        .then(_code(INCOMPLETE))
        .otherwise(_code(ELIGIBLE))
        .alias("verdict")
    )
    results.append(held.alias("__held"))
    return CompiledProtocol(results, parents, verdict, ids, top_ids, kinds)


def _top_rule(criterion: Criterion) -> Expr | None:
    return criterion.rule if criterion.computable else None
