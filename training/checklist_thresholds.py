"""Item-level ``min_score`` for the checklist's presence items, from the corpus.

The behaviour model's per-label thresholds maximise F1 per turn; a checklist
item asks whether *any* turn of a conversation shows a behaviour, which is a
different decision. This script scores every agent turn of the labelled corpus
with out-of-fold behaviour probabilities (5-fold, grouped by conversation, as
in training), then reports, per presence item, the verdict accuracy against the
corpus verdicts (annotators' for judgement items, rules on gold labels for the
rest) with the model's thresholds and with each candidate ``min_score``; and,
for items whose na condition reads behaviour scores (``na_params.min_score``),
the verdict accuracy per candidate of that value.

    python -m training.checklist_thresholds data/labelled
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np

from pipeline.checklist_rules import ChecklistRules
from pipeline.labels import BEHAVIOURS

from .corpus import load_default_checklist, load_labelled
from .train import out_of_fold, task_examples

CANDIDATES = (None, 0.3, 0.4, 0.5, 0.6, 0.7)
PRESENCE_RULES = {"any_behaviour", "no_behaviour"}


def with_predicted_behaviours(convs, proba: np.ndarray, thresholds: dict[str, float]):
    """Copies of ``convs`` whose agent turns carry out-of-fold scores and labels."""
    out = copy.deepcopy(convs)
    rows = iter(proba)
    for conv in out:
        for turn in conv.turns:
            if turn.speaker == "agent" and turn.behaviours is not None:
                row = next(rows)
                turn.behaviour_scores = {b: float(row[j]) for j, b in enumerate(BEHAVIOURS)}
                turn.behaviours = [b for b in BEHAVIOURS if turn.behaviour_scores[b] >= thresholds.get(b, 0.5)]
    return out


def item_accuracies(convs, predicted, config) -> dict[str, dict]:
    rules = ChecklistRules(config)
    gold = {c.conversation_id: rules.evaluate(c, keep=c.extra.get("checklist")) for c in convs}

    def agreement(item, field: str, candidate) -> float:
        trial = item.model_copy(update={field: {**getattr(item, field), "min_score": candidate}})
        ok = sum(rules.verdict(c, trial)["verdict"] == gold[c.conversation_id][item.id]["verdict"] for c in predicted)
        return round(ok / len(predicted), 4)

    report = {}
    for item in config.items:
        if item.rule in PRESENCE_RULES:
            report[item.id] = {"model thresholds" if c is None else str(c): agreement(item, "params", c) for c in CANDIDATES}
    for item in config.items:
        if "min_score" in item.na_params:
            report[f"{item.id} (na_params)"] = {str(c): agreement(item, "na_params", c) for c in CANDIDATES[1:] + (0.8, 0.9)}
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+")
    p.add_argument("--model", type=Path, default=Path("models/default/behaviours"))
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args(argv)
    convs, _ = load_labelled(args.data)
    texts, ys, groups, _ = task_examples("behaviours", convs)
    proba = out_of_fold("behaviours", texts, ys, groups, args.folds)
    card = json.loads((args.model / "model_card.json").read_text(encoding="utf-8"))
    predicted = with_predicted_behaviours(convs, proba, card.get("thresholds", {}))
    report = item_accuracies(convs, predicted, load_default_checklist())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
