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


def _write_jsonl(path, rows):
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def external_report(tmp_path_factory, config):
    """Two public datasets in their own file formats, a few lines each, written
    by hand for this test (no line is copied from the datasets)."""
    from training.evaluate import evaluate_external

    root = tmp_path_factory.mktemp("external")
    requests = [
        ("r1", "THIS IS THE THIRD TIME I'M ASKING!!! Where is my refund?? Useless airline.", True),
        ("r2", "Can I change the name on my booking for free?", False),
        ("r3", "I've been on hold for two hours and nobody answers, I'm done with you, cancelling everything.", True),
        ("r4", "What is the baggage allowance for economy to Riga?", False),
        ("r5", "Thanks, the new seat is great.", False),
        ("r6", "Do you have wifi on the train to Leeds?", False),
    ]
    _write_jsonl(root / "rsics" / "requests.jsonl",
                 [{"id": i, "text": t, "has_rant": f, "has_express_emotion": False} for i, t, f in requests])
    dialogue = [("user", "I need a taxi to the station at 5pm.", []),
                ("system", "Hello! Booked, a red Skoda will pick you up at 5pm.", ["greeting"]),
                ("user", "Great, thank you.", []),
                ("system", "Is there anything else I can help you with today?", ["anything_else"]),
                ("user", "No, that's all.", [])]
    _write_jsonl(root / "multiwoz21" / "turns.jsonl",
                 [{"dialogue_id": d, "turn": k, "speaker": s, "text": t, "behaviours": b}
                  for d in ("D1", "D2") for k, (s, t, b) in enumerate(dialogue)])
    return evaluate_external(root, config)


def test_public_data_differences_come_with_paired_intervals(external_report):
    rsics = external_report["rsics"]
    assert rsics["frustration_n"] == 6 and rsics["frustration_positives"] == 2
    lo, hi = rsics["frustration_f1_gain"]
    assert lo <= rsics["frustration_f1"] - rsics["vader_frustration_f1"] <= hi
    woz = external_report["multiwoz"]
    assert woz["anything_else_positives"] == 2
    lo, hi = woz["anything_else_f1_gain"]
    assert lo <= woz["anything_else_f1"] - woz["keyword_anything_else_f1"] <= hi
    md = render_markdown({"languages": {}, "data": [], "external": external_report})
    assert "difference (95% interval)" in md
