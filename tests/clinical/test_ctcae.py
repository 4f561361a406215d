"""CTCAE v5.0 terms as packaged, checked against NCI's workbook.

Known answers quote NCI CTCAE v5.0 (27 Nov 2017), sheet 'CTCAE v5.0 Clean Copy', the row of the
named term. These tests read the packaged JSON; only the last one needs the workbook itself.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.cli import run
from trialdesk.clinical import ctcae
from trialdesk.errors import TrialdeskError

REPO = Path(__file__).resolve().parents[2]
WORKBOOK = Path("/work/shared/data/ctcae/CTCAE_v5.0.xlsx")
PACKAGED = resources.files("trialdesk.clinical").joinpath("data", "ctcae_v5.json")


def test_all_837_terms_with_unique_meddra_codes() -> None:
    # Clean Copy sheet: 837 data rows below the header.
    terms = ctcae.all_terms()
    assert len(terms) == 837
    assert len({t.meddra_code for t in terms}) == 837
    assert ctcae.source()["term_count"] == 837


def test_pneumonitis_grades_as_in_the_workbook() -> None:
    # Clean Copy, Pneumonitis (MedDRA 10035742), Respiratory, thoracic and mediastinal disorders.
    pneumonitis = ctcae.term("Pneumonitis")
    assert pneumonitis.meddra_code == 10035742
    assert pneumonitis.soc == "Respiratory, thoracic and mediastinal disorders"
    assert pneumonitis.grade_text(3) == "Severe symptoms; limiting self care ADL; oxygen indicated"
    assert pneumonitis.grade_text(5) == "Death"
    assert pneumonitis.applicable_grades == (1, 2, 3, 4, 5)


def test_fever_grade_1_is_38_to_39_degrees() -> None:
    # Clean Copy, Fever (MedDRA 10016558), grade 1.
    fever = ctcae.term("fever")
    assert fever.grade_text(1) == "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)"
    assert fever.grade_text(2) == ">39.0 - 40.0 degrees C (102.3 - 104.0 degrees F)"


def test_febrile_neutropenia_has_no_grade_1_or_2() -> None:
    # Clean Copy, Febrile neutropenia (MedDRA 10016288): grades 1 and 2 are "-".
    febrile_neutropenia = ctcae.term("Febrile neutropenia")
    assert febrile_neutropenia.grade_text(1) is None
    assert febrile_neutropenia.grade_text(2) is None
    assert febrile_neutropenia.applicable_grades == (3, 4, 5)
    with pytest.raises(ctcae.GradeNotApplicableError, match=r"no grade 1.*grades 3, 4, 5") as err:
        ctcae.validate_grade(febrile_neutropenia, 1)
    assert err.value.field == "grade"
    assert isinstance(err.value, TrialdeskError)
    assert ctcae.validate_grade("Febrile neutropenia", 3).startswith("ANC <1000/mm3")


def test_eczema_has_no_grade_4_or_5() -> None:
    # Clean Copy, Eczema (MedDRA 10014184): grades 4 and 5 are "-"; grade 1 held a
    # non-breaking space after "symptoms;" in the workbook.
    eczema = ctcae.term(10014184)
    assert eczema.term == "Eczema"
    assert eczema.applicable_grades == (1, 2, 3)
    assert eczema.grade_text(1) == (
        "Asymptomatic or mild symptoms; additional medical intervention over baseline not indicated"
    )
    with pytest.raises(ctcae.GradeNotApplicableError, match="Eczema has no grade 5"):
        ctcae.validate_grade(eczema, 5)


@pytest.mark.parametrize("grade", [0, 6, -1, True])
def test_grade_outside_1_to_5_is_refused(grade: int) -> None:
    with pytest.raises(ctcae.GradeNotApplicableError, match="whole numbers 1 to 5"):
        ctcae.validate_grade("Pneumonitis", grade)


def test_other_specify_terms_have_no_definition() -> None:
    # Clean Copy: the 26 "<SOC> - Other, specify" rows have "-" as their definition.
    others = [t for t in ctcae.all_terms() if t.term.endswith("- Other, specify")]
    assert len(others) == 26
    assert all(t.definition is None for t in others)
    assert all(t.definition for t in ctcae.all_terms() if t not in others)


def test_text_is_clean() -> None:
    raw = PACKAGED.read_text("utf-8")
    assert "\xa0" not in raw
    for one in ctcae.all_terms():
        texts = [one.term, one.soc, one.definition, one.navigational_note, *one.grades.values()]
        for text in filter(None, texts):
            assert text == text.strip() and "  " not in text and "\n\n\n" not in text
            assert text != "-"
            assert all(line == line.strip() for line in text.split("\n"))


def test_paragraphs_inside_a_grade_are_kept() -> None:
    # Clean Copy, Hypertension grade 1: adult, paediatric and adolescent criteria in one cell.
    grade_1 = ctcae.term("Hypertension").grade_text(1)
    assert grade_1 is not None
    assert grade_1.split("\n\n") == [
        "Adult: Systolic BP 120 - 139 mm Hg or diastolic BP 80 - 89 mm Hg;",
        "Pediatric: Systolic/diastolic BP >90th percentile but< 95th percentile;",
        "Adolescent: BP ≥120/80 even if < 95th percentile",
    ]


def test_lookup_by_code_and_name_agree() -> None:
    assert ctcae.term_by_code(10035742) is ctcae.term("  PNEUMONITIS ")
    assert ctcae.term("10035742").term == "Pneumonitis"
    assert ctcae.terms_named("febrile   NEUTROPENIA")[0].meddra_code == 10016288
    assert ctcae.terms_named("no such thing") == ()


def test_unknown_code_names_the_field() -> None:
    with pytest.raises(ctcae.UnknownTermError, match="MedDRA code 99") as err:
        ctcae.term(99)
    assert err.value.field == "meddra_code"


def test_mistyped_name_suggests_the_right_one() -> None:
    with pytest.raises(ctcae.UnknownTermError, match="did you mean 'Pneumonitis'") as err:
        ctcae.term("Pneumonits")
    assert err.value.suggestions[0] == "Pneumonitis"
    with pytest.raises(ctcae.UnknownTermError, match="search by a word") as err:
        ctcae.term("qqqq zzzz")
    assert err.value.suggestions == ()


def test_search_ranks_the_named_term_first() -> None:
    assert ctcae.search("pneumonitis")[0].term == "Pneumonitis"
    assert ctcae.search(["lung", "infection"])[0].term == "Lung infection"
    fever_hits = ctcae.search("fever")
    # "Febrile neutropenia" mentions fever only in its grades, so it is not a hit; Chills
    # mentions it in the definition and ranks below Fever itself.
    assert fever_hits[0].term == "Fever"
    assert "Chills" in [t.term for t in fever_hits[1:]]
    assert ctcae.search("pneum")[:2] == (ctcae.term("Pneumonitis"), ctcae.term("Pneumothorax"))
    assert ctcae.search("") == ()
    assert ctcae.search("qqqqzzzz") == ()


@given(st.sampled_from(ctcae.all_terms()))
def test_every_term_is_found_by_its_own_name_and_code(one: ctcae.CtcaeTerm) -> None:
    assert ctcae.search(one.term)[0] == one
    assert ctcae.term(one.term.upper()) is one
    assert ctcae.term_by_code(str(one.meddra_code)) is one
    for grade in one.applicable_grades:
        assert ctcae.validate_grade(one, grade) == one.grades[grade]


def test_cli_search_prints_grades(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ctcae", "search", "pneumonitis"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Pneumonitis  (MedDRA 10035742)")
    assert "Respiratory, thoracic and mediastinal disorders" in out
    assert "Grade 3     Severe symptoms; limiting self care ADL; oxygen indicated" in out
    assert "Grade 5     Death" in out


def test_cli_show_marks_grades_that_do_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ctcae", "show", "Febrile", "neutropenia"]) == 0
    out = capsys.readouterr().out
    assert "Grade 1     —  not applicable" in out and "Grade 2     —  not applicable" in out
    assert "Grade 3     ANC <1000/mm3" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ctcae", "show", "10016558", "--json"]) == 0
    fever = json.loads(capsys.readouterr().out)
    assert fever["term"] == "Fever"
    assert fever["grades"]["1"] == "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)"
    assert run(["ctcae", "search", "rash", "--json", "--limit", "1"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["matches"] > 1 and len(found["terms"]) == 1


def test_cli_unknown_term_and_no_match(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ctcae", "show", "Pneumonits"]) == 2
    assert "did you mean 'Pneumonitis'" in capsys.readouterr().err
    assert run(["ctcae", "search", "qqqqzzzz"]) == 2
    assert "no CTCAE v5.0 term matches 'qqqqzzzz'" in capsys.readouterr().err


def _import_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_ctcae", REPO / "scripts" / "import_ctcae.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not WORKBOOK.is_file() or importlib.util.find_spec("openpyxl") is None,
    reason=f"NCI's CTCAE workbook is not at {WORKBOOK} (or openpyxl is missing)",
)
def test_import_script_reproduces_the_packaged_file(tmp_path: Path) -> None:
    script = _import_script()
    out = tmp_path / "ctcae_v5.json"
    assert script.main([str(WORKBOOK), str(out)]) == 0
    assert out.read_bytes() == PACKAGED.read_bytes()


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is None, reason="openpyxl is missing")
def test_import_script_refuses_an_unexpected_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    script = _import_script()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "CTCAE v5.0 Clean Copy"
    sheet.append(["MedDRA Code", "MedDRA SOC", "CTCAE Term", "Grade 1"])
    path = tmp_path / "other.xlsx"
    book.save(path)
    assert script.main([str(path), str(tmp_path / "out.json")]) == 2
    assert "expected ['MedDRA Code'" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
