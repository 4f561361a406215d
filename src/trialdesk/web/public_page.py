"""What the public trial page says, built from the protocol file in one language.

Every number (ages, infusions, days, visits, people) comes from the protocol; the sentences
around them come from the message catalogue, so a second trial gets its own page from its own
file. Who may and may not join is said with the pre-screen questions' plain reasons; the exact
criteria follow for whoever wants them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trialdesk.protocol import Protocol
from trialdesk.protocol.prescreen import PrescreenQuestion
from trialdesk.web.i18n import translate

_T = Callable[..., str]
"""``t(text, **values)``: a catalogue sentence in the page's language."""

STATUS_WORDS = {
    "RECRUITING": "Looking for participants",
    "NOT_YET_RECRUITING": "Not yet looking for participants",
    "ACTIVE_NOT_RECRUITING": "Running; no longer looking for participants",
    "COMPLETED": "Finished",
}
PHASE_NAMES = {
    "EARLY_PHASE1": "early phase 1",
    "PHASE1": "1",
    "PHASE2": "2",
    "PHASE3": "3",
    "PHASE4": "4",
    "NA": "not applicable",
}


@dataclass(frozen=True, slots=True)
class PublicTrial:
    lang: str
    title: str
    official_title: str
    recruiting: bool
    facts: list[tuple[str, str]]
    tests: list[str]
    may_join: list[str]
    may_not_join: list[str]
    involves: list[str]
    visits: list[str]
    how_to: list[str]
    inclusion: list[tuple[str, str]] = field(default_factory=list)
    exclusion: list[tuple[str, str]] = field(default_factory=list)
    registry_url: str | None = None


def public_trial(protocol: Protocol, lang: str) -> PublicTrial:
    def t(text: str, **values: object) -> str:
        return translate(text, lang, **values)

    registry = protocol.registry
    brief = registry.brief_title or registry.title
    return PublicTrial(
        lang=lang,
        title=brief.get(lang),
        official_title=registry.title.get(lang),
        recruiting=(registry.status or "").upper() == "RECRUITING",
        facts=_facts(protocol, t),
        tests=_tests(protocol, t, lang),
        may_join=[q.reason.get(lang) for q in _questions(protocol, "inclusion")],
        may_not_join=[q.reason.get(lang) for q in _questions(protocol, "exclusion")],
        involves=_involves(protocol, t, lang),
        visits=[
            t("Day {day} after the first infusion", day=v.day)
            for v in (protocol.schedule.visits if protocol.schedule else [])
            if v.day > 0
        ],
        how_to=_how_to(t),
        inclusion=[(c.id, c.text.get(lang)) for c in protocol.inclusion],
        exclusion=[(c.id, c.text.get(lang)) for c in protocol.exclusion],
        registry_url=registry.url,
    )


def _facts(protocol: Protocol, t: _T) -> list[tuple[str, str]]:
    registry, population = protocol.registry, protocol.population
    phases = "/".join(t(PHASE_NAMES[p]) for p in registry.phases)
    facts = [
        (t("Trial ID"), registry.nct_id or protocol.id),
        (t("Phase"), phases),
        (
            t("Ages"),
            t(
                "{low} to {high} years",
                low=population.min_age_years,
                high=population.max_age_years,
            ),
        ),
    ]
    if registry.enrollment:
        facts.append((t("People taking part"), t("about {n}", n=registry.enrollment)))
    places = [", ".join(p for p in (s.city, s.region, s.country) if p) for s in registry.sites]
    if places:
        facts.append((t("Where"), "; ".join(t(p) for p in places)))
    facts.append((t("Sponsor"), t(registry.sponsor)))
    if registry.status:
        status = registry.status.upper()
        words = STATUS_WORDS.get(status, status.replace("_", " ").lower())
        facts.append((t("Status"), t(words)))
    return facts


def _tests(protocol: Protocol, t: _T, lang: str) -> list[str]:
    items: list[str] = []
    for arm in protocol.arms:
        for intervention in arm.interventions:
            if intervention.description:
                items.append(intervention.description.get(lang))
    items.append(
        t(
            "It is an early study: its first aim is to learn whether the treatment is safe "
            "and which dose people tolerate. It also looks at whether the lung injury gets better."
        )
    )
    if protocol.design and protocol.dlt:
        items.append(
            t(
                "The dose is raised step by step. The first {n} people get the lowest dose; a "
                "higher dose is given to the next people only when the doctors judge the lower "
                "one safe after watching each person for {days} days.",
                n=protocol.design.cohort_size,
                days=protocol.dlt.window_days,
            )
        )
    items.append(
        t(
            "Everyone who takes part gets the cells, on top of the usual treatment. "
            "There is no placebo."
        )
    )
    return items


def _involves(protocol: Protocol, t: _T, lang: str) -> list[str]:
    items: list[str] = []
    schedule = protocol.schedule
    if schedule:
        given = schedule.administrations
        items.append(
            t(
                "{count} infusions into a vein, one every {every} days, given in hospital.",
                count=given.count,
                every=given.interval_days,
            )
        )
        period = schedule.treatment_period
        items.append(
            t(
                "The treatment period lasts {low} to {high} weeks.",
                low=period.min_weeks,
                high=period.max_weeks,
            )
        )
    for treatment in protocol.standard_treatment:
        items.append(
            t(
                "Your usual treatment for the lung injury ({name}) goes on as your doctors "
                "prescribe it.",
                name=t(treatment.name),
            )
        )
    if protocol.dlt:
        items.append(
            t(
                "For {days} days after the first infusion the team watches closely for side "
                "effects.",
                days=protocol.dlt.window_days,
            )
        )
    visits = schedule.visits if schedule else []
    last = max((v.day for v in visits), default=0)
    if last > 0:
        items.append(
            t(
                "Before treatment: tests to check that the study suits you (blood tests, heart "
                "tests, a chest scan). After it: follow-up visits until day {last}.",
                last=last,
            )
        )
    items.append(t("Taking part is your choice. You may stop at any time without giving a reason."))
    return items


def _how_to(t: _T) -> list[str]:
    return [
        t("Answer the short questionnaire below. It takes about 2 minutes."),
        t(
            "If you wish, leave your name and a phone number or email address. The study team "
            "will contact you; nothing is kept unless you tick the box to agree."
        ),
        t(
            "The study doctors decide who can take part, after an examination and tests at the "
            "hospital. The questionnaire cannot decide it."
        ),
    ]


def _questions(protocol: Protocol, kind: str) -> list[PrescreenQuestion]:
    if protocol.prescreen is None:
        return []
    kinds = {c.id: c.kind for c in protocol.criteria}
    return [q for q in protocol.prescreen.questions if kinds.get(q.criteria[0]) == kind]
