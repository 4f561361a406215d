"""FHIR R4 Bundles as a hospital sends them: same verdicts as trialdesk's own format, any units.

The base bundle is the published example ``docs/examples/fhir-bundle-eligible.json``: the
patient of ``docs/examples/screening-eligible.yaml`` with results in other units (ANC in /µL,
platelets in 10*3/uL, haemoglobin in g/dL, bilirubin and creatinine in µmol/L with ULNs in
their own units, weight in pounds). Tests copy it and change one resource.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.clinical import analyte, convert
from trialdesk.eligibility import ScreeningRecord, load_record, screen
from trialdesk.eligibility.fhir import FhirError, record_from_fhir
from trialdesk.eligibility.screening_input import read_screening_input
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Protocol

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SCREENING_DATE = date(2026, 3, 10)


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return builtin_protocol().protocol


def base_bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (EXAMPLES / "fhir-bundle-eligible.json").read_text(encoding="utf-8")
    )
    return copy.deepcopy(data)


def resource(bundle: dict[str, Any], resource_id: str) -> dict[str, Any]:
    for entry in bundle["entry"]:
        if entry["resource"].get("id") == resource_id:
            found: dict[str, Any] = entry["resource"]
            return found
    raise KeyError(resource_id)


def entry_index(bundle: dict[str, Any], resource_id: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"].get("id") == resource_id)


def read(bundle: dict[str, Any], protocol: Protocol) -> ScreeningRecord:
    return record_from_fhir(bundle, protocol=protocol, screening_date=SCREENING_DATE)


def statuses(protocol: Protocol, record: ScreeningRecord) -> dict[str, str]:
    return {c.id: c.status for c in screen(protocol, record).criteria}


def add(bundle: dict[str, Any], new: dict[str, Any]) -> None:
    bundle["entry"].append({"fullUrl": f"urn:uuid:{new['id']}", "resource": new})


def observation(
    resource_id: str, loinc: str, quantity: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": "Patient/RLI-0007"},
        "effectiveDateTime": "2026-03-07",
        "valueQuantity": quantity,
        **extra,
    }


# -- the same patient in both formats ------------------------------------------------------------


def test_mixed_unit_bundle_screens_exactly_like_the_own_format_record(protocol: Protocol) -> None:
    from_fhir = screen(protocol, read(base_bundle(), protocol))
    own = screen(protocol, load_record(EXAMPLES / "screening-eligible.yaml"))
    assert from_fhir.verdict == own.verdict == "eligible"
    assert [(c.id, c.status) for c in from_fhir.criteria] == [
        (c.id, c.status) for c in own.criteria
    ]


def test_units_are_kept_as_reported_and_convert_to_the_same_values(protocol: Protocol) -> None:
    record = read(base_bundle(), protocol)
    labs = {lab.analyte: lab for lab in record.labs}
    # 3200 /µL = 3.2 x10^9/L; 210 x10^3/µL = 210 x10^9/L; 11.8 g/dL = 118 g/L (issue 3, item 5).
    assert (labs["anc"].value, labs["anc"].unit) == (3200, "/uL")
    assert labs["anc"].measurement().value == pytest.approx(3.2)
    assert labs["platelets"].measurement().value == pytest.approx(210)
    assert labs["haemoglobin"].measurement().value == pytest.approx(118)
    # 70.72 µmol/L / 88.4 = 0.8 mg/dL (NCT06021067 listing: µmol/L ÷ 88.4 → mg/dL).
    assert labs["creatinine"].measurement().value == pytest.approx(0.8, abs=1e-4)
    assert (labs["creatinine"].uln, labs["creatinine"].uln_unit) == (97.24, "umol/L")
    # ULN in mg/dL while the result is in µmol/L: kept as reported, with its own unit.
    assert (labs["bilirubin_total"].uln, labs["bilirubin_total"].uln_unit) == (1.2, "mg/dL")
    assert record.weight is not None and record.weight.unit == "[lb_av]"
    assert record.ecog == 1 and record.pregnant is False and record.sex == "female"
    assert record.birth_date == date(1962, 5, 14)


@pytest.mark.parametrize(
    ("loinc", "value", "unit", "criterion", "status"),
    [
        # Issue 3, item 9: HGB 80 g/L passes, 7.9 g/dL (= 79 g/L) fails.
        ("718-7", 8.0, "g/dL", "I4a.hgb", "met"),
        ("718-7", 7.9, "g/dL", "I4a.hgb", "not_met"),
        # Hb(Fe) monomer, 16.1145 g/mmol: 4.97 mmol/L = 80.09 g/L passes, 4.96 = 79.93 g/L fails.
        ("718-7", 4.97, "mmol/L", "I4a.hgb", "met"),
        ("718-7", 4.96, "mmol/L", "I4a.hgb", "not_met"),
        # ANC 1500 /µL = 1.5 x10^9/L passes; 1490 /µL fails.
        ("751-8", 1500, "/uL", "I4a.anc", "met"),
        ("751-8", 1490, "/uL", "I4a.anc", "not_met"),
        ("751-8", 1.5, "10*3/uL", "I4a.anc", "met"),
        # Platelets 80 x10^9/L passes, 79 fails, in UCUM 10*9/L.
        ("777-3", 80, "10*9/L", "I4a.plt", "met"),
        ("777-3", 79, "10*9/L", "I4a.plt", "not_met"),
    ],
)
def test_blood_count_thresholds_hold_in_any_unit(
    protocol: Protocol, loinc: str, value: float, unit: str, criterion: str, status: str
) -> None:
    bundle = base_bundle()
    target = {"718-7": "hgb", "751-8": "anc", "777-3": "plt"}[loinc]
    resource(bundle, target)["valueQuantity"] = {
        "value": value,
        "unit": unit,
        "system": "http://unitsofmeasure.org",
        "code": unit,
    }
    assert statuses(protocol, read(bundle, protocol))[criterion] == status


def test_creatinine_in_micromoles_against_the_sex_specific_limit(protocol: Protocol) -> None:
    bundle = base_bundle()
    # 132.6 µmol/L = 1.5 mg/dL: above the women's 1.4 mg/dL limit of E8 (NCT06021067 listing).
    resource(bundle, "crea")["valueQuantity"].update(value=132.6)
    assert statuses(protocol, read(bundle, protocol))["E8.creatinine"] == "met"
    resource(bundle, "RLI-0007")["gender"] = "male"
    # For a man the limit is 1.5 mg/dL, and 1.5 is not above it.
    assert statuses(protocol, read(bundle, protocol))["E8.creatinine"] == "not_met"


# -- ULN from referenceRange ---------------------------------------------------------------------


def test_uln_comes_from_the_result_reference_range(protocol: Protocol) -> None:
    bundle = base_bundle()
    alt = resource(bundle, "alt")
    alt["valueQuantity"]["value"] = 100
    alt["referenceRange"] = [
        {"low": {"value": 7, "unit": "U/L"}, "high": {"value": 40, "unit": "U/L"}}
    ]
    # 100 / 40 = 2.5 x ULN: I4b.alt (<= 2.5) holds and E8.alt (> 2.5) does not.
    result = statuses(protocol, read(bundle, protocol))
    assert (result["I4b.alt"], result["E8.alt"]) == ("met", "not_met")
    alt["referenceRange"][0]["high"]["value"] = 39
    result = statuses(protocol, read(bundle, protocol))
    assert (result["I4b.alt"], result["E8.alt"]) == ("not_met", "met")


def test_uln_in_another_unit_than_the_result_is_converted(protocol: Protocol) -> None:
    bundle = base_bundle()
    tbil = resource(bundle, "tbil")
    # 30 µmol/L over a ULN of 1.2 mg/dL (= 20.52 µmol/L at 584.66 g/mol) is 1.46 x ULN: passes.
    tbil["valueQuantity"]["value"] = 30
    assert statuses(protocol, read(bundle, protocol))["I4b.tbil"] == "met"
    # 31 µmol/L is 1.51 x ULN: fails the 1.5 x ULN limit.
    tbil["valueQuantity"]["value"] = 31
    assert statuses(protocol, read(bundle, protocol))["I4b.tbil"] == "not_met"


def test_a_range_that_is_not_the_normal_range_is_not_the_uln(protocol: Protocol) -> None:
    bundle = base_bundle()
    inr = resource(bundle, "inr")
    therapeutic = {
        "type": {"coding": [{"code": "treatment"}]},
        "high": {"value": 3.0, "code": "{INR}"},
    }
    inr["referenceRange"] = [therapeutic, *inr["referenceRange"]]
    labs = {lab.analyte: lab for lab in read(bundle, protocol).labs}
    assert labs["inr"].uln == 1.2
    inr["referenceRange"] = [therapeutic]
    labs = {lab.analyte: lab for lab in read(bundle, protocol).labs}
    assert labs["inr"].uln is None


def test_a_result_without_reference_range_leaves_uln_criteria_unknown(protocol: Protocol) -> None:
    bundle = base_bundle()
    del resource(bundle, "alt")["referenceRange"]
    assert statuses(protocol, read(bundle, protocol))["I4b.alt"] == "unknown"


# -- what is ignored -----------------------------------------------------------------------------


def test_unknown_resources_and_codes_are_ignored(protocol: Protocol) -> None:
    plain = read(base_bundle(), protocol)
    bundle = base_bundle()
    add(bundle, {"resourceType": "ImagingStudy", "id": "ct", "status": "available"})
    add(bundle, {"resourceType": "SomethingNew", "id": "x", "whatever": [1, 2, 3]})
    add(bundle, observation("chol", "2093-3", {"value": 5.1, "code": "mmol/L"}))
    add(
        bundle,
        {
            "resourceType": "Condition",
            "id": "local-only",
            "code": {"coding": [{"system": "http://example.org/our-codes", "code": "X1"}]},
            "subject": {"reference": "Patient/RLI-0007"},
        },
    )
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Observation/old"}})
    assert read(bundle, protocol) == plain


def test_entered_in_error_and_refuted_resources_are_ignored(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        observation(
            "anc-wrong", "751-8", {"value": 0.2, "code": "10*9/L"}, status="entered-in-error"
        ),
    )
    add(
        bundle,
        {
            "resourceType": "Condition",
            "id": "mi-refuted",
            "verificationStatus": {"coding": [{"code": "refuted"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I21.4"}]},
            "subject": {"reference": "Patient/RLI-0007"},
            "onsetDateTime": "2026-01-15",
        },
    )
    assert screen(protocol, read(bundle, protocol)).verdict == "eligible"


def test_a_confirmed_recent_infarction_excludes(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        {
            "resourceType": "Condition",
            "id": "mi",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I21.4"}]},
            "subject": {"reference": "Patient/RLI-0007"},
            "onsetPeriod": {"start": "2025-12-01"},
            "abatementDateTime": "2025-12-20",
        },
    )
    result = screen(protocol, read(bundle, protocol))
    assert result.verdict == "ineligible"
    assert result.criterion("E7.mi").status == "met"


# -- medications and transfusions ----------------------------------------------------------------


def medication(resource_id: str, system: str, code: str, **effective: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": resource_id,
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/RLI-0007"},
        **effective,
    }


def test_an_anticoagulant_statement_raises_the_i4c_e10_tension(protocol: Protocol) -> None:
    bundle = base_bundle()
    # ATC B01AF01 rivaroxaban, a direct factor Xa inhibitor (code set "anticoagulants").
    add(
        bundle,
        medication(
            "riva", "http://www.whocc.no/atc", "B01AF01", effectivePeriod={"start": "2026-01-10"}
        ),
    )
    record = read(bundle, protocol)
    assert [(m.category, m.code, m.end) for m in record.medications] == [
        ("anticoagulant", "B01AF01", None)
    ]
    result = screen(protocol, record)
    assert result.verdict == "needs_review"


def test_other_medications_are_not_screening_facts(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        medication("pred", "http://www.whocc.no/atc", "H02AB06", effectiveDateTime="2026-02-22"),
    )
    assert read(bundle, protocol).medications == []


def test_growth_factor_six_days_before_the_sample_voids_the_blood_count(protocol: Protocol) -> None:
    bundle = base_bundle()
    # Filgrastim (ATC L03AA02) once, 6 days before the 2026-03-06 sample: inside the 7 days.
    add(
        bundle,
        medication(
            "gcsf",
            "http://www.whocc.no/atc",
            "L03AA02",
            status="completed",
            effectiveDateTime="2026-02-28",
        ),
    )
    record = read(bundle, protocol)
    assert [(m.category, m.start, m.end) for m in record.medications] == [
        ("growth_factor", date(2026, 2, 28), date(2026, 2, 28))
    ]
    assert statuses(protocol, record)["I4a.anc"] != "met"


def test_a_transfusion_procedure_counts_as_a_transfusion(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        {
            "resourceType": "Procedure",
            "id": "rbc",
            "status": "completed",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "116859006"}]},
            "subject": {"reference": "Patient/RLI-0007"},
            "performedDateTime": "2026-03-04T14:00:00+08:00",
        },
    )
    record = read(bundle, protocol)
    assert [(m.category, m.start, m.end) for m in record.medications] == [
        ("transfusion", date(2026, 3, 4), date(2026, 3, 4))
    ]
    assert statuses(protocol, record)["I4a.hgb"] != "met"


# -- other facts ---------------------------------------------------------------------------------


def test_ecog_as_integer_or_loinc_answer_and_pregnancy_status(protocol: Protocol) -> None:
    bundle = base_bundle()
    ecog = resource(bundle, "ecog")
    del ecog["valueCodeableConcept"]
    ecog["valueInteger"] = 4
    resource(bundle, "pregnancy")["valueCodeableConcept"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
    }
    record = read(bundle, protocol)
    assert (record.ecog, record.pregnant) == (4, True)
    result = statuses(protocol, record)
    assert (result["I2"], result["E1.pregnant"]) == ("not_met", "met")


def test_the_latest_weight_is_used(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        observation(
            "old-weight", "29463-7", {"value": 70, "code": "kg"}, effectiveDateTime="2026-01-02"
        ),
    )
    record = read(bundle, protocol)
    assert record.weight is not None and record.weight.value == 132.28


def test_partial_dates_of_history(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(
        bundle,
        {
            "resourceType": "Condition",
            "id": "tb",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "A15.0"}]},
            "subject": {"reference": "Patient/RLI-0007"},
            "onsetDateTime": "2009",
            "abatementDateTime": "2010-02",
        },
    )
    entry = next(h for h in read(bundle, protocol).history if h.code == "A15.0")
    # Onset known to the year only: unknown to the day. Abatement: the last day of that month,
    # so the condition is never taken as over before the source says.
    assert (entry.onset, entry.abatement) == (None, date(2010, 2, 28))


# -- errors name the element ---------------------------------------------------------------------


def test_unknown_unit_names_the_entry(protocol: Protocol) -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "crea")
    resource(bundle, "crea")["valueQuantity"]["code"] = "mg/dl/x"
    with pytest.raises(FhirError) as caught:
        read(bundle, protocol)
    message = str(caught.value)
    assert message.startswith(f"entry[{index}].resource.valueQuantity.code: unknown unit 'mg/dl/x'")
    assert "µmol/L" in message  # the units that would work


def test_impossible_value_names_the_value(protocol: Protocol) -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "hgb")
    resource(bundle, "hgb")["valueQuantity"] = {"value": 800, "unit": "g/L", "code": "g/L"}
    with pytest.raises(FhirError, match=rf"^entry\[{index}\]\.resource\.valueQuantity\.value: "):
        read(bundle, protocol)


def test_uln_in_a_unit_that_does_not_fit(protocol: Protocol) -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "alt")
    resource(bundle, "alt")["referenceRange"] = [{"high": {"value": 40, "code": "mg/dL"}}]
    with pytest.raises(
        FhirError, match=rf"entry\[{index}\]\.resource\.referenceRange\[0\]\.high\.code"
    ):
        read(bundle, protocol)


def test_lab_without_a_date_or_with_a_future_date(protocol: Protocol) -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "anc")
    del resource(bundle, "anc")["effectiveDateTime"]
    with pytest.raises(
        FhirError, match=rf"entry\[{index}\]\.resource\.effectiveDateTime: is missing"
    ):
        read(bundle, protocol)
    resource(bundle, "anc")["effectiveDateTime"] = "2026-03-12"
    with pytest.raises(
        FhirError, match=rf"entry\[{index}\]\.resource\.effectiveDateTime: 2026-03-12 is after"
    ):
        read(bundle, protocol)


def test_partial_birth_date_is_refused(protocol: Protocol) -> None:
    bundle = base_bundle()
    resource(bundle, "RLI-0007")["birthDate"] = "1962"
    with pytest.raises(FhirError, match=r"birthDate: '1962' gives no day"):
        read(bundle, protocol)


def test_one_patient_per_bundle(protocol: Protocol) -> None:
    bundle = base_bundle()
    add(bundle, {"resourceType": "Patient", "id": "someone-else", "gender": "male"})
    with pytest.raises(FhirError, match="second Patient"):
        read(bundle, protocol)
    bundle = base_bundle()
    resource(bundle, "anc")["subject"] = {"reference": "Patient/someone-else"}
    with pytest.raises(FhirError, match="not this bundle's patient"):
        read(bundle, protocol)


def test_a_lone_resource_is_not_read_as_a_record(protocol: Protocol) -> None:
    text = json.dumps({"resourceType": "Patient", "id": "p", "gender": "female"})
    with pytest.raises(TrialdeskError, match="single FHIR Patient resource"):
        read_screening_input(text, protocol=protocol, screening_date=SCREENING_DATE)


def test_detection_of_the_two_formats(protocol: Protocol) -> None:
    fhir_text = (EXAMPLES / "fhir-bundle-eligible.json").read_text(encoding="utf-8")
    own_text = (EXAMPLES / "screening-eligible.yaml").read_text(encoding="utf-8")
    fhir = read_screening_input(fhir_text, protocol=protocol, screening_date=SCREENING_DATE)
    own = read_screening_input(own_text, protocol=protocol, screening_date=date(2030, 1, 1))
    assert (fhir.format, own.format) == ("fhir", "record")
    assert fhir.record.screening_date == SCREENING_DATE
    assert own.record.screening_date == SCREENING_DATE  # a record keeps its own date


def test_judgements_need_an_author(protocol: Protocol) -> None:
    bundle = base_bundle()
    answers = resource(bundle, "screening-answers")
    del answers["author"]
    with pytest.raises(FhirError, match="author"):
        read(bundle, protocol)
    answers["author"] = {"display": "Dr Li"}
    answers["item"].append({"linkId": "E99", "answer": [{"valueBoolean": False}]})
    with pytest.raises(FhirError, match=r"linkId: 'E99' is not a screening question"):
        read(bundle, protocol)


# -- any mix of units ----------------------------------------------------------------------------

_LAB_IDS = {
    "anc": "anc",
    "platelets": "plt",
    "haemoglobin": "hgb",
    "bilirubin_total": "tbil",
    "creatinine": "crea",
}


@settings(max_examples=25, deadline=None)
@given(
    choices=st.fixed_dictionaries(
        {code: st.sampled_from(analyte(code).accepted_units) for code in _LAB_IDS}
    ),
    weight_unit=st.sampled_from(["kg", "[lb_av]"]),
    height_unit=st.sampled_from(["cm", "m", "[in_i]"]),
)
def test_any_mix_of_units_gives_the_same_screening(
    choices: dict[str, str], weight_unit: str, height_unit: str
) -> None:
    protocol = builtin_protocol().protocol
    own = load_record(EXAMPLES / "screening-eligible.yaml")
    bundle = base_bundle()
    for lab in own.labs:
        if lab.analyte not in choices:
            continue
        unit = choices[lab.analyte]
        molar = analyte(lab.analyte).molar_mass_g_per_mol
        value = convert(lab.value, lab.unit, unit, field="test", molar_mass_g_per_mol=molar)
        resource(bundle, _LAB_IDS[lab.analyte])["valueQuantity"] = {"value": value, "code": unit}
    resource(bundle, "weight")["valueQuantity"] = {
        "value": convert(60, "kg", weight_unit, field="test"),
        "code": weight_unit,
    }
    resource(bundle, "height")["valueQuantity"] = {
        "value": convert(160, "cm", height_unit, field="test"),
        "code": height_unit,
    }
    assert statuses(protocol, read(bundle, protocol)) == statuses(protocol, own)
