"""Ordinal clinical scales with their published grade texts in English and Simplified Chinese.

- ECOG performance status 0-5: Oken MM, Creech RH, Tormey DC, et al. Toxicity and response
  criteria of the Eastern Cooperative Oncology Group. Am J Clin Oncol 1982;5(6):649-655
  (English as published by ECOG-ACRIN). Chinese: the version in common use in Chinese oncology
  (e.g. the CSCO guidelines).
- NYHA functional class I-IV: The Criteria Committee of the New York Heart Association.
  Nomenclature and Criteria for Diagnosis of Diseases of the Heart and Great Vessels. 9th ed.
  Boston: Little, Brown; 1994:253-256. Chinese: the usual textbook rendering (《诊断学》/《内科学》,
  People's Medical Publishing House); editions word it slightly differently, so where they differ
  the text here stays a close translation of the 1994 English.
- mMRC dyspnoea grade 0-4: Bestall JC, Paul EA, Garrod R, et al. Usefulness of the Medical
  Research Council (MRC) dyspnoea scale as a measure of disability in patients with chronic
  obstructive pulmonary disease. Thorax 1999;54:581-586; the 0-4 numbering of Mahler DA,
  Wells CK. Chest 1988;93:580-586; English and Chinese wording as in the GOLD report and its
  Chinese edition (《慢性阻塞性肺疾病诊治指南》).
"""

from __future__ import annotations

from dataclasses import dataclass

from trialdesk.clinical.errors import ClinicalValueError

__all__ = ["ECOG", "MMRC", "NYHA", "SCALES", "Scale", "ScaleGrade", "scale"]


@dataclass(frozen=True)
class ScaleGrade:
    """One grade: its number, how it is written (``"III"`` for NYHA) and its texts."""

    value: int
    label: str
    text_en: str
    text_zh: str


@dataclass(frozen=True)
class Scale:
    """An ordinal scale; :meth:`grade` reads a number or a label such as ``"III"``."""

    code: str
    name_en: str
    name_zh: str
    source: str
    grades: tuple[ScaleGrade, ...]

    def grade(self, value: int | str, *, field: str | None = None) -> ScaleGrade:
        """The grade for ``value`` (``2``, ``"2"``, ``"III"``, ``"class III"``, ``"Ⅲ"``)."""
        wanted = _normalise(value)
        for item in self.grades:
            if wanted in (str(item.value), item.label.upper()):
                return item
        labels = ", ".join(item.label for item in self.grades)
        raise ClinicalValueError(
            f"{value!r} is not a {self.name_en} grade; use one of: {labels}",
            field=field or self.code,
        )


_ROMAN_NUMERALS = str.maketrans({"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV"})


def _normalise(value: int | str) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).translate(_ROMAN_NUMERALS).strip().upper()
    for prefix in ("CLASS", "GRADE", "NYHA", "ECOG", "MMRC"):
        text = text.removeprefix(prefix).strip()
    return text.removesuffix("级").strip()


ECOG = Scale(
    code="ecog",
    name_en="ECOG performance status",
    name_zh="ECOG体能状态评分",
    source="Oken MM et al. Am J Clin Oncol 1982;5(6):649-655",
    grades=(
        ScaleGrade(
            0,
            "0",
            "Fully active, able to carry on all pre-disease performance without restriction",
            "活动能力完全正常，与起病前活动能力无任何差异",
        ),
        ScaleGrade(
            1,
            "1",
            "Restricted in physically strenuous activity but ambulatory and able to carry out "
            "work of a light or sedentary nature, e.g., light house work, office work",
            "能自由走动及从事轻体力活动，包括一般家务或办公室工作，但不能从事较重的体力活动",
        ),
        ScaleGrade(
            2,
            "2",
            "Ambulatory and capable of all selfcare but unable to carry out any work "
            "activities; up and about more than 50% of waking hours",
            "能自由走动及生活自理，但已丧失工作能力，日间不少于一半时间可以起床活动",
        ),
        ScaleGrade(
            3,
            "3",
            "Capable of only limited selfcare; confined to bed or chair more than 50% of "
            "waking hours",
            "生活仅能部分自理，日间一半以上时间卧床或坐轮椅",
        ),
        ScaleGrade(
            4,
            "4",
            "Completely disabled; cannot carry on any selfcare; totally confined to bed or chair",
            "卧床不起，生活不能自理",
        ),
        ScaleGrade(5, "5", "Dead", "死亡"),
    ),
)

