"""`convaudit evaluate` end to end: the shipped models on the tiny labelled corpus."""

import pytest

from training.evaluate import INTERVALS, evaluate, render_markdown, render_table


@pytest.fixture(scope="module")
def report(tiny_labelled_path):
    return evaluate([str(tiny_labelled_path)])


def test_intervals_contain_the_measured_value(report):
    for lang, r in report["languages"].items():
        assert set(r["intervals"]) == {m for m in INTERVALS if r["headline"][m] is not None}
        for metric, (lo, hi) in r["intervals"].items():
            assert lo <= r["headline"][metric] <= hi, (lang, metric)


def test_conversations_are_counted_per_language(report, tiny_labelled_path):
    n_convs = sum(1 for line in tiny_labelled_path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert report["languages"]["all"]["conversations"] == n_convs
    assert sum(r["conversations"] for lang, r in report["languages"].items() if lang != "all") == n_convs


def test_one_conversations_counts_by_hand(conv_factory, checklist_config):
    from pipeline.checklist_rules import ChecklistRules
    from training.corpus import gold_verdicts
    from training.evaluate import _collect, _Collector, _unit_counts

    gold = conv_factory([("customer", "Naplatili ste mi dvaput!", ("negative", True)),
                         ("agent", "Dobar dan, provjerit ću i vratiti novac.", ["greeting", "solution"]),
                         ("customer", "Dobro.", ("neutral", False)),
                         ("agent", "Hvala na strpljenju.", ["thanks"])],
                        category="billing", resolution="resolved", language="hr")
    pred = conv_factory([("customer", "Naplatili ste mi dvaput!", ("negative", True)),
                         ("agent", "Dobar dan, provjerit ću i vratiti novac.", ["greeting"]),
                         ("customer", "Dobro.", ("negative", False)),
                         ("agent", "Hvala na strpljenju.", ["thanks", "timeframe"])],
                        category="billing", resolution="pending", language="hr")
    rules = ChecklistRules(checklist_config)
    truth = gold_verdicts(gold, rules)
    flipped = "fail" if truth["thank_customer"] != "fail" else "pass"
    pred.checklist = {"greet_customer": {"verdict": truth["greet_customer"], "confidence": 1.0, "evidence": []},
                      "thank_customer": {"verdict": flipped, "confidence": 1.0, "evidence": []}}
    one = _Collector()
    _collect(one, gold, pred, rules, with_baselines=False)
    counts = _unit_counts(one)
    # greeting and thanks found, timeframe extra, solution missed.
    assert counts["behaviours_micro_f1"] == [2, 1, 1]
    assert counts["frustration_f1"] == [1, 0, 0]
    # Rows true, columns predicted (negative, neutral, positive): one negative
    # read as negative, one neutral read as negative.
    assert counts["sentiment_macro_f1"] == [1, 0, 0, 1, 0, 0, 0, 0, 0]
    assert counts["checklist_accuracy"] == [1, 2]
    assert counts["category_accuracy"] == [1, 1] and counts["resolution_accuracy"] == [0, 1]


def test_reports_show_the_intervals(report):
    md = render_markdown(report)
    assert "95% intervals" in md and "| all | " in md
    lo, hi = report["languages"]["all"]["intervals"]["checklist_accuracy"]
    assert f"{lo:.3f}–{hi:.3f}" in md
    assert f"{lo:.3f}–{hi:.3f}" in render_table(report)
