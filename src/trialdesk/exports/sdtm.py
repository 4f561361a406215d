"""SDTM-style domains as CSV: DM, AE, EX, LB, VS, CM, DS, with SDTM variable names.

"Style": the variable names, sequence numbers and ISO 8601 dates follow SDTM, but this is not
a submission package (no define.xml, no SUPP-- domains, sponsor terms where CDISC Controlled
Terminology would need a licensed lookup). Only enrolled participants appear (USUBJID needs the
study id), and only current records: voided ones stay in the entity CSVs with their reason.
Date-times are in UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from trialdesk.clinical.analytes import ANALYTES
from trialdesk.exports.csv_export import csv_bytes
from trialdesk.exports.dataset import TrialData, age_on
from trialdesk.exports.values import decimal_text, iso_date, iso_moment
from trialdesk.store.models import Participant
from trialdesk.trial.follow_up import LAB_PREFIX

Record = dict[str, str]

DM_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "RFENDTC", "RFICDTC", "SITEID",
    "AGE", "AGEU", "SEX", "ARMCD", "ARM", "ACTARMCD", "ACTARM",
)  # fmt: skip
AE_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEPTCD", "AETOXGR", "AESER",
    "AEREL", "AEACN", "AEOUT", "AESTDTC", "AEENDTC",
)  # fmt: skip
EX_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXROUTE", "EXLOT",
    "VISITNUM", "EXSTDTC", "EXENDTC",
)  # fmt: skip
LB_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBORRES", "LBORRESU",
    "LBSTRESC", "LBSTRESN", "LBSTRESU", "VISIT", "LBDTC",
)  # fmt: skip
VS_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "VSSEQ", "VSTESTCD", "VSTEST", "VSORRES", "VSORRESU",
    "VSSTRESC", "VSSTRESN", "VSSTRESU", "VISIT", "VSDTC",
)  # fmt: skip
CM_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "CMSEQ", "CMTRT", "CMDOSE", "CMDOSU", "CMROUTE", "CMINDC",
    "CMSTDTC", "CMENDTC",
)  # fmt: skip
DS_VARS: Final = (
    "STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "DSSTDTC",
)  # fmt: skip

SEX_CODES: Final = {"female": "F", "male": "M"}
VITAL_SIGNS: Final = {"spo2": ("OXYSAT", "Oxygen Saturation")}
"""Follow-up codes that are vital signs, with their VSTESTCD and VSTEST."""


def sdtm_files(data: TrialData) -> dict[str, bytes]:
    """File name -> CSV content of each domain (``dm.csv`` ...)."""
    domains: dict[str, tuple[Sequence[str], Callable[[TrialData], list[Record]]]] = {
        "dm": (DM_VARS, dm),
        "ae": (AE_VARS, ae),
        "ex": (EX_VARS, ex),
        "lb": (LB_VARS, lb),
        "vs": (VS_VARS, vs),
        "cm": (CM_VARS, cm),
        "ds": (DS_VARS, ds),
    }
    return {
        f"{name}.csv": csv_bytes(variables, ([r.get(v, "") for v in variables] for r in make(data)))
        for name, (variables, make) in domains.items()
    }


def enrolled(data: TrialData) -> list[Participant]:
    return [p for p in data.participants if p.study_id is not None]


def usubjid(data: TrialData, person: Participant) -> str:
    return f"{data.study_id}-{person.study_id}"


def keys(data: TrialData, person: Participant, domain: str) -> Record:
    return {"STUDYID": data.study_id, "DOMAIN": domain.upper(), "USUBJID": usubjid(data, person)}


def numbered(domain: str, records: Iterable[Record]) -> list[Record]:
    """``--SEQ`` 1, 2, ... within each subject, in the order given."""
    counts: dict[str, int] = {}
    out = []
    for record in records:
        counts[record["USUBJID"]] = counts.get(record["USUBJID"], 0) + 1
        out.append({**record, f"{domain.upper()}SEQ": str(counts[record["USUBJID"]])})
    return out


def dm(data: TrialData) -> list[Record]:
    labels = {d.level: d.label or f"{d.amount:g} {d.unit}" for d in data.loaded.protocol.doses}
    records = []
    for person in enrolled(data):
        enrolment = data.enrolment_of(person.id)
        given = sorted(
            i.given_at
            for i in data.infusions
            if i.participant_id == person.id and i.given_at is not None and not i.voided
        )
        consents = sorted(
            c.consent_date for c in data.consents if c.participant_id == person.id and not c.voided
        )
        age = age_on(person.birth_date, None if enrolment is None else enrolment.enrolled_on)
        arm_code = "" if enrolment is None else f"LEVEL{enrolment.dose_level}"
        arm = "" if enrolment is None else f"Dose level {enrolment.dose_level}"
        if enrolment is not None and enrolment.dose_level in labels:
            arm += f": {labels[enrolment.dose_level]}"
        records.append(
            {
                **keys(data, person, "dm"),
                "SUBJID": person.study_id or "",
                "RFSTDTC": iso_moment(given[0]) if given else "",
                "RFENDTC": iso_moment(given[-1]) if given else "",
                "RFICDTC": iso_date(consents[0]) if consents else "",
                "SITEID": "01",
                "AGE": "" if age is None else str(age),
                "AGEU": "" if age is None else "YEARS",
                "SEX": SEX_CODES.get(person.sex or "", "U"),
                "ARMCD": arm_code,
                "ARM": arm,
                "ACTARMCD": arm_code if given else "NOTTRT",
                "ACTARM": arm if given else "Not Treated",
            }
        )
    return records


def ae(data: TrialData) -> list[Record]:
    people = {p.id: p for p in enrolled(data)}
    events = sorted(
        (e for e in data.adverse_events if not e.voided and e.participant_id in people),
        key=lambda e: (e.participant_id, e.onset_date, e.id),
    )
    return numbered(
        "ae",
        (
            {
                **keys(data, people[e.participant_id], "ae"),
                "AETERM": e.term,
                "AEDECOD": e.term,
                "AEPTCD": str(e.meddra_code),
                "AETOXGR": str(e.grade),
                "AESER": "Y" if e.serious else "N",
                "AEREL": e.attribution_hdmsc.upper(),
                "AEACN": (e.action_taken or "").upper(),
                "AEOUT": (e.outcome or "").upper(),
                "AESTDTC": iso_date(e.onset_date),
                "AEENDTC": iso_date(e.resolution_date),
            }
            for e in events
        ),
    )


def ex(data: TrialData) -> list[Record]:
    people = {p.id: p for p in enrolled(data)}
    protocol = data.loaded.protocol
    treatment = protocol.arms[0].interventions[0].name if protocol.arms else "Study treatment"
    schedule = protocol.schedule
    route = (schedule.administrations.route or "").upper() if schedule else ""
    given = sorted(
        (
            i
            for i in data.infusions
            if i.status == "given" and not i.voided and i.participant_id in people
        ),
        key=lambda i: (i.participant_id, i.number, i.id),
    )
    return numbered(
        "ex",
        (
            {
                **keys(data, people[i.participant_id], "ex"),
                "EXTRT": treatment,
                "EXDOSE": decimal_text(i.cells_given),
                "EXDOSU": "cells",
                "EXROUTE": route,
                "EXLOT": i.product_lot or "",
                "VISITNUM": str(i.number),
                "EXSTDTC": iso_moment(i.given_at),
                "EXENDTC": iso_moment(i.given_at),
            }
            for i in given
        ),
    )


def _findings(
    data: TrialData, domain: str, wanted: Callable[[str], tuple[str, str] | None]
) -> list[Record]:
    """LB or VS records from the follow-up measurements whose code ``wanted`` maps to a test."""
    people = {p.id: p for p in enrolled(data)}
    prefix = domain.upper()
    rows = []
    for m in sorted(data.measurements, key=lambda m: (m.participant_id, m.measured_on, m.id)):
        test = wanted(m.code)
        if test is None or m.voided or m.participant_id not in people:
            continue
        value = decimal_text(m.value)
        unit = m.unit or ""
        rows.append(
            {
                **keys(data, people[m.participant_id], domain),
                f"{prefix}TESTCD": test[0],
                f"{prefix}TEST": test[1],
                f"{prefix}ORRES": value,
                f"{prefix}ORRESU": unit,
                f"{prefix}STRESC": value,
                f"{prefix}STRESN": value,
                f"{prefix}STRESU": unit,
                "VISIT": m.visit_id or "",
                f"{prefix}DTC": iso_date(m.measured_on),
            }
        )
    return numbered(domain, rows)


LAB_TESTS: Final = {a.code: (a.code.upper()[:8], a.name_en) for a in ANALYTES}


def lb(data: TrialData) -> list[Record]:
    def lab(code: str) -> tuple[str, str] | None:
        return LAB_TESTS.get(code.removeprefix(LAB_PREFIX)) if code.startswith(LAB_PREFIX) else None

    return _findings(data, "lb", lab)


def vs(data: TrialData) -> list[Record]:
    records = _findings(data, "vs", VITAL_SIGNS.get)
    people = {p.id: p for p in enrolled(data)}
    for enrolment in data.enrolments:
        if enrolment.participant_id in people:
            weight = decimal_text(enrolment.baseline_weight_kg)
            records.append(
                {
                    **keys(data, people[enrolment.participant_id], "vs"),
                    "VSTESTCD": "WEIGHT",
                    "VSTEST": "Weight",
                    "VSORRES": weight,
                    "VSORRESU": "kg",
                    "VSSTRESC": weight,
                    "VSSTRESN": weight,
                    "VSSTRESU": "kg",
                    "VISIT": "BASELINE",
                    "VSDTC": iso_date(enrolment.enrolled_on),
                }
            )
    records.sort(key=lambda r: (r["USUBJID"], r["VSDTC"], r["VSTESTCD"]))
    return numbered("vs", ({k: v for k, v in r.items() if k != "VSSEQ"} for r in records))


def cm(data: TrialData) -> list[Record]:
    people = {p.id: p for p in enrolled(data)}
    courses = sorted(
        (c for c in data.medications if not c.voided and c.participant_id in people),
        key=lambda c: (c.participant_id, c.start_date, c.id),
    )
    return numbered(
        "cm",
        (
            {
                **keys(data, people[c.participant_id], "cm"),
                "CMTRT": c.drug,
                "CMDOSE": decimal_text(c.dose),
                "CMDOSU": c.dose_unit,
                "CMROUTE": (c.route or "").upper(),
                "CMINDC": c.indication or "",
                "CMSTDTC": iso_date(c.start_date),
                "CMENDTC": iso_date(c.end_date),
            }
            for c in courses
        ),
    )


def ds(data: TrialData) -> list[Record]:
    """Consent (protocol milestone) and how each participant left: withdrawal with its reason
    and day from the audit trail, or completion."""
    records = []
    for person in enrolled(data):
        for consent in data.consents:
            if consent.participant_id == person.id and not consent.voided:
                records.append(
                    {
                        **keys(data, person, "ds"),
                        "DSTERM": f"INFORMED CONSENT OBTAINED (form {consent.form_version})",
                        "DSDECOD": "INFORMED CONSENT OBTAINED",
                        "DSCAT": "PROTOCOL MILESTONE",
                        "DSSTDTC": iso_date(consent.consent_date),
                    }
                )
        if person.status in ("withdrawn", "completed"):
            change = next(
                (
                    e
                    for e in reversed(data.audit)
                    if e.entity == "participant"
                    and e.entity_id == str(person.id)
                    and e.field == "status"
                    and e.new_value == f'"{person.status}"'
                ),
                None,
            )
            withdrawn = person.status == "withdrawn"
            records.append(
                {
                    **keys(data, person, "ds"),
                    "DSTERM": (change.reason if change and withdrawn else person.status.upper()),
                    "DSDECOD": "WITHDRAWN" if withdrawn else "COMPLETED",
                    "DSCAT": "DISPOSITION EVENT",
                    "DSSTDTC": iso_moment(change.at) if change else "",
                }
            )
    return numbered("ds", records)
