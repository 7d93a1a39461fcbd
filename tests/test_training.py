"""Training on a tiny corpus: every task, cards, thresholds, and refusing a worse model."""

import json

import pytest

from pipeline.errors import ConvauditError
from pipeline.models import load_model
from training.train import choose_thresholds, train_all


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory, tiny_labelled_path):
    out = tmp_path_factory.mktemp("models")
    result = train_all([str(tiny_labelled_path)], out, folds=2)
    return out, result


def test_trains_every_task_with_a_card(tiny_models):
    out, result = tiny_models
    assert result["tasks"] == ["sentiment", "frustration", "behaviours", "category", "resolution"]
    for task in result["tasks"]:
        model, card = load_model(out / task)
        assert card["version"] == "1.0.0" and card["training_data"]["conversations"] == 8
        assert card["labels"] == list(model.labels_)
        assert len(card["training_data"]["sha256_16"]) == 16
    _, card = load_model(out / "behaviours")
    assert set(card["thresholds"]) == set(card["labels"])


def test_tiny_models_learn_their_training_set(tiny_models, tiny_labelled_path):
    out, _ = tiny_models
    model, _ = load_model(out / "sentiment")
    from training.corpus import load_labelled
    from training.train import task_examples

    convs, _ = load_labelled([str(tiny_labelled_path)])
    texts, ys, _, _ = task_examples("sentiment", convs)
    pred = model.predict(texts)
    assert sum(p == y for p, y in zip(pred, ys)) / len(ys) >= 0.8


def test_refuses_a_worse_model_unless_forced(tiny_models, tiny_labelled_path, tmp_path):
    out, _ = tiny_models
    card_path = out / "sentiment" / "model_card.json"
    card = json.loads(card_path.read_text())
    card["metrics"]["cross_validated"]["macro_f1"] = 1.01  # pretend the model in place is better
    card_path.write_text(json.dumps(card))
    with pytest.raises(ConvauditError, match="worse than the existing one"):
        train_all([str(tiny_labelled_path)], out, folds=2, tasks=("sentiment",))
    assert json.loads(card_path.read_text())["metrics"]["cross_validated"]["macro_f1"] == 1.01
    result = train_all([str(tiny_labelled_path)], out, folds=2, tasks=("sentiment",), force=True)
    assert result["comparisons"]["sentiment"]["old"] == 1.01
    assert json.loads(card_path.read_text())["version"] == "1.1.0"


def test_thresholds_maximise_f1_by_hand():
    import numpy as np

    proba = np.array([[0.9], [0.7], [0.35], [0.2]])
    Y = np.array([[1], [1], [1], [0]])
    # At 0.3 all three positives are caught and the negative is not: F1 = 1.
    th = choose_thresholds(proba, Y, ["x"])["x"]
    assert 0.2 < th <= 0.35


def test_no_labels_is_an_error(tmp_path):
    f = tmp_path / "empty.jsonl"
    f.write_text("")
    with pytest.raises(ConvauditError):
        train_all([str(f)], tmp_path / "m", folds=2)


def test_auto_fail_behaviours_get_precision_first_thresholds_by_hand():
    import numpy as np

    from training.train import auto_fail_behaviours

    proba = np.array([[0.9], [0.8], [0.5], [0.45], [0.3], [0.25]])
    Y = np.array([[1], [1], [0], [0], [1], [1]])
    # Catching all four positives (t <= 0.25) gives F1 0.80 but F0.5 0.71; the two
    # sure ones alone (0.5 < t <= 0.8) give F1 0.67 and F0.5 0.83.
    assert choose_thresholds(proba, Y, ["x"])["x"] <= 0.25
    assert 0.5 < choose_thresholds(proba, Y, ["x"], precision_first={"x"})["x"] <= 0.8
    assert auto_fail_behaviours() == {"blame", "negative_tone"}


def test_checklist_thresholds_report_is_exact_when_scores_equal_gold_labels(tiny_labelled_path):
    import numpy as np

    from pipeline.labels import BEHAVIOURS
    from training.checklist_thresholds import CANDIDATES, item_accuracies, with_predicted_behaviours
    from training.corpus import load_default_checklist, load_labelled
    from training.train import task_examples

    convs, _ = load_labelled([str(tiny_labelled_path)])
    _, ys, _, _ = task_examples("behaviours", convs)
    proba = np.array([[1.0 if b in row else 0.0 for b in BEHAVIOURS] for row in ys])
    predicted = with_predicted_behaviours(convs, proba, {})
    config = load_default_checklist()
    report = item_accuracies(convs, predicted, config)
    computed = {i.id for i in config.items if not i.judgement}
    presence = {k: v for k, v in report.items() if not k.endswith("(na_params)")}
    assert presence and all(len(v) == len(CANDIDATES) for v in presence.values())
    assert "define_next_steps (na_params)" in report
    for item_id, scores in report.items():
        if item_id in computed:
            assert set(scores.values()) == {1.0}, item_id
