"""Conversation labels: category and resolution."""

from __future__ import annotations

import numpy as np

from ..config import PipelineConfig
from ..features import conversation_input
from ..models import load_model
from ..records import Conversation
from .base import ModelStage, card_version, register


@register("conversation_labels")
class ConversationLabeler(ModelStage):
    tasks = ("category", "resolution")

    def __init__(self, models: dict[str, tuple]):
        self.models = models

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "ConversationLabeler":
        root = config.resolve(config.model_dir)
        return cls({task: load_model(root / task, task) for task in cls.tasks})

    def predict(self, batch: list[Conversation]) -> dict[str, np.ndarray]:
        texts = [conversation_input(c) for c in batch]
        return {task: model.predict_proba(texts) for task, (model, _) in self.models.items()}

    def set_annotations(self, batch: list[Conversation], scores: dict[str, np.ndarray]) -> None:
        for task, proba in scores.items():
            model, card = self.models[task]
            for conv, row in zip(batch, proba):
                best = int(row.argmax())
                setattr(conv, task, model.labels_[best])
                setattr(conv, f"{task}_score", round(float(row[best]), 4))
                conv.models[task] = card_version(card)

    def loaded_models(self) -> list:
        return [model for model, _ in self.models.values()]

    def model_versions(self) -> dict[str, str]:
        return {task: card_version(card) for task, (_, card) in self.models.items()}
