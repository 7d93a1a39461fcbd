"""Saving and loading model artifacts: skops files plus a JSON model card.

Layout of one task's artifact directory::

    models/default/behaviours/model.skops
    models/default/behaviours/model_card.json
"""

from __future__ import annotations

import json
import logging
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConvauditError

log = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
CARD_FILE = "model_card.json"

# Only these modules may appear inside a model file; anything else is refused.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "pipeline.models.", "collections.", "re.")


def _skops_io():
    """``skops.io``, imported without its start-up scan of every scikit-learn estimator.

    At import skops lists all estimators (importing every scikit-learn module,
    about six seconds here) only to build a default trust list. Every load here
    passes its own trust list, checked against ``_TRUSTED_PREFIXES``, so the scan
    buys nothing and would be paid by every run and every Dask worker.
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import sklearn.utils

    original = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    try:
        import skops.io as sio
    finally:
        sklearn.utils.all_estimators = original
    return sio


def save_model(model: Any, path: str | Path, card: dict[str, Any]) -> Path:
    sio = _skops_io()

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # Compressed: the tree ensembles and the sparse linear weights shrink to a
    # third and two thirds, for a tenth of a second more at load.
    sio.dump(model, path / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    card = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **card}
    card.setdefault("labels", list(getattr(model, "labels_", [])))
    if getattr(model, "thresholds_", None):
        card["thresholds"] = {k: round(float(v), 4) for k, v in model.thresholds_.items()}
    (path / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_card(path: str | Path) -> dict[str, Any]:
    card_path = Path(path) / CARD_FILE
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConvauditError("model_missing", task=Path(path).name, path=card_path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConvauditError("model_load", path=card_path, detail=str(exc)) from None


def load_model(path: str | Path, task: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Load a model and its card; thresholds in the card override the model's."""
    sio = _skops_io()

    path = Path(path)
    model_path = path / MODEL_FILE
    if not model_path.is_file():
        raise ConvauditError("model_missing", task=task or path.name, path=model_path)
    card = load_card(path)
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
        bad = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if bad:
            raise ConvauditError("model_untrusted", path=model_path, types=", ".join(bad))
        model = sio.load(model_path, trusted=untrusted)
    except ConvauditError:
        raise
    except Exception as exc:  # skops raises many kinds for a corrupt file
        raise ConvauditError("model_load", path=model_path, detail=f"{type(exc).__name__}: {exc}") from None
    if card.get("thresholds") and hasattr(model, "thresholds_"):
        model.thresholds_ = {k: float(v) for k, v in card["thresholds"].items()}
    log.debug("loaded %s (%s %s)", model_path, card.get("name"), card.get("version"))
    return model, card
