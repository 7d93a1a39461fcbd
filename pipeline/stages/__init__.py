"""Pipeline stages, registered by the names used in ``configs/pipeline.yaml``."""

from . import behaviours, checklist, clean, conversation_labels, customer, language, metrics  # noqa: F401
from .base import STAGES, ModelStage, Stage

__all__ = ["STAGES", "ModelStage", "Stage"]
