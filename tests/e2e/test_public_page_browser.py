"""The public trial page in a real browser: both languages on a desktop, and the pre-screening
flow on a phone-sized screen, driven through the labels a screen reader would announce."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_public_page_in_english_and_chinese(live_server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server}/")
        assert page.get_by_role("heading", name="Who may join").is_visible()
        assert page.get_by_role("heading", name="What taking part involves").is_visible()
        # NCT06021067.md: 4 infusions, one every 3 days.
        assert "4 infusions into a vein, one every 3 days" in page.inner_text("main")
        page.get_by_role("link", name="简体中文").click()
        page.wait_for_url("**lang=zh")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        assert page.get_by_role("heading", name="谁可以参加").is_visible()
        assert page.get_by_role("group", name="2. 您是否接受过胸部放疗（放射治疗）？").is_visible()
    finally:
        page.close()


def test_prescreen_on_a_phone_with_consent_asked_first(live_server: str, browser: Any) -> None:
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    onset = (date.today() - timedelta(days=20)).isoformat()
    try:
        page.goto(f"{live_server}/?lang=en")
        assert no_sideways_scroll(page)
        page.get_by_label("1. How old are you? (years)").fill("63")
        for number, question, answer in (
            (2, "Have you had radiotherapy", "Yes"),
            (3, "Has a doctor told you", "Yes"),
            (5, "Are you pregnant", "No"),
            (6, "Have you ever had an operation", "No"),
            (7, "Has a doctor ever told you", "No"),
            (8, "Have you taken part", "Not sure"),
        ):
            group = page.get_by_role("group", name=f"{number}. {question}")
            group.get_by_label(answer, exact=True).check()
        page.get_by_label("4. When did the lung injury begin?").fill(onset)
        page.get_by_role("button", name="See my result").click()
        assert page.get_by_role("heading", name="You may be eligible").is_visible()
        assert no_sideways_scroll(page)

        consent = page.get_by_role("checkbox")
        assert not consent.is_checked()
        page.get_by_label("Your name").fill("Test Patient")
        page.get_by_label("Phone number").fill("+86 138 0000 0000")
        page.get_by_role("button", name="Send my contact request").click()
        assert page.get_by_role("alert").is_visible()
        assert "Tick the box to agree to be contacted" in page.inner_text("main")

        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Send my contact request").click()
        assert page.get_by_role("heading", name="Thank you, Test Patient").is_visible()
    finally:
        page.close()


def test_probably_not_eligible_names_the_reason_in_chinese(live_server: str, browser: Any) -> None:
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page.goto(f"{live_server}/?lang=zh")
        page.get_by_label("1. 您今年多大年龄？ (岁)").fill("80")
        page.get_by_role("button", name="查看我的结果").click()
        # Unanswered questions are asked again, with the age kept.
        assert page.get_by_role("alert").is_visible()
        assert page.get_by_label("1. 您今年多大年龄？ (岁)").input_value() == "80"
        for number in (2, 3, 5, 6, 7, 8):
            group = page.locator(f"fieldset:has(legend:text-matches('^{number}\\\\.'))")
            group.get_by_label("否", exact=True).check()
        page.get_by_role("button", name="查看我的结果").click()
        assert page.get_by_role("heading", name="您可能不符合参加条件").is_visible()
        text = page.inner_text("main")
        assert "本研究只招募 18 至 75 岁的人。" in text
        assert "本研究只招募接受过胸部放疗的人。" in text
    finally:
        page.close()


def test_keyboard_reaches_the_questionnaire(live_server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server}/?lang=en")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
        page.get_by_role("link", name="Check if you may be able to take part").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        assert focused == "in-age"
    finally:
        page.close()
