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
