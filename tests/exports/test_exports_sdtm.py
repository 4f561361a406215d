"""SDTM-style domains checked against the database of a seeded trial."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from seeded_trial import WITHDRAWAL_REASON, seed_trial
from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.exports.dataset import load_trial
from trialdesk.exports.sdtm import sdtm_files
from trialdesk.store.models import AdverseEvent, Infusion, Participant

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")


def domain(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[f"{name}.csv"].decode("utf-8"))))


def test_sdtm_domains_hold_the_enrolled_patients_current_records(session: Session) -> None:
    seeded = seed_trial(session)
    files = sdtm_files(load_trial(session, as_of=AS_OF, software_version="test"))
    assert sorted(files) == ["ae.csv", "cm.csv", "dm.csv", "ds.csv", "ex.csv", "lb.csv", "vs.csv"]
    people = {p.id: p for p in session.scalars(select(Participant).order_by(Participant.id))}

    def usubjid(participant_id: int) -> str:
        return f"NCT06021067-{people[participant_id].study_id}"

    dm = domain(files, "dm")
    enrolled = [p for p in people.values() if p.study_id]
    assert [r["USUBJID"] for r in dm] == [usubjid(p.id) for p in enrolled]
    first = dm[0]
    assert (first["SUBJID"], first["SEX"], first["AGE"], first["AGEU"]) == (
        "RLI-001",
        "F",
        "65",  # born 1960-05-20, enrolled 2026-03-10
        "YEARS",
    )
    assert (first["ARMCD"], first["ACTARMCD"]) == ("LEVEL1", "LEVEL1")
    assert ISO_MOMENT.match(first["RFSTDTC"]) and ISO_DATE.match(first["RFICDTC"])

    ae = domain(files, "ae")
    current = session.scalars(
        select(AdverseEvent).where(AdverseEvent.voided_at.is_(None)).order_by(AdverseEvent.id)
    ).all()
    assert sorted((r["USUBJID"], r["AETERM"], r["AETOXGR"], r["AESTDTC"]) for r in ae) == sorted(
        (usubjid(e.participant_id), e.term, str(e.grade), e.onset_date.isoformat()) for e in current
    )
    assert seeded.voided_ae not in {e.id for e in current}
    cough = next(r for r in ae if r["AETERM"] == "Cough")
    assert (cough["AESEQ"], cough["AESER"], cough["AEREL"], cough["AEENDTC"]) == (
        "1",
        "N",
        "UNLIKELY",
        "2026-05-01",
    )

    ex = domain(files, "ex")
    given = session.scalars(select(Infusion).where(Infusion.status == "given")).all()
    assert len(ex) == len(given) == 24  # 6 patients x 4 infusions
    assert {(r["USUBJID"], r["VISITNUM"], r["EXDOSE"]) for r in ex} == {
        (usubjid(i.participant_id), str(i.number), f"{i.cells_given:.0f}") for i in given
    }
    assert {r["EXDOSU"] for r in ex} == {"cells"}
    assert [r["EXSEQ"] for r in ex[:4]] == ["1", "2", "3", "4"]

    lb = domain(files, "lb")
    assert [(r["LBTESTCD"], r["LBSTRESN"], r["LBSTRESU"]) for r in lb] == [("ALT", "30", "U/L")]
    vs = domain(files, "vs")
    assert ("OXYSAT", "94", "%") in {(r["VSTESTCD"], r["VSSTRESN"], r["VSSTRESU"]) for r in vs}
    assert sum(r["VSTESTCD"] == "WEIGHT" for r in vs) == len(enrolled)

    cm = domain(files, "cm")
    assert [(r["CMTRT"], r["CMDOSE"], r["CMDOSU"], r["CMROUTE"]) for r in cm] == [
        ("prednisone", "0.5", "mg/kg", "ORAL")
    ]

    ds = domain(files, "ds")
    assert sum(r["DSDECOD"] == "INFORMED CONSENT OBTAINED" for r in ds) == len(enrolled)
    withdrawal = next(r for r in ds if r["DSDECOD"] == "WITHDRAWN")
    assert withdrawal["USUBJID"] == usubjid(seeded.cohort_two[2])
    assert withdrawal["DSTERM"] == f"withdrawn: {WITHDRAWAL_REASON}"
    for rows in (dm, ae, ex, lb, vs, cm, ds):
        assert all(r["STUDYID"] == "NCT06021067" for r in rows)
