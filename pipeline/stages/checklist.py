"""Checklist verdicts and the weighted QA score."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checklist_rules import ChecklistRules, judgement_input, judgement_task
from ..config import ChecklistConfig, PipelineConfig
from ..models import load_model
from ..records import Conversation
from .base import ModelStage, card_version, register


@register("checklist")
class ChecklistScorer(ModelStage):
    """Rules for every item; for the items marked ``learned``, the judgement
    model's verdict replaces the rule's. ``models``: item id -> (model, card)."""

    def __init__(self, config: ChecklistConfig, models: dict[str, tuple] | None = None):
        self.rules = ChecklistRules(config)
        self.models = models or {}

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "ChecklistScorer":
        checklist = config.checklist_config
        root = config.resolve(config.model_dir)
        models = {item: load_model(root / judgement_task(item), judgement_task(item))
                  for item in checklist.learned_items()}
        return cls(checklist, models)

    def predict(self, batch: list[Conversation]) -> dict[str, Any]:
        verdicts = [self.rules.evaluate(conv) for conv in batch]
        scores: dict[str, Any] = {"rules": verdicts}
        if self.models:
            texts = [judgement_input(conv, v) for conv, v in zip(batch, verdicts)]
            for item, (model, _) in self.models.items():
                scores[item] = model.predict_proba(texts)
        return scores

    def set_annotations(self, batch: list[Conversation], scores: dict[str, Any]) -> None:
        for i, conv in enumerate(batch):
            checklist = dict(scores["rules"][i])
            for item, (model, card) in self.models.items():
                row = scores[item][i]
                best = int(np.argmax(row))
                verdict = model.labels_[best]
                # The turns the rule's decision rested on are the ones an auditor
                # checks either way; a not-applicable verdict points at none.
                evidence = [] if verdict == "na" else checklist[item]["evidence"]
                checklist[item] = {"verdict": verdict, "confidence": round(float(row[best]), 4), "evidence": evidence}
                conv.models[judgement_task(item)] = card_version(card)
            conv.checklist = checklist
            conv.qa_score, conv.auto_failed = self.rules.qa_score(checklist)

    def loaded_models(self) -> list:
        return [model for model, _ in self.models.values()]

    def model_versions(self) -> dict[str, str]:
        return {judgement_task(item): card_version(card) for item, (_, card) in self.models.items()}
