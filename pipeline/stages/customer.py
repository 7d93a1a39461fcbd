"""Customer turns: sentiment (3 classes) and frustration (binary)."""

from __future__ import annotations

import numpy as np

from ..config import PipelineConfig
from ..features import turn_inputs
from ..models import load_model
from ..records import Conversation, Turn
from .base import ModelStage, card_version, register, score_turns


def _customer_inputs(batch: list[Conversation]) -> list[list[str]]:
    return [[text for _, text in turn_inputs(conv, "customer")] for conv in batch]


def _customer_turns(batch: list[Conversation]) -> list[Turn]:
    return [t for conv in batch for t in conv.turns if t.speaker == "customer"]


@register("sentiment")
class SentimentClassifier(ModelStage):
    task = "sentiment"

    def __init__(self, model, card: dict):
        self.model = model
        self.card = card

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "SentimentClassifier":
        return cls(*load_model(config.resolve(config.model_dir) / cls.task, cls.task))

    def predict(self, batch: list[Conversation]) -> np.ndarray:
        return score_turns(self.model, _customer_inputs(batch))

    def set_annotations(self, batch: list[Conversation], scores: np.ndarray) -> None:
        turns = _customer_turns(batch)
        labels = list(self.model.labels_)
        neg, pos = labels.index("negative"), labels.index("positive")
        for turn, row in zip(turns, scores):
            turn.sentiment = labels[int(row.argmax())]
            turn.sentiment_score = round(float(row[pos] - row[neg]), 4)
        for conv in batch:
            conv.models[self.task] = card_version(self.card)

    def model_versions(self) -> dict[str, str]:
        return {self.task: card_version(self.card)}


@register("frustration")
class FrustrationDetector(ModelStage):
    task = "frustration"

    def __init__(self, model, card: dict, threshold: float | None = None):
        self.model = model
        self.card = card
        self.threshold = threshold if threshold is not None else float(card.get("thresholds", {}).get("frustration", 0.5))

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "FrustrationDetector":
        model, card = load_model(config.resolve(config.model_dir) / cls.task, cls.task)
        return cls(model, card, config.thresholds.frustration)

    def predict(self, batch: list[Conversation]) -> np.ndarray:
        proba = score_turns(self.model, _customer_inputs(batch))
        return proba[:, list(self.model.labels_).index("frustration")] if len(proba) else np.zeros(0)

    def set_annotations(self, batch: list[Conversation], scores: np.ndarray) -> None:
        turns = _customer_turns(batch)
        for turn, score in zip(turns, scores):
            turn.frustration_score = round(float(score), 4)
            turn.frustrated = bool(score >= self.threshold)
            if turn.frustrated and turn.sentiment is not None:
                # labels.md §1: every frustrated turn is also negative.
                turn.sentiment = "negative"
                turn.sentiment_score = round(min(turn.sentiment_score or 0.0, -float(score)), 4)
        for conv in batch:
            conv.models[self.task] = card_version(self.card)

    def model_versions(self) -> dict[str, str]:
        return {self.task: card_version(self.card)}
