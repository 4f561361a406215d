"""CDISC ODM 1.3.2 XML of the trial: the metadata derived from the export tables, the admin
data (users, the site, signature meanings), the clinical data per participant with every
record (voided ones too), the study-level records (screenings, escalation decisions with their
signatures) as reference data, and one AuditRecord per audit-log entry of those records.

Layout: one study event (``SE.TRIAL``) holds one form per entity; a record is an
ItemGroupData keyed by its database id; an empty value has no ItemData."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final, cast

from lxml import etree

from trialdesk.exports.audit_text import change_text
from trialdesk.exports.dataset import TrialData
from trialdesk.exports.dictionary import TABLES, Column, Table
from trialdesk.exports.odm_schema import ODM_NS, validate_odm
from trialdesk.exports.values import iso_moment, text
from trialdesk.store.models import EscalationDecision

NSMAP: Final = cast("dict[str, str]", {None: ODM_NS})
"""ODM as the default namespace (lxml's key None; its stubs only know prefixes)."""
STUDY_EVENT: Final = "SE.TRIAL"
SITE: Final = "LOC.SITE"
ODM_TYPES: Final = {
    "integer": "integer",
    "float": "float",
    "text": "text",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
}
LEGAL_REASON: Final = (
    "Electronic signature: the signer re-entered their password; the printed name, date-time "
    "and meaning are recorded with the decision (21 CFR 11.50, 11.200)"
)


def odm_bytes(data: TrialData) -> bytes:
    """The ODM document, checked against the ODM 1.3.2 schema before it is returned."""
    document = build_odm(data)
    validate_odm(document)
    return bytes(
        etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


def build_odm(data: TrialData) -> etree._ElementTree:
    stamp = iso_moment(data.as_of)
    root = etree.Element(
        _tag("ODM"),
        nsmap=NSMAP,
        FileType="Snapshot",
        Granularity="All",
        FileOID=f"trialdesk.{data.study_id}.{stamp}",
        CreationDateTime=stamp,
        AsOfDateTime=stamp,
        ODMVersion="1.3.2",
        Originator="trialdesk",
        SourceSystem="trialdesk",
        SourceSystemVersion=data.software_version,
        Description=f"{data.study_id}: clinical data with audit records",
    )
    _study(root, data)
    _admin_data(root, data)
    _reference_data(root, data)
    _clinical_data(root, data)
    return etree.ElementTree(root)


# --- Study / MetaDataVersion ----------------------------------------------------------------


def _study(root: etree._Element, data: TrialData) -> None:
    protocol = data.loaded.protocol
    study = _sub(root, "Study", OID=_study_oid(data))
    variables = _sub(study, "GlobalVariables")
    _sub(variables, "StudyName").text = data.study_id
    _sub(variables, "StudyDescription").text = protocol.registry.title.en
    _sub(variables, "ProtocolName").text = f"{protocol.id} {protocol.version}"
    units = sorted({c.unit for t in TABLES for c in t.columns if c.unit})
    basic = _sub(study, "BasicDefinitions")
    for unit in units:
        measurement_unit = _sub(basic, "MeasurementUnit", OID=_unit_oid(unit), Name=unit)
        _translated(_sub(measurement_unit, "Symbol"), unit)
    mdv = _sub(
        study,
        "MetaDataVersion",
        OID=_mdv_oid(data),
        Name=f"{protocol.id} {protocol.version}",
        Description=f"protocol sha256 {data.protocol_version.sha256}",
    )
    _sub(_sub(mdv, "Protocol"), "StudyEventRef", StudyEventOID=STUDY_EVENT, Mandatory="Yes")
    clinical = [t for t in TABLES if t.per_participant]
    event = _sub(mdv, "StudyEventDef", OID=STUDY_EVENT, Name="Trial", Repeating="No", Type="Common")
    for number, table in enumerate(clinical, start=1):
        _sub(event, "FormRef", FormOID=_form_oid(table), OrderNumber=str(number), Mandatory="No")
    for table in clinical:
        form = _sub(mdv, "FormDef", OID=_form_oid(table), Name=table.name, Repeating="No")
        _sub(form, "ItemGroupRef", ItemGroupOID=_group_oid(table), Mandatory="No")
    for table in TABLES:
        group = _sub(
            mdv,
            "ItemGroupDef",
            OID=_group_oid(table),
            Name=table.name,
            Repeating="Yes",
            IsReferenceData="No" if table.per_participant else "Yes",
        )
        _description(group, table.meaning)
        for number, column in enumerate(table.columns, start=1):
            _sub(
                group,
                "ItemRef",
                ItemOID=_item_oid(table, column),
                OrderNumber=str(number),
                Mandatory="Yes" if number == 1 else "No",
                KeySequence="1" if number == 1 else None,
            )
    for table in TABLES:
        for column in table.columns:
            _item_def(mdv, table, column)
    for table in TABLES:
        for column in table.columns:
            if column.terms:
                _code_list(mdv, table, column)


def _item_def(mdv: etree._Element, table: Table, column: Column) -> None:
    item = _sub(
        mdv,
        "ItemDef",
        OID=_item_oid(table, column),
        Name=f"{table.name}.{column.name}",
        DataType=ODM_TYPES[column.type],
    )
    _description(item, column.meaning)
    if column.unit:
        _sub(item, "MeasurementUnitRef", MeasurementUnitOID=_unit_oid(column.unit))
    if column.terms:
        _sub(item, "CodeListRef", CodeListOID=_code_list_oid(table, column))


def _code_list(mdv: etree._Element, table: Table, column: Column) -> None:
    kind = "integer" if column.type == "integer" else "text"
    codes = _sub(
        mdv, "CodeList", OID=_code_list_oid(table, column), Name=column.name, DataType=kind
    )
    for number, term in enumerate(column.terms, start=1):
        item = _sub(codes, "CodeListItem", CodedValue=term, OrderNumber=str(number))
        _translated(_sub(item, "Decode"), term)


# --- AdminData ------------------------------------------------------------------------------


def _admin_data(root: etree._Element, data: TrialData) -> None:
    admin = _sub(root, "AdminData", StudyOID=_study_oid(data))
    for username in sorted(_actors(data)):
        known = data.users.get(username)
        user = _sub(admin, "User", OID=_user_oid(username), UserType=_user_type(known))
        _sub(user, "LoginName").text = username
        if known is not None:
            _sub(user, "DisplayName").text = known.display_name
            if known.printed_name:
                _sub(user, "FullName").text = known.printed_name
    sites = data.loaded.protocol.registry.sites
    site = _sub(
        admin,
        "Location",
        OID=SITE,
        Name=sites[0].name if sites else "Study site",
        LocationType="Site",
    )
    _sub(
        site,
        "MetaDataVersionRef",
        StudyOID=_study_oid(data),
        MetaDataVersionOID=_mdv_oid(data),
        EffectiveDate=data.protocol_version.loaded_at.date().isoformat(),
    )
    for meaning, oid in _signature_defs(data).items():
        definition = _sub(admin, "SignatureDef", OID=oid, Methodology="Electronic")
        _sub(definition, "Meaning").text = meaning
        _sub(definition, "LegalReason").text = LEGAL_REASON


def _actors(data: TrialData) -> set[str]:
    actors = {entry.actor for entry in data.audit}
    return actors | {d.signed_by for d in data.decisions if d.signed_by}


def _user_type(user: Any) -> str:
    return "Investigator" if user is not None and user.role == "investigator" else "Other"


def _signature_defs(data: TrialData) -> dict[str, str]:
    """Each distinct signature meaning -> its SignatureDef OID."""
    meanings = sorted({d.signature_meaning or "" for d in data.decisions if d.signed_at})
    return {meaning: f"SD.{number}" for number, meaning in enumerate(meanings, start=1)}


# --- ReferenceData and ClinicalData -----------------------------------------------------------


def _reference_data(root: etree._Element, data: TrialData) -> None:
    reference = _sub(
        root, "ReferenceData", StudyOID=_study_oid(data), MetaDataVersionOID=_mdv_oid(data)
    )
    signatures = _signature_defs(data)
    for table in TABLES:
        if table.per_participant:
            continue
        for row in table.rows(data):
            group = _group_data(reference, table, row)
            if isinstance(row, EscalationDecision) and row.signed_at is not None:
                _signature(group, row, signatures[row.signature_meaning or ""])
            _item_data(group, table, row, data)


def _clinical_data(root: etree._Element, data: TrialData) -> None:
    clinical = _sub(
        root, "ClinicalData", StudyOID=_study_oid(data), MetaDataVersionOID=_mdv_oid(data)
    )
    records: dict[int, list[tuple[Table, Any]]] = defaultdict(list)
    for table in TABLES:
        if table.per_participant:
            for row in table.rows(data):
                owner = row.id if table.name == "participants" else table.participant_of(row, data)
                assert owner is not None
                records[owner].append((table, row))
    for person in data.participants:
        subject = _sub(clinical, "SubjectData", SubjectKey=data.subject(person.id))
        _sub(subject, "SiteRef", LocationOID=SITE)
        event = _sub(subject, "StudyEventData", StudyEventOID=STUDY_EVENT)
        by_table: dict[str, list[Any]] = defaultdict(list)
        for table, row in records[person.id]:
            by_table[table.name].append(row)
        for table in TABLES:
            if by_table.get(table.name):
                form = _sub(event, "FormData", FormOID=_form_oid(table))
                for row in by_table[table.name]:
                    _item_data(_group_data(form, table, row), table, row, data)
    audit_records = _sub(clinical, "AuditRecords")
    for entry in data.audit:
        record = _sub(audit_records, "AuditRecord", ID=f"AR.{entry.id}")
        _sub(record, "UserRef", UserOID=_user_oid(entry.actor))
        _sub(record, "LocationRef", LocationOID=SITE)
        _sub(record, "DateTimeStamp").text = iso_moment(entry.at)
        _sub(record, "ReasonForChange").text = entry.reason
        _sub(record, "SourceID").text = change_text(entry)


def _group_data(parent: etree._Element, table: Table, row: Any) -> etree._Element:
    return _sub(
        parent, "ItemGroupData", ItemGroupOID=_group_oid(table), ItemGroupRepeatKey=str(row.id)
    )


def _item_data(group: etree._Element, table: Table, row: Any, data: TrialData) -> None:
    for column in table.columns:
        value = text(column.get(row, data))
        if value != "":
            _sub(group, "ItemData", ItemOID=_item_oid(table, column), Value=value)


def _signature(group: etree._Element, decision: EscalationDecision, definition: str) -> None:
    assert decision.signed_by is not None and decision.signed_at is not None
    signature = _sub(group, "Signature")
    _sub(signature, "UserRef", UserOID=_user_oid(decision.signed_by))
    _sub(signature, "LocationRef", LocationOID=SITE)
    _sub(signature, "SignatureRef", SignatureOID=definition)
    _sub(signature, "DateTimeStamp").text = iso_moment(decision.signed_at)


# --- small helpers ------------------------------------------------------------------------------


def _tag(name: str) -> str:
    return f"{{{ODM_NS}}}{name}"


def _sub(parent: etree._Element, name: str, **attributes: str | None) -> etree._Element:
    present = {key: value for key, value in attributes.items() if value is not None}
    return etree.SubElement(parent, _tag(name), present)


def _translated(parent: etree._Element, words: str) -> None:
    translated = _sub(parent, "TranslatedText")
    translated.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    translated.text = words


def _description(parent: etree._Element, words: str) -> None:
    _translated(_sub(parent, "Description"), words)


def _study_oid(data: TrialData) -> str:
    return f"ST.{data.study_id}"


def _mdv_oid(data: TrialData) -> str:
    return f"MDV.{data.protocol_version.id}"


def _form_oid(table: Table) -> str:
    return f"F.{table.name.upper()}"


def _group_oid(table: Table) -> str:
    return f"IG.{table.name.upper()}"


def _item_oid(table: Table, column: Column) -> str:
    return f"IT.{table.name.upper()}.{column.name.upper()}"


def _code_list_oid(table: Table, column: Column) -> str:
    return f"CL.{table.name.upper()}.{column.name.upper()}"


def _unit_oid(unit: str) -> str:
    return "MU." + "".join(ch if ch.isalnum() else "_" for ch in unit)


def _user_oid(username: str) -> str:
    return f"USR.{username}"
