"""Rule against judgement model, per judgement item, on the labelled corpus.

For each checklist item that an annotator judges (labels.md §4), the verdict
accuracy against the annotators of (a) the item's rule and (b) a judgement
model of the kind ``convaudit train`` fits (``judgement_input`` → linear
model), in cross-validation grouped by *writer* (the conversation id's first
two parts, ``hr-c``), so a writer's habits never help to judge that writer.
Models are always trained on inputs built from gold turn labels; the test
writers' inputs come from gold labels and, as at run time, from out-of-fold
behaviour-model outputs (5-fold grouped by conversation, as in training).
An item earns ``learned: true`` in configs/checklist.yaml when its model beats
its rule on predicted behaviours.

    python -m training.judgement_check data/labelled [--items ...] [--oof-cache FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from pipeline.checklist_rules import ChecklistRules, judgement_input
from pipeline.labels import VERDICTS
from pipeline.models import LinearTextModel
from pipeline.records import Conversation

from .checklist_thresholds import with_predicted_behaviours
from .corpus import load_default_checklist, load_labelled, writer
from .train import JUDGEMENT_PARAMS, out_of_fold, task_examples

log = logging.getLogger(__name__)


def _accuracy(pred: np.ndarray, gold: np.ndarray, langs: np.ndarray) -> dict[str, float]:
    ok = pred == gold
    out = {lang: round(float(ok[langs == lang].mean()), 3) for lang in sorted(set(langs))}
    out["all"] = round(float(ok.mean()), 4)
    return out


def compare(convs: list[Conversation], predicted: list[Conversation], items: list[str], folds: int = 5,
            random_state: int = 0) -> dict[str, dict]:
    """Per item: accuracy of the rule and of the model, on gold and on predicted inputs."""
    rules = ChecklistRules(load_default_checklist())
    gold_verdicts = [rules.evaluate(c) for c in convs]
    pred_verdicts = [rules.evaluate(c) for c in predicted]
    gold_inputs = [judgement_input(c, v) for c, v in zip(convs, gold_verdicts)]
    pred_inputs = [judgement_input(c, v) for c, v in zip(predicted, pred_verdicts)]
    groups = np.array([writer(c.conversation_id) for c in convs])
    langs = np.array([c.language or "?" for c in convs])
    report = {}
    for item in items:
        y = np.array([(c.extra.get("checklist") or {}).get(item) or "" for c in convs])
        keep = np.flatnonzero(y != "")
        model_gold = np.empty(len(y), dtype=object)
        model_pred = np.empty(len(y), dtype=object)
        for train, test in GroupKFold(n_splits=folds).split(keep, groups=groups[keep]):
            train, test = keep[train], keep[test]
            model = LinearTextModel(**JUDGEMENT_PARAMS, random_state=random_state).fit(
                [gold_inputs[i] for i in train], list(y[train]), labels=list(VERDICTS))
            labels = np.array(model.labels_)
            model_gold[test] = labels[model.predict_proba([gold_inputs[i] for i in test]).argmax(axis=1)]
            model_pred[test] = labels[model.predict_proba([pred_inputs[i] for i in test]).argmax(axis=1)]
        rule_gold = np.array([v[item]["verdict"] for v in gold_verdicts])
        rule_pred = np.array([v[item]["verdict"] for v in pred_verdicts])
        report[item] = {
            name: _accuracy(pred[keep], y[keep], langs[keep])
            for name, pred in [("rule, gold labels", rule_gold), ("model, gold labels", model_gold),
                               ("rule, predicted behaviours", rule_pred), ("model, predicted behaviours", model_pred)]
        }
        log.info("%s: %s", item, {k: v["all"] for k, v in report[item].items()})
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+")
    p.add_argument("--items", nargs="+", help="judgement items to compare (default: all six)")
    p.add_argument("--model", type=Path, default=Path("models/default/behaviours"),
                   help="behaviour model directory whose thresholds label the out-of-fold scores")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--oof-cache", type=Path, metavar="FILE",
                   help="a .npy file of out-of-fold behaviour probabilities: read if it exists, else written")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    convs, _ = load_labelled(args.data)
    items = args.items or [i.id for i in load_default_checklist().items if i.judgement]
    if args.oof_cache and args.oof_cache.is_file():
        proba = np.load(args.oof_cache)
    else:
        texts, ys, groups, _ = task_examples("behaviours", convs)
        proba = out_of_fold("behaviours", texts, ys, groups, args.folds)
        if args.oof_cache:
            np.save(args.oof_cache, proba)
    card = json.loads((args.model / "model_card.json").read_text(encoding="utf-8"))
    predicted = with_predicted_behaviours(convs, proba, card.get("thresholds", {}))
    print(json.dumps(compare(convs, predicted, items, folds=args.folds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
