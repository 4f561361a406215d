"""Validation against the official CDISC ODM 1.3.2 schema, vendored under
``schema/odm-1.3.2/`` (see its PROVENANCE.md); nothing is fetched from the network."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Final, cast

from lxml import etree

from trialdesk.errors import TrialdeskError

ODM_NS: Final = "http://www.cdisc.org/ns/odm/v1.3"
FOUNDATION: Final = "ODM1-3-2-foundation.xsd"
SCHEMA_DIR: Final = Path(__file__).resolve().parent / "schema" / "odm-1.3.2"


class OdmInvalid(TrialdeskError):
    """An ODM document the schema refuses (a defect of the export, never of the user's data)."""


@cache
def odm_schema() -> etree.XMLSchema:
    """The ODM 1.3.2 foundation schema with its imports (xml.xsd, xmldsig-core-schema.xsd)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / FOUNDATION), parser))


def validate_odm(document: etree._ElementTree) -> None:
    """Raise :class:`OdmInvalid` naming the first problems when ``document`` is not valid."""
    schema = odm_schema()
    if schema.validate(document):
        return
    entries = cast("Iterable[etree._LogEntry]", schema.error_log)
    problems = [f"line {e.line}: {e.message}" for e in entries][:5]
    raise OdmInvalid(
        "the ODM export does not validate against the ODM 1.3.2 schema (a defect in trialdesk; "
        "please report it): " + "; ".join(problems)
    )
