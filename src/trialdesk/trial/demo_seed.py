"""A realistic trial in progress for a newcomer to look at, made through the use-cases only.

The story runs on a manual clock that starts ``DAYS_AGO`` days before ``now`` and stops at
``now``, so that a desk served right after seeding shows live windows:

- day 0: the team's logins (one per role); three synthetic patients screened, consented and
  enrolled at the starting dose; four infusions each, 3 days apart; no DLT.
- day 31: their 30-day windows over, the 3+3 decision (escalate) computed and signed.
- days 32-35: three more patients enrolled at the next dose; one has grade 3 pneumonitis on
  day 36, which the investigator confirms as a DLT; the last patient's fourth infusion is due
  on the last day. Their windows are open.
- one candidate fails screening, one pre-screen contact waits to be screened, and two public
  contact requests (with consent) wait in the queue.

Everything is synthetic: no real person's data. Passwords are made fresh for every seeding.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.protocol.models import Administrations
from trialdesk.store.models import Infusion, User
from trialdesk.store.prescreen_contacts import PrescreenContact, add_contact
from trialdesk.trial.adverse_events import AdverseEventRecorded, record_adverse_event
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.decisions import compute_decision, sign_decision
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.infusions import record_infusion, schedule_infusions
from trialdesk.trial.participants import link_screening, record_consent, register_contact
from trialdesk.trial.roles import Role
from trialdesk.trial.screening import screen_and_record
from trialdesk.trial.users import add_user

DAYS_AGO = 44
"""How long before ``now`` the demo trial started (cohort 2's windows are then half over)."""


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: str
    printed_name: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoPatient:
    sex: str
    birth_date_offset_years: int
    weight_kg: float


@dataclass
class DemoSeeded:
    logins: list[DemoLogin]
    started_on: date
    today: date
    enrolled: dict[int, list[str]] = field(default_factory=dict)
    """Study ids by dose level."""
    dlt_study_ids: list[str] = field(default_factory=list)
    screen_failed: int = 0
    waiting_contacts: int = 0
    public_requests: int = 0


PEOPLE = {
    Role.ADMINISTRATOR: ("admin", "Desk Administrator"),
    Role.INVESTIGATOR: ("dr.li", "LI Ming, MD"),
    Role.COORDINATOR: ("coord", "WANG Fang"),
    Role.MONITOR: ("monitor", "CHEN Jing (monitor)"),
    Role.DSMB: ("dsmb", "ZHAO Lei (DSMB chair)"),
}
COHORT_1 = [
    DemoPatient("female", 63, 58.0),
    DemoPatient("male", 57, 71.0),
    DemoPatient("male", 68, 64.5),
]
COHORT_2 = [
    DemoPatient("male", 52, 80.0),
    DemoPatient("female", 66, 55.0),
    DemoPatient("male", 61, 69.0),
]


def seed_demo(session: Session, loaded: LoadedProtocol, now: datetime) -> DemoSeeded:
    """Seed an empty desk (refused when it already has users). ``now`` is aware UTC."""
    if (session.scalar(select(func.count()).select_from(User)) or 0) > 0:
        raise TrialdeskError(
            "the database already has users; give a new, empty database for the demo "
            "(e.g. --database-url sqlite:///demo.sqlite3)",
            field="database_url",
        )
    clock = ManualClock(now - timedelta(days=DAYS_AGO, hours=2))
    ctx = TrialContext.open(session, loaded, clock)
    logins = _logins(session, clock)
    seeded = DemoSeeded(logins, clock.today(), (now - timedelta(hours=2)).date())
    coord, investigator = PEOPLE[Role.COORDINATOR][0], PEOPLE[Role.INVESTIGATOR][0]
    signer = next(x for x in logins if x.role == Role.INVESTIGATOR)

    every = _administrations(ctx).interval_days
    first = _enrol_cohort(session, ctx, COHORT_1)  # day 0
    _schedule(session, ctx, first, clock.today())
    for number in range(1, 5):
        if number > 1:
            clock.advance(days=every)
        _give(session, ctx, first, number)
    clock.advance(days=31 - 3 * every)  # day 31: the 30-day windows are over
    decision = compute_decision(session, ctx, actor=coord)
    sign_decision(session, ctx, decision.id, username=signer.username, password=signer.password)

    clock.advance(days=1)  # day 32: the next dose level
    early = _enrol_cohort(session, ctx, COHORT_2[:2])
    _schedule(session, ctx, early, clock.today())
    _give(session, ctx, early, 1)
    clock.advance(days=every)  # day 35: the third patient starts
    late = _enrol_cohort(session, ctx, COHORT_2[2:])
    _schedule(session, ctx, late, clock.today())
    _give(session, ctx, early, 2)
    _give(session, ctx, late, 1)
    clock.advance(days=every)  # day 38
    _give(session, ctx, early, 3)
    _give(session, ctx, late, 2)
    _adverse_event(
        session, ctx, early[0], term="Cough", grade=1, onset=clock.today(), related="unlikely"
    )
    clock.advance(days=every)  # day 41
    _give(session, ctx, early, 4)
    _give(session, ctx, late, 3)
    clock.advance(days=2)  # day 43: grade 3 pneumonitis since yesterday, a DLT
    _dlt(session, ctx, early[1], onset=clock.today() - timedelta(days=1), who=investigator)
    clock.set(now - timedelta(hours=2))  # day 44: the last infusion of the third patient is due

    for study_id, level in _enrolled(session):
        seeded.enrolled.setdefault(level, []).append(study_id)
    seeded.dlt_study_ids = [_study_id(session, early[1])]
    seeded.screen_failed = _screen_fail(session, ctx)
    register_contact(session, ctx, actor=coord, contact_note="phone, referred by the ward")
    seeded.waiting_contacts = 1
    seeded.public_requests = _public_requests(session, ctx)
    assert clock.now() <= now, "the demo must not write records from the future"
    return seeded


def _logins(session: Session, clock: ManualClock) -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    actor: str | None = None
    for role, (username, printed) in PEOPLE.items():
        password = f"demo-{secrets.token_urlsafe(9)}"
        add_user(
            session,
            username=username,
            printed_name=printed,
            role=role.value,
            password=password,
            actor=actor,
            clock=clock,
        )
        actor = actor or username
        logins.append(DemoLogin(username, role.value, printed, password))
    return logins


def _enrol_cohort(session: Session, ctx: TrialContext, patients: list[DemoPatient]) -> list[int]:
    ids = []
    for patient in patients:
        person = _screened(session, ctx, patient, eligible=True)
        record_consent(
            session,
            ctx,
            person,
            consent_date=ctx.clock.today(),
            form_version=ctx.protocol.conduct.consent_form_version or "1.0",
            obtained_by=PEOPLE[Role.INVESTIGATOR][0],
            actor=PEOPLE[Role.COORDINATOR][0],
        )
        enrol(
            session,
            ctx,
            person,
            enrolled_on=ctx.clock.today(),
            baseline_weight_kg=patient.weight_kg,
            actor=PEOPLE[Role.COORDINATOR][0],
        )
        ids.append(person)
    return ids


def _screened(session: Session, ctx: TrialContext, patient: DemoPatient, *, eligible: bool) -> int:
    coord = PEOPLE[Role.COORDINATOR][0]
    person = register_contact(session, ctx, actor=coord, contact_note="referred by the ward")
    screening = screen_and_record(
        session,
        loaded=ctx.loaded,
        protocol_version_id=ctx.protocol_version_id,
        input_text=screening_record(ctx, patient, person.screening_number, eligible=eligible),
        on=None,
        screened_by=coord,
        clock=ctx.clock,
    )
    link_screening(session, ctx, person.id, screening.id, actor=coord)
    return person.id


def screening_record(
    ctx: TrialContext, patient: DemoPatient, number: str, *, eligible: bool
) -> str:
    """A synthetic screening record in trialdesk's own format, all dates before today.

    The ineligible one has a platelet count of 62×10^9/L (below I4a's 80×10^9/L)."""
    today = ctx.clock.today()

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    lab_day = ago(2)
    judged = {"answer": "no", "answered_by": PEOPLE[Role.INVESTIGATOR][1], "answered_on": ago(0)}
    judgements = {j: dict(judged) for j in _judgement_ids(ctx)}
    if "I6" in judgements:
        judgements["I6"]["answer"] = "yes"
    record = {
        "patient_id": number,
        "screening_date": ago(0),
        "birth_date": date(today.year - patient.birth_date_offset_years, 4, 12).isoformat(),
        "sex": patient.sex,
        "labs": [
            {"analyte": "anc", "value": 3.1, "unit": "10^9/L", "taken_on": lab_day},
            {
                "analyte": "platelets",
                "value": 190 if eligible else 62,
                "unit": "10^9/L",
                "taken_on": lab_day,
            },
            {"analyte": "haemoglobin", "value": 121, "unit": "g/L", "taken_on": lab_day},
            {
                "analyte": "bilirubin_total",
                "value": 0.8,
                "unit": "mg/dL",
                "uln": 1.2,
                "taken_on": lab_day,
            },
            {"analyte": "alt", "value": 30, "unit": "U/L", "uln": 40, "taken_on": lab_day},
            {"analyte": "ast", "value": 27, "unit": "U/L", "uln": 35, "taken_on": lab_day},
            {
                "analyte": "creatinine",
                "value": 0.8,
                "unit": "mg/dL",
                "uln": 1.1,
                "taken_on": lab_day,
            },
            {"analyte": "inr", "value": 1.0, "unit": "1", "uln": 1.2, "taken_on": lab_day},
            {"analyte": "pt", "value": 12.0, "unit": "s", "uln": 13.5, "taken_on": lab_day},
        ],
        "weight": {"value": patient.weight_kg, "unit": "kg", "measured_on": ago(1)},
        "height": {"value": 165, "unit": "cm", "measured_on": ago(1)},
        "ecog": 1,
        "lvef_percent": 61,
        "ecg": "normal",
        "pneumonitis_grade": 2,
        "consent_signed_on": ago(0),
        "pregnant": False,
        "lactating": False,
        "childbearing_potential": False,
        "history": [
            {
                "system": "icd10",
                "code": "J70.0",
                "display": "Acute radiation pneumonitis",
                "onset": ago(24),
            },
            {
                "system": "local",
                "code": "chest-radiotherapy",
                "display": "Thoracic radiotherapy 60 Gy",
                "onset": ago(150),
                "abatement": ago(105),
            },
        ],
        "medications": [],
        "judgements": judgements,
    }
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True)


