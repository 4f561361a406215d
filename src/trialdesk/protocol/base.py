"""Building blocks shared by every protocol model: strict parsing, bilingual text, assumptions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Sourced", "Strict", "Text"]


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo in a protocol file must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text shown to people, in English and Simplified Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1, description="Simplified Chinese")

    def get(self, lang: str) -> str:
        return self.zh if lang.lower().startswith("zh") else self.en


class Sourced(Strict):
    """Mixin for a value that may be an assumption rather than a registered fact."""

    assumption: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _assumption_needs_note(self) -> Sourced:
        if self.assumption and not (self.note and self.note.strip()):
            raise ValueError("an assumption needs a note saying what was assumed and why")
        return self
