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
    assert result["tasks"] == ["sentiment", "frustration", "behaviours", "category", "resolution",
                               "judgement_explain_problem", "judgement_offer_alternatives",
                               "judgement_answer_all_questions", "judgement_show_product_knowledge",
                               "judgement_define_next_steps"]
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


def test_judgement_examples_are_the_annotators_verdicts_with_the_rules_in_the_input(tiny_labelled_path):
    from training.corpus import load_labelled
    from training.train import judgement_inputs, task_examples

    convs, _ = load_labelled([str(tiny_labelled_path)])
    texts, ys, groups, _langs = task_examples("judgement_define_next_steps", convs)
    assert groups == [c.conversation_id for c in convs]
    assert ys == [c.extra["checklist"]["define_next_steps"] for c in convs]
    # t-en-1 is pending with next steps stated: the rule passes it, as the annotator did.
    assert ys[0] == "pass" and "xxvdefine_next_stepspass" in texts[0].split()
    # t-hr-1 is resolved with nothing left to do: the annotator said na.
    assert ys[2] == "na" and "xxresolutionresolved" in texts[2].split()
    # Inputs built once for every judgement task give the same examples.
    assert task_examples("judgement_define_next_steps", convs, judgement_inputs(convs)) == (texts, ys, groups, _langs)


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


def test_judgement_check_compares_rule_and_model_by_writer(tiny_labelled_path):
    import copy

    from training.corpus import load_labelled, writer
    from training.judgement_check import compare

    convs, _ = load_labelled([str(tiny_labelled_path)])
    assert sorted({writer(c.conversation_id) for c in convs}) == ["t-en", "t-hr", "t-lv", "t-sr"]
    # Predicted turn labels equal to the gold ones: both halves of the report agree.
    report = compare(convs, copy.deepcopy(convs), ["answer_all_questions", "define_next_steps"], folds=2)
    for item, rows in report.items():
        assert rows["rule, gold labels"] == rows["rule, predicted behaviours"]
        assert rows["model, gold labels"] == rows["model, predicted behaviours"]
        assert set(rows["rule, gold labels"]) == {"en", "hr", "lv", "sr", "all"}
    # By hand from tests/data: the annotators said na for answer_all_questions in
    # seven of the eight conversations, the rule never does (it treats the first
    # request as the question), and it passes t-sr-2 as the annotator did.
    assert report["answer_all_questions"]["rule, gold labels"]["all"] == 0.125


def test_ltec_tweets_train_sentiment_at_a_low_weight_and_keep_one_feature_extractor(tiny_labelled_path, tmp_path):
    import numpy as np

    from pipeline.models.linear import _features_fingerprint
    from training.train import EXTRA_SENTIMENT_WEIGHT

    # Tweets in the LTEC file format, written for this test: "zupa" appears only here.
    tweets = [{"sentiment": "neg", "tweet_text": "Šodien zupa bija auksta, vairs nepasūtīšu."},
              {"sentiment": "pos", "tweet_text": "Lieliska zupa, paldies pavāriem!"},
              {"sentiment": "neu", "tweet_text": "Pusdienās ēdu zupa un kartupeļus."}]
    ltec = tmp_path / "ltec-train.json"
    ltec.write_text(json.dumps(tweets, ensure_ascii=False), encoding="utf-8")
    tasks = ("sentiment", "frustration")
    plain = train_all([str(tiny_labelled_path)], tmp_path / "plain", folds=2, tasks=tasks)
    with_tweets = train_all([str(tiny_labelled_path)], tmp_path / "tweets", folds=2, tasks=tasks, ltec_train=ltec)
    assert with_tweets["data_hash"] != plain["data_hash"]
    sentiment, card = load_model(tmp_path / "tweets" / "sentiment")
    plain_sentiment, plain_card = load_model(tmp_path / "plain" / "sentiment")
    frustration, fcard = load_model(tmp_path / "tweets" / "frustration")
    assert card["training_data"]["extra"] == {"path": "ltec-train.json", "examples": 3, "weight": EXTRA_SENTIMENT_WEIGHT}
    assert card["examples"] == plain_card["examples"]  # tweets are never scored
    assert "extra" not in fcard["training_data"]
    # Each card's hash covers what its model read: only sentiment read the tweets.
    assert card["training_data"]["sha256_16"] == with_tweets["data_hash"] != plain["data_hash"]
    assert fcard["training_data"]["sha256_16"] == plain["data_hash"]
    # The vocabulary is the corpus' own, shared with frustration; the regression did learn from the tweets.
    assert "zupa" not in dict(sentiment.features_.transformer_list)["word"].vocabulary_
    assert _features_fingerprint(sentiment.features_) == _features_fingerprint(frustration.features_)
    assert not np.allclose(sentiment.predict_proba(["labdien"]), plain_sentiment.predict_proba(["labdien"]))
    with pytest.raises(ConvauditError, match="does not exist"):
        train_all([str(tiny_labelled_path)], tmp_path / "x", folds=2, tasks=("sentiment",), ltec_train=tmp_path / "none.json")


