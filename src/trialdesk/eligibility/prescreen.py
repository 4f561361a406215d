"""A patient's own answers to the protocol's pre-screening questions: may they be eligible?

The answer is deliberately one-sided. An answer that the protocol's limits rule out makes the
patient "probably not eligible", with the plain reason; anything else, "not sure" included, only
means "may be eligible": blood tests, heart tests and the physician's judgement come at the formal
screening. Pure: the protocol section, the raw answers and today's date in, an outcome out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from trialdesk.eligibility.dates import elapsed_holds
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.base import Text
from trialdesk.protocol.prescreen import Bound, Prescreen, PrescreenQuestion

__all__ = [
    "PrescreenAnswerError",
    "PrescreenOutcome",
    "PrescreenReason",
    "answer_problems",
    "prescreen",
]

YES_NO: Final = ("yes", "no", "unsure")
EARLIEST_DATE: Final = date(1900, 1, 1)
MAX_NUMBER: Final = 1000.0

Problem = Literal["required", "choose", "not_a_number", "not_a_date", "future_date"]


class PrescreenAnswerError(TrialdeskError):
    """An answer that cannot be read. ``problem`` lets a page say it in the patient's language."""

    def __init__(self, message: str, *, field: str, problem: Problem) -> None:
        super().__init__(message, field=field)
        self.problem: Problem = problem


@dataclass(frozen=True, slots=True)
class PrescreenReason:
    question_id: str
    criteria: tuple[str, ...]
    text: Text


@dataclass(frozen=True, slots=True)
class PrescreenOutcome:
    """``answers`` holds what was read (None for a question not asked); ``unsure`` the ids
    answered "not sure", for the study team to check."""

    may_be_eligible: bool
    reasons: tuple[PrescreenReason, ...]
    answers: dict[str, str | None]
    unsure: tuple[str, ...]

    @property
    def result(self) -> str:
        return "may_be_eligible" if self.may_be_eligible else "probably_not_eligible"


def prescreen(questionnaire: Prescreen, raw: Mapping[str, str], today: date) -> PrescreenOutcome:
    """Read every asked question's answer (raising on the first unreadable one) and judge it."""
    answers: dict[str, str | None] = {}
    reasons: list[PrescreenReason] = []
    unsure: list[str] = []
    for question in questionnaire.questions:
        if not _asked(question, answers):
            answers[question.id] = None
            continue
        value = _read(question, raw.get(question.id, ""), today)
        answers[question.id] = value
        if value == "unsure":
            unsure.append(question.id)
        elif _fails(question, value, today):
            reasons.append(PrescreenReason(question.id, tuple(question.criteria), question.reason))
    return PrescreenOutcome(not reasons, tuple(reasons), answers, tuple(unsure))


def answer_problems(
    questionnaire: Prescreen, raw: Mapping[str, str], today: date
) -> dict[str, PrescreenAnswerError]:
    """Every asked question whose answer cannot be read, by question id (empty: all readable),
    so that a form can point at all of them at once."""
    answers: dict[str, str | None] = {}
    problems: dict[str, PrescreenAnswerError] = {}
    for question in questionnaire.questions:
        if not _asked(question, answers):
            answers[question.id] = None
            continue
        try:
            answers[question.id] = _read(question, raw.get(question.id, ""), today)
        except PrescreenAnswerError as problem:
            answers[question.id] = None
            problems[question.id] = problem
    return problems


def _asked(question: PrescreenQuestion, answers: Mapping[str, str | None]) -> bool:
    return all(answers.get(other) == wanted for other, wanted in question.ask_if.items())


def _read(question: PrescreenQuestion, value: str, today: date) -> str:
    text = value.strip()
    if not text:
        raise PrescreenAnswerError(
            "is required; answer it (choose 'not sure' if you do not know)",
            field=question.id,
            problem="required",
        )
    if question.answer == "yes_no":
        if text not in YES_NO:
            raise PrescreenAnswerError(
                f"{text!r} is not an answer; choose one of {', '.join(YES_NO)}",
                field=question.id,
                problem="choose",
            )
        return text
    if question.answer == "number":
        return _read_number(question.id, text)
    return _read_date(question.id, text, today)


def _read_number(field: str, text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not 0 <= number <= MAX_NUMBER:
        raise PrescreenAnswerError(
            f"{text!r} is not a number between 0 and {MAX_NUMBER:g}; write digits, e.g. 63",
            field=field,
            problem="not_a_number",
        )
    return f"{number:g}"


def _read_date(field: str, text: str, today: date) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PrescreenAnswerError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01",
            field=field,
            problem="not_a_date",
        ) from None
    if day < EARLIEST_DATE:
        raise PrescreenAnswerError(
            f"{text} is before {EARLIEST_DATE.isoformat()}; check the year",
            field=field,
            problem="not_a_date",
        )
    if day > today:
        raise PrescreenAnswerError(
            f"{text} is after today ({today.isoformat()}); give a date in the past",
            field=field,
            problem="future_date",
        )
    return day.isoformat()


def _fails(question: PrescreenQuestion, value: str, today: date) -> bool:
    if question.answer == "yes_no":
        return value == question.fails_when
    if question.answer == "number":
        return not all(_within(float(value), bound) for bound in question.accept)
    assert question.since is not None  # checked by the protocol model
    return not elapsed_holds(date.fromisoformat(value), today, question.since)


def _within(number: float, bound: Bound) -> bool:
    if bound.op == "<":
        return number < bound.value
    if bound.op == "<=":
        return number <= bound.value
    if bound.op == ">":
        return number > bound.value
    return number >= bound.value
