"""Pipeline and checklist configuration, loaded from YAML and validated with pydantic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConvauditError
from .labels import BEHAVIOURS, CATEGORIES, CHANNELS, RESOLUTIONS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PIPELINE_CONFIG = PROJECT_ROOT / "configs" / "pipeline.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChecklistItem(_Strict):
    id: str
    number: int = Field(ge=1)
    title: str = ""
    weight: float = Field(default=1.0, ge=0)
    rule: str
    params: dict[str, Any] = Field(default_factory=dict)
    na: str | None = None
    na_params: dict[str, Any] = Field(default_factory=dict)
    # Items whose verdict needs an annotator's judgement (labels.md §4): in
    # labelled data the annotator's verdict is kept, the rule only approximates it.
    judgement: bool = False
    # A judgement item whose verdict comes from a model trained on the annotators'
    # verdicts (model directory ``judgement_<id>``), the rules' verdicts among its
    # inputs; without it the rule's verdict stands.
    learned: bool = False

    @model_validator(mode="after")
    def _learned_needs_judgement(self) -> "ChecklistItem":
        if self.learned and not self.judgement:
            raise ValueError(f"item {self.id}: learned: true needs judgement: true (only annotators' verdicts can be learned)")
        return self

    @field_validator("params", "na_params")
    @classmethod
    def _known_behaviours(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in ("behaviour", "behaviours"):
            names = value.get(key)
            names = [names] if isinstance(names, str) else names or []
            unknown = [n for n in names if n not in BEHAVIOURS]
            if unknown:
                raise ValueError(f"unknown behaviour id(s) {unknown}")
        return value


class ChecklistConfig(_Strict):
    items: list[ChecklistItem]
    auto_fail: list[str] = Field(default_factory=list)
    sla_seconds: dict[str, float]
    # Categories whose requests need no explanation (labels.md item 4).
    no_explanation_categories: list[str] = Field(default_factory=lambda: ["product_info"])

    @model_validator(mode="after")
    def _consistent(self) -> "ChecklistConfig":
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("checklist item ids must be unique")
        unknown = [a for a in self.auto_fail if a not in ids]
        if unknown:
            raise ValueError(f"auto_fail names unknown items {unknown}")
        bad = [c for c in self.sla_seconds if c not in CHANNELS]
        if bad:
            raise ValueError(f"sla_seconds names unknown channels {bad}")
        bad = [c for c in self.no_explanation_categories if c not in CATEGORIES]
        if bad:
            raise ValueError(f"no_explanation_categories names unknown categories {bad}")
        if sum(i.weight for i in self.items) <= 0:
            raise ValueError("at least one checklist item needs a positive weight")
        return self

    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    def learned_items(self) -> list[str]:
        return [i.id for i in self.items if i.learned]


class CleanConfig(_Strict):
    redact_pii: bool = True
    pii_types: list[Literal["email", "card", "iban", "oib", "jmbg", "personas_kods", "phone"]] = Field(
        default_factory=lambda: ["email", "iban", "card", "jmbg", "oib", "personas_kods", "phone"]
    )
    strip_email_quotes: bool = True
    strip_signatures: bool = True
    fix_mojibake: bool = True


class LanguageConfig(_Strict):
    supported: list[str] = Field(default_factory=lambda: ["en", "hr", "sr", "lv"])
    fallback: str = "en"
    # Bosnian is close enough to Croatian and Serbian that the detector must know
    # it to avoid forcing its texts into one of them; the output keeps "bs".
    detect: list[str] = Field(default_factory=lambda: ["en", "hr", "sr", "bs", "lv"])


class ThresholdConfig(_Strict):
    # null means: use the per-label threshold chosen at training time (model card).
    frustration: float | None = Field(default=None, ge=0, le=1)
    behaviours: dict[str, float] = Field(default_factory=dict)

    @field_validator("behaviours")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k not in BEHAVIOURS]
        if unknown:
            raise ValueError(f"unknown behaviour id(s) {unknown}")
        if any(not 0 <= v <= 1 for v in value.values()):
            raise ValueError("thresholds must lie in [0, 1]")
        return value


class OutputConfig(_Strict):
    duckdb: str | None = "audit.duckdb"
    parquet: bool = True


class PipelineConfig(_Strict):
    stages: list[str]
    model_dir: str = "models/default"
    checklist: str = "configs/checklist.yaml"
    batch_size: int = Field(default=256, ge=1)
    partition_size: int = Field(default=500, ge=1)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    thresholds: ThresholdConfig = Field(default_factory=ThresholdConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    # Filled in by load_pipeline_config, not read from YAML.
    base_dir: str = ""
    checklist_config: ChecklistConfig | None = None

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def digest(self) -> str:
        data = self.model_dump(exclude={"base_dir"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConvauditError("config_missing", path=path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConvauditError("config_unreadable", path=path, detail=str(exc).splitlines()[0]) from None


def _validation_detail(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def load_checklist_config(path: str | Path) -> ChecklistConfig:
    path = Path(path)
    data = _read_yaml(path)
    try:
        return ChecklistConfig.model_validate(data)
    except ValidationError as exc:
        raise ConvauditError("config_invalid", path=path, detail=_validation_detail(exc)) from None


def load_pipeline_config(path: str | Path | None = None) -> PipelineConfig:
    """Load ``pipeline.yaml``; relative paths in it are relative to the project root
    when the config lives in ``<root>/configs/``, else to the config's folder."""
    path = Path(path) if path else DEFAULT_PIPELINE_CONFIG
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConvauditError("config_invalid", path=path, detail="expected a mapping at the top level")
    base = path.resolve().parent
    if base.name == "configs":
        base = base.parent
    try:
        cfg = PipelineConfig.model_validate({**data, "base_dir": str(base)})
    except ValidationError as exc:
        raise ConvauditError("config_invalid", path=path, detail=_validation_detail(exc)) from None
    cfg.checklist_config = load_checklist_config(cfg.resolve(cfg.checklist))
    return cfg


__all__ = [
    "ChecklistConfig",
    "ChecklistItem",
    "PipelineConfig",
    "load_checklist_config",
    "load_pipeline_config",
    "RESOLUTIONS",
]
