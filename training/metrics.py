"""Classification metrics, written out so the arithmetic is visible and tested."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def multilabel_report(Y: np.ndarray, P: np.ndarray, labels: Sequence[str], groups: Sequence[str] | None = None) -> dict[str, Any]:
    Y = np.asarray(Y, dtype=bool)
    P = np.asarray(P, dtype=bool)
    per_label = {}
    tot = Counter()
    for j, label in enumerate(labels):
        tp = int((Y[:, j] & P[:, j]).sum())
        fp = int((~Y[:, j] & P[:, j]).sum())
        fn = int((Y[:, j] & ~P[:, j]).sum())
        per_label[label] = {**prf(tp, fp, fn), "support": int(Y[:, j].sum()), "tp": tp, "fp": fp, "fn": fn}
        tot.update({"tp": tp, "fp": fp, "fn": fn})
    with_support = [v for v in per_label.values() if v["support"] > 0]
    micro = prf(tot["tp"], tot["fp"], tot["fn"])
    overall = {
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "micro_f1": micro["f1"],
        "macro_f1": round(float(np.mean([v["f1"] for v in with_support])) if with_support else 0.0, 4),
        "examples": int(len(Y)),
    }
    return {"overall": overall, "per_label": per_label}


def multiclass_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    per_label = {}
    for label in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == label and p == label)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != label and p == label)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == label and p != label)
        per_label[label] = {**prf(tp, fp, fn), "support": sum(1 for t in y_true if t == label)}
    with_support = [v for v in per_label.values() if v["support"] > 0]
    n = len(y_true)
    correct = sum(1 for t, p in zip(y_true, y_pred) if t == p)
    overall = {
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(float(np.mean([v["f1"] for v in with_support])) if with_support else 0.0, 4),
        "examples": n,
    }
    return {"overall": overall, "per_label": per_label, "confusion": confusion(y_true, y_pred, labels)}


def confusion(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """Rows: true label; columns: predicted label."""
    m = {t: {p: 0 for p in labels} for t in labels}
    for t, p in zip(y_true, y_pred):
        if t in m and p in m[t]:
            m[t][p] += 1
    return m


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict[str, Any]:
    """Reliability table and expected calibration error (ECE)."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    rows = []
    ece = 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        mask = (conf >= lo) & ((conf < hi) if i < bins - 1 else (conf <= hi))
        n = int(mask.sum())
        if n == 0:
            continue
        mean_conf = float(conf[mask].mean())
        acc = float(ok[mask].mean())
        ece += n / len(conf) * abs(acc - mean_conf)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": n, "mean_confidence": round(mean_conf, 4), "accuracy": round(acc, 4)})
    return {"bins": rows, "ece": round(ece, 4), "n": int(len(conf))}


# ---------------------------------------------------------------- intervals
# A bootstrap over conversations, not turns: turns of one conversation share a
# writer, an agent and a story, so resampling them one by one would pretend
# they are independent and give intervals that are too narrow.
def f1_from_counts(sums: np.ndarray) -> np.ndarray:
    """F1 from summed (tp, fp, fn) columns, 0 where there is nothing to score."""
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)


def accuracy_from_counts(sums: np.ndarray) -> np.ndarray:
    """Accuracy from summed (correct, total) columns."""
    correct, total = sums[..., 0], sums[..., 1]
    return np.divide(correct, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def macro_f1_from_confusion(sums: np.ndarray) -> np.ndarray:
    """Macro-F1 from a flattened c x c confusion matrix (rows true, columns
    predicted), averaged over the classes present in the truth, as
    ``multiclass_report`` does."""
    c = int(round(np.sqrt(sums.shape[-1])))
    m = sums.reshape(sums.shape[:-1] + (c, c)).astype(float)
    tp = np.diagonal(m, axis1=-2, axis2=-1)
    support = m.sum(axis=-1)
    predicted = m.sum(axis=-2)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    present = support > 0
    n_present = present.sum(axis=-1)
    return np.divide((f1 * present).sum(axis=-1), n_present, out=np.zeros(n_present.shape), where=n_present > 0)


STATISTICS = {"f1": f1_from_counts, "accuracy": accuracy_from_counts, "macro_f1": macro_f1_from_confusion}


def bootstrap_interval(units: np.ndarray, statistic: str, n_resamples: int = 1000, level: float = 0.95,
                       random_state: int = 0, baseline: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile interval of a metric when the units (rows of per-unit counts,
    e.g. one row per conversation) are drawn again with replacement.

    With ``baseline`` (the baseline's counts on the same units, row for row):
    the interval of the difference metric - baseline metric, both computed on
    the same resamples (a paired bootstrap)."""
    units = np.asarray(units, dtype=float)
    n = len(units)
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(random_state)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)
    values = STATISTICS[statistic](weights @ units)
    if baseline is not None:
        values = values - STATISTICS[statistic](weights @ np.asarray(baseline, dtype=float))
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [tail, 1.0 - tail])
    return (round(float(lo), 4), round(float(hi), 4))


def f1_counts_by_unit(units: Sequence[int], truth: Sequence[bool], pred: Sequence[bool], n_units: int) -> np.ndarray:
    """(tp, fp, fn) per unit from per-example unit ids and binary decisions."""
    u = np.asarray(units, dtype=int)
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    return np.stack([np.bincount(u, weights=(a & b).astype(float), minlength=n_units)
                     for a, b in ((t, p), (~t, p), (t, ~p))], axis=1)


def confusion_by_unit(units: Sequence[int], truth: Sequence[str], pred: Sequence[str], labels: Sequence[str],
                      n_units: int) -> np.ndarray:
    """The flattened confusion matrix (rows true, columns predicted) per unit;
    predictions outside ``labels`` count in no cell."""
    index = {label: i for i, label in enumerate(labels)}
    c = len(labels)
    out = np.zeros((n_units, c * c))
    for u, t, p in zip(units, truth, pred):
        if t in index and p in index:
            out[u, index[t] * c + index[p]] += 1
    return out
