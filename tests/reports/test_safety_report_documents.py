"""The safety report as a reader gets it: the HTML's structure and the PDF's extracted text
carry the same numbers as the report's data (seeded_safety_trial.py)."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_fixtures import Page, SeededDatabase, parse, seeded_database

from trialdesk import __version__
from trialdesk.reports import render_safety_html, write_safety_report

SECTIONS = [
    "cover",
    "enrolment",
    "flow",
    "levels",
    "ae-table",
    "saes",
    "dlts",
    "decisions",
    "plots",
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDatabase]:
    yield from seeded_database(tmp_path_factory.mktemp("seeded"))


@pytest.fixture(scope="module")
def html(seeded: SeededDatabase) -> str:
    desk = seeded.trial.desk
    return render_safety_html(seeded.session, desk.ctx.loaded, None, "en", clock=desk.clock)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return parse(html)


def pdf_text(html: str, folder: Path) -> str:
    written = write_safety_report(folder / "safety.pdf", html)
    reader = PdfReader(io.BytesIO(written.read_bytes()))
    return "\n".join(p.extract_text() for p in reader.pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_sections_come_in_order_with_the_cover_first(page: Page, seeded: SeededDatabase) -> None:
    ids = [e.attrs["id"] for e in page.elements if e.tag == "section"]
    assert ids == SECTIONS
    desk = seeded.trial.desk
    assert page.one(id="cutoff").text.strip() == seeded.today.isoformat()
    assert page.one(id="protocol-sha256").text.strip() == desk.ctx.loaded.sha256
    assert page.one(id="protocol-version").text.strip() == desk.ctx.protocol.version
    assert page.one(id="software-version").text.strip() == f"trialdesk {__version__}"


def test_html_tables_show_the_levels_the_ae_cells_and_the_flow(page: Page) -> None:
    levels = page.one(id="levels")
    cells = {
        (row.attrs["data-level"], cell.attrs["data-col"]): cell.text.strip()
        for row in page.inside(levels, tag="tr")
        if "data-level" in row.attrs
        for cell in page.inside(row, tag="td")
        if "data-col" in cell.attrs
    }
    assert cells[("1", "enrolled")] == "6"
    assert cells[("1", "infusions")] == "24"
    assert cells[("3", "dlts")] == "2"
    assert cells[("2", "evaluable")] == "5"
    assert cells[("2", "candidates")] == "1"
    pneumonitis = page.one(tag="tr", data_term="Pneumonitis")
    grade_3 = {c.attrs["data-level"]: c.text for c in page.inside(pneumonitis, data_grade="3")}
    assert grade_3 == {"1": "1", "2": "0", "3": "2"}
    counts = [squash(c.text) for c in page.find(tag="div", **{"class": "count"})]
    boxes = [b.attrs["data-step"] for b in page.elements if "data-step" in b.attrs]
    assert list(zip(boxes, counts, strict=True)) == [
        ("prescreened", "18"),
        ("screened", "17"),
        ("eligible", "16"),
        ("consented", "15"),
        ("enrolled", "15"),
        ("treated", "15"),
        ("evaluable", "14"),
    ]
    (waiting,) = page.find(data_exit="treated")
    assert "1 × candidate DLT awaiting adjudication" in squash(waiting.text)


def test_charts_are_embedded_svg_images(page: Page) -> None:
    images = [e for e in page.elements if e.tag == "img"]
    assert len(images) == 3, "DLTs per level, swimmer, pneumonitis"
    for image in images:
        assert image.attrs["src"].startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(image.attrs["src"].split(",", 1)[1])
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
        assert image.attrs["alt"]


def test_signed_decisions_show_the_signature_manifestation(page: Page) -> None:
    signatures = [e.text for e in page.elements if e.attrs.get("class") == "signature"]
    assert len(signatures) == 5
    assert all(s.startswith("Signed by LI Ming, MD on 2026-") for s in signatures)
    assert all(s.endswith(": I approve this dose-escalation decision") for s in signatures)


def test_pdf_text_has_the_cover_and_the_key_tables(
    html: str, seeded: SeededDatabase, tmp_path: Path
) -> None:
    text = squash(pdf_text(html, tmp_path))
    assert f"Data cut-off {seeded.today.isoformat()}" in text
    assert seeded.trial.desk.ctx.loaded.sha256 in text
    # Dose levels: level, dose, patients, treated, evaluable, infusions, with DLT, candidates.
    assert "1 3.3×105 cells/kg 6 6 6 24 1 0" in text
    assert "2 1.0×106 cells/kg 6 6 5 24 0 1" in text
    assert "3 3.0×106 cells/kg 3 3 3 12 2 0" in text
    # AE table: G1..G5 for levels 1, 2, 3, then the total.
    assert "Pneumonitis 0 0 1 0 0 0 0 0 0 0 0 0 2 0 0 3" in text
    assert "Fatigue 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 2" in text
    assert "prescreened 18" in text and "evaluable 14" in text
    assert "Lung infection" in text and "hospitalisation" in text
    assert "Signed by LI Ming, MD on" in text


def test_chinese_pdf_is_in_chinese_with_the_same_numbers(
    seeded: SeededDatabase, tmp_path: Path
) -> None:
    desk = seeded.trial.desk
    html = render_safety_html(seeded.session, desk.ctx.loaded, None, "zh", clock=desk.clock)
    assert '<html lang="zh-Hans">' in html
    text = squash(pdf_text(html, tmp_path))
    assert "数据安全监查委员会（DSMB）安全性报告" in text
    assert f"数据截止日期 {seeded.today.isoformat()}" in text
    assert "不良事件（按术语、最重分级和剂量水平）" in text
    assert "1 3.3×105 cells/kg 6 6 6 24 1 0" in text
    assert "DLT 可评价 14" in text
    assert "由 LI Ming, MD 于 2026-04-10 01:00:00 UTC 签署" in text
