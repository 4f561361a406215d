"""Turn a ClinicalTrials.gov API v2 study record (public JSON) into a draft protocol.

The draft carries what the registry states (metadata, phases, enrolment, ages, sex, arms,
outcomes, sites) and the eligibility text split into numbered inclusion and exclusion items,
each marked as not yet computable. Everything a dose-escalation protocol needs that a registry
record never holds (dose levels, DLT rule, design) is left for a person to write.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.loader import load_protocol_text

TRANSLATION_NEEDED = "【待翻译】"

_HEADING = re.compile(r"^\s*\**\s*(inclusion|exclusion)\s+criteria\s*\**\s*:?\s*\**\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[*\-•·]|\d{1,3}[.)])\s+(.*\S)\s*$")
_AGE = re.compile(r"^\s*(\d+)\s*(year|month|week|day)s?\s*$", re.I)
_UNESCAPE = re.compile(r"\\([\\^*_>#<\[\]()~`-])")


def split_eligibility(text: str) -> tuple[list[str], list[str]]:
    """The registry's free-text criteria -> (inclusion items, exclusion items), in order."""
    sections: dict[str, list[str]] = {"inclusion": [], "exclusion": []}
    current: str | None = None
    for raw in _UNESCAPE.sub(r"\1", text).splitlines():
        heading = _HEADING.match(raw)
        if heading:
            current = heading.group(1).lower()
            continue
        if current is None or not raw.strip():
            continue
        bullet = _BULLET.match(raw)
        items = sections[current]
        if bullet:
            items.append(bullet.group(1))
        elif items:
            items[-1] = f"{items[-1]} {raw.strip()}"
        else:
            items.append(raw.strip())
    return sections["inclusion"], sections["exclusion"]


def _text(english: str) -> dict[str, str]:
    return {"en": english, "zh": f"{TRANSLATION_NEEDED}{english}"}


