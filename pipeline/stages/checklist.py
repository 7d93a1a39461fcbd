"""Checklist verdicts and the weighted QA score."""

from __future__ import annotations

from ..checklist_rules import ChecklistRules
from ..config import ChecklistConfig, PipelineConfig
from ..records import Conversation
from .base import Stage, register


@register("checklist")
class ChecklistScorer(Stage):
    def __init__(self, config: ChecklistConfig):
        self.rules = ChecklistRules(config)

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "ChecklistScorer":
        return cls(config.checklist_config)

    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        for conv in batch:
            conv.checklist = self.rules.evaluate(conv)
            conv.qa_score, conv.auto_failed = self.rules.qa_score(conv.checklist)
        return batch
