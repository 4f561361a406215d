"""Dose-limiting toxicities: the protocol's DLT rules applied to adverse events, each patient's
DLT window, and who counts for the dose decision.

The protocol states what a DLT is as data (``dlt.definition.rules``); an adverse event matching
any rule inside the patient's DLT window is a *candidate* DLT until the investigator confirms or
rejects it. Only confirmed DLTs count.

The window starts on the first infusion (or the last one, if the protocol says so) and its last
day is ``window_days`` later: with the day-0 convention of ``schedule.visits`` the 30-day window
of NCT06021067 covers days 0 to 30, the day-30 visit being its end. An AE before the first
infusion is never a DLT (it happened before any treatment).

Pure: the caller passes the facts and "today"; the store-backed use-cases and the escalation
decisions build on :func:`match_dlt`, :func:`patient_evaluability` and
:func:`evaluable_patients_by_level`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

from trialdesk.clinical.ctcae import all_terms, term_by_code, terms_named
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Dlt, DltRule


class Attribution(StrEnum):
    """How related an adverse event is to a treatment, weakest first."""

    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"

    @property
    def rank(self) -> int:
        return _ATTRIBUTION_ORDER.index(self)

    def at_least(self, other: Attribution | str) -> bool:
        return self.rank >= parse_attribution(other).rank

    def text(self, lang: str) -> str:
        en, zh = _ATTRIBUTION_TEXTS[self]
        return zh if lang.lower().startswith("zh") else en


_ATTRIBUTION_ORDER = tuple(Attribution)
_ATTRIBUTION_TEXTS = {
    Attribution.UNRELATED: ("unrelated", "无关"),
    Attribution.UNLIKELY: ("unlikely", "可能无关"),
    Attribution.POSSIBLE: ("possible", "可能有关"),
    Attribution.PROBABLE: ("probable", "很可能有关"),
    Attribution.DEFINITE: ("definite", "肯定有关"),
}


def parse_attribution(value: Attribution | str, field: str = "attribution") -> Attribution:
    """The attribution named ``value``; refused with the five allowed words otherwise."""
    if isinstance(value, Attribution):
        return value
    try:
        return Attribution(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(a.value for a in Attribution)
        raise TrialdeskError(
            f"{value!r} is not an attribution; use one of {allowed} (weakest first)", field=field
        ) from None


# --- the DLT window ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DltWindow:
    """One patient's DLT window: ``start`` to ``end``, both days inside.

    ``provisional`` is True while the end is not yet known (a window counted from the last
    infusion before all infusions are done); such a window stays open.
    """

    start: date
    end: date
    provisional: bool = False

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.provisional or day <= self.end)

    def is_open(self, as_of: date) -> bool:
        """Started and not yet over on ``as_of``."""
        return self.contains(as_of)

    def is_closed(self, as_of: date) -> bool:
        return not self.provisional and as_of > self.end

    def days_left(self, as_of: date) -> int:
        """Whole days after ``as_of`` still inside the window (0 on its last day and after)."""
        return max(0, (self.end - max(as_of, self.start)).days)

    def fraction_followed(self, as_of: date) -> float:
        """How much of the window has passed on ``as_of``, from 0 to 1 (for time-to-event
        designs)."""
        length = (self.end - self.start).days
        if length <= 0:
            return 1.0
        return min(1.0, max(0.0, (as_of - self.start).days / length))


def dlt_window(
    dlt: Dlt, infusion_dates: Iterable[date], *, infusions_complete: bool
) -> DltWindow | None:
    """The patient's DLT window from the dates of the infusions given (None before the first).

    A window counted from the last infusion is provisional until ``infusions_complete``; the
    observation still starts with the first infusion, so an AE during treatment is inside it.
    """
    dates = sorted(infusion_dates)
    if not dates:
        return None
    span = timedelta(days=dlt.window_days)
    if dlt.window_starts == "first_administration":
        return DltWindow(start=dates[0], end=dates[0] + span)
    return DltWindow(start=dates[0], end=dates[-1] + span, provisional=not infusions_complete)


# --- matching an adverse event against the rules ------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdverseEventFacts:
    """What DLT matching needs of an adverse event. ``attribution`` is to the study treatment."""

    meddra_code: int
    grade: int
    onset: date
    attribution: Attribution


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The DLT rule an adverse event matched: its 1-based number and a readable statement."""

    number: int
    rule: DltRule
    description: str


