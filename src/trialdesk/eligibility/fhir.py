"""FHIR R4 Bundle -> :class:`ScreeningRecord`: the patient facts a hospital system already holds.

What is read (the full table is in ``docs/screening.md``):

- ``Patient``: ``birthDate``, ``gender`` (``other``/``unknown`` leave sex unknown), ``id``;
- ``Observation`` by LOINC code: laboratory results with their UCUM unit, date and laboratory
  ULN (``referenceRange.high``, which may carry its own unit); body weight and height; LVEF;
  ECOG (a number or its LOINC answer code); pregnancy status (82810-3);
- ``Condition`` and ``Procedure`` coded in SNOMED CT, ICD-10 (WHO or -CM) or trialdesk's local
  code system, with onset and abatement (a procedure's performed date is both);
- ``MedicationStatement`` (and a transfusion ``Procedure``) classified as anticoagulant, growth
  factor or transfusion by the protocol's code sets;
- ``Consent`` (active, its ``dateTime``) and a ``QuestionnaireResponse`` to trialdesk's screening
  questionnaire for facts FHIR has no standard code for (ECG, pneumonitis grade, contraception)
  and the investigator's answers to judgement items (``linkId`` = the fact or the item's id).

Anything else is ignored: other resource types, other LOINC codes, codings in other code
systems, entered-in-error or refuted resources. An element the screening needs but cannot read
is a :class:`FhirError` naming it, e.g. ``entry[3].resource.valueQuantity.code: unknown unit
'mg/dl/x'; use one of: ...``. Values stay as reported (unit and all); the record checks them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trialdesk.clinical import analyte, analyte_for_loinc, parse_unit, to_canonical
from trialdesk.clinical.errors import ClinicalError
from trialdesk.eligibility.evaluate import judgement_ids
from trialdesk.eligibility.fhir_types import UCUM_SYSTEM, Coding, FhirError, Node
from trialdesk.eligibility.record import RecordError, ScreeningRecord
from trialdesk.protocol.criteria import HIERARCHICAL_SYSTEMS, LAB_ANALYTES
from trialdesk.protocol.models import CodeSet, Protocol

__all__ = [
    "CODE_SYSTEM_URIS",
    "LOCAL_CODE_SYSTEM",
    "SCREENING_QUESTIONNAIRE",
    "FhirError",
    "is_fhir_bundle",
    "record_from_fhir",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
LOCAL_CODE_SYSTEM = "urn:trialdesk:local"
"""The code system URI of trialdesk's local codes (``chest-radiotherapy``, ``transfusion``)."""
SCREENING_QUESTIONNAIRE = "urn:trialdesk:questionnaire:screening"
"""``QuestionnaireResponse.questionnaire`` of the answers trialdesk reads (see the module doc)."""

CODE_SYSTEM_URIS: dict[str, str] = {
    SNOMED: "snomed",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10",
    "http://www.whocc.no/atc": "atc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    LOINC: "loinc",
    LOCAL_CODE_SYSTEM: "local",
}
"""FHIR code system URIs and the protocol code system each stands for."""

PREGNANCY_STATUS_LOINC = "82810-3"
# Answers to LOINC 82810-3 "Pregnancy status": the LOINC answer list and the SNOMED CT findings
# used by the HL7 International Patient Summary and US Core pregnancy-status examples.
PREGNANCY_ANSWERS: dict[tuple[str, str], bool | None] = {
    (LOINC, "LA15173-0"): True,  # Pregnant
    (LOINC, "LA26683-5"): False,  # Not pregnant
    (LOINC, "LA4489-6"): None,  # Unknown
    (SNOMED, "77386006"): True,  # Pregnant (finding)
    (SNOMED, "60001007"): False,  # Not pregnant (finding)
    (SNOMED, "261665006"): None,  # Unknown
}
# LOINC answer list for 89247-1 "ECOG Performance Status score" (LA9622-7 = 0 ... LA9627-6 = 5).
ECOG_ANSWERS: dict[str, int] = {
    "LA9622-7": 0,
    "LA9623-5": 1,
    "LA9624-3": 2,
    "LA9625-0": 3,
    "LA9626-8": 4,
    "LA9627-6": 5,
}

