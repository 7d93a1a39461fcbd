"""The stage contract: a batch of conversations in, the same batch enriched out."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..config import PipelineConfig
from ..records import Conversation
from ..spacy_text import SPACY_LANGUAGES, spacy_text

STAGES: dict[str, type["Stage"]] = {}


def register(name: str):
    def deco(cls):
        cls.name = name
        STAGES[name] = cls
        return cls

    return deco


class Stage:
    """One job, one signature. Stages must not reorder or drop conversations."""

    name = "stage"

    @classmethod
    def from_config(cls, config: PipelineConfig) -> "Stage":
        return cls()

    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        raise NotImplementedError

    def pipe(self, convs: Iterable[Conversation], *, batch_size: int = 256) -> Iterator[Conversation]:
        batch: list[Conversation] = []
        for conv in convs:
            batch.append(conv)
            if len(batch) >= batch_size:
                yield from self(batch)
                batch = []
        if batch:
            yield from self(batch)

    def model_versions(self) -> dict[str, str]:
        return {}


class ModelStage(Stage):
    """A stage backed by a model: ``predict`` has no side effects,
    ``set_annotations`` writes the scores onto the records."""

    def predict(self, batch: list[Conversation]) -> Any:
        raise NotImplementedError

    def set_annotations(self, batch: list[Conversation], scores: Any) -> None:
        raise NotImplementedError

    def __call__(self, batch: list[Conversation]) -> list[Conversation]:
        self.set_annotations(batch, self.predict(batch))
        return batch

    def loaded_models(self) -> list[Any]:
        """The models this stage scores with."""
        return [self.model] if hasattr(self, "model") else []

    def warm_up(self) -> None:
        """Let the models fill their caches before a long run."""
        for language in SPACY_LANGUAGES:
            spacy_text(language)
        for model in self.loaded_models():
            if hasattr(model, "warm_up"):
                model.warm_up()


def score_turns(model: Any, inputs: list[list[str]]) -> Any:
    """``model``'s probabilities for every turn, ``inputs`` holding each
    conversation's turn inputs in order. A model that re-scores turns with their
    neighbours' scores (``uses_context``) is told where conversations end."""
    texts = [x for conv_inputs in inputs for x in conv_inputs]
    if getattr(model, "uses_context", False):
        return model.predict_proba(texts, sizes=[len(conv_inputs) for conv_inputs in inputs])
    return model.predict_proba(texts)


def card_version(card: dict) -> str:
    return f"{card.get('name', 'model')}@{card.get('version', '0')}"