def describe_rule(number: int, rule: DltRule) -> str:
    """'rule 1: grade ≥ 3; any term except SOC Blood and lymphatic system disorders; attribution
    possible or stronger' — what is stored as the rule an AE matched."""
    parts = [f"grade ≥ {rule.min_grade}"]
    what = f"term {' or '.join(rule.terms)}" if rule.terms else "any term"
    excluded = [f"SOC {soc}" for soc in rule.exclude_socs] + list(rule.exclude_terms)
    parts.append(what + (f" except {', '.join(excluded)}" if excluded else ""))
    parts.append(
        "any attribution"
        if rule.min_attribution == "unrelated"
        else f"attribution {rule.min_attribution} or stronger"
    )
    return f"rule {number}: " + "; ".join(parts)


@cache
def _soc_names() -> frozenset[str]:
    return frozenset(one.soc.casefold() for one in all_terms())


def check_dlt_rules(rules: Sequence[DltRule]) -> None:
    """Refuse rules naming a CTCAE term or SOC that does not exist (a typo would never match)."""
    for number, rule in enumerate(rules, start=1):
        for name in (*rule.terms, *rule.exclude_terms):
            if not terms_named(name):
                raise TrialdeskError(
                    f"DLT rule {number} names {name!r}, which is not a CTCAE v5.0 term; "
                    "fix the protocol's dlt.definition.rules",
                    field="dlt.definition.rules",
                )
        for soc in rule.exclude_socs:
            if soc.casefold() not in _soc_names():
                raise TrialdeskError(
                    f"DLT rule {number} excludes SOC {soc!r}, which is not a CTCAE v5.0 system "
                    "organ class; fix the protocol's dlt.definition.rules",
                    field="dlt.definition.rules",
                )


def _rule_matches(rule: DltRule, event: AdverseEventFacts, term: str, soc: str) -> bool:
    names = {name.casefold() for name in rule.terms}
    return (
        event.grade >= rule.min_grade
        and (not names or term.casefold() in names)
        and term.casefold() not in {name.casefold() for name in rule.exclude_terms}
        and soc.casefold() not in {name.casefold() for name in rule.exclude_socs}
        and event.attribution.at_least(rule.min_attribution)
    )


def match_dlt(
    event: AdverseEventFacts, rules: Sequence[DltRule], window: DltWindow | None
) -> RuleMatch | None:
    """The first DLT rule ``event`` matches with its onset inside ``window``; None otherwise."""
    check_dlt_rules(rules)
    if window is None or not window.contains(event.onset):
        return None
    ctcae = term_by_code(event.meddra_code)
    for number, rule in enumerate(rules, start=1):
        if _rule_matches(rule, event, ctcae.term, ctcae.soc):
            return RuleMatch(number, rule, describe_rule(number, rule))
    return None


# --- evaluability -------------------------------------------------------------------------------


class Evaluability(StrEnum):
    """Whether a patient counts for the dose decision, as of a date."""

    NOT_STARTED = "not_started"
    """No infusion given yet."""
    FOLLOWING = "following"
    """Inside the DLT window with no DLT so far."""
    AWAITING_ADJUDICATION = "awaiting_adjudication"
    """A candidate DLT waits for the investigator; nothing can be counted until it is decided."""
    EVALUABLE_DLT = "evaluable_dlt"
    """Had a confirmed DLT: counts, as a DLT."""
    EVALUABLE = "evaluable"
    """Completed the window with enough infusions and no DLT: counts, without a DLT."""
    NOT_EVALUABLE = "not_evaluable"
    """Window over (or left the study) without a DLT and without enough infusions: replaced."""

    @property
    def counts(self) -> bool:
        return self in (Evaluability.EVALUABLE, Evaluability.EVALUABLE_DLT)

    def text(self, lang: str) -> str:
        en, zh = _EVALUABILITY_TEXTS[self]
        return zh if lang.lower().startswith("zh") else en


_EVALUABILITY_TEXTS = {
    Evaluability.NOT_STARTED: ("not yet infused", "尚未输注"),
    Evaluability.FOLLOWING: ("in the DLT window", "DLT 观察期内"),
    Evaluability.AWAITING_ADJUDICATION: ("candidate DLT awaiting adjudication", "疑似 DLT 待判定"),
    Evaluability.EVALUABLE_DLT: ("evaluable, with a DLT", "可评价，发生 DLT"),
    Evaluability.EVALUABLE: ("evaluable, no DLT", "可评价，未发生 DLT"),
    Evaluability.NOT_EVALUABLE: ("not evaluable (to be replaced)", "不可评价（需替换）"),
}


@dataclass(frozen=True, slots=True)
class PatientDltFacts:
    """What evaluability needs to know of one enrolled patient.

    ``infusion_dates``: dates of the infusions actually given (voided and missed ones left out).
    ``confirmed_dlts``: DLTs the investigator confirmed; ``candidate_dlts``: candidates not yet
    adjudicated. ``left_study_on``: the date the patient stopped follow-up, if they did.
    ``infusions_complete``: no more infusions will be given (all done, or stopped).
    """

    participant_id: Hashable
    dose_level: int
    infusion_dates: tuple[date, ...]
    confirmed_dlts: int = 0
    candidate_dlts: int = 0
    left_study_on: date | None = None
    infusions_complete: bool = False


