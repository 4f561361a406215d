"""The CDISC ODM 1.3.2 export: valid against the official schema (vendored, loaded here on its
own), and parsed back its content equals the database of a seeded trial."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from seeded_trial import BIRTH_DATE, VOID_REASON, seed_trial
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from trial_desk import open_desk

from trialdesk.exports.dataset import load_trial
from trialdesk.exports.odm import build_odm, odm_bytes
from trialdesk.exports.odm_schema import OdmInvalid, validate_odm
from trialdesk.store.models import AdverseEvent, AuditEntry, EscalationDecision, Participant

SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "src/trialdesk/exports/schema/odm-1.3.2/ODM1-3-2-foundation.xsd"
)
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
EXPORTED_ENTITIES = (
    "participant",
    "participant_screening",
    "screening",
    "consent",
    "enrolment",
    "infusion",
    "adverse_event",
    "dlt_assessment",
    "decision",
    "measurement",
    "concomitant_medication",
)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def items(group: etree._Element) -> dict[str, str]:
    """ItemOID suffix (the column) -> Value of one ItemGroupData."""
    return {
        str(item.get("ItemOID")).rsplit(".", 1)[1]: str(item.get("Value"))
        for item in group.iterfind("odm:ItemData", NS)
    }


def test_odm_validates_and_holds_the_subjects_adverse_events_audit_and_signatures(
    session: Session,
) -> None:
    seeded = seed_trial(session)
    exported = odm_bytes(load_trial(session, as_of=AS_OF, software_version="test"))

    document = etree.fromstring(exported)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert schema.validate(document), schema.error_log
    assert document.get("ODMVersion") == "1.3.2"

    subjects = document.findall("odm:ClinicalData/odm:SubjectData", NS)
    stored_people = session.scalars(select(Participant)).all()
    assert len(subjects) == len(stored_people) == 7  # 6 enrolled + 1 screen failure
    assert {s.get("SubjectKey") for s in subjects} == {
        p.study_id or p.screening_number for p in stored_people
    }

    groups = document.iterfind(".//odm:ItemGroupData[@ItemGroupOID='IG.ADVERSE_EVENTS']", NS)
    exported_events = {int(str(g.get("ItemGroupRepeatKey"))): items(g) for g in groups}
    stored_events = session.scalars(select(AdverseEvent)).all()
    assert {
        key: (values["TERM"], int(values["GRADE"])) for key, values in exported_events.items()
    } == {e.id: (e.term, e.grade) for e in stored_events}
    assert exported_events[seeded.voided_ae]["VOID_REASON"] == VOID_REASON

    records = document.findall("odm:ClinicalData/odm:AuditRecords/odm:AuditRecord", NS)
    audited = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity.in_(EXPORTED_ENTITIES))
    )
    assert len(records) == audited
    grade_change = next(
        r
        for r in records
        if f"adverse_event {seeded.corrected_ae} grade: 1 -> 2"
        in str(r.findtext("odm:SourceID", namespaces=NS))
    )
    assert grade_change.findtext("odm:ReasonForChange", namespaces=NS) == (
        "grade from the source document"
    )
    assert grade_change.find("odm:UserRef", NS).get("UserOID") == "USR.coord"  # type: ignore[union-attr]

    signed = session.scalars(
        select(EscalationDecision).where(EscalationDecision.signed_at.is_not(None))
    ).all()
    signatures = document.findall(".//odm:ReferenceData/odm:ItemGroupData/odm:Signature", NS)
    assert len(signatures) == len(signed) == 2
    signer = document.find("odm:AdminData/odm:User[@OID='USR.dr.li']", NS)
    assert signer is not None
    assert signer.findtext("odm:FullName", namespaces=NS) == "LI Ming, MD"
    meaning = document.findtext("odm:AdminData/odm:SignatureDef/odm:Meaning", namespaces=NS)
    assert meaning == signed[0].signature_meaning
    assert BIRTH_DATE.isoformat() not in exported.decode("utf-8")


def test_a_document_the_schema_refuses_is_never_exported(session: Session) -> None:
    open_desk(session)  # the protocol stored, no participant yet
    document = build_odm(load_trial(session, as_of=AS_OF, software_version="test"))
    study = document.getroot().find("odm:Study", NS)
    assert study is not None
    del study.attrib["OID"]  # Study/@OID is required by the ODM 1.3.2 schema
    with pytest.raises(OdmInvalid, match=r"ODM 1\.3\.2 schema.*Study.*OID"):
        validate_odm(document)
