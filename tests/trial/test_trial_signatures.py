"""A signature shows the signer's printed name, the UTC date-time and its meaning (21 CFR 11.50),
the same way wherever a signed record is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from trialdesk.trial.signatures import manifest, signed_at_utc


@dataclass
class Signed:
    signer_name: str | None
    signed_at: datetime | None
    signature_meaning: str | None


BEIJING = timezone(timedelta(hours=8))
SIGNED = Signed("LI Ming, MD", datetime(2026, 4, 10, 9, 0, tzinfo=BEIJING), "I approve")


def test_english_manifest_gives_name_utc_time_and_meaning() -> None:
    # 09:00 in Beijing (UTC+8) is 01:00 UTC.
    assert manifest(SIGNED) == "Signed by LI Ming, MD on 2026-04-10 01:00:00 UTC: I approve"


def test_chinese_manifest_keeps_the_meaning_as_signed() -> None:
    assert manifest(SIGNED, "zh") == (
        "由 LI Ming, MD 于 2026-04-10 01:00:00 UTC 签署，签署含义：I approve"
    )


def test_an_unsigned_record_says_so() -> None:
    unsigned = Signed(None, None, None)
    assert (manifest(unsigned), manifest(unsigned, "zh")) == ("Not signed", "未签署")


def test_a_naive_time_from_sqlite_is_read_as_utc() -> None:
    assert signed_at_utc(datetime(2026, 4, 10, 1, 0)) == "2026-04-10 01:00:00 UTC"
    assert signed_at_utc(datetime(2026, 4, 10, 1, 0, tzinfo=UTC)) == "2026-04-10 01:00:00 UTC"
