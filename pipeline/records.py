"""Typed conversation records that flow through the stages.

Input fields that the pipeline does not know are kept in ``extra`` and written
back out, as ``formats.md`` requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Turn:
    index: int
    speaker: str
    text: str
    timestamp: datetime | None = None
    # Normalised text for the models (Cyrillic transliterated, PII placeholders);
    # the readable ``text`` is what the output shows.
    model_text: str = ""
    sentiment: str | None = None
    sentiment_score: float | None = None
    frustration_score: float | None = None
    frustrated: bool | None = None
    behaviours: list[str] | None = None
    behaviour_scores: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    conversation_id: str
    turns: list[Turn]
    channel: str | None = None
    language: str | None = None
    language_source: str | None = None
    agent_id: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    started_at: datetime | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    category: str | None = None
    category_score: float | None = None
    resolution: str | None = None
    resolution_score: float | None = None
    checklist: dict[str, dict[str, Any]] = field(default_factory=dict)
    qa_score: float | None = None
    auto_failed: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    empty_turns_dropped: int = 0
    pii_redacted: dict[str, int] = field(default_factory=dict)

    def agent_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker == "agent"]

    def customer_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker == "customer"]


@dataclass
class Reject:
    source: str
    location: str
    reason: str
    conversation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_file": self.source,
            "location": self.location,
            "conversation_id": self.conversation_id,
            "reason": self.reason,
        }