@dataclass(frozen=True, slots=True)
class PatientEvaluability:
    """One patient's standing for the dose decision as of a date, with the reason in words."""

    participant_id: Hashable
    dose_level: int
    state: Evaluability
    window: DltWindow | None
    reason: str


def patient_evaluability(facts: PatientDltFacts, dlt: Dlt, as_of: date) -> PatientEvaluability:
    """Whether the patient counts, per the protocol's rule: had a (confirmed) DLT, or received at
    least ``min_administrations`` infusions and completed the DLT window."""
    needed = dlt.evaluability.min_administrations
    given = len(facts.infusion_dates)
    window = dlt_window(dlt, facts.infusion_dates, infusions_complete=facts.infusions_complete)

    def result(state: Evaluability, reason: str) -> PatientEvaluability:
        return PatientEvaluability(facts.participant_id, facts.dose_level, state, window, reason)

    if window is None:
        return result(Evaluability.NOT_STARTED, "no infusion given yet")
    if facts.confirmed_dlts:
        return result(Evaluability.EVALUABLE_DLT, "confirmed DLT")
    if facts.candidate_dlts:
        return result(
            Evaluability.AWAITING_ADJUDICATION,
            f"{facts.candidate_dlts} candidate DLT(s) to be confirmed or rejected",
        )
    left_early = facts.left_study_on is not None and (
        window.provisional or facts.left_study_on < window.end
    )
    if left_early:
        return result(
            Evaluability.NOT_EVALUABLE,
            f"left the study on {facts.left_study_on} before the DLT window ended, without a DLT",
        )
    if not window.is_closed(as_of):
        return result(
            Evaluability.FOLLOWING,
            f"DLT window {window.start} to {window.end}, {window.days_left(as_of)} day(s) left",
        )
    if given < needed:
        return result(
            Evaluability.NOT_EVALUABLE,
            f"received {given} of the {needed} infusions needed, and no DLT",
        )
    return result(
        Evaluability.EVALUABLE,
        f"received {given} infusions and completed the DLT window on {window.end} without a DLT",
    )


@dataclass(frozen=True, slots=True)
class LevelTally:
    """The patients of one dose level by standing, as of a date (participant ids, in input
    order). ``evaluable`` includes those with a DLT, which are also in ``with_dlt``."""

    level: int
    evaluable: tuple[Hashable, ...] = ()
    with_dlt: tuple[Hashable, ...] = ()
    following: tuple[Hashable, ...] = ()
    awaiting_adjudication: tuple[Hashable, ...] = ()
    not_evaluable: tuple[Hashable, ...] = ()
    not_started: tuple[Hashable, ...] = ()
    patients: tuple[PatientEvaluability, ...] = field(default=(), repr=False)

    @property
    def n_evaluable(self) -> int:
        return len(self.evaluable)

    @property
    def n_dlts(self) -> int:
        return len(self.with_dlt)

    @property
    def undecided(self) -> int:
        """Patients whose outcome is not known yet (not started, following, or awaiting
        adjudication); not-evaluable patients are not counted (they are replaced)."""
        return len(self.following) + len(self.awaiting_adjudication) + len(self.not_started)


def evaluable_patients_by_level(
    patients: Iterable[PatientDltFacts], dlt: Dlt, as_of: date
) -> dict[int, LevelTally]:
    """Each dose level's patients sorted by standing (keys: levels that have patients)."""
    grouped: dict[int, list[PatientEvaluability]] = {}
    for facts in patients:
        standing = patient_evaluability(facts, dlt, as_of)
        grouped.setdefault(facts.dose_level, []).append(standing)
    return {level: _tally(level, grouped[level]) for level in sorted(grouped)}


def _tally(level: int, standings: list[PatientEvaluability]) -> LevelTally:
    def ids(*states: Evaluability) -> tuple[Hashable, ...]:
        return tuple(s.participant_id for s in standings if s.state in states)

    return LevelTally(
        level=level,
        evaluable=ids(Evaluability.EVALUABLE, Evaluability.EVALUABLE_DLT),
        with_dlt=ids(Evaluability.EVALUABLE_DLT),
        following=ids(Evaluability.FOLLOWING),
        awaiting_adjudication=ids(Evaluability.AWAITING_ADJUDICATION),
        not_evaluable=ids(Evaluability.NOT_EVALUABLE),
        not_started=ids(Evaluability.NOT_STARTED),
        patients=tuple(standings),
    )
