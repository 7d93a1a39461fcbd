"""Evaluation arithmetic on hand-computed cases."""

import numpy as np
import pytest

from training.metrics import (
    bootstrap_interval,
    confusion,
    confusion_by_unit,
    f1_counts_by_unit,
    macro_f1_from_confusion,
    multiclass_report,
    multilabel_report,
    prf,
    reliability,
)


def test_prf_by_hand():
    # tp=3, fp=1, fn=2: P=3/4, R=3/5, F1=2PR/(P+R)=0.6667
    assert prf(3, 1, 2) == {"precision": 0.75, "recall": 0.6, "f1": 0.6667}
    assert prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_multilabel_micro_and_macro_by_hand():
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    P = np.array([[1, 1], [0, 1], [0, 0], [0, 0]])
    r = multilabel_report(Y, P, ["a", "b"])
    # a: tp1 fp0 fn1 -> P1 R.5 F.6667 ; b: tp1 fp1 fn1 -> P.5 R.5 F.5 ; micro: tp2 fp1 fn2
    assert r["per_label"]["a"]["f1"] == 0.6667 and r["per_label"]["b"]["f1"] == 0.5
    assert r["overall"]["micro_precision"] == 0.6667 and r["overall"]["micro_recall"] == 0.5
    assert r["overall"]["micro_f1"] == 0.5714
    assert r["overall"]["macro_f1"] == pytest.approx((0.6667 + 0.5) / 2, abs=1e-4)


def test_multiclass_and_confusion_by_hand():
    t = ["neg", "neg", "neu", "pos", "pos", "pos"]
    p = ["neg", "neu", "neu", "pos", "neg", "pos"]
    r = multiclass_report(t, p, ["neg", "neu", "pos"])
    assert r["overall"]["accuracy"] == round(4 / 6, 4)
    assert r["per_label"]["neg"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert r["per_label"]["neu"]["precision"] == 0.5 and r["per_label"]["neu"]["recall"] == 1.0
    assert confusion(t, p, ["neg", "neu", "pos"]) == {
        "neg": {"neg": 1, "neu": 1, "pos": 0}, "neu": {"neg": 0, "neu": 1, "pos": 0}, "pos": {"neg": 1, "neu": 0, "pos": 2}}


def test_reliability_by_hand():
    conf = [0.95, 0.95, 0.55, 0.55]
    ok = [True, False, True, True]
    r = reliability(conf, ok, bins=10)
    assert [b["n"] for b in r["bins"]] == [2, 2]
    # |0.5-0.95|*0.5 + |1.0-0.55|*0.5 = 0.45
    assert r["ece"] == pytest.approx(0.45)


def test_bootstrap_interval_by_hand():
    # Two conversations: A has tp=1 (F1 1.0 alone), B has fp=1 (F1 0.0 alone).
    # A resample is AA (F1 1) with probability 1/4, BB (F1 0) 1/4, AB or BA
    # (tp1 fp1: F1 2/3) 1/2, so the 40% and 60% quantiles are both 2/3 and the
    # 95% interval reaches from 0 to 1.
    units = [[1, 0, 0], [0, 1, 0]]
    assert bootstrap_interval(units, "f1", n_resamples=4000, level=0.2) == (0.6667, 0.6667)
    assert bootstrap_interval(units, "f1", n_resamples=4000) == (0.0, 1.0)
    # One conversation can only be drawn again and again: no spread.
    assert bootstrap_interval([[3, 1, 2]], "f1") == (0.6667, 0.6667)
    assert bootstrap_interval([[3, 4]], "accuracy") == (0.75, 0.75)


def test_macro_f1_from_confusion_matches_the_report():
    t = ["neg", "neg", "neu", "pos", "pos", "pos"]
    p = ["neg", "neu", "neu", "pos", "neg", "pos"]
    labels = ["neg", "neu", "pos"]
    m = confusion(t, p, labels)
    flat = np.array([m[a][b] for a in labels for b in labels], dtype=float)
    assert macro_f1_from_confusion(flat) == pytest.approx(multiclass_report(t, p, labels)["overall"]["macro_f1"], abs=1e-4)
    # A class with no true example does not count in the average, as in the report.
    t2, p2 = ["neg", "neg"], ["neg", "pos"]
    m2 = confusion(t2, p2, labels)
    flat2 = np.array([m2[a][b] for a in labels for b in labels], dtype=float)
    assert macro_f1_from_confusion(flat2) == pytest.approx(multiclass_report(t2, p2, labels)["overall"]["macro_f1"], abs=1e-4)


def test_counts_by_unit_by_hand():
    # Unit 0: (T,T) tp, (F,T) fp; unit 1: (T,F) fn; unit 2 has no example.
    counts = f1_counts_by_unit([0, 0, 1], [True, False, True], [True, True, False], 3)
    assert counts.tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]
    m = confusion_by_unit([1, 1, 0], ["neg", "pos", "neg"], ["neg", "neg", "pos"], ["neg", "pos"], 2)
    # Flattened rows true x columns predicted: neg-neg, neg-pos, pos-neg, pos-pos.
    assert m.tolist() == [[0, 1, 0, 0], [1, 0, 1, 0]]


def test_paired_bootstrap_difference_by_hand():
    # The model gets both conversations right, the baseline only the first: on a
    # resample of AA the difference is 0, of BB 1, of AB 1 - 2/3 = 1/3.
    model = [[1, 0, 0], [1, 0, 0]]
    baseline = [[1, 0, 0], [0, 1, 0]]
    assert bootstrap_interval(model, "f1", n_resamples=4000, level=0.2, baseline=baseline) == (0.3333, 0.3333)
    assert bootstrap_interval(model, "f1", n_resamples=4000, baseline=baseline) == (0.0, 1.0)
    # A baseline equal to the model differs by nothing on every resample.
    assert bootstrap_interval(model, "f1", baseline=model) == (0.0, 0.0)