NYHA = Scale(
    code="nyha",
    name_en="NYHA functional class",
    name_zh="NYHA心功能分级",
    source=(
        "Criteria Committee of the New York Heart Association. Nomenclature and Criteria for "
        "Diagnosis of Diseases of the Heart and Great Vessels. 9th ed. 1994:253-256"
    ),
    grades=(
        ScaleGrade(
            1,
            "I",
            "Patients with cardiac disease but without resulting limitation of physical "
            "activity. Ordinary physical activity does not cause undue fatigue, palpitation, "
            "dyspnea, or anginal pain.",
            "患者患有心脏病，但日常活动量不受限制，一般体力活动不引起过度疲劳、心悸、气喘或心绞痛。",
        ),
        ScaleGrade(
            2,
            "II",
            "Patients with cardiac disease resulting in slight limitation of physical activity. "
            "They are comfortable at rest. Ordinary physical activity results in fatigue, "
            "palpitation, dyspnea, or anginal pain.",
            "心脏病患者的体力活动受到轻度限制，休息时无自觉症状，"
            "但一般体力活动下可出现疲乏、心悸、气喘或心绞痛。",
        ),
        ScaleGrade(
            3,
            "III",
            "Patients with cardiac disease resulting in marked limitation of physical activity. "
            "They are comfortable at rest. Less than ordinary activity causes fatigue, "
            "palpitation, dyspnea, or anginal pain.",
            "心脏病患者体力活动明显受限，休息时无症状，小于一般体力活动即引起上述症状。",
        ),
        ScaleGrade(
            4,
            "IV",
            "Patients with cardiac disease resulting in inability to carry on any physical "
            "activity without discomfort. Symptoms of heart failure or the anginal syndrome may "
            "be present even at rest. If any physical activity is undertaken, discomfort is "
            "increased.",
            "心脏病患者不能从事任何体力活动，休息状态下也出现心力衰竭或心绞痛症状，体力活动后加重。",
        ),
    ),
)

MMRC = Scale(
    code="mmrc",
    name_en="mMRC dyspnoea scale",
    name_zh="mMRC呼吸困难分级",
    source=(
        "Bestall JC et al. Thorax 1999;54:581-586; 0-4 numbering per Mahler DA, Wells CK. "
        "Chest 1988;93:580-586; wording as in the GOLD report"
    ),
    grades=(
        ScaleGrade(
            0,
            "0",
            "I only get breathless with strenuous exercise",
            "只有在剧烈活动时才感到呼吸困难",
        ),
        ScaleGrade(
            1,
            "1",
            "I get short of breath when hurrying on the level or walking up a slight hill",
            "在平地快步行走或步行爬小坡时出现气短",
        ),
        ScaleGrade(
            2,
            "2",
            "I walk slower than people of the same age on the level because of breathlessness, "
            "or I have to stop for breath when walking at my own pace on the level",
            "由于气短，平地行走时比同龄人慢或者需要停下来休息",
        ),
        ScaleGrade(
            3,
            "3",
            "I stop for breath after walking about 100 meters or after a few minutes on the level",
            "在平地行走约100米或数分钟后需要停下来喘气",
        ),
        ScaleGrade(
            4,
            "4",
            "I am too breathless to leave the house or I am breathless when dressing or undressing",
            "因严重呼吸困难以至于不能离开家，或在穿衣服、脱衣服时出现呼吸困难",
        ),
    ),
)

SCALES: tuple[Scale, ...] = (ECOG, NYHA, MMRC)
_BY_CODE = {item.code: item for item in SCALES}


def scale(code: str) -> Scale:
    """The scale with ``code`` (``"ecog"``, ``"nyha"``, ``"mmrc"``)."""
    try:
        return _BY_CODE[code.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown scale {code!r}; known: {', '.join(_BY_CODE)}") from None