def _judgement_ids(ctx: TrialContext) -> list[str]:
    from trialdesk.eligibility import judgement_ids

    return list(judgement_ids(ctx.protocol))


def _administrations(ctx: TrialContext) -> Administrations:
    if ctx.protocol.schedule is None:
        raise TrialdeskError("the protocol has no schedule; the demo needs one", field="schedule")
    return ctx.protocol.schedule.administrations


def _schedule(session: Session, ctx: TrialContext, participants: list[int], first: date) -> None:
    for participant in participants:
        schedule_infusions(
            session,
            participant,
            first_on=first,
            protocol=ctx.protocol,
            actor=PEOPLE[Role.COORDINATOR][0],
            clock=ctx.clock,
        )


def _give(session: Session, ctx: TrialContext, participants: list[int], number: int) -> None:
    """Infusion ``number`` given now, at the planned dose, to each of ``participants``."""
    for participant in participants:
        planned = session.scalars(
            select(Infusion).where(
                Infusion.participant_id == participant, Infusion.number == number
            )
        ).one()
        record_infusion(
            session,
            participant,
            number,
            given_at=ctx.clock.now(),
            cells_given=planned.planned_cells,
            product_lot=f"HDMSC-LOT-{number:02d}",
            protocol=ctx.protocol,
            actor=PEOPLE[Role.COORDINATOR][0],
            clock=ctx.clock,
        )


