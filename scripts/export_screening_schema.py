"""Write docs/screening-record.schema.json from the ScreeningRecord model.

Run after changing the record model:  .venv/bin/python scripts/export_screening_schema.py
(``--check`` exits 1 instead of writing when the file is out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialdesk.eligibility.schema import screening_record_schema_text

TARGET = Path(__file__).resolve().parents[1] / "docs" / "screening-record.schema.json"


def main(argv: list[str]) -> int:
    text = screening_record_schema_text()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if "--check" in argv:
        if current != text:
            print(f"{TARGET} is out of date; run scripts/export_screening_schema.py")
            return 1
        print(f"{TARGET} is up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
