"""CTCAE v5.0: the NCI's adverse-event terms and what each grade 1–5 means for them.

The terms come from NCI's workbook (sheet "CTCAE v5.0 Clean Copy", 27 Nov 2017), converted once by
``scripts/import_ctcae.py`` into packaged JSON. A grade the workbook writes "-" does not exist for
that term (Febrile neutropenia starts at grade 3; Eczema stops at grade 3); :func:`validate_grade`
is the gate an adverse-event record goes through before a grade is stored.

Typical use::

    pneumonitis = term("Pneumonitis")            # or term(10035742), the MedDRA code
    pneumonitis.grade_text(3)                    # "Severe symptoms; limiting self care ADL; ..."
    validate_grade("Febrile neutropenia", 1)     # raises GradeNotApplicableError
    search("lung infection")                     # best matches first
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from trialdesk.clinical.errors import ClinicalError

CTCAE_VERSION = "5.0"
GRADES = (1, 2, 3, 4, 5)
DATA_FILE = "ctcae_v5.json"


class CtcaeError(ClinicalError):
    """Base of the CTCAE errors: an unknown term, or a grade the term does not have."""


class UnknownTermError(CtcaeError):
    """No CTCAE term has this name or MedDRA code; ``suggestions`` lists close names."""

    def __init__(self, message: str, *, suggestions: tuple[str, ...] = (), field: str = "term"):
        self.suggestions = suggestions
        super().__init__(message, field=field)


class GradeNotApplicableError(CtcaeError):
    """The grade is outside 1–5, or the term has no such grade ("-" in CTCAE)."""


@dataclass(frozen=True, slots=True)
class CtcaeTerm:
    """One CTCAE v5.0 term; ``grades`` maps 1..5 to the grade's text, None where it is "-"."""

    meddra_code: int
    term: str
    soc: str
    definition: str | None
    navigational_note: str | None
    grades: Mapping[int, str | None] = field(hash=False)

    def grade_text(self, grade: int) -> str | None:
        """What ``grade`` means for this term; None if the term has no such grade."""
        _check_grade_number(grade)
        return self.grades[grade]

    @property
    def applicable_grades(self) -> tuple[int, ...]:
        """The grades this term has, in order (e.g. (3, 4, 5) for Febrile neutropenia)."""
        return tuple(g for g in GRADES if self.grades[g] is not None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the same shape as the packaged data (grade keys "1".."5")."""
        return {
            "meddra_code": self.meddra_code,
            "term": self.term,
            "soc": self.soc,
            "definition": self.definition,
            "navigational_note": self.navigational_note,
            "grades": {str(g): self.grades[g] for g in GRADES},
        }


@dataclass(frozen=True, slots=True)
class _Catalogue:
    terms: tuple[CtcaeTerm, ...]
    by_code: Mapping[int, CtcaeTerm]
    by_name: Mapping[str, tuple[CtcaeTerm, ...]]
    source: Mapping[str, Any]


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _term_from_json(item: Mapping[str, Any]) -> CtcaeTerm:
    grades: dict[int, str | None] = {g: item["grades"][str(g)] for g in GRADES}
    return CtcaeTerm(
        meddra_code=int(item["meddra_code"]),
        term=str(item["term"]),
        soc=str(item["soc"]),
        definition=item["definition"],
        navigational_note=item["navigational_note"],
        grades=MappingProxyType(grades),
    )


@cache
def _catalogue() -> _Catalogue:
    """The packaged terms, read and indexed once per process."""
    text = resources.files("trialdesk.clinical").joinpath("data", DATA_FILE).read_text("utf-8")
    document = json.loads(text)
    terms = tuple(_term_from_json(item) for item in document["terms"])
    by_name: dict[str, list[CtcaeTerm]] = {}
    for one in terms:
        by_name.setdefault(_name_key(one.term), []).append(one)
    return _Catalogue(
        terms=terms,
        by_code=MappingProxyType({one.meddra_code: one for one in terms}),
        by_name=MappingProxyType({k: tuple(v) for k, v in by_name.items()}),
        source=MappingProxyType(document["source"]),
    )


def all_terms() -> tuple[CtcaeTerm, ...]:
    """Every CTCAE v5.0 term in the workbook's order (by SOC, then term)."""
    return _catalogue().terms


def source() -> Mapping[str, Any]:
    """Where the packaged terms come from (title, publisher, sheet, workbook sha256, ...)."""
    return _catalogue().source


def term_by_code(code: int | str) -> CtcaeTerm:
    """The term with this MedDRA code (codes are unique in CTCAE v5.0)."""
    text = str(code).strip()
    found = _catalogue().by_code.get(int(text)) if text.isdigit() else None
    if found is None:
        raise UnknownTermError(
            f"no CTCAE v{CTCAE_VERSION} term has MedDRA code {code!r}; "
            "check the number, or look the term up by name",
            field="meddra_code",
        )
    return found


def terms_named(name: str) -> tuple[CtcaeTerm, ...]:
    """All terms with this exact name, ignoring case and spacing; empty if there is none.

    A tuple because a name could in principle sit under several SOCs; in v5.0 each name is unique.
    """
    return _catalogue().by_name.get(_name_key(name), ())


def suggest(name: str, limit: int = 3) -> tuple[str, ...]:
    """Term names close to a mistyped ``name``."""
    catalogue = _catalogue()
    keys = list(catalogue.by_name)
    close = difflib.get_close_matches(_name_key(name), keys, n=limit, cutoff=0.6)
    return tuple(catalogue.by_name[k][0].term for k in close)


def term(name_or_code: str | int) -> CtcaeTerm:
    """The term with this name (any case) or MedDRA code; UnknownTermError suggests close names."""
    if isinstance(name_or_code, int) or str(name_or_code).strip().isdigit():
        return term_by_code(name_or_code)
    name = str(name_or_code)
    found = terms_named(name)
    if len(found) == 1:
        return found[0]
    if found:
        choices = ", ".join(f"{t.meddra_code} ({t.soc})" for t in found)
        raise CtcaeError(
            f"{name!r} is a CTCAE term under {len(found)} SOCs; give its MedDRA code: {choices}",
            field="term",
        )
    suggestions = suggest(name)
    hint = (
        f"did you mean {' or '.join(repr(s) for s in suggestions)}?"
        if suggestions
        else "search by a word of it instead, or give the MedDRA code"
    )
    raise UnknownTermError(
        f"no CTCAE v{CTCAE_VERSION} term named {name!r}; {hint}", suggestions=suggestions
    )


_WORD = re.compile(r"[^\W_]+")


def _words(text: str | None) -> list[str]:
    return _WORD.findall(text.casefold()) if text else []


def _matches(query_word: str, words: Iterable[str]) -> bool:
    return any(w.startswith(query_word) for w in words)


def search(words: str | Iterable[str]) -> tuple[CtcaeTerm, ...]:
    """Terms matching every query word (as a word prefix) in the name, definition or note.

    Ranked: exact name first, then by how many query words the name holds, names starting with
    the query, definition matches, shorter names, then workbook order.
    """
    text = words if isinstance(words, str) else " ".join(words)
    query = _words(text)
    if not query:
        return ()
    phrase = " ".join(query)
    ranked: list[tuple[tuple[int, int, int, int, int, int], CtcaeTerm]] = []
    for order, one in enumerate(all_terms()):
        name_words = _words(one.term)
        other_words = _words(one.definition) + _words(one.navigational_note)
        in_name = sum(_matches(q, name_words) for q in query)
        in_definition = sum(_matches(q, other_words) for q in query)
        if not all(_matches(q, name_words) or _matches(q, other_words) for q in query):
            continue
        name_phrase = " ".join(name_words)
        rank = (
            0 if name_phrase == phrase else 1,
            -in_name,
            0 if name_phrase.startswith(phrase) else 1,
            -in_definition,
            len(one.term),
            order,
        )
        ranked.append((rank, one))
    ranked.sort(key=lambda pair: pair[0])
    return tuple(one for _, one in ranked)


def _check_grade_number(grade: int) -> None:
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in GRADES:
        raise GradeNotApplicableError(
            f"CTCAE grades are whole numbers 1 to 5, not {grade!r}", field="grade"
        )


def validate_grade(term_or_name: CtcaeTerm | str | int, grade: int) -> str:
    """The text of ``grade`` for the term; raises if CTCAE has no such grade for it.

    The gate for adverse-event records: grade 1 of Febrile neutropenia or grade 5 of Eczema does
    not exist ("-" in CTCAE), so storing one would be a recording error.
    """
    one = term_or_name if isinstance(term_or_name, CtcaeTerm) else term(term_or_name)
    _check_grade_number(grade)
    text = one.grades[grade]
    if text is None:
        allowed = ", ".join(str(g) for g in one.applicable_grades)
        raise GradeNotApplicableError(
            f"{one.term} has no grade {grade} in CTCAE v{CTCAE_VERSION} (it is '-'); "
            f"choose one of grades {allowed}",
            field="grade",
        )
    return text
