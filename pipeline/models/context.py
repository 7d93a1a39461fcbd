"""A second stage over a turn model: each turn re-scored with its neighbours' scores.

Agent behaviours follow each other in a conversation (an explanation comes before
the fix, the question about anything else near the end, an alternative after a
refusal), and a turn model that reads one turn at a time cannot see that.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from .linear import labels_at_thresholds

# Probabilities are clipped to [EPS, 1 - EPS] before the logit; a missing
# neighbour reads as a logit of 0 (no evidence) and a missing "elsewhere in the
# conversation" as the floor.
_EPS = 1e-4
_FLOOR = float(np.log(_EPS / (1 - _EPS)))


def context_features(blocks: list[np.ndarray], position: bool = True) -> np.ndarray:
    """Features of every turn, in block order: the turn's label logits, the
    previous and the next turn's (0 where there is none), each label's highest
    logit among the conversation's other turns, and, with ``position``, six
    position cues.

    ``blocks``: one array (turns x labels) of turn-model probabilities per
    conversation, turns in conversation order."""
    blocks = [np.asarray(b, dtype=float) for b in blocks]
    n_labels = next((b.shape[1] for b in blocks if b.ndim == 2), 0)
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return np.zeros((0, 4 * n_labels + (6 if position else 0)))
    sizes = np.array([len(b) for b in blocks])
    p = np.clip(np.vstack(blocks), _EPS, 1 - _EPS)
    logit = np.log(p / (1 - p))
    starts = np.cumsum(sizes) - sizes
    conv = np.repeat(np.arange(len(blocks)), sizes)
    pos = np.arange(len(logit)) - starts[conv]
    size = sizes[conv]
    has_prev, has_next = pos > 0, pos < size - 1
    prev = np.zeros_like(logit)
    prev[1:] = logit[:-1]
    prev[~has_prev] = 0.0
    nxt = np.zeros_like(logit)
    nxt[:-1] = logit[1:]
    nxt[~has_next] = 0.0
    # Highest logit elsewhere: the conversation's maximum, or its second highest
    # for the one turn that holds a unique maximum.
    top = np.maximum.reduceat(logit, starts, axis=0)[conv]
    is_top = logit == top
    n_top = np.add.reduceat(is_top.astype(int), starts, axis=0)[conv]
    second = np.maximum.reduceat(np.where(is_top, -np.inf, logit), starts, axis=0)[conv]
    other = np.where(is_top & (n_top == 1), second, top)
    other[size == 1] = _FLOOR
    other = np.maximum(other, _FLOOR)
    if not position:
        return np.hstack([logit, prev, nxt, other])
    cues = np.stack([has_prev, has_next, pos == 0, pos == size - 1, np.minimum(pos, 5) / 5,
                         np.minimum(size - 1 - pos, 5) / 5], axis=1).astype(float)
    return np.hstack([logit, prev, nxt, other, cues])


class TurnContextModel:
    """Per label, gradient-boosted trees over ``context_features``: scores in,
    scores out, for one conversation's turns at a time. Trained on out-of-fold
    probabilities of the turn model, so it learns how far to trust them on
    conversations that model has not seen.

    ``position``: whether the six position cues are features. The turn models
    already read position markers; see training/train.py (CONTEXT_PARAMS) for
    where the cues earned their place.
    """

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 20, position: bool = True, random_state: int = 0):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.position = position
        self.random_state = random_state

    def fit(self, blocks: list[np.ndarray], Y, labels: list[str]) -> "TurnContextModel":
        """``blocks``: turn-model probabilities per conversation; ``Y``: the gold
        0/1 matrix of the same turns in the same order."""
        X = context_features(blocks, self.position)
        Y = np.asarray(Y)
        self.labels_ = list(labels)
        self.prior_ = Y.mean(axis=0).astype(float) if len(Y) else np.zeros(len(self.labels_))
        self.estimators_ = []
        for j in range(len(self.labels_)):
            col = Y[:, j]
            if len(col) == 0 or col.min() == col.max():
                self.estimators_.append(None)
                continue
            est = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                                 max_leaf_nodes=self.max_leaf_nodes,
                                                 min_samples_leaf=self.min_samples_leaf,
                                                 random_state=self.random_state)
            self.estimators_.append(est.fit(X, col))
        return self

    def predict_proba(self, blocks: list[np.ndarray]) -> np.ndarray:
        X = context_features(blocks, self.position)
        out = np.zeros((len(X), len(self.labels_)))
        # One thread: a batch is a few thousand rows, where OpenMP's start-up
        # costs more than it saves, and beside other busy processes (Dask
        # workers, training folds) its spinning threads slowed scoring 25-fold.
        with threadpool_limits(limits=1, user_api="openmp"):
            for j, est in enumerate(self.estimators_):
                out[:, j] = self.prior_[j] if est is None or not len(X) else est.predict_proba(X)[:, 1]
        return out

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf",
                                              "position", "random_state")}


class ContextualTurnModel:
    """A turn model (``texts -> scores``) whose scores a ``TurnContextModel``
    re-estimates within each conversation. ``predict_proba`` takes the turns'
    texts and ``sizes``, how many consecutive texts belong to each conversation;
    without ``sizes`` every text is its own conversation."""

    uses_context = True

    def __init__(self, turn_model=None, context_model: TurnContextModel | None = None):
        self.turn_model = turn_model
        self.context_model = context_model

    @property
    def labels_(self) -> list[str]:
        return self.turn_model.labels_

    def predict_proba(self, texts: list[str], sizes: list[int] | None = None) -> np.ndarray:
        texts = list(texts)
        if sizes is None:
            sizes = [1] * len(texts)
        if sum(sizes) != len(texts):
            raise ValueError(f"sizes add up to {sum(sizes)}, not to the {len(texts)} texts")
        proba = self.turn_model.predict_proba(texts)
        blocks = np.split(proba, np.cumsum(sizes)[:-1]) if len(sizes) else []
        return self.context_model.predict_proba(blocks)

    def predict(self, texts: list[str], sizes: list[int] | None = None) -> list[list[str]]:
        return labels_at_thresholds(self.predict_proba(texts, sizes), self.labels_, getattr(self, "thresholds_", {}))

    def warm_up(self) -> None:
        if hasattr(self.turn_model, "warm_up"):
            self.turn_model.warm_up()

    def get_params(self) -> dict:
        return {"turn_model": self.turn_model.get_params(), "context_model": self.context_model.get_params()}
