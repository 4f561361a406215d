"""Screening: a protocol's criteria evaluated against one record, tri-state, with evidence.

:func:`screen` is a pure function of the protocol, the record and the screening date: the same
inputs always give the same result, so a stored screening can be replayed exactly. The verdict
precedence is documented in :mod:`trialdesk.eligibility.result`.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from trialdesk.clinical import analyte, convert, uln_multiple
from trialdesk.eligibility.dates import completed_months, cutoff, elapsed_holds
from trialdesk.eligibility.facts import Facts, Missing, Number, significant
from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.eligibility.result import CriterionResult, ScreeningResult, Status, Verdict
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.base import Text
from trialdesk.protocol.criteria import (
    NUMERIC_FACTS,
    AllOf,
    AnyOf,
    Compare,
    Elapsed,
    Equals,
    Expr,
    History,
    Judgement,
    Medication,
    Not,
    Period,
    UlnCompare,
    walk,
)
from trialdesk.protocol.models import Criterion, Protocol, Tension

__all__ = ["judgement_ids", "judgement_questions", "screen"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_UNDECIDED: tuple[Status, ...] = ("unknown", "needs_confirmation")
_FACT_LABELS = {
    "ecg": "ECG",
    "sex": "Sex",
    "pregnant": "Pregnant",
    "lactating": "Breastfeeding",
    "childbearing_potential": "Able to have children",
    "will_use_contraception": "Willing and able to use effective contraception",
}


@dataclass(frozen=True)
class Outcome:
    """The tri-state result of one rule node, with why and what it read."""

    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()


def screen(
    protocol: Protocol, record: ScreeningRecord, *, on: dt.date | None = None
) -> ScreeningResult:
    """Evaluate every criterion of ``protocol`` for ``record`` as of ``on`` (default: the
    record's screening date). Raises :class:`TrialdeskError` when the record answers a judgement
    item the protocol does not have, or ``on`` precedes a date in the record."""
    day = on or record.screening_date
    _check(protocol, record, day)
    facts = Facts(protocol, record, day)
    active = [t for t in protocol.tensions if _evaluate(t.when, facts).status == "met"]
    holds = {criterion_id: t for t in active for criterion_id in t.hold}
    results: list[CriterionResult] = []
    for criterion in protocol.criteria:
        results.extend(_criterion(criterion, facts, holds))
    held = tuple(
        dict.fromkeys(t.id for r in results for t in active if f"tension:{t.id}" in r.pending)
    )
    return _verdict(protocol, day, results, held)


def judgement_ids(protocol: Protocol) -> list[str]:
    """Every judgement item id a record may answer, in protocol order."""
    return list(judgement_questions(protocol))


def judgement_questions(protocol: Protocol) -> dict[str, Text]:
    """Every judgement item a record may answer, id -> question (English and Chinese): each
    judgement node of a rule, and each criterion without a computable form (the investigator
    decides it as a whole, answering its text)."""
    questions: dict[str, Text] = {}
    for criterion in protocol.criteria:
        if not criterion.computable:
            questions[criterion.id] = criterion.text
        for rule in criterion.rules:
            for node in walk(rule):
                if isinstance(node, Judgement):
                    questions[node.id] = node.question
    return questions


def _check(protocol: Protocol, record: ScreeningRecord, day: dt.date) -> None:
    known = set(judgement_ids(protocol))
    for answered in record.judgements:
        if answered not in known:
            raise TrialdeskError(
                f"protocol {protocol.id} has no judgement item {answered!r}; "
                f"known items: {', '.join(sorted(known))}",
                field=f"judgements.{answered}",
            )
    for loc, when in record.dated():
        if when > day:
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            raise TrialdeskError(
                f"{when} is after the screening date {day}; screen on or after {when}",
                field=where,
            )


# -- criteria --------------------------------------------------------------------------------
def _criterion(
    criterion: Criterion, facts: Facts, holds: dict[str, Tension]
) -> list[CriterionResult]:
    if not criterion.computable:
        outcome = _judgement(
            Judgement(kind="judgement", id=criterion.id, question=criterion.text), facts
        )
        return [_held(_result(criterion, criterion.id, outcome), holds)]
    if criterion.rule is not None:
        outcome = _evaluate(criterion.rule, facts)
        return [_held(_result(criterion, criterion.id, outcome), holds)]
    subs = [
        _held(_result(criterion, item.id, _evaluate(item.rule, facts), parent=criterion.id), holds)
        for item in criterion.sub
    ]
    return [_parent(criterion, subs), *subs]


def _result(
    criterion: Criterion, result_id: str, outcome: Outcome, parent: str | None = None
) -> CriterionResult:
    return CriterionResult(
        id=result_id,
        kind=criterion.kind,
        status=outcome.status,
        reason=outcome.reason,
        evidence=outcome.evidence,
        parent=parent,
        missing=outcome.missing,
        pending=outcome.pending,
    )


def _held(result: CriterionResult, holds: dict[str, Tension]) -> CriterionResult:
    """A failing result of a criterion in an active tension is held for review, not failed."""
    tension = holds.get(result.id)
    if tension is None or not result.failing:
        return result
    return CriterionResult(
        id=result.id,
        kind=result.kind,
        status="needs_confirmation",
        reason=f"Held for review: {tension.text.en.strip()} Taken alone: {result.reason}",
        evidence={
            **result.evidence,
            "tension": {"id": tension.id, "between": list(tension.between)},
        },
        parent=result.parent,
        missing=result.missing,
        pending=(*result.pending, f"tension:{tension.id}"),
    )


def _parent(criterion: Criterion, subs: list[CriterionResult]) -> CriterionResult:
    status, decisive = _combine([s.status for s in subs], criterion.combine)
    chosen = [subs[i] for i in decisive]
    listing = " ".join(f"{s.id}: {s.reason}" for s in chosen)
    ids = ", ".join(s.id for s in chosen)
    exclusion = criterion.kind == "exclusion"
    if status == "met":
        head = f"Excluding condition present ({ids})." if exclusion else f"Met ({ids})."
    elif status == "not_met":
        head = "No excluding condition present." if exclusion else f"Not met ({ids})."
        if exclusion:
            listing = f"Checked {ids}."
    else:
        head = f"Undecided ({ids})."
    return CriterionResult(
        id=criterion.id,
        kind=criterion.kind,
        status=status,
        reason=f"{head} {listing}",
        evidence={"sub_criteria": {s.id: s.status for s in subs}},
        missing=_union(s.missing for s in chosen),
        pending=_union(s.pending for s in chosen),
    )


def _verdict(
    protocol: Protocol, day: dt.date, results: list[CriterionResult], held: tuple[str, ...]
) -> ScreeningResult:
    tops = [r for r in results if r.parent is None]
    failing = tuple(r.id for r in tops if r.failing)
    undecided = [r for r in tops if r.status in _UNDECIDED]
    missing = _union(r.missing for r in undecided)
    pending = tuple(p for p in _union(r.pending for r in undecided) if not p.startswith("tension:"))
    verdict: Verdict
    if failing:
        verdict = "ineligible"
        parts = []
        for criterion_id in failing:
            subs = [r.id for r in results if r.parent == criterion_id and r.failing]
            parts.append(f"{criterion_id} ({', '.join(subs)})" if subs else criterion_id)
        reason = f"Ineligible: fails {', '.join(parts)}."
    elif held:
        verdict = "needs_review"
        texts = " ".join(t.text.en.strip() for t in protocol.tensions if t.id in held)
        reason = f"Needs review: the protocol is in tension for this patient. {texts}"
    elif undecided:
        verdict = "incomplete"
        bits = []
        if missing:
            bits.append(f"missing facts: {', '.join(missing)}")
        if pending:
            bits.append(f"unanswered judgement items: {', '.join(pending)}")
        reason = f"Incomplete ({', '.join(r.id for r in undecided)}): {'; '.join(bits)}."
    else:
        verdict = "eligible"
        reason = "Eligible: every inclusion met, no exclusion present, every judgement answered."
    return ScreeningResult(
        verdict=verdict,
        reason=reason,
        criteria=tuple(results),
        screening_date=day,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        failing=failing,
        missing=missing,
        pending=pending,
        tensions=held,
    )


# -- rule nodes ------------------------------------------------------------------------------
def _evaluate(node: Expr, facts: Facts) -> Outcome:
    if isinstance(node, Compare):
        return _compare(node, facts)
    if isinstance(node, UlnCompare):
        return _uln(node, facts)
    if isinstance(node, Equals):
        return _equals(node, facts)
    if isinstance(node, Elapsed):
        return _elapsed(node, facts)
    if isinstance(node, History):
        return _history(node, facts)
    if isinstance(node, Medication):
        return _medication(node, facts)
    if isinstance(node, Judgement):
        return _judgement(node, facts)
    if isinstance(node, Not):
        inner = _evaluate(node.of, facts)
        flipped: dict[Status, Status] = {"met": "not_met", "not_met": "met"}
        status = flipped.get(inner.status, inner.status)
        return Outcome(
            status, f"Negated: {inner.reason}", inner.evidence, inner.missing, inner.pending
        )
    return _combined(node, facts)


def _combined(node: AllOf | AnyOf, facts: Facts) -> Outcome:
    outcomes = [_evaluate(child, facts) for child in node.of]
    status, decisive = _combine([o.status for o in outcomes], node.kind)
    chosen = [outcomes[i] for i in decisive]
    evidence: dict[str, Any] = {}
    for outcome in outcomes:
        _merge(evidence, outcome.evidence)
    return Outcome(
        status,
        " ".join(o.reason for o in chosen),
        evidence,
        _union(o.missing for o in chosen),
        _union(o.pending for o in chosen),
    )


def _combine(statuses: Sequence[Status], mode: Literal["all", "any"]) -> tuple[Status, list[int]]:
    """Tri-state AND/OR; returns the status and the indices of the results that decide it.

    all: not met if any is not met; met if all are met. any: met if any is met; not met if all
    are not met. Otherwise undecided: unknown when a fact is missing, else needs confirmation.
    """
    decisive_status: Status = "not_met" if mode == "all" else "met"
    complete_status: Status = "met" if mode == "all" else "not_met"
    indices = range(len(statuses))
    if decisive_status in statuses:
        return decisive_status, [i for i in indices if statuses[i] == decisive_status]
    if all(s == complete_status for s in statuses):
        return complete_status, list(indices)
    status: Status = "unknown" if "unknown" in statuses else "needs_confirmation"
    return status, [i for i in indices if statuses[i] in _UNDECIDED]


def _unknown(missing: Missing) -> Outcome:
    names = missing.parts or (missing.fact,)
    return Outcome("unknown", f"Unknown: {missing.reason}.", dict(missing.evidence), names)


def _threshold(fact: str, value: float, unit: str | None) -> tuple[float, str]:
    canonical = NUMERIC_FACTS[fact]
    if unit is None:
        return value, canonical
    molar = (
        analyte(fact).molar_mass_g_per_mol if fact not in ("crcl", "pneumonitis_grade") else None
    )
    return convert(value, unit, canonical, field=fact, molar_mass_g_per_mol=molar), unit


def _shown(value: float, unit: str) -> str:
    return f"{value:g}" if unit in ("1", "") else f"{value:g} {unit}"


def _compare(node: Compare, facts: Facts) -> Outcome:
    fact = facts.number(node.fact)
    if isinstance(fact, Missing):
        return _unknown(fact)
    threshold, shown_unit = _threshold(node.fact, node.value, node.unit)
    holds = _OPS[node.op](fact.value, threshold)
    verb = "is" if holds else "is not"
    reason = f"{fact.text} {verb} {_SYMBOLS[node.op]} {_shown(node.value, shown_unit)}."
    return Outcome("met" if holds else "not_met", reason, fact.evidence)


def _uln(node: UlnCompare, facts: Facts) -> Outcome:
    fact = facts.lab(node.analyte)
    if isinstance(fact, Missing):
        return _unknown(fact)
    assert isinstance(fact, Number) and fact.lab is not None
    lab = fact.lab
    label = analyte(node.analyte).name_en
    if lab.uln is None:
        return Outcome(
            "unknown",
            f"Unknown: the {label} result of {lab.taken_on} has no upper limit of normal; "
            "add the laboratory's ULN.",
            fact.evidence,
            (f"{node.analyte}.uln",),
        )
    ratio = uln_multiple(
        lab.value, lab.uln, lab.unit, lab.uln_unit, analyte_code=node.analyte, field=node.analyte
    )
    multiple = significant(ratio.multiple)
    holds = _OPS[node.op](multiple, node.multiple)
    evidence = {
        node.analyte: {**fact.evidence[node.analyte], "multiple_of_uln": round(multiple, 4)}
    }
    verb = "is" if holds else "is not"
    reason = (
        f"{label} {_shown(lab.value, lab.unit)} is {multiple:.4g}×ULN (ULN "
        f"{_shown(ratio.uln, ratio.unit)}), which {verb} {_SYMBOLS[node.op]} {node.multiple:g}×ULN."
    )
    return Outcome("met" if holds else "not_met", reason, evidence)


def _equals(node: Equals, facts: Facts) -> Outcome:
    value = facts.category(node.fact)
    if isinstance(value, Missing):
        return _unknown(value)
    holds = value == node.value
    label = node.fact.replace("_", " ")
    shown = ("yes" if value else "no") if isinstance(value, bool) else value
    reason = f"{_FACT_LABELS.get(node.fact, label.capitalize())}: {shown}."
    return Outcome("met" if holds else "not_met", reason, {node.fact: value})


def _elapsed(node: Elapsed, facts: Facts) -> Outcome:
    when = facts.date(node.since)
    if isinstance(when, Missing):
        return _unknown(when)
    holds = elapsed_holds(when, facts.on, node.interval)
    days = (facts.on - when).days
    label = node.since.replace("_", " ")
    verb = "meets" if holds else "does not meet"
    reason = (
        f"{label.capitalize()} {when}, {days} days before screening: {verb} "
        f"{_SYMBOLS[node.interval.op]} {Period.describe(node.interval)}."
    )
    evidence = {node.since: {"date": when.isoformat(), "days_before_screening": days}}
    return Outcome("met" if holds else "not_met", reason, evidence)


def _history(node: History, facts: Facts) -> Outcome:
    code_set = facts.code_set(node.code_set)
    label = code_set.text.en
    window = _window_text(node)
    rows: list[dict[str, Any]] = []
    counting: list[str] = []
    undecidable: list[str] = []
    outside: list[str] = []
    for index, entry in facts.history(node.code_set):
        row: dict[str, Any] = {
            "system": entry.system,
            "code": entry.code,
            "display": entry.display,
            "onset": entry.onset.isoformat() if entry.onset else None,
            "abatement": entry.abatement.isoformat() if entry.abatement else None,
        }
        name = f"{entry.display or entry.code} ({entry.system} {entry.code})"
        if entry.onset is not None:
            row["days_before_screening"] = (facts.on - entry.onset).days
            row["months_before_screening"] = completed_months(entry.onset, facts.on)
            name += f", onset {entry.onset}"
        if entry.abatement is not None:
            name += f", ended {entry.abatement}"
        counts = _entry_counts(node, entry.onset, entry.abatement, facts.on)
        row["counts"] = counts
        rows.append(row)
        if counts is None:
            undecidable.append(f"history[{index}].onset")
            outside.append(f"{name} has no onset date")
        elif counts:
            counting.append(name)
        else:
            outside.append(name)
    evidence = {f"history.{node.code_set}": rows}
    if counting:
        return Outcome("met", f"{label}{window}: {'; '.join(counting)}.", evidence)
    if undecidable:
        reason = f"Unknown: {label}{window} - {'; '.join(outside)}; add the onset date."
        return Outcome("unknown", reason, evidence, tuple(undecidable))
    if outside:
        return Outcome(
            "not_met", f"{label} recorded but not{window}: {'; '.join(outside)}.", evidence
        )
    if node.absent == "unknown":
        reason = (
            f"Unknown: the record holds no {_lower(label)} (code set {node.code_set}); "
            "add the coded entry with its dates."
        )
        return Outcome("unknown", reason, evidence, (f"history.{node.code_set}",))
    return Outcome("not_met", f"No {_lower(label)} in the record.", evidence)


def _window_text(node: History) -> str:
    parts = []
    if node.onset is not None:
        parts.append(f"onset {node.onset.describe()} before screening")
    if node.active_within is not None:
        parts.append(f"active within {node.active_within.describe()} before screening")
    if node.active_at_screening:
        parts.append("current at screening")
    return f" ({', '.join(parts)})" if parts else ""


def _entry_counts(
    node: History, onset: dt.date | None, abatement: dt.date | None, on: dt.date
) -> bool | None:
    """Whether one entry satisfies the node's windows; ``None`` when its onset is needed."""
    if node.active_at_screening and abatement is not None and abatement < on:
        return False
    window = node.active_within
    if window is not None and abatement is not None and abatement < cutoff(on, window):
        return False
    if node.onset is not None:
        if onset is None:
            return None
        return elapsed_holds(onset, on, node.onset)
    return True


def _medication(node: Medication, facts: Facts) -> Outcome:
    on = facts.on
    label = node.category.replace("_", " ")
    rows: list[dict[str, Any]] = []
    counting: list[str] = []
    for entry in facts.medications(node.category):
        last = entry.end or on
        if node.within is not None:
            counts = entry.start <= on and last >= cutoff(on, node.within)
        elif node.active_at_screening:
            counts = entry.start <= on <= last
        else:
            counts = entry.start <= on
        rows.append(
            {
                "display": entry.display,
                "system": entry.system,
                "code": entry.code,
                "start": entry.start.isoformat(),
                "end": entry.end.isoformat() if entry.end else None,
                "counts": counts,
            }
        )
        if counts:
            ongoing = (
                f"since {entry.start}" if entry.end is None else f"{entry.start} to {entry.end}"
            )
            counting.append(f"{entry.display or entry.code or label} ({ongoing})")
    evidence = {f"medications.{node.category}": rows}
    when = f"within {node.within.describe()}" if node.within else "at screening"
    if counting:
        return Outcome("met", f"{label.capitalize()} {when}: {'; '.join(counting)}.", evidence)
    return Outcome("not_met", f"No {label} {when} in the record.", evidence)


def _judgement(node: Judgement, facts: Facts) -> Outcome:
    answer = facts.judgement(node.id)
    question = node.question.en.strip()
    key = f"judgements.{node.id}"
    if answer is None:
        return Outcome(
            "needs_confirmation",
            f"Awaiting the investigator: {question}",
            {key: {"question": question, "answer": None}},
            pending=(node.id,),
        )
    note = f" Note: {answer.note}" if answer.note else ""
    evidence = {
        key: {
            "question": question,
            "answer": answer.answer,
            "answered_by": answer.answered_by,
            "answered_on": answer.answered_on.isoformat(),
            "note": answer.note,
        }
    }
    reason = (
        f"{answer.answered_by} answered {answer.answer} on {answer.answered_on}: {question}{note}"
    )
    return Outcome("met" if answer.answer == "yes" else "not_met", reason, evidence)


# -- helpers ---------------------------------------------------------------------------------
def _lower(label: str) -> str:
    """Lower-case the first letter unless the word is an acronym (HIV stays HIV)."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged = dict(current)
            _merge(merged, value)
            into[key] = merged
        elif isinstance(current, list) and isinstance(value, list):
            into[key] = current + [v for v in value if v not in current]
        else:
            into[key] = value


def _union(groups: Any) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for group in groups:
        found.update(dict.fromkeys(group))
    return tuple(found)
