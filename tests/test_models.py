"""Every model: overfits a tiny set, saves, loads, and predicts the same."""

import numpy as np
import pytest

from pipeline.errors import ConvauditError
from pipeline.models import LinearTextModel, load_model, save_model

TEXTS = [
    "Dobar dan, ovdje Marko iz podrške.", "Good morning, this is Ana from billing.", "Labdien! Jūs apkalpo Elīna.",
    "Здраво, овде Јелена из подршке.", "Mogu li vam još nečim pomoći?", "Is there anything else I can help with?",
    "Vai varu vēl kā palīdzēt?", "Да ли вам треба још нешто?",
]
MULTI = [["greeting"]] * 4 + [["anything_else"]] * 4
CLASSES = ["greet"] * 4 + ["more"] * 4


@pytest.mark.parametrize("kind, y", [("multilabel", MULTI), ("multiclass", CLASSES)])
def test_overfit_save_load_same_predictions(tmp_path, kind, y):
    model = LinearTextModel(kind=kind, C=100.0, calibration=None, random_state=0)
    assert model.fit(TEXTS, y) is model
    pred = model.predict(TEXTS)
    assert pred == y if kind == "multiclass" else [sorted(p) for p in pred] == y
    save_model(model, tmp_path / "m", {"name": "tiny", "version": "0.0.1"})
    loaded, card = load_model(tmp_path / "m")
    assert card["labels"] == model.labels_
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert (tmp_path / "m" / "model.skops").stat().st_size < 2_000_000


def test_estimator_discipline():
    model = LinearTextModel(C=3.0, random_state=7)
    assert model.get_params()["C"] == 3.0 and model.get_params()["random_state"] == 7
    assert not any(k.endswith("_") for k in vars(model))  # nothing learned before fit
    model.fit(TEXTS, MULTI)
    assert {"labels_", "features_", "estimators_", "thresholds_"} <= set(vars(model))


def test_probabilities_are_valid():
    model = LinearTextModel(kind="multiclass", calibration=None).fit(TEXTS, CLASSES)
    p = model.predict_proba(["hello there, anything else?"])
    assert p.shape == (1, 2) and np.isclose(p.sum(), 1.0) and (p >= 0).all()
    assert model.predict_proba([]).shape == (0, 2)


def test_loading_refuses_broken_or_missing_artifacts(tmp_path):
    with pytest.raises(ConvauditError, match="not found"):
        load_model(tmp_path / "nothing", "behaviours")
    model = LinearTextModel(calibration=None).fit(TEXTS, MULTI)
    save_model(model, tmp_path / "m", {"name": "tiny"})
    (tmp_path / "m" / "model.skops").write_bytes(b"not a zip file")
    with pytest.raises(ConvauditError, match="could not be loaded"):
        load_model(tmp_path / "m")


def test_shipped_models_have_cards(root):
    from pipeline.models import load_card

    for task in ("sentiment", "frustration", "behaviours", "category", "resolution"):
        card = load_card(root / "models" / "default" / task)
        for key in ("name", "version", "labels", "training_data", "metrics", "created_at"):
            assert key in card, (task, key)
        assert card["training_data"]["sha256_16"]


def test_stacked_scoring_equals_per_label_estimators():
    texts = TEXTS * 4
    y = [["greeting", "thanks"] if i % 3 == 0 else ["anything_else"] if i % 3 == 1 else [] for i in range(len(texts))]
    model = LinearTextModel(calibration="sigmoid", calibration_cv=2, random_state=0).fit(texts, y)
    X = model.features_.transform(texts)
    expected = np.column_stack([est.predict_proba(X)[:, 1] for est in model.estimators_])
    np.testing.assert_allclose(model.predict_proba(texts), expected, rtol=1e-6, atol=1e-9)