# Statuses that mean "this did not happen" or "this was a mistake": such resources are skipped.
_SKIPPED_STATUS: dict[str, frozenset[str]] = {
    "Observation": frozenset({"entered-in-error", "cancelled"}),
    "Condition": frozenset({"entered-in-error", "refuted"}),  # verificationStatus
    "Procedure": frozenset({"entered-in-error", "not-done", "preparation"}),
    "MedicationStatement": frozenset({"entered-in-error", "not-taken", "intended"}),
    "Consent": frozenset({"entered-in-error", "rejected", "draft", "proposed", "inactive"}),
    "QuestionnaireResponse": frozenset({"entered-in-error", "stopped", "in-progress"}),
}

_BOOLEAN_QUESTIONS = ("pregnant", "lactating", "childbearing_potential", "will_use_contraception")


@dataclass
class _Facts:
    """What was read so far, each piece with the Bundle location it came from."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    dated_single: dict[str, tuple[dt.date | None, str]] = field(default_factory=dict)

    def put(self, name: str, value: Any, where: str, on: dt.date | None = None) -> None:
        """Set a single-valued fact; the most recent observation of it wins."""
        previous = self.dated_single.get(name)
        if previous is not None and previous[0] is not None and (on is None or on < previous[0]):
            return
        self.data[name] = value
        self.sources[name] = where
        self.dated_single[name] = (on, where)

    def append(self, name: str, value: Any, where: str) -> None:
        items: list[Any] = self.data.setdefault(name, [])
        self.sources[f"{name}[{len(items)}]"] = where
        items.append(value)


def is_fhir_bundle(data: object) -> bool:
    """Whether parsed JSON is a FHIR Bundle (rather than trialdesk's own record format)."""
    return isinstance(data, Mapping) and data.get("resourceType") == "Bundle"


def record_from_fhir(
    bundle: Mapping[str, Any], *, protocol: Protocol, screening_date: dt.date
) -> ScreeningRecord:
    """Read one patient's FHIR R4 Bundle as a screening record for ``screening_date``.

    ``protocol`` supplies the code sets that classify medications and transfusions. Raises
    :class:`FhirError` naming the Bundle element at fault.
    """
    root = Node(dict(bundle), "")
    if not is_fhir_bundle(bundle):
        kind = bundle.get("resourceType") if isinstance(bundle, Mapping) else None
        raise FhirError(
            f"expected a FHIR Bundle, got resourceType {kind!r}; put the resources in a Bundle"
        )
    reader = _Reader(protocol, screening_date)
    resources = _resources(root)
    reader.read_patients(resources)
    for resource, kind in resources:
        reader.read(resource, kind)
    return reader.finish()


def _resources(root: Node) -> list[tuple[Node, str]]:
    found: list[tuple[Node, str]] = []
    for entry in root.child("entry").items():
        entry.object()
        resource = entry.child("resource")
        if resource.value is None:
            continue  # a request-only entry (transaction bundles) carries no data
        kind = resource.object().get("resourceType")
        if not isinstance(kind, str):
            raise resource.child("resourceType").error("is missing; every resource names its type")
        found.append((resource, kind))
    return found


class _Reader:
    def __init__(self, protocol: Protocol, screening_date: dt.date) -> None:
        self.screening_date = screening_date
        self.facts = _Facts()
        self.patient_refs: set[str] = set()
        self.category_sets = [c for c in protocol.code_sets if c.category is not None]
        self.judgement_ids = set(judgement_ids(protocol))

    # -- Patient ---------------------------------------------------------------------------------

    def read_patients(self, resources: list[tuple[Node, str]]) -> None:
        patients = [node for node, kind in resources if kind == "Patient"]
        if len(patients) > 1:
            raise patients[1].error(
                "is a second Patient; a screening bundle holds one patient's data, "
                "so send one bundle per patient"
            )
        if not patients:
            return
        patient = patients[0]
        pid = patient.child("id").value
        if isinstance(pid, str) and pid.strip():
            self.facts.put("patient_id", pid.strip(), patient.path)
            self.patient_refs.add(f"Patient/{pid.strip()}")
        if patient.has("birthDate"):
            node = patient.child("birthDate")
            self.facts.put("birth_date", node.date(), node.path)
        gender = patient.child("gender").code_text()
        if gender in ("female", "male"):
            self.facts.put("sex", gender, patient.child("gender").path)
        elif gender not in (None, "other", "unknown"):
            raise patient.child("gender").error(
                f"{gender!r} is not a FHIR gender; use male, female, other or unknown"
            )

    def _check_subject(self, resource: Node, key: str = "subject") -> None:
        """A resource about another patient than the bundle's Patient is refused."""
        node = resource.child(key).child("reference")
        reference = node.value
        if (
            self.patient_refs
            and isinstance(reference, str)
            and reference.startswith("Patient/")
            and reference not in self.patient_refs
        ):
            ours = ", ".join(sorted(self.patient_refs))
            raise node.error(
                f"{reference!r} is not this bundle's patient ({ours}); send one bundle per patient"
            )

    # -- dispatch --------------------------------------------------------------------------------

    def read(self, resource: Node, kind: str) -> None:
        status = resource.child("status").code_text()
        if status in _SKIPPED_STATUS.get(kind, frozenset()):
            return
        if kind == "Observation":
            self._check_subject(resource)
            self.read_observation(resource)
        elif kind == "Condition":
            self._check_subject(resource)
            self.read_condition(resource)
        elif kind == "Procedure":
            self._check_subject(resource)
            self.read_procedure(resource)
        elif kind == "MedicationStatement":
            self._check_subject(resource)
            self.read_medication(resource)
        elif kind == "Consent":
            self._check_subject(resource, "patient")
            self.read_consent(resource)
        elif kind == "QuestionnaireResponse":
            self._check_subject(resource)
            self.read_questionnaire(resource)
        # Every other resource type (Encounter, Practitioner, ...) is not screening data.

    # -- Observation -----------------------------------------------------------------------------

    def read_observation(self, obs: Node) -> None:
        code = obs.child("code")
        loincs = [c.code for c in code.codings() if c.system == LOINC]
        if PREGNANCY_STATUS_LOINC in loincs:
            self._pregnancy(obs)
            return
        item = next((a for a in map(analyte_for_loinc, loincs) if a is not None), None)
        if item is None or item.code == "age":
            return  # not screened on (age comes from the birth date)
        if obs.has("dataAbsentReason") and not _has_value(obs):
            return  # the source says why there is no value: the fact stays unknown
        on = _effective(obs)
        if on is not None and on > self.screening_date:
            raise obs.child("effectiveDateTime").error(
                f"{on} is after the screening date {self.screening_date}; a result cannot come "
                "from the future: check the date, or screen on a later date (--date)"
            )
        if item.code == "ecog":
            self.facts.put("ecog", _ecog(obs), obs.path, on)
            return
        value, unit_node, unit = _quantity(obs)
        if item.code in LAB_ANALYTES:
            if on is None:
                raise obs.child("effectiveDateTime").error(
                    "is missing; a laboratory result needs the date its sample was taken"
                )
            self._lab(obs, item.code, value, unit_node, unit, on, loincs)
            return
        _check_quantity(item.code, value, unit_node, unit, obs.child("valueQuantity"))
        if item.code == "lvef":
            percent = to_canonical("lvef", value, unit, field=unit_node.path).value
            self.facts.put("lvef_percent", percent, obs.path, on)
        elif item.code in ("weight", "height"):
            body = {"value": value, "unit": unit, "measured_on": on}
            self.facts.put(item.code, body, obs.path, on)

    def _lab(
        self,
        obs: Node,
        code: str,
        value: float,
        unit_node: Node,
        unit: str,
        on: dt.date,
        loincs: list[str],
    ) -> None:
        quantity = obs.child("valueQuantity")
        _check_quantity(code, value, unit_node, unit, quantity)
        lab: dict[str, Any] = {"analyte": code, "unit": unit, "value": value, "taken_on": on}
        known = [c for c in loincs if analyte_for_loinc(c) is not None]
        if known:
            lab["loinc"] = known[0]
        high = _normal_high(obs)
        if high is not None:
            uln_value = high.require("value", "give the upper limit of normal as a number")
            lab["uln"] = uln_value.number()
            uln_unit_node, uln_unit = _unit_of(high, default=unit)
            try:
                parse_unit(
                    uln_unit, field=uln_unit_node.path, accepted=analyte(code).accepted_units
                )
            except ClinicalError as exc:
                raise FhirError(_plain(exc), field=uln_unit_node.path) from None
            lab["uln_unit"] = uln_unit
        self.facts.append("labs", lab, obs.path)

    def _pregnancy(self, obs: Node) -> None:
        value = obs.child("valueCodeableConcept")
        if value.value is None:
            if obs.has("dataAbsentReason"):
                return
            raise value.error(
                "is missing; pregnancy status (LOINC 82810-3) is answered with a code "
                "such as LOINC LA15173-0 (pregnant) or LA26683-5 (not pregnant)"
            )
        for coding in value.codings():
            key = (coding.system, coding.code)
            if key in PREGNANCY_ANSWERS:
                answer = PREGNANCY_ANSWERS[key]
                if answer is not None:
                    self.facts.put("pregnant", answer, obs.path, _effective(obs))
                return
        raise value.error(
            "has no known pregnancy-status answer; use LOINC LA15173-0 / LA26683-5 / LA4489-6 "
            "or SNOMED CT 77386006 / 60001007 / 261665006"
        )

    # -- Condition and Procedure -------------------------------------------------------------

    def read_condition(self, condition: Node) -> None:
        verification = [c.code for c in condition.child("verificationStatus").codings()]
        if {"refuted", "entered-in-error"} & set(verification):
            return
        onset = _optional_day(condition, "onsetDateTime", "onsetPeriod", start=True)
        abatement = _optional_day(condition, "abatementDateTime", "abatementPeriod", start=False)
        self._history(condition, onset, abatement)

    def read_procedure(self, procedure: Node) -> None:
        start = _optional_day(procedure, "performedDateTime", "performedPeriod", start=True)
        end = _optional_day(procedure, "performedDateTime", "performedPeriod", start=False)
        if procedure.child("status").code_text() in ("in-progress", "on-hold"):
            end = None
        elif end is None:
            end = start  # a completed procedure without an end date ended the day it was done
        category, coding = self._category(procedure.child("code"))
        if category is not None and coding is not None:
            if start is None:
                raise procedure.child("performedDateTime").error(
                    "is missing; a transfusion needs the date it was given"
                )
            entry = {"category": category, **_coded(coding), "start": start, "end": end}
            self.facts.append("medications", entry, procedure.path)
            return
        self._history(procedure, start, end)

    def _history(self, resource: Node, onset: dt.date | None, abatement: dt.date | None) -> None:
        for coding in resource.child("code").codings():
            if coding.system not in CODE_SYSTEM_URIS:
                continue
            entry: dict[str, Any] = {**_coded(coding), "onset": onset, "abatement": abatement}
            self.facts.append("history", entry, resource.path)

    # -- MedicationStatement ---------------------------------------------------------------------

    def read_medication(self, statement: Node) -> None:
        concept = statement.child("medicationCodeableConcept")
        category, coding = self._category(concept)
        if category is None:
            return  # not a medication the protocol asks about
        start = _optional_day(statement, "effectiveDateTime", "effectivePeriod", start=True)
        if start is None:
            raise statement.child("effectiveDateTime").error(
                "is missing; give the date the medication was started (effectiveDateTime or "
                "effectivePeriod.start)"
            )
        if statement.has("effectiveDateTime"):
            # One date: the day it was taken, or "taking it as of" that day while still active.
            status = statement.child("status").code_text()
            end = None if status in (None, "active", "on-hold") else start
        else:
            end = _optional_day(statement, "effectiveDateTime", "effectivePeriod", start=False)
        entry = {"category": category, **_coded(coding), "start": start, "end": end}
        self.facts.append("medications", entry, statement.path)

    def _category(self, concept: Node) -> tuple[str | None, Coding | None]:
        """The medication category of a concept by the protocol's code sets, with the coding."""
        for coding in concept.codings():
            system = CODE_SYSTEM_URIS.get(coding.system)
            if system is None:
                continue
            for code_set in self.category_sets:
                if _in_code_set(code_set, system, coding.code):
                    return code_set.category, coding
        return None, None

    # -- Consent and QuestionnaireResponse -------------------------------------------------------

    def read_consent(self, consent: Node) -> None:
        if consent.child("status").code_text() != "active":
            return
        node = consent.require("dateTime", "give the date the consent form was signed")
        self.facts.put("consent_signed_on", node.date(), node.path, node.date())

    def read_questionnaire(self, response: Node) -> None:
        if response.child("questionnaire").value != SCREENING_QUESTIONNAIRE:
            return  # someone else's questionnaire
        authored = response.require("authored", "give the date the answers were given")
        on = authored.date()
        author = response.child("author")
        by = author.child("display").value or author.child("reference").value
        for item in response.child("item").items():
            link = item.require("linkId", "name the fact or judgement item answered").text()
            answers = list(item.child("answer").items())
            if not answers:
                continue
            if len(answers) > 1:
                raise item.child("answer").error("has several answers; give one")
            self._answer(link, answers[0], on, by, item)

    def _answer(self, link: str, answer: Node, on: dt.date, by: Any, item: Node) -> None:
        if link == "ecg":
            text = _answer_code(answer)
            if text not in ("normal", "abnormal"):
                raise answer.error(f"ECG is normal or abnormal, not {text!r}")
            self.facts.put("ecg", text, answer.path)
        elif link == "pneumonitis_grade":
            self.facts.put(
                "pneumonitis_grade",
                answer.require("valueInteger", "give the grade as valueInteger 1-5").integer(),
                answer.path,
            )
        elif link == "consent_signed_on":
            node = answer.require("valueDate", "give the date as valueDate")
            self.facts.put("consent_signed_on", node.date(), node.path, node.date())
        elif link in _BOOLEAN_QUESTIONS:
            node = answer.require("valueBoolean", "answer with valueBoolean true or false")
            if not isinstance(node.value, bool):
                raise node.error("must be true or false")
            self.facts.put(link, node.value, answer.path)
        elif link in self.judgement_ids:
            if not isinstance(by, str) or not by.strip():
                raise item.error(
                    "an investigator's answer needs QuestionnaireResponse.author (who answered)"
                )
            node = answer.require("valueBoolean", "answer a judgement item with valueBoolean")
            if not isinstance(node.value, bool):
                raise node.error("must be true (yes) or false (no)")
            judgement = {
                "answer": "yes" if node.value else "no",
                "answered_by": by.strip(),
                "answered_on": on,
            }
            self.facts.data.setdefault("judgements", {})[link] = judgement
            self.facts.sources[f"judgements.{link}"] = item.path
        else:
            raise item.child("linkId").error(
                f"{link!r} is not a screening question; use ecg, pneumonitis_grade, "
                f"consent_signed_on, {', '.join(_BOOLEAN_QUESTIONS)} or a judgement item id "
                f"of the protocol ({', '.join(sorted(self.judgement_ids))})"
            )

    # -- result ----------------------------------------------------------------------------------

    def finish(self) -> ScreeningRecord:
        data = {"screening_date": self.screening_date, **self.facts.data}
        try:
            return ScreeningRecord.from_data(data)
        except RecordError as exc:
            raise FhirError(_located(exc, self.facts.sources)) from None


# -- helpers --------------------------------------------------------------------------------------


def _plain(exc: ClinicalError) -> str:
    text = str(exc)
    prefix = f"{exc.field}: " if exc.field else ""
    return text.removeprefix(prefix)


# The record's field names as the FHIR elements they were read from.
_ELEMENTS = {
    "taken_on": "effectiveDateTime",
    "measured_on": "effectiveDateTime",
    "onset": "onset[x]",
    "abatement": "abatement[x]",
    "start": "effective[x]",
    "end": "effective[x]",
    "value": "valueQuantity.value",
    "unit": "valueQuantity.code",
    "uln": "referenceRange.high",
    "uln_unit": "referenceRange.high.code",
}


def _located(exc: RecordError, sources: Mapping[str, str]) -> str:
    """The record's problems, each with the Bundle element it came from."""
    lines = []
    for where, message in exc.problems:
        head, _, rest = where.partition(".")
        source = sources.get(head) or sources.get(where)
        if source is None:
            lines.append(f"{where}: {message}")
        elif rest:
            lines.append(f"{source}.{_ELEMENTS.get(rest, rest)}: {message}")
        else:
            lines.append(f"{source}: {message}")
    if len(lines) == 1:
        return lines[0]
    return f"{len(lines)} problems in the bundle:\n" + "\n".join(f"  - {line}" for line in lines)


def _has_value(obs: Node) -> bool:
    return any(key.startswith("value") for key in obs.object())


def _effective(obs: Node) -> dt.date | None:
    return _optional_day(obs, "effectiveDateTime", "effectivePeriod", start=True) or (
        obs.child("effectiveInstant").date() if obs.has("effectiveInstant") else None
    )


def _optional_day(
    resource: Node, datetime_key: str, period_key: str, *, start: bool
) -> dt.date | None:
    """A dateTime or one end of a Period; a year or year-month is widened to its first day (an
    onset) or last day (an end), so a condition is never taken as over before the source says."""
    if resource.has(datetime_key):
        return _day_or_partial(resource.child(datetime_key), start=start)
    if resource.has(period_key):
        end = resource.child(period_key).child("start" if start else "end")
        if end.value is not None:
            return _day_or_partial(end, start=start)
    return None


def _day_or_partial(node: Node, *, start: bool) -> dt.date | None:
    raw = node.value
    if isinstance(raw, str) and len(raw.strip()) in (4, 7) and raw.strip()[:4].isdigit():
        parts = raw.strip().split("-")
        try:
            year = int(parts[0])
            month = int(parts[1]) if len(parts) > 1 else None
        except ValueError:
            raise node.error(f"{raw!r} is not a FHIR date; write it as YYYY-MM-DD") from None
        if start:
            return None  # an onset known only to the month or year is unknown to the day
        month = month or 12
        if not 1 <= month <= 12:
            raise node.error(f"{raw!r} is not a real calendar month")
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return node.date()


def _quantity(obs: Node) -> tuple[float, Node, str]:
    quantity = obs.child("valueQuantity")
    if quantity.value is None:
        raise quantity.error("is missing; give the result as a valueQuantity with value and unit")
    value = quantity.require("value", "give the result as a number").number()
    unit_node, unit = _unit_of(quantity, default=None)
    return value, unit_node, unit


def _unit_of(quantity: Node, *, default: str | None) -> tuple[Node, str]:
    """A Quantity's unit: its UCUM ``code`` when given, else its human ``unit`` text."""
    code, unit = quantity.child("code"), quantity.child("unit")
    if (
        isinstance(code.value, str)
        and code.value.strip()
        and quantity.child("system").value
        in (
            UCUM_SYSTEM,
            None,
        )
    ):
        return code, code.value.strip()
    if isinstance(unit.value, str):
        return unit, unit.value.strip()
    if default is not None:
        return unit, default
    raise unit.error("is missing; give the unit (UCUM code, e.g. 10*9/L, g/dL, umol/L)")


def _check_quantity(code: str, value: float, unit_node: Node, unit: str, quantity: Node) -> None:
    """Unit first (naming the unit element), then the value in that unit (naming the value)."""
    try:
        parse_unit(unit, field=unit_node.path, accepted=analyte(code).accepted_units)
    except ClinicalError as exc:
        raise FhirError(_plain(exc), field=unit_node.path) from None
    try:
        to_canonical(code, value, unit, field=quantity.child("value").path)
    except ClinicalError as exc:
        raise FhirError(_plain(exc), field=quantity.child("value").path) from None


def _normal_high(obs: Node) -> Node | None:
    """``referenceRange.high`` of the normal range (a range typed otherwise is not the ULN)."""
    for reference in obs.child("referenceRange").items():
        types = {c.code for c in reference.child("type").codings()}
        if types and not types & {"normal", "recommended"}:
            continue
        if reference.has("high"):
            return reference.child("high")
    return None


def _ecog(obs: Node) -> int:
    if obs.has("valueInteger"):
        return obs.child("valueInteger").integer()
    if obs.has("valueQuantity"):
        node = obs.child("valueQuantity").require("value", "give the score")
        number = node.number()
        if number != int(number):
            raise node.error(f"ECOG is a whole number from 0 to 5, got {number:g}")
        return int(number)
    concept = obs.child("valueCodeableConcept")
    for coding in concept.codings():
        if coding.code in ECOG_ANSWERS:
            return ECOG_ANSWERS[coding.code]
    raise (concept if concept.value is not None else obs.child("valueInteger")).error(
        "has no ECOG score; give valueInteger 0-5 or a LOINC answer LA9622-7 (0) ... LA9627-6 (5)"
    )


def _coded(coding: Coding | None) -> dict[str, Any]:
    if coding is None:
        return {"system": None, "code": None}
    entry: dict[str, Any] = {"system": CODE_SYSTEM_URIS[coding.system], "code": coding.code}
    if coding.display:
        entry["display"] = coding.display
    return entry


def _in_code_set(code_set: CodeSet, system: str, code: str) -> bool:
    """Whether ``code`` of ``system`` is in the set (ICD-10 and ATC codes match by prefix)."""
    wanted = [str(w) for key, values in code_set.codes.items() if key == system for w in values]
    if system in HIERARCHICAL_SYSTEMS:
        bare = code.replace(".", "").upper()
        return any(bare.startswith(w.replace(".", "").upper()) for w in wanted)
    return code in wanted


def _answer_code(answer: Node) -> str:
    if answer.has("valueString"):
        return answer.child("valueString").text().lower()
    if answer.has("valueCoding"):
        return answer.child("valueCoding").require("code", "give the answer code").text().lower()
    raise answer.error("answer with valueCoding or valueString (normal or abnormal)")
