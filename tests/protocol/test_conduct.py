"""The protocol's conduct section: identifiers and how long a screening stays valid."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Conduct


def test_builtin_gives_rli_study_ids_and_marks_the_choice_as_an_assumption() -> None:
    conduct = builtin_protocol().protocol.conduct
    assert conduct.study_id_format.format(n=7) == "RLI-007"
    assert conduct.screening_number_format.format(n=12) == "S-012"
    assert conduct.assumption and conduct.note
    assert ("conduct", conduct.note) in builtin_protocol().protocol.assumptions()


@pytest.mark.parametrize("bad", ["RLI-001", "RLI-{m:03d}", "RLI-{n:d", "{n}" + "x" * 30])
def test_a_format_without_a_usable_n_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="study_id_format"):
        Conduct(study_id_format=bad)