def _adverse_event(
    session: Session,
    ctx: TrialContext,
    participant: int,
    *,
    term: str,
    grade: int,
    onset: date,
    related: str,
) -> AdverseEventRecorded:
    return record_adverse_event(
        session,
        participant,
        term=term,
        grade=grade,
        onset_date=onset,
        attribution_hdmsc=related,
        attribution_standard="unlikely",
        protocol=ctx.protocol,
        actor=PEOPLE[Role.COORDINATOR][0],
        clock=ctx.clock,
    )


def _dlt(session: Session, ctx: TrialContext, participant: int, *, onset: date, who: str) -> None:
    recorded = _adverse_event(
        session, ctx, participant, term="Pneumonitis", grade=3, onset=onset, related="possible"
    )
    if recorded.dlt is None:
        raise TrialdeskError("the protocol's DLT rules do not flag grade 3 pneumonitis")
    adjudicate_dlt(
        session,
        recorded.dlt.id,
        confirm=True,
        reason="grade 3 pneumonitis within the window, oxygen needed; possibly related",
        actor=who,
        clock=ctx.clock,
    )


def _enrolled(session: Session) -> list[tuple[str, int]]:
    from trialdesk.store.models import Enrolment, Participant

    rows = session.execute(
        select(Participant.study_id, Enrolment.dose_level)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .order_by(Participant.id)
    ).all()
    return [(str(study_id), int(level)) for study_id, level in rows]


def _study_id(session: Session, participant: int) -> str:
    from trialdesk.store.models import Participant

    return str(session.get(Participant, participant).study_id)  # type: ignore[union-attr]


def _screen_fail(session: Session, ctx: TrialContext) -> int:
    _screened(session, ctx, DemoPatient("female", 71, 49.0), eligible=False)
    return 1


def _public_requests(session: Session, ctx: TrialContext) -> int:
    requests = [
        ("Liu Yang", "+86 139 0000 1234", None, "zh", "may_be_eligible", []),
        ("Sun Mei", None, "sun.mei@example.com", "en", "probably_not_eligible", ["lung_surgery"]),
    ]
    for name, phone, email, lang, result, reasons in requests:
        add_contact(
            session,
            PrescreenContact(
                created_at=ctx.clock.now(),
                name=name,
                phone=phone,
                email=email,
                preferred_language=lang,
                answers_json=json.dumps({"age": "58", "chest_radiotherapy": "yes"}),
                result=result,
                reasons_json=json.dumps(reasons),
                consent_to_contact=True,
                consent_text="(demo) consent to be contacted",
                protocol_version_id=ctx.protocol_version_id,
            ),
        )
    return len(requests)
