"""The data dictionary: every exported table and column with its type, unit, meaning and
controlled terms. The CSV files, the dictionary files and the ODM metadata are all made from
these definitions, so they cannot disagree."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from trialdesk.eligibility.result import Verdict
from trialdesk.exports.dataset import TrialData, age_on
from trialdesk.store.models import (
    ATTRIBUTIONS,
    DLT_STATUSES,
    DOSE_UNITS,
    INFUSION_STATUSES,
    PARTICIPANT_STATUSES,
    SEXES,
)
from trialdesk.trial.signatures import manifest

ColumnType = Literal["integer", "float", "text", "date", "datetime", "boolean"]
Getter = Callable[[Any, TrialData], object]


@dataclass(frozen=True)
class Column:
    """One exported column. ``get`` reads its value from a stored row."""

    name: str
    type: ColumnType
    meaning: str
    get: Getter
    unit: str = ""
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """One exported entity: its file name, what a row is, its columns and its rows."""

    name: str
    meaning: str
    columns: tuple[Column, ...]
    rows: Callable[[TrialData], Sequence[Any]]
    per_participant: bool = True
    """False for study-level records (escalation decisions, screenings)."""

    def participant_of(self, row: Any, data: TrialData) -> int | None:
        """The participant a row belongs to, when it belongs to one."""
        if not self.per_participant:
            return None
        if hasattr(row, "participant_id"):
            return int(row.participant_id)
        return data.adverse_event(row.adverse_event_id).participant_id


def attr(name: str) -> Getter:
    return lambda row, _data: getattr(row, name)


def subject_column() -> Column:
    return Column(
        "subject",
        "text",
        "Pseudonymous participant key: the study id (RLI-001) once enrolled, else the "
        "screening number (S-001)",
        lambda row, data: data.subject(row.participant_id),
    )


def void_columns() -> tuple[Column, ...]:
    return (
        Column(
            "voided_at",
            "datetime",
            "When the record was voided (UTC); empty if current",
            attr("voided_at"),
        ),
        Column(
            "void_reason",
            "text",
            "Why the record was voided (kept, never deleted)",
            attr("void_reason"),
        ),
    )


def recorded_columns() -> tuple[Column, ...]:
    return (
        Column("recorded_at", "datetime", "When the record was entered (UTC)", attr("recorded_at")),
        Column("recorded_by", "text", "User name of who entered it", attr("recorded_by")),
    )


def record_id_column(name: str) -> Column:
    return Column(name, "integer", "Record number", attr("id"))


def entered_record_table(
    name: str,
    meaning: str,
    id_name: str,
    columns: tuple[Column, ...],
    rows: Callable[[TrialData], Sequence[Any]],
) -> Table:
    """A participant's record entered at the desk: record number and subject, ``columns``, who
    entered it when, and whether it was voided."""
    every = (record_id_column(id_name), subject_column(), *columns)
    return Table(name, meaning, (*every, *recorded_columns(), *void_columns()), rows)


def _decision_field(key: str) -> Getter:
    return lambda row, _data: json.loads(row.decision_json).get(key)


def _screening_subject(row: Any, data: TrialData) -> str | None:
    person = data.screening_participant(row.id)
    return None if person is None else data.subject(person.id)


def _age_at_enrolment(row: Any, data: TrialData) -> int | None:
    enrolment = data.enrolment_of(row.id)
    return age_on(row.birth_date, None if enrolment is None else enrolment.enrolled_on)


GRADES: Final = ("1", "2", "3", "4", "5")

PARTICIPANTS = Table(
    "participants",
    "A person from the first pre-screen contact on (screen failures included)",
    (
        Column(
            "subject",
            "text",
            "Pseudonymous key: study id once enrolled, else screening number",
            lambda row, data: data.subject(row.id),
        ),
        Column(
            "screening_number",
            "text",
            "Number given at registration (S-001)",
            attr("screening_number"),
        ),
        Column("study_id", "text", "Study id given at enrolment (RLI-001)", attr("study_id")),
        Column(
            "status",
            "text",
            "Where the participant stands",
            attr("status"),
            terms=PARTICIPANT_STATUSES,
        ),
        Column("sex", "text", "Sex", attr("sex"), terms=SEXES),
        Column(
            "age_at_enrolment",
            "integer",
            "Age in completed years on the enrolment date (the birth date itself is not exported)",
            _age_at_enrolment,
            unit="years",
        ),
        Column(
            "screen_fail_reason",
            "text",
            "Why screening failed (screening log)",
            attr("screen_fail_reason"),
        ),
        Column(
            "created_at",
            "datetime",
            "When the participant was registered (UTC)",
            attr("created_at"),
        ),
        Column("created_by", "text", "User name of who registered them", attr("created_by")),
    ),
    lambda data: data.participants,
)

SCREENINGS = Table(
    "screenings",
    "Summary of each stored eligibility screening (its input record is not exported)",
    (
        Column("screening_id", "integer", "Screening number in the database", attr("id")),
        Column(
            "subject",
            "text",
            "Participant the screening is linked to; empty if none",
            _screening_subject,
        ),
        Column(
            "screening_date", "date", "Date the eligibility was judged on", attr("screening_date")
        ),
        Column(
            "verdict",
            "text",
            "Eligibility engine's verdict",
            attr("verdict"),
            terms=get_args(Verdict),
        ),
        Column(
            "software_version", "text", "trialdesk version that screened", attr("software_version")
        ),
        Column(
            "protocol_sha256", "text", "sha256 of the protocol text used", attr("protocol_sha256")
        ),
        Column("screened_by", "text", "User name of who screened", attr("screened_by")),
        Column("screened_at", "datetime", "When (UTC)", attr("screened_at")),
    ),
    lambda data: data.screenings,
    per_participant=False,
)

CONSENTS = entered_record_table(
    "consents",
    "Written informed consent",
    "consent_id",
    (
        Column("consent_date", "date", "Date the consent form was signed", attr("consent_date")),
        Column("form_version", "text", "Consent form version", attr("form_version")),
        Column("obtained_by", "text", "Who obtained the consent (staff)", attr("obtained_by")),
    ),
    lambda data: data.consents,
)

ENROLMENTS = Table(
    "enrolments",
    "Enrolment with the dose level and cohort the design assigned",
    (
        record_id_column("enrolment_id"),
        subject_column(),
        Column("enrolled_on", "date", "Enrolment date", attr("enrolled_on")),
        Column("dose_level", "integer", "Assigned dose level (1 = lowest)", attr("dose_level")),
        Column("cohort_number", "integer", "Cohort (1 = first)", attr("cohort_number")),
        Column(
            "baseline_weight_kg",
            "float",
            "Baseline body weight the per-kg doses use",
            attr("baseline_weight_kg"),
            unit="kg",
        ),
        Column("assigned_by", "text", "User name of who enrolled", attr("assigned_by")),
        Column(
            "override", "boolean", "Investigator overrode the design's assignment", attr("override")
        ),
        Column(
            "override_reason", "text", "The investigator's written reason", attr("override_reason")
        ),
        Column("recorded_at", "datetime", "When the record was entered (UTC)", attr("recorded_at")),
    ),
    lambda data: data.enrolments,
)

INFUSIONS = entered_record_table(
    "infusions",
    "Planned and given hDMSC infusions",
    "infusion_id",
    (
        Column("number", "integer", "Infusion number in the schedule (1 = first)", attr("number")),
        Column("scheduled_on", "date", "Planned date", attr("scheduled_on")),
        Column(
            "given_at", "datetime", "When it was given (UTC); empty if not given", attr("given_at")
        ),
        Column("status", "text", "Infusion status", attr("status"), terms=INFUSION_STATUSES),
        Column(
            "planned_cells",
            "float",
            "Planned dose (level x baseline weight, rounded)",
            attr("planned_cells"),
            unit="cells",
        ),
        Column("cells_given", "float", "Cells actually given", attr("cells_given"), unit="cells"),
        Column("product_lot", "text", "Product lot", attr("product_lot")),
        Column("interrupted", "boolean", "The infusion was interrupted", attr("interrupted")),
        Column("interruption_note", "text", "About the interruption", attr("interruption_note")),
        Column("reaction_note", "text", "Infusion reaction, if any", attr("reaction_note")),
    ),
    lambda data: data.infusions,
)

ADVERSE_EVENTS = entered_record_table(
    "adverse_events",
    "Adverse events coded by CTCAE v5.0",
    "ae_id",
    (
        Column("meddra_code", "integer", "MedDRA code of the CTCAE v5.0 term", attr("meddra_code")),
        Column("term", "text", "CTCAE v5.0 term", attr("term")),
        Column("grade", "integer", "CTCAE grade", attr("grade"), terms=GRADES),
        Column("onset_date", "date", "Onset", attr("onset_date")),
        Column(
            "resolution_date", "date", "Resolution; empty while ongoing", attr("resolution_date")
        ),
        Column("serious", "boolean", "Serious adverse event (ICH E2A criteria)", attr("serious")),
        Column(
            "serious_criteria",
            "text",
            "SAE criteria met, separated by '; '",
            lambda row, _data: "; ".join(json.loads(row.serious_criteria or "[]")),
        ),
        Column(
            "attribution_hdmsc",
            "text",
            "Relation to hDMSC",
            attr("attribution_hdmsc"),
            terms=ATTRIBUTIONS,
        ),
        Column(
            "attribution_standard",
            "text",
            "Relation to the standard treatment",
            attr("attribution_standard"),
            terms=ATTRIBUTIONS,
        ),
        Column("action_taken", "text", "Action taken", attr("action_taken")),
        Column("outcome", "text", "Outcome", attr("outcome")),
        Column(
            "sae_reported_at",
            "datetime",
            "When the SAE was reported (UTC)",
            attr("sae_reported_at"),
        ),
    ),
    lambda data: data.adverse_events,
)

DLT_ASSESSMENTS = Table(
    "dlt_assessments",
    "Adverse events that matched the protocol's DLT definition, and their adjudication",
    (
        record_id_column("dlt_id"),
        Column("ae_id", "integer", "The adverse event assessed", attr("adverse_event_id")),
        Column(
            "subject",
            "text",
            "Pseudonymous participant key",
            lambda row, data: data.subject(data.adverse_event(row.adverse_event_id).participant_id),
        ),
        Column(
            "rule_matched",
            "text",
            "Which clause of the DLT definition matched",
            attr("rule_matched"),
        ),
        Column("status", "text", "Adjudication", attr("status"), terms=DLT_STATUSES),
        Column("reason", "text", "The investigator's reason", attr("reason")),
        Column("adjudicated_by", "text", "User name of the investigator", attr("adjudicated_by")),
        Column("adjudicated_at", "datetime", "When (UTC)", attr("adjudicated_at")),
    ),
    lambda data: data.dlt_assessments,
)

DECISIONS = Table(
    "decisions",
    "Dose-escalation decisions as computed by the design, with the investigator's signature",
    (
        record_id_column("decision_id"),
        Column("cohort_number", "integer", "Cohort the decision closes", attr("cohort_number")),
        Column("dose_level", "integer", "Dose level of that cohort", attr("dose_level")),
        Column(
            "action",
            "text",
            "The design's decision",
            _decision_field("action"),
            terms=("escalate", "stay", "de-escalate", "stop"),
        ),
        Column(
            "next_level",
            "integer",
            "Dose level of the next cohort; empty on stop",
            _decision_field("next_level"),
        ),
        Column(
            "mtd_level",
            "integer",
            "Maximum tolerated dose level declared on stop",
            _decision_field("mtd_level"),
        ),
        Column("computed_at", "datetime", "When computed (UTC)", attr("computed_at")),
        Column("computed_by", "text", "User name of who computed it", attr("computed_by")),
        Column(
            "software_version",
            "text",
            "trialdesk version that computed it",
            attr("software_version"),
        ),
        Column("signed_by", "text", "User name of the signer", attr("signed_by")),
        Column("signer_name", "text", "Printed name of the signer", attr("signer_name")),
        Column("signed_at", "datetime", "When signed (UTC)", attr("signed_at")),
        Column("signature_meaning", "text", "Meaning of the signature", attr("signature_meaning")),
        Column(
            "signature",
            "text",
            "Signature manifestation: signed by, when, meaning",
            lambda row, _data: manifest(row),
        ),
        Column(
            "superseded",
            "boolean",
            "Replaced by a later decision for the same cohort",
            attr("superseded"),
        ),
    ),
    lambda data: data.decisions,
    per_participant=False,
)

MEASUREMENTS = entered_record_table(
    "measurements",
    "Follow-up values: pneumonitis grade, SpO2, oxygen flow, FVC/DLCO % predicted, mMRC, "
    "chest CT score, laboratory values (lab:<analyte>, canonical units)",
    "measurement_id",
    (
        Column("visit_id", "text", "Protocol visit; empty if unscheduled", attr("visit_id")),
        Column("measured_on", "date", "Date measured", attr("measured_on")),
        Column("code", "text", "What was measured (see docs/exports.md)", attr("code")),
        Column("value", "float", "The value, in the unit of the next column", attr("value")),
        Column("unit", "text", "Unit of the value; empty for scores and grades", attr("unit")),
    ),
    lambda data: data.measurements,
)

MEDICATIONS = entered_record_table(
    "concomitant_medications",
    "Concomitant medication courses (the corticosteroid regimen among them)",
    "medication_id",
    (
        Column("drug", "text", "Drug", attr("drug")),
        Column("dose", "float", "Dose, in the unit of the next column", attr("dose")),
        Column("dose_unit", "text", "Dose unit", attr("dose_unit"), terms=DOSE_UNITS),
        Column("route", "text", "Route", attr("route")),
        Column("start_date", "date", "Start", attr("start_date")),
        Column("end_date", "date", "End; empty while ongoing", attr("end_date")),
        Column("indication", "text", "Indication", attr("indication")),
    ),
    lambda data: data.medications,
)

TABLES: Final = (
    PARTICIPANTS,
    SCREENINGS,
    CONSENTS,
    ENROLMENTS,
    INFUSIONS,
    ADVERSE_EVENTS,
    DLT_ASSESSMENTS,
    DECISIONS,
    MEASUREMENTS,
    MEDICATIONS,
)
"""Every exported entity, in the order a reader meets them."""