def _age_years(value: str | None, field: str, default: int) -> int:
    if not value:
        return default
    match = _AGE.match(value)
    if not match:
        raise TrialdeskError(
            f"{value!r} is not an age like '18 Years'; fix the record or edit the draft",
            field=f"protocolSection.eligibilityModule.{field}",
        )
    number, unit = int(match.group(1)), match.group(2).lower()
    per_year = {"year": 1, "month": 12, "week": 52, "day": 365}[unit]
    return number // per_year


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def draft_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """A draft protocol (as plain data, ready for YAML) from an API v2 study record."""
    section = record.get("protocolSection")
    if not isinstance(section, dict):
        raise TrialdeskError(
            "not a ClinicalTrials.gov API v2 study record: there is no 'protocolSection' object; "
            "download the study as JSON from the API v2 (/api/v2/studies/NCT...)"
        )
    ident = _get(section, "identificationModule") or {}
    nct_id = ident.get("nctId")
    if not nct_id:
        raise TrialdeskError(
            "the record has no identificationModule.nctId; is it a whole study record?"
        )
    title = ident.get("officialTitle") or ident.get("briefTitle") or nct_id
    design = _get(section, "designModule") or {}
    eligibility = _get(section, "eligibilityModule") or {}
    inclusion, exclusion = split_eligibility(eligibility.get("eligibilityCriteria") or "")
    criteria = [
        {
            "id": f"I{i}",
            "kind": "inclusion",
            "text": _text(t),
            "registry_text": t,
            "computable": False,
        }
        for i, t in enumerate(inclusion, 1)
    ] + [
        {
            "id": f"E{i}",
            "kind": "exclusion",
            "text": _text(t),
            "registry_text": t,
            "computable": False,
        }
        for i, t in enumerate(exclusion, 1)
    ]
    interventions_by_name = {
        i.get("name"): i for i in _get(section, "armsInterventionsModule", "interventions") or []
    }
    arms = []
    for index, arm in enumerate(_get(section, "armsInterventionsModule", "armGroups") or [], 1):
        names = arm.get("interventionNames") or []
        arms.append(
            {
                "id": f"arm{index}",
                "label": _text(arm.get("label") or f"Arm {index}"),
                "type": arm.get("type")
                if arm.get("type") in {"EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR"}
                else "OTHER",
                "interventions": [_intervention(n, interventions_by_name) for n in names]
                or [{"name": "not stated", "type": "OTHER"}],
            }
        )
    endpoints = []
    for kind, key in (("primary", "primaryOutcomes"), ("secondary", "secondaryOutcomes")):
        for index, outcome in enumerate(_get(section, "outcomesModule", key) or [], 1):
            endpoints.append(
                {
                    "id": f"{kind}{index}",
                    "kind": kind,
                    "measure": _text(outcome.get("measure") or "not stated"),
                    "time_frame": outcome.get("timeFrame") or "not stated",
                }
            )
    sites = [
        {
            k: v
            for k, v in {
                "name": loc.get("facility") or "not stated",
                "city": loc.get("city"),
                "region": loc.get("state"),
                "country": loc.get("country"),
            }.items()
            if v
        }
        for loc in _get(section, "contactsLocationsModule", "locations") or []
    ]
    enrollment = _get(design, "enrollmentInfo") or {}
    registry: dict[str, Any] = {
        "nct_id": nct_id,
        "title": _text(title),
        "brief_title": _text(ident.get("briefTitle") or title),
        "sponsor": _get(section, "sponsorCollaboratorsModule", "leadSponsor", "name")
        or _get(ident, "organization", "fullName")
        or "not stated",
        "phases": design.get("phases") or ["NA"],
        "study_type": design.get("studyType") or "INTERVENTIONAL",
        "allocation": _get(design, "designInfo", "allocation"),
        "masking": _get(design, "designInfo", "maskingInfo", "masking"),
        "enrollment": enrollment.get("count"),
        "enrollment_type": enrollment.get("type") or "ESTIMATED",
        "status": _get(section, "statusModule", "overallStatus"),
        "first_posted": _get(section, "statusModule", "studyFirstPostDateStruct", "date"),
        "conditions": _get(section, "conditionsModule", "conditions") or [],
        "sites": sites,
        "url": f"https://clinicaltrials.gov/study/{nct_id}",
    }
    summary = _get(section, "descriptionModule", "briefSummary")
    if summary:
        registry["summary"] = _text(" ".join(summary.split()))
    return {
        "schema_version": 1,
        "id": nct_id,
        "version": "draft-from-registry",
        "status": "draft",
        "registry": {k: v for k, v in registry.items() if v is not None},
        "population": {
            "min_age_years": _age_years(eligibility.get("minimumAge"), "minimumAge", 0),
            "max_age_years": _age_years(eligibility.get("maximumAge"), "maximumAge", 120),
            "sex": eligibility.get("sex") or "ALL",
            "healthy_volunteers": bool(eligibility.get("healthyVolunteers", False)),
        },
        "arms": arms,
        "criteria": criteria,
        "endpoints": endpoints,
    }


def _intervention(name: str, known: dict[str | None, dict[str, Any]]) -> dict[str, Any]:
    # armGroups name interventions as "Type: Name"; the interventions list has them apart.
    plain = name.split(":", 1)[1].strip() if ":" in name else name
    found = known.get(plain) or {}
    kind = found.get("type") or (name.split(":", 1)[0].strip().upper() if ":" in name else "OTHER")
    if kind not in {"BIOLOGICAL", "DRUG", "DEVICE", "PROCEDURE", "RADIATION"}:
        kind = "OTHER"
    item: dict[str, Any] = {"name": plain, "type": kind}
    if found.get("description"):
        item["description"] = _text(" ".join(found["description"].split()))
    return item


DRAFT_HEADER = """\
# Draft protocol imported from ClinicalTrials.gov ({nct_id}).
# Not ready to run: add doses, schedule, dlt, design and max_sample_size, translate every
# text marked {marker}, give each criterion a computable form, then set status: active.
"""


def draft_yaml(record: dict[str, Any]) -> str:
    """The draft as YAML text, checked to load as a valid draft protocol."""
    draft = draft_from_record(record)
    text = DRAFT_HEADER.format(nct_id=draft["id"], marker=TRANSLATION_NEEDED) + yaml.safe_dump(
        draft, allow_unicode=True, sort_keys=False, width=100
    )
    load_protocol_text(text, f"draft of {draft['id']}")
    return text
