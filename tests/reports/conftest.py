"""Fixtures for the report tests: the trial-desk helpers of tests/trial on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

_TRIAL_HELPERS = str(Path(__file__).resolve().parents[1] / "trial")
if _TRIAL_HELPERS not in sys.path:
    sys.path.insert(0, _TRIAL_HELPERS)