def test_refit_after_predict_uses_the_new_fit_and_saves_no_caches(tmp_path):
    texts = TEXTS * 4
    first = [["greeting"] if i % 2 else [] for i in range(len(texts))]
    second = [[] if i % 2 else ["greeting"] for i in range(len(texts))]
    model = LinearTextModel(calibration=None, random_state=0).fit(texts, first)
    before = model.predict_proba(texts)
    model.fit(texts, second)
    after = model.predict_proba(texts)
    fresh = LinearTextModel(calibration=None, random_state=0).fit(texts, second).predict_proba(texts)
    np.testing.assert_allclose(after, fresh)
    assert not np.allclose(before, after)
    save_model(model, tmp_path / "m", {"name": "tiny"})  # after predictions filled the caches
    loaded, _ = load_model(tmp_path / "m")
    assert "_stack" not in vars(loaded)
    assert all("_word_cache" not in vars(t) for _, t in loaded.features_.transformer_list)
    np.testing.assert_allclose(loaded.predict_proba(texts), after)


def test_models_with_the_same_features_share_them_and_predict_as_alone():
    from pipeline.models import linear

    texts = TEXTS * 4
    greet = LinearTextModel(kind="multilabel", calibration=None, random_state=0).fit(texts, MULTI * 4)
    classes = LinearTextModel(kind="multiclass", calibration=None, random_state=0).fit(texts, CLASSES * 4)
    other = LinearTextModel(kind="multiclass", calibration=None, random_state=0).fit(texts[:12], CLASSES[:4] * 3)
    alone = []
    for model in (greet, classes, other):
        linear._LAST_FEATURES.clear()
        alone.append(model.predict_proba(TEXTS))
    linear._LAST_FEATURES.clear()
    together = [m.predict_proba(TEXTS) for m in (greet, classes, other)]
    # Same texts and parameters give the same extractor; other training texts do not.
    assert len(linear._LAST_FEATURES) == 2
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)
    changed = TEXTS[:-1] + ["Hvala, doviđenja."]
    np.testing.assert_array_equal(classes.predict_proba(changed),
                                  LinearTextModel(kind="multiclass", calibration=None, random_state=0)
                                  .fit(texts, CLASSES * 4).predict_proba(changed))


def test_nb_member_scores_as_the_mean_of_plain_and_nb_scaled_regressions(tmp_path):
    import scipy.sparse as sp

    texts = TEXTS * 4
    y = [["greeting", "thanks"] if i % 3 == 0 else ["anything_else"] if i % 3 == 1 else [] for i in range(len(texts))]
    model = LinearTextModel(calibration="sigmoid", calibration_cv=2, nb_C=2.0, random_state=0).fit(texts, y)
    assert model.get_params()["nb_C"] == 2.0 and len(model.nb_estimators_) == len(model.labels_)
    X = model.features_.transform(texts)
    present = (X > 0).astype(float)
    expected = []
    for j, (plain, scaled) in enumerate(zip(model.estimators_, model.nb_estimators_)):
        col = np.array([model.labels_[j] in row for row in y])
        pos = np.asarray(present[col].sum(axis=0)).ravel() + 1
        neg = np.asarray(present[~col].sum(axis=0)).ravel() + 1
        ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
        # The folded weights on raw features equal the fitted weights on scaled ones.
        cc = scaled.calibrated_classifiers_[0]
        raw_coef = cc.estimator.coef_ / ratio
        decision = (X @ sp.diags(ratio)) @ raw_coef.ravel() + cc.estimator.intercept_[0]
        nb_p = 1 / (1 + np.exp(cc.calibrators[0].a_ * decision + cc.calibrators[0].b_))
        expected.append((plain.predict_proba(X)[:, 1] + nb_p) / 2)
    np.testing.assert_allclose(model.predict_proba(texts), np.column_stack(expected), rtol=1e-6, atol=1e-9)
    tiny = LinearTextModel(C=100.0, nb_C=100.0, calibration=None, random_state=0).fit(TEXTS, MULTI)
    assert [sorted(p) for p in tiny.predict(TEXTS)] == MULTI
    save_model(model, tmp_path / "m", {"name": "tiny"})
    loaded, _ = load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    again = LinearTextModel(calibration="sigmoid", calibration_cv=2, random_state=0).fit(texts, y)
    np.testing.assert_allclose(again.predict_proba(texts), np.column_stack(
        [est.predict_proba(X)[:, 1] for est in again.estimators_]), rtol=1e-6, atol=1e-9)
