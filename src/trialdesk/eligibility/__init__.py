"""IS this patient eligible? Criteria evaluated tri-state with evidence, for one record.

from trialdesk.eligibility import load_record, screen
from trialdesk.protocol import builtin_protocol

result = screen(builtin_protocol().protocol, load_record("patient.yaml"))
result.verdict        # "eligible" | "ineligible" | "incomplete" | "needs_review"
result.to_json()      # {"verdict": ..., "criteria": [{"id", "status", "reason", "evidence"}]}
"""

from trialdesk.eligibility.evaluate import judgement_ids, judgement_questions, screen
from trialdesk.eligibility.loading import load_record, parse_record_text
from trialdesk.eligibility.record import (
    BodyMeasurement,
    HistoryEntry,
    JudgementAnswer,
    LabResult,
    MedicationEntry,
    RecordError,
    ScreeningRecord,
)
from trialdesk.eligibility.result import CriterionResult, ScreeningResult, Status, Verdict

__all__ = [
    "BodyMeasurement",
    "CriterionResult",
    "HistoryEntry",
    "JudgementAnswer",
    "LabResult",
    "MedicationEntry",
    "RecordError",
    "ScreeningRecord",
    "ScreeningResult",
    "Status",
    "Verdict",
    "judgement_ids",
    "judgement_questions",
    "load_record",
    "parse_record_text",
    "screen",
]
