"""Find the turn labels most worth a second read, and apply the reviewers' answers.

A label that a model trained without its conversation contradicts with high
confidence is either a model error or a label error; only reading the turn tells
which. ``candidates`` lists those turns for blind review (reviewers see the turn
and its context, never the label or the score); ``apply`` writes the answers back.

    python -m training.label_review candidates data/labelled --task behaviours --out review.jsonl
    python -m training.label_review apply data/labelled --key review.key.json --decisions answers.jsonl
    python -m training.corpus_tools finalise data/labelled

Answers are JSONL lines ``{"id": ..., "label": ..., "decision": "yes"|"no"|"unsure"}``
(``label`` may be left out for frustration); ``unsure`` keeps the label. Because the
candidates are where the model disagrees, applying answers moves labels towards
the model: judge the result on data the model never saw, not on its own
cross-validation.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from pipeline.errors import ConvauditError
from pipeline.io.readers import expand_inputs
from pipeline.records import Conversation

from .corpus import load_labelled, writer
from .train import label_set, labelled_turns, out_of_fold, task_examples

REVIEW_TASKS = ("behaviours", "frustration")
CONTEXT_TURNS = 3
DECISIONS = ("yes", "no", "unsure")


def disagreements(convs: list[Conversation], task: str, scores: np.ndarray, labels: list[str],
                  low: float, high: float) -> tuple[list[dict], dict[str, dict]]:
    """Review items and their key. A question is asked where a label is present and
    scored below ``low``, or absent and scored above ``high``; ``scores`` has one row
    per labelled turn (``train.labelled_turns`` order) and one column per label."""
    items, key = [], {}
    rows = list(labelled_turns(task, convs))
    if len(rows) != len(scores):
        raise ValueError(f"{len(scores)} score rows for {len(rows)} labelled turns")
    for (conv, turn, _text, gold), row in zip(rows, scores):
        questions = [lab for j, lab in enumerate(labels)
                     if (lab in gold and row[j] < low) or (lab not in gold and row[j] > high)]
        if not questions:
            continue
        item_id = f"{conv.conversation_id}#{turn.index}"
        before = [t for t in conv.turns if t.index < turn.index][-CONTEXT_TURNS:]
        items.append({"id": item_id, "language": conv.language, "channel": conv.channel,
                      "customer_name": conv.customer_name,
                      "context_before": [f"{t.speaker}: {t.text}" for t in before],
                      "text": turn.text, "speaker": turn.speaker, "questions": questions})
        key[item_id] = {"labels": sorted(gold), "questions": questions,
                        "scores": {q: round(float(row[labels.index(q)]), 4) for q in questions}}
    return items, key


def read_decisions(path: Path, key: dict[str, dict]) -> dict[tuple[str, str], str]:
    """(item id, label) -> decision; a line that answers no question in ``key`` is an error."""
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        entry = key.get(d.get("id"))
        label = d.get("label") or (entry["questions"][0] if entry and len(entry["questions"]) == 1 else None)
        if entry is None or label not in entry["questions"] or d.get("decision") not in DECISIONS:
            raise ValueError(f"{path}:{n}: not an answer to a question in the key: {line[:120]}")
        out[(d["id"], label)] = d["decision"]
    return out


def planned_changes(key: dict[str, dict], decisions: dict[tuple[str, str], str]) -> dict[str, dict[str, bool]]:
    """Item id -> {label: True to add, False to remove}, for answers that contradict the label."""
    changes: dict[str, dict[str, bool]] = defaultdict(dict)
    for (item_id, label), decision in decisions.items():
        has = label in key[item_id]["labels"]
        if decision == "yes" and not has:
            changes[item_id][label] = True
        elif decision == "no" and has:
            changes[item_id][label] = False
    return dict(changes)


def _apply_to_turn(turn: dict, label: str, add: bool) -> None:
    if label == "frustration":
        turn["frustration"] = add
        if add:
            # labels.md §1: every frustrated turn is also negative.
            turn["sentiment"] = "negative"
        return
    behaviours = turn.setdefault("behaviours", [])
    if add and label not in behaviours:
        behaviours.append(label)
    elif not add and label in behaviours:
        behaviours.remove(label)


def apply_changes(paths: list[str], changes: dict[str, dict[str, bool]]) -> Counter:
    """Rewrite the labelled files in place; returns counts of labels added and removed."""
    by_conv: dict[str, dict[int, dict[str, bool]]] = defaultdict(dict)
    for item_id, labs in changes.items():
        conv_id, index = item_id.rsplit("#", 1)
        by_conv[conv_id][int(index)] = labs
    counts: Counter = Counter()
    for path in map(Path, expand_inputs(paths)):
        lines = path.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        touched = [r for r in records if r.get("conversation_id") in by_conv]
        if not touched:
            continue
        for record in touched:
            for index, labs in by_conv.pop(record["conversation_id"]).items():
                for label, add in labs.items():
                    _apply_to_turn(record["turns"][index], label, add)
                    counts[(label, "added" if add else "removed")] += 1
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    if by_conv:
        raise ValueError(f"conversations not found in {', '.join(paths)}: {', '.join(sorted(by_conv)[:5])}")
    return counts


def review_scores(convs: list[Conversation], task: str, folds: int, group_by: str) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold scores of the task's default model, grouped by conversation or by
    the conversation id up to its second dash (a writer series such as ``hr-c``)."""
    texts, ys, groups, _langs = task_examples(task, convs)
    if group_by == "prefix":
        groups = [writer(g) for g in groups]
    return out_of_fold(task, texts, ys, groups, folds=folds), label_set(task)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.label_review", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("candidates", help="write the turns to review (and a key with labels and scores)")
    c.add_argument("paths", nargs="+")
    c.add_argument("--task", choices=REVIEW_TASKS, default="behaviours")
    c.add_argument("--out", type=Path, required=True, help="review items (JSONL); the key goes beside it")
    c.add_argument("--low", type=float, default=0.1, help="ask about a present label scored below this")
    c.add_argument("--high", type=float, default=0.85, help="ask about an absent label scored above this")
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--group-by", choices=["conversation", "prefix"], default="conversation",
                   help="keep these together in cross-validation (prefix: the id up to its second dash)")
    a = sub.add_parser("apply", help="write the reviewers' answers into the labelled files")
    a.add_argument("paths", nargs="+")
    a.add_argument("--key", type=Path, required=True)
    a.add_argument("--decisions", type=Path, nargs="+", required=True)
    a.add_argument("--dry-run", action="store_true", help="count the changes, write nothing")
    args = p.parse_args(argv)

    if args.command == "candidates":
        convs, _ = load_labelled(args.paths)
        if not convs:
            raise SystemExit(ConvauditError("no_labels", paths=", ".join(args.paths)))
        scores, labels = review_scores(convs, args.task, args.folds, args.group_by)
        items, key = disagreements(convs, args.task, scores, labels, args.low, args.high)
        args.out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
        key_path = args.out.with_suffix(".key.json")
        key_path.write_text(json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8")
        asked = Counter(q for i in items for q in i["questions"])
        print(f"{len(items)} turns, {sum(asked.values())} questions -> {args.out} (key: {key_path})")
        for label, n in asked.most_common():
            print(f"  {label:20s} {n}")
        return 0

    key = json.loads(args.key.read_text(encoding="utf-8"))
    decisions = {}
    for path in args.decisions:
        decisions.update(read_decisions(path, key))
    asked = sum(len(v["questions"]) for v in key.values())
    print(f"{len(decisions)} answers to {asked} questions: " + ", ".join(
        f"{d} {n}" for d, n in Counter(decisions.values()).most_common()))
    changes = planned_changes(key, decisions)
    if args.dry_run:
        counts = Counter((lab, "added" if add else "removed") for labs in changes.values() for lab, add in labs.items())
    else:
        counts = apply_changes(args.paths, changes)
    for (label, what), n in sorted(counts.items()):
        print(f"  {label:20s} {what:8s} {n}")
    if not args.dry_run:
        print("now run: python -m training.corpus_tools finalise " + " ".join(args.paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
