"""Agent turns: the checklist behaviours (multi-label)."""

from __future__ import annotations

import numpy as np

from ..config import PipelineConfig
from ..features import turn_inputs
from ..labels import BEHAVIOURS
from ..models import load_model
from ..records import Conversation
from .base import ModelStage, card_version, register, score_turns


@register("behaviours")
class BehaviourClassifier(ModelStage):
    task = "behaviours"

    def __init__(self, model, card: dict, overrides: dict[str, float] | None = None):
        self.model = model
        self.card = card
        learned = card.get("thresholds", {})
        self.thresholds = {b: float((overrides or {}).get(b, learned.get(b, 0.5))) for b in BEHAVIOURS}

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "BehaviourClassifier":
        model, card = load_model(config.resolve(config.model_dir) / cls.task, cls.task)
        return cls(model, card, config.thresholds.behaviours)

    def predict(self, batch: list[Conversation]) -> np.ndarray:
        return score_turns(self.model, [[x for _, x in turn_inputs(conv, "agent")] for conv in batch])

    def set_annotations(self, batch: list[Conversation], scores: np.ndarray) -> None:
        turns = [t for conv in batch for t in conv.turns if t.speaker == "agent"]
        labels = list(self.model.labels_)
        columns = [labels.index(b) if b in labels else None for b in BEHAVIOURS]
        # Rounded once as an array: the same values as rounding each float.
        rounded = np.round(scores, 4).tolist() if len(turns) else []
        thresholds = [self.thresholds[b] for b in BEHAVIOURS]
        for turn, row in zip(turns, rounded):
            values = [row[c] if c is not None else 0.0 for c in columns]
            turn.behaviour_scores = dict(zip(BEHAVIOURS, values))
            turn.behaviours = [b for b, v, th in zip(BEHAVIOURS, values, thresholds) if v >= th]
        for conv in batch:
            for turn in conv.turns:
                if turn.speaker in ("bot", "system"):
                    turn.behaviours = None
            conv.models[self.task] = card_version(self.card)

    def model_versions(self) -> dict[str, str]:
        return {self.task: card_version(self.card)}
