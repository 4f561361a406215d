"""Interface words in English and Simplified Chinese.

A small catalogue keyed by the English text: the English is the key, so a missing translation
falls back to readable English rather than to a code.
"""

from __future__ import annotations

SUPPORTED = ("en", "zh")

_ZH: dict[str, str] = {
    "Trial desk": "试验工作台",
    "Protocol": "方案",
    "Quick facts": "概况",
    "Trial ID": "试验编号",
    "Protocol version": "方案版本",
    "Phase": "分期",
    "Sponsor": "申办方",
    "Enrolment": "入组人数",
    "Ages": "年龄",
    "Sex": "性别",
    "Sites": "研究中心",
    "Status": "状态",
    "Doses": "剂量",
    "Level": "剂量水平",
    "Dose per kg": "每公斤剂量",
    "Dose for {weight} kg": "{weight} 公斤患者的剂量",
    "Schedule": "给药与随访计划",
    "Design": "剂量递增设计",
    "Dose-limiting toxicity": "剂量限制性毒性",
    "Inclusion criteria": "入选标准",
    "Exclusion criteria": "排除标准",
    "Assumptions": "假设",
    "assumption": "假设",
    "Values not stated in the public registry record; review each before use.": (
        "公开注册记录未说明的数值；使用前请逐项核实。"
    ),
    "computable": "可自动判定",
    "to be judged": "待判定",
    "English": "English",
    "API": "接口",
    "Language": "语言",
    "sha256 of the protocol text": "方案文本的 sha256",
}


def normalise_lang(value: str | None) -> str:
    """'zh-CN', 'zh_Hans', 'ZH' -> 'zh'; anything unknown -> 'en'."""
    if value and value.lower().startswith("zh"):
        return "zh"
    return "en"


def translate(text: str, lang: str, **values: object) -> str:
    """The interface text in ``lang``, with ``{name}`` placeholders filled."""
    chosen = _ZH.get(text, text) if lang == "zh" else text
    return chosen.format(**values) if values else chosen
