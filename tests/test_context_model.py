"""The second stage that re-scores turns with their neighbours' scores."""

import numpy as np
import pytest

from pipeline.models import ContextualTurnModel, LinearTextModel, TurnContextModel, load_model, save_model
from pipeline.models.context import context_features


def test_context_features_by_hand():
    blocks = [np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]), np.zeros((0, 2)), np.array([[0.7, 0.3]]),
              np.array([[0.5, 0.5], [0.5, 0.5]])]
    X = context_features(blocks)
    assert X.shape == (6, 4 * 2 + 6)
    l9, l4, l73 = np.log(9), np.log(4), np.log(7 / 3)
    floor = np.log(1e-4 / (1 - 1e-4))
    # own | previous | next | highest elsewhere | has prev, has next, first, last, position, turns to the end
    expected = [
        [l9, -l9, 0, 0, -l4, l4, 0, l4, 0, 1, 1, 0, 0, 0.4],
        [-l4, l4, l9, -l9, 0, 0, l9, 0, 1, 1, 0, 0, 0.2, 0.2],
        [0, 0, -l4, l4, 0, 0, l9, l4, 1, 0, 0, 1, 0.4, 0],
        [l73, -l73, 0, 0, 0, 0, floor, floor, 0, 0, 1, 1, 0, 0],
        # Two turns tied at the maximum: each still sees the maximum elsewhere.
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0.2],
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0.2, 0],
    ]
    np.testing.assert_allclose(X, expected, atol=1e-9)
    np.testing.assert_allclose(context_features(blocks, position=False), np.array(expected)[:, :8], atol=1e-9)
    assert context_features([]).shape == (0, 6) and context_features([], position=False).shape == (0, 0)


def _neighbour_task(seed: int, n: int = 60):
    """Label b holds exactly when the previous turn scored high on a: one turn's
    own scores cannot tell, its neighbour's can."""
    rng = np.random.default_rng(seed)
    blocks, gold = [], []
    for _ in range(n):
        block = rng.uniform(0.05, 0.95, size=(rng.integers(2, 5), 2))
        block[:, 0] = np.where(rng.random(len(block)) < 0.5, 0.9, 0.1)
        y = np.zeros((len(block), 2), dtype=int)
        y[:, 0] = block[:, 0] > 0.5
        y[1:, 1] = block[:-1, 0] > 0.5
        blocks.append(block)
        gold.append(y)
    return blocks, np.vstack(gold)


def test_context_model_learns_from_the_previous_turn_and_generalises():
    blocks, Y = _neighbour_task(0)
    model = TurnContextModel(max_iter=50, min_samples_leaf=2, random_state=0)
    assert not any(k.endswith("_") for k in vars(model))
    assert model.fit(blocks, Y, ["a", "b"]) is model
    test_blocks, test_Y = _neighbour_task(1)
    pred = model.predict_proba(test_blocks) >= 0.5
    assert (pred == test_Y.astype(bool)).mean() == 1.0
    # A constant label is predicted at its prior.
    constant = TurnContextModel().fit(blocks, np.column_stack([Y[:, 0], np.zeros(len(Y), int)]), ["a", "b"])
    assert constant.estimators_[1] is None and (constant.predict_proba(blocks)[:, 1] == 0).all()


TEXTS = ["Dobar dan, ovdje Marko.", "Evo objašnjenja: uplata je rezervirana.", "Vraćam vam novac danas.",
         "Good morning, Ana here.", "The charge was only a reservation.", "I've refunded you today."]


def _tiny_contextual():
    y = [["greeting"], ["explanation"], ["solution"]] * 2
    turn = LinearTextModel(C=100.0, calibration=None, random_state=0).fit(TEXTS * 3, y * 3)
    blocks = [turn.predict_proba(TEXTS[i : i + 3]) for i in (0, 3)] * 3
    Y = np.array([[1 if l in row else 0 for l in turn.labels_] for row in y * 3])
    context = TurnContextModel(max_iter=20, min_samples_leaf=1, random_state=0).fit(blocks, Y, turn.labels_)
    return ContextualTurnModel(turn, context), y


def test_contextual_model_overfits_saves_loads_and_predicts_the_same(tmp_path):
    model, y = _tiny_contextual()
    model.thresholds_ = {label: 0.5 for label in model.labels_}
    assert [sorted(p) for p in model.predict(TEXTS, sizes=[3, 3])] == y
    save_model(model, tmp_path / "m", {"name": "tiny", "version": "0.0.1"})
    loaded, card = load_model(tmp_path / "m")
    assert isinstance(loaded, ContextualTurnModel) and card["labels"] == model.labels_
    np.testing.assert_allclose(loaded.predict_proba(TEXTS, sizes=[3, 3]), model.predict_proba(TEXTS, sizes=[3, 3]))


def test_contextual_model_scores_a_conversation_the_same_alone_or_in_a_batch():
    model, _ = _tiny_contextual()
    together = model.predict_proba(TEXTS, sizes=[3, 0, 3])
    alone = np.vstack([model.predict_proba(TEXTS[:3], sizes=[3]), model.predict_proba(TEXTS[3:], sizes=[3])])
    np.testing.assert_array_equal(together, alone)
    assert model.predict_proba([], sizes=[]).shape == (0, len(model.labels_))
    with pytest.raises(ValueError, match="sizes"):
        model.predict_proba(TEXTS, sizes=[2, 2])
