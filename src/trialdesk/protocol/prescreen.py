"""The public pre-screening questionnaire: which criteria a patient can answer about themself.

A pre-screen is not a screening. It asks a few plain questions, each standing for one or more
protocol criteria, so that somebody who clearly cannot take part learns it early and why. What a
patient cannot know (blood tests, heart scans, the physician's grading) is left to the formal
screening by the study team. Every threshold is protocol data, never code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trialdesk.protocol.base import Sourced, Strict, Text
from trialdesk.protocol.criteria import Interval

__all__ = ["Bound", "Prescreen", "PrescreenQuestion"]

AnswerKind = Literal["yes_no", "number", "date"]


class Bound(Strict):
    """One limit a number answer must meet to stay possibly eligible (``age >= 18``)."""

    op: Literal["<", "<=", ">", ">="]
    value: float


class PrescreenQuestion(Strict):
    """One question. ``yes_no`` fails on ``fails_when``; ``number`` fails outside ``accept``;
    ``date`` (a past date) fails unless the time from it to today meets ``since``. "Not sure"
    never fails: the study team checks it. ``ask_if`` shows the question only after another
    question was answered so (for example the onset date only to someone diagnosed)."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    criteria: list[str] = Field(min_length=1, description="protocol criteria this stands for")
    text: Text
    hint: Text | None = None
    answer: AnswerKind
    unit: Text | None = None
    fails_when: Literal["yes", "no"] | None = None
    accept: list[Bound] = Field(default_factory=list)
    since: Interval | None = None
    ask_if: dict[str, Literal["yes", "no"]] = Field(default_factory=dict)
    reason: Text = Field(description="why a failing answer makes the patient probably ineligible")

    @model_validator(mode="after")
    def _rule_fits_kind(self) -> PrescreenQuestion:
        wanted = {"yes_no": "fails_when", "number": "accept", "date": "since"}[self.answer]
        given = {
            "fails_when": self.fails_when is not None,
            "accept": bool(self.accept),
            "since": self.since is not None,
        }
        if not given[wanted] or sum(given.values()) != 1:
            raise ValueError(
                f"pre-screen question {self.id}: a {self.answer} answer is judged by "
                f"'{wanted}' alone; give it and leave out the others"
            )
        if len(self.ask_if) > 1:
            raise ValueError(f"pre-screen question {self.id}: ask_if names at most one question")
        return self


class Prescreen(Sourced):
    """The questionnaire on the public trial page, in the order it is asked."""

    questions: list[PrescreenQuestion] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Prescreen:
        seen: dict[str, PrescreenQuestion] = {}
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"pre-screen question id {question.id!r} appears twice")
            for other, _answer in question.ask_if.items():
                earlier = seen.get(other)
                if earlier is None or earlier.answer != "yes_no":
                    raise ValueError(
                        f"pre-screen question {question.id}: ask_if names {other!r}, which must "
                        "be an earlier yes/no question"
                    )
            seen[question.id] = question
        return self

    def criteria_ids(self) -> list[str]:
        """Every criterion id the questionnaire names, in order."""
        found: dict[str, None] = {}
        for question in self.questions:
            found.update(dict.fromkeys(question.criteria))
        return list(found)
