"""Text models: ``texts -> scores`` (and the optional context stage, scores -> scores). Stages own records and thresholds; models own only scoring."""

from .artifacts import load_model, load_card, save_model
from .context import ContextualTurnModel, TurnContextModel
from .linear import LinearTextModel

__all__ = ["ContextualTurnModel", "LinearTextModel", "TurnContextModel", "load_model", "load_card", "save_model"]
