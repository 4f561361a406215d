"""The export tests reuse the trial-desk helpers of tests/trial (a desk on a manual clock)."""

from __future__ import annotations

import sys
from pathlib import Path

TRIAL_HELPERS = Path(__file__).resolve().parents[1] / "trial"
if str(TRIAL_HELPERS) not in sys.path:
    sys.path.insert(0, str(TRIAL_HELPERS))
