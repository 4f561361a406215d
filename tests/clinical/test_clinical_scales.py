"""ECOG, NYHA and mMRC grades carry their published texts in English and Simplified Chinese."""

from __future__ import annotations

import pytest

from trialdesk.clinical import ECOG, MMRC, NYHA, SCALES, ClinicalValueError, scale


def test_grade_ranges() -> None:
    assert [grade.value for grade in ECOG.grades] == [0, 1, 2, 3, 4, 5]
    assert [grade.label for grade in NYHA.grades] == ["I", "II", "III", "IV"]
    assert [grade.value for grade in MMRC.grades] == [0, 1, 2, 3, 4]


def test_published_english_texts() -> None:
    # Oken et al., Am J Clin Oncol 1982;5:649-655 (ECOG); NYHA Criteria Committee, 9th ed.,
    # 1994, pp. 253-256; Bestall et al., Thorax 1999;54:581-586 / GOLD report (mMRC).
    assert ECOG.grade(0).text_en.startswith("Fully active")
    assert ECOG.grade(3).text_en == (
        "Capable of only limited selfcare; confined to bed or chair more than 50% of waking hours"
    )
    assert ECOG.grade(5).text_en == "Dead"
    assert "slight limitation of physical activity" in NYHA.grade("II").text_en
    assert "marked limitation" in NYHA.grade(3).text_en
    assert "even at rest" in NYHA.grade("IV").text_en
    assert MMRC.grade(0).text_en == "I only get breathless with strenuous exercise"
    assert "100 meters" in MMRC.grade(3).text_en


def test_chinese_texts() -> None:
    assert ECOG.grade(5).text_zh == "死亡"
    assert ECOG.grade(3).text_zh == "生活仅能部分自理，日间一半以上时间卧床或坐轮椅"
    assert "明显受限" in NYHA.grade("III").text_zh
    assert "100米" in MMRC.grade(3).text_zh
    for each in SCALES:
        assert each.name_zh
        for grade in each.grades:
            assert grade.text_en and grade.text_zh
            assert any("\u4e00" <= char <= "\u9fff" for char in grade.text_zh)


@pytest.mark.parametrize("spelling", [3, "3", "III", "iii", "class III", "NYHA III", "Ⅲ", "III级"])
def test_nyha_spellings(spelling: int | str) -> None:
    assert NYHA.grade(spelling).value == 3


@pytest.mark.parametrize(
    ("which", "value"), [(ECOG, 6), (ECOG, -1), (NYHA, 0), (NYHA, "V"), (MMRC, 5)]
)
def test_out_of_range_grades_are_rejected(which: object, value: int | str) -> None:
    from trialdesk.clinical import Scale

    assert isinstance(which, Scale)
    with pytest.raises(ClinicalValueError) as caught:
        which.grade(value, field="history.heart")
    assert caught.value.field == "history.heart"
    assert "use one of" in str(caught.value)


def test_scale_lookup() -> None:
    assert scale("NYHA") is NYHA
    with pytest.raises(KeyError, match="known: ecog"):
        scale("karnofsky")
