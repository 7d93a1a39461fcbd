"""Text models: ``texts -> scores``. Stages own records and thresholds; models own only scoring."""

from .artifacts import load_model, load_card, save_model
from .linear import LinearTextModel

__all__ = ["LinearTextModel", "load_model", "load_card", "save_model"]