def test_zero_weight_examples_do_not_change_the_regression():
    import numpy as np

    from pipeline.models import LinearTextModel

    texts = ["great service thanks", "awful, nobody helps", "ok fine", "terrible wait", "lovely people", "meh"] * 3
    ys = [["frustration"] if "awful" in t or "terrible" in t else [] for t in texts]
    base = LinearTextModel(calibration=None, min_df=1, random_state=0).fit(texts, ys)
    extra = texts + ["awful awful awful"] * 4
    weighted = LinearTextModel(calibration=None, min_df=1, random_state=0).fit(
        extra, ys + [[]] * 4, sample_weight=[1.0] * len(texts) + [0.0] * 4)
    # Same vocabulary needs the same texts; compare on words both know.
    probe = ["great thanks", "awful, nobody helps"]
    # Ignoring the weights moves these by 0.02-0.03.
    assert np.allclose(base.predict_proba(probe), weighted.predict_proba(probe), atol=0.005)


def test_fit_temperature_by_hand():
    import numpy as np

    from training.train import fit_temperature

    proba = np.array([[0.6, 0.4]] * 10)
    # Right 6 times in 10 at confidence 0.6: already calibrated, T stays 1.
    assert fit_temperature(proba, [0] * 6 + [1] * 4) == 1.0
    # Right 9 times in 10: the NLL-optimal sharpening solves 0.6^a / (0.6^a + 0.4^a) = 0.9,
    # a = ln 9 / ln 1.5 = 5.42, T = 1 / a = 0.18, below the grid: its lowest value.
    assert fit_temperature(proba, [0] * 9 + [1]) == 0.3
    # Right 5 times in 10: flatten as far as the grid goes.
    assert fit_temperature(proba, [0] * 5 + [1] * 5) == 2.0


def test_temperature_sharpens_multiclass_probabilities_without_changing_the_argmax():
    import numpy as np

    from pipeline.models import LinearTextModel

    texts = ["great thanks", "awful service", "ok", "lovely", "terrible", "fine then"] * 3
    ys = ["positive", "negative", "neutral", "positive", "negative", "neutral"] * 3
    model = LinearTextModel(kind="multiclass", calibration=None, min_df=1, random_state=0).fit(texts, ys)
    plain = model.predict_proba(texts)
    model.temperature_ = 0.5
    sharp = model.predict_proba(texts)
    expected = plain ** 2 / (plain ** 2).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sharp, expected)
    assert (sharp.argmax(axis=1) == plain.argmax(axis=1)).all() and (sharp.max(axis=1) > plain.max(axis=1)).all()


def test_parallel_folds_give_the_same_probabilities_as_one_process(tiny_labelled_path):
    import numpy as np

    from training.corpus import load_labelled
    from training.train import out_of_fold, task_examples

    convs, _ = load_labelled([str(tiny_labelled_path)])
    texts, ys, groups, _ = task_examples("behaviours", convs)
    one = out_of_fold("behaviours", texts, ys, groups, folds=2, n_jobs=1)
    two = out_of_fold("behaviours", texts, ys, groups, folds=2, n_jobs=2)
    assert one.any() and np.array_equal(one, two)


def test_out_of_fold_on_a_single_conversation_returns_no_scores():
    from training.train import out_of_fold

    proba = out_of_fold("sentiment", ["hvala", "ne radi"], ["positive", "negative"], ["c1", "c1"], folds=5)
    assert proba.shape == (2, 3) and not proba.any()


def test_conversation_blocks_follow_the_conversation_ids():
    import numpy as np

    from training.train import _conversation_blocks

    proba = np.arange(10).reshape(5, 2)
    blocks = _conversation_blocks(proba, ["a", "a", "b", "c", "c"])
    assert [b.tolist() for b in blocks] == [[[0, 1], [2, 3]], [[4, 5]], [[6, 7], [8, 9]]]


def test_behaviours_get_the_context_stage_when_asked_and_there_are_enough_conversations(tiny_labelled_path, tmp_path,
                                                                               monkeypatch, conv_factory):
    from pipeline.models import ContextualTurnModel
    from pipeline.stages.behaviours import BehaviourClassifier
    from training import train

    plain = train_all([str(tiny_labelled_path)], tmp_path / "plain", folds=2, tasks=("behaviours",), context=True)
    assert plain["tasks"] == ["behaviours"]
    _, card = load_model(tmp_path / "plain" / "behaviours")
    assert card["kind"] == "linear" and "turn_model_cross_validated" not in card["metrics"]
    # The tiny corpus has 8 conversations, below the shipped minimum.
    monkeypatch.setattr(train, "CONTEXT_MIN_CONVERSATIONS", 4)
    train_all([str(tiny_labelled_path)], tmp_path / "off", folds=2, tasks=("behaviours",))
    assert load_model(tmp_path / "off" / "behaviours")[1]["kind"] == "linear"
    train_all([str(tiny_labelled_path)], tmp_path / "ctx", folds=2, tasks=("behaviours",), context=True)
    model, card = load_model(tmp_path / "ctx" / "behaviours")
    assert isinstance(model, ContextualTurnModel)
    assert card["kind"] == "linear+context" and card["model_class"] == "pipeline.models.ContextualTurnModel"
    assert set(card["metrics"]["turn_model_cross_validated"]) >= {"micro_f1", "micro_precision", "micro_recall"}
    assert set(card["thresholds"]) == set(card["labels"])
    stage = BehaviourClassifier(model, card)
    conv = conv_factory([("customer", "Hi, I was charged twice."), ("agent", "Hello, sorry about that."),
                         ("agent", "I have refunded the second charge.")], language="en")
    stage([conv])
    agent = [t for t in conv.turns if t.speaker == "agent"]
    assert all(set(t.behaviour_scores) == set(card["labels"]) for t in agent)
    assert all(0 <= v <= 1 for t in agent for v in t.behaviour_scores.values())
