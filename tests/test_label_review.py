import json
import shutil

import numpy as np
import pytest

from training.corpus import load_labelled
from training.label_review import apply_changes, disagreements, main, planned_changes, read_decisions
from training.train import label_set, labelled_turns


def _gold_scores(convs, task):
    """Scores that agree with every gold label (1 where present, 0 where absent)."""
    labels = label_set(task)
    rows = list(labelled_turns(task, convs))
    return rows, labels, np.array([[1.0 if lab in gold else 0.0 for lab in labels] for _c, _t, _x, gold in rows])


def _row(rows, item_id):
    return next(i for i, (c, t, _x, _g) in enumerate(rows) if f"{c.conversation_id}#{t.index}" == item_id)


def test_questions_are_asked_only_where_the_score_contradicts_the_label(tiny_labelled_path):
    convs, _ = load_labelled([str(tiny_labelled_path)])
    rows, labels, scores = _gold_scores(convs, "behaviours")
    # t-en-1 turn 1 is labelled greeting and empathy_apology; turn 3 has neither.
    scores[_row(rows, "t-en-1#1"), labels.index("greeting")] = 0.05
    scores[_row(rows, "t-en-1#1"), labels.index("empathy_apology")] = 0.15  # not below low: no question
    scores[_row(rows, "t-en-1#3"), labels.index("greeting")] = 0.9
    scores[_row(rows, "t-en-1#3"), labels.index("solution")] = 0.8  # not above high: no question
    items, key = disagreements(convs, "behaviours", scores, labels, low=0.1, high=0.85)

    assert [(i["id"], i["questions"]) for i in items] == [("t-en-1#1", ["greeting"]), ("t-en-1#3", ["greeting"])]
    # Reviewers judge blind: neither the label nor the score is in what they read.
    assert not {"labels", "scores", "behaviours"} & set(items[1])
    assert items[1]["text"].startswith("Thanks. The courier missed the depot cut-off")
    assert items[1]["context_before"][0].startswith("customer: hi, my parcel")
    assert items[1]["context_before"][2] == "customer: PX-44120"
    assert key["t-en-1#1"]["labels"] == sorted(["greeting", "uses_name", "empathy_apology", "active_listening"])
    assert key["t-en-1#3"]["scores"] == {"greeting": 0.9}


def test_score_rows_must_match_the_labelled_turns(tiny_labelled_path):
    convs, _ = load_labelled([str(tiny_labelled_path)])
    _rows, labels, scores = _gold_scores(convs, "behaviours")
    with pytest.raises(ValueError, match="score rows"):
        disagreements(convs, "behaviours", scores[:-1], labels, low=0.1, high=0.85)


def test_answers_add_remove_or_keep_labels_in_the_files(tiny_labelled_path, tmp_path):
    data = tmp_path / "tiny.jsonl"
    shutil.copy(tiny_labelled_path, data)
    convs, _ = load_labelled([str(data)])
    rows, labels, scores = _gold_scores(convs, "behaviours")
    scores[_row(rows, "t-en-1#1"), labels.index("greeting")] = 0.05
    scores[_row(rows, "t-en-1#1"), labels.index("empathy_apology")] = 0.02
    scores[_row(rows, "t-en-1#3"), labels.index("greeting")] = 0.9
    _items, key = disagreements(convs, "behaviours", scores, labels, low=0.1, high=0.85)
    frows, flabels, fscores = _gold_scores(convs, "frustration")
    fscores[_row(frows, "t-en-1#2")] = 0.95  # "PX-44120": neutral, not frustrated
    _fitems, fkey = disagreements(convs, "frustration", fscores, flabels, low=0.2, high=0.7)
    key.update(fkey)
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(a) for a in [
        {"id": "t-en-1#1", "label": "greeting", "decision": "unsure"},
        {"id": "t-en-1#1", "label": "empathy_apology", "decision": "no"},
        {"id": "t-en-1#3", "label": "greeting", "decision": "yes"},
        {"id": "t-en-1#2", "decision": "yes"},  # the one frustration question needs no label
    ]) + "\n")
    decisions = read_decisions(answers, key)
    changes = planned_changes(key, decisions)
    assert changes == {"t-en-1#1": {"empathy_apology": False}, "t-en-1#3": {"greeting": True},
                       "t-en-1#2": {"frustration": True}}
    counts = apply_changes([str(data)], changes)
    assert counts == {("empathy_apology", "removed"): 1, ("greeting", "added"): 1, ("frustration", "added"): 1}

    after = {json.loads(line)["conversation_id"]: json.loads(line) for line in data.read_text().splitlines()}
    turns = after["t-en-1"]["turns"]
    assert turns[1]["behaviours"] == ["greeting", "uses_name", "active_listening"]
    assert turns[3]["behaviours"] == ["thanks", "explanation", "timeframe", "next_steps", "greeting"]
    # labels.md §1: a frustrated turn is negative too.
    assert (turns[2]["frustration"], turns[2]["sentiment"]) == (True, "negative")
    original = [json.loads(line) for line in tiny_labelled_path.read_text().splitlines()]
    assert [after[r["conversation_id"]] for r in original[1:]] == original[1:]


def test_an_answer_to_a_question_not_asked_is_an_error(tmp_path):
    key = {"c-1#1": {"labels": ["greeting"], "questions": ["greeting"], "scores": {"greeting": 0.02}}}
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "c-1#1", "label": "solution", "decision": "yes"}) + "\n")
    with pytest.raises(ValueError, match="not an answer"):
        read_decisions(answers, key)
    answers.write_text(json.dumps({"id": "c-1#1", "label": "greeting", "decision": "maybe"}) + "\n")
    with pytest.raises(ValueError, match="not an answer"):
        read_decisions(answers, key)


def test_candidates_command_writes_blind_items_and_their_key(tiny_labelled_path, tmp_path, capsys):
    out = tmp_path / "review.jsonl"
    # Thresholds at 0.5 ask about every label the out-of-fold model gets wrong.
    assert main(["candidates", str(tiny_labelled_path), "--task", "behaviours", "--out", str(out),
                 "--folds", "2", "--low", "0.5", "--high", "0.5"]) == 0
    items = [json.loads(line) for line in out.read_text().splitlines()]
    key = json.loads(out.with_suffix(".key.json").read_text())
    assert items and len(items) == len(key)
    for item in items:
        entry = key[item["id"]]
        assert item["questions"] == entry["questions"]
        for q in entry["questions"]:
            present = q in entry["labels"]
            assert (entry["scores"][q] < 0.5) if present else (entry["scores"][q] > 0.5)
    assert f"{len(items)} turns" in capsys.readouterr().out
