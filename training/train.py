"""Training every task that the labelled data has labels for."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold, KFold

from pipeline import __version__
from pipeline.checklist_rules import ChecklistRules, item_behaviours, judgement_input, judgement_item, model_tasks
from pipeline.features import conversation_input, turn_inputs
from pipeline.labels import BEHAVIOURS, CATEGORIES, MODEL_TASKS, RESOLUTIONS, SENTIMENTS, VERDICTS
from pipeline.models import ContextualTurnModel, LinearTextModel, TurnContextModel, load_card, save_model
from pipeline.records import Conversation

from .corpus import data_hash, load_default_checklist, load_labelled
from .metrics import multiclass_report, multilabel_report

log = logging.getLogger(__name__)

# One model per checklist item marked ``learned`` in configs/checklist.yaml.
TASKS = model_tasks(load_default_checklist())
JUDGEMENT_TASKS = TASKS[len(MODEL_TASKS):]

# Hyper-parameters per task: behaviours and frustration are independent binary
# decisions; sentiment, category and resolution are single-choice.
# nb_C adds the NB-scaled member (see LinearTextModel). Behaviours, 5-fold grouped
# CV on the corpus: micro-F1 0.812 -> 0.821. Frustration, 5-fold CV grouped by
# writer on the 6,875-conversation corpus: F1 0.823 without it, 0.828 / 0.829 /
# 0.830 with nb_C 1 / 2 / 4, higher in every language (en 0.811 -> 0.822, hr
# 0.838 -> 0.841, lv 0.813 -> 0.822, sr 0.830 -> 0.837); C 2 or 8 instead of 4
# gave 0.819 and 0.824. (On the first 1,800 conversations, grouped by
# conversation, it had gained 0.001.)
TASK_PARAMS: dict[str, dict[str, Any]] = {
    "sentiment": {"kind": "multiclass", "C": 4.0},
    "frustration": {"kind": "multilabel", "C": 4.0, "nb_C": 4.0},
    "behaviours": {"kind": "multilabel", "C": 8.0, "nb_C": 2.0},
    # Conversation-level inputs are long: word n-grams alone keep them fast.
    "category": {"kind": "multiclass", "C": 8.0, "char_ngrams": None},
    "resolution": {"kind": "multiclass", "C": 8.0, "char_ngrams": None},
}
# A judgement model reads markers and words, like category and resolution; C 4
# (python -m training.judgement_check: answer_all_questions 0.761 with the rule
# -> 0.828 on held-out writers with predicted behaviours).
JUDGEMENT_PARAMS: dict[str, Any] = {"kind": "multiclass", "C": 4.0, "char_ngrams": None}
TASK_PARAMS.update({task: JUDGEMENT_PARAMS for task in JUDGEMENT_TASKS})

# With ``context``, the tasks whose turn model gets a second stage that re-scores
# each turn with its neighbours' scores (see TurnContextModel), and its
# parameters. It learns from out-of-fold scores, so it needs enough conversations.
# Measured on corpus writers the turn model never saw (its scores from 5-fold CV
# grouped by writer; the second stage trained, as here, on scores from folds
# grouped by conversation, and tested on those writers), with thresholds chosen
# as here: behaviours micro-F1 0.855 -> 0.862 (every language +0.006 to +0.007),
# frustration F1 0.828 -> 0.840 (+0.008 to +0.016). The position cues add
# 0.004 to frustration and nothing to behaviours (0.8614 with, 0.8616 without).
# Half as many trees (learning rate 0.1, 100 iterations) cost behaviours 0.001.
# It is off by default: on conversations written by other people it did not
# help (dev behaviours 0.855 -> 0.851, frustration 0.857 -> 0.829; MultiWOZ
# "anything else?" 0.795 -> 0.771, MAIA-DQE frustration 0.174 -> 0.156, RSiCS
# 0.360 -> 0.354). What it learns is how this corpus' writers lay out a
# conversation, which all of them share and other writers do not.
CONTEXT_PARAMS: dict[str, dict[str, Any]] = {"behaviours": {"position": False}, "frustration": {}}
CONTEXT_MIN_CONVERSATIONS = 200

# Weight of a labelled tweet from the LTEC train file next to a corpus turn in the
# sentiment regression. Tweets about food are not customer-service turns: at a low
# weight, and over the corpus' own vocabulary, they teach Latvian sentiment
# without moving the corpus' decisions. 3-fold grouped CV on the corpus / a
# held-out fifth of the LTEC train file, macro-F1: no tweets 0.812 / 0.30; weight
# 0.1 0.808 / 0.48 (0.3: 0.802 / 0.48). Learning the vocabulary from the tweets as
# well gave 0.809 / 0.51, but then frustration, which must share sentiment's
# feature extractor for speed, lost F1 on the public English frustration data
# (RSiCS 0.341 -> 0.320, MAIA 0.306 -> 0.278) and on the dev set.
EXTRA_SENTIMENT_WEIGHT = 0.1

# The headline metric per task, used to refuse a worse model.
HEADLINE = {
    "sentiment": "macro_f1",
    "frustration": "f1",
    "behaviours": "micro_f1",
    "category": "accuracy",
    "resolution": "accuracy",
    **{task: "accuracy" for task in JUDGEMENT_TASKS},
}


def task_examples(task: str, convs: list[Conversation], judgement_texts: list[str] | None = None,
                  ) -> tuple[list[str], list, list[str], list[str]]:
    """(texts, targets, groups, languages) for a task; examples without a label are skipped.
    ``judgement_texts``: ``judgement_inputs(convs)``, when the caller already has them."""
    if task in JUDGEMENT_TASKS:
        return _judgement_examples(task, convs, judgement_texts)
    texts, ys, groups, langs = [], [], [], []
    for conv in convs:
        if task in ("category", "resolution"):
            value = getattr(conv, task)
            if value is not None:
                texts.append(conversation_input(conv))
                ys.append(value)
                groups.append(conv.conversation_id)
                langs.append(conv.language or "?")
            continue
        for _conv, _turn, text, y in labelled_turns(task, [conv]):
            texts.append(text)
            ys.append(y)
            groups.append(conv.conversation_id)
            langs.append(conv.language or "?")
    return texts, ys, groups, langs


def labelled_turns(task: str, convs: list[Conversation]):
    """(conversation, turn, model input, target) for every turn that has a label
    for a turn task (sentiment, frustration, behaviours), in conversation order."""
    speaker = "agent" if task == "behaviours" else "customer"
    for conv in convs:
        for turn, text in turn_inputs(conv, speaker):
            if task == "sentiment" and turn.sentiment is not None:
                yield conv, turn, text, turn.sentiment
            elif task == "frustration" and turn.frustrated is not None:
                yield conv, turn, text, ["frustration"] if turn.frustrated else []
            elif task == "behaviours" and turn.behaviours is not None:
                yield conv, turn, text, list(turn.behaviours)


def judgement_inputs(convs: list[Conversation]) -> list[str]:
    """Every conversation's judgement-model input, the rules' verdicts on its
    gold turn labels among them, as the pipeline computes them on its predicted
    ones. The same for every judgement task, so ``train_all`` builds them once."""
    rules = ChecklistRules(load_default_checklist())
    return [judgement_input(conv, rules.evaluate(conv)) for conv in convs]


def _judgement_examples(task: str, convs: list[Conversation], inputs: list[str] | None = None):
    """The annotator's verdict of a judgement item, with ``judgement_inputs``."""
    item = judgement_item(task)
    if inputs is None:
        inputs = judgement_inputs(convs)
    texts, ys, groups, langs = [], [], [], []
    for conv, text in zip(convs, inputs):
        verdict = (conv.extra.get("checklist") or {}).get(item)
        if verdict is None:
            continue
        texts.append(text)
        ys.append(verdict)
        groups.append(conv.conversation_id)
        langs.append(conv.language or "?")
    return texts, ys, groups, langs


def extra_examples(task: str, extra: list[Conversation]) -> tuple[list[str], list, list[float]]:
    """(texts, targets, weights) from extra sentiment-only conversations (the LTEC
    train file): always in the training folds, never scored."""
    if task != "sentiment" or not extra:
        return [], [], []
    texts, ys = [], []
    for conv in extra:
        for turn, text in turn_inputs(conv, "customer"):
            if turn.sentiment is not None:
                texts.append(text)
                ys.append(turn.sentiment)
    return texts, ys, [EXTRA_SENTIMENT_WEIGHT] * len(texts)


def _fit(task: str, texts, ys, extra: tuple, random_state: int) -> LinearTextModel:
    x_texts, x_ys, x_weights = extra
    model = LinearTextModel(**TASK_PARAMS[task], random_state=random_state)
    if not x_texts:
        return model.fit(texts, ys, labels=label_set(task))
    # The vocabulary comes from the corpus alone, so sentiment keeps the feature
    # extractor that frustration (trained on the same corpus turns) learns too.
    return model.fit(list(texts) + x_texts, list(ys) + x_ys, labels=label_set(task),
                     sample_weight=[1.0] * len(texts) + x_weights,
                     vocabulary_mask=[True] * len(texts) + [False] * len(x_texts))


def label_set(task: str) -> list[str]:
    return {
        "sentiment": list(SENTIMENTS),
        "frustration": ["frustration"],
        "behaviours": list(BEHAVIOURS),
        "category": list(CATEGORIES),
        "resolution": list(RESOLUTIONS),
        **{t: list(VERDICTS) for t in JUDGEMENT_TASKS},
    }[task]


def _fit_and_predict(task: str, texts, ys, train_idx, test_idx, extra: tuple, random_state: int):
    model = _fit(task, [texts[i] for i in train_idx], [ys[i] for i in train_idx], extra, random_state)
    if test_idx is None:
        return model
    return model.predict_proba([texts[i] for i in test_idx])


def _fits(task: str, texts, ys, groups, folds: int, random_state: int, extra: tuple, n_jobs: int | None,
          final: bool) -> tuple[np.ndarray, LinearTextModel | None]:
    """Out-of-fold probabilities and, with ``final``, the model fitted on everything.

    The folds and the final fit are independent, so they run side by side on
    ``n_jobs`` processes (default: one per core); fits are deterministic, so the
    result does not depend on ``n_jobs``."""
    labels = label_set(task)
    proba = np.zeros((len(texts), len(labels)))
    k = min(folds, len(set(groups)))
    splits = list(GroupKFold(n_splits=k).split(texts, groups=groups)) if k >= 2 else []
    jobs = [(list(train), list(test)) for train, test in splits]
    if final:
        jobs.append((list(range(len(texts))), None))
    if not jobs:
        # Fewer than two conversations and no final fit: nothing to cross-validate.
        return proba, None
    n_jobs = min(len(jobs), n_jobs or os.cpu_count() or 1)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_predict)(task, texts, ys, train, test, extra, random_state) for train, test in jobs
    )
    for (_, test), result in zip(jobs, results):
        if test is not None:
            proba[test] = result
    return proba, (results[-1] if final else None)


def out_of_fold(task: str, texts, ys, groups, folds: int, random_state: int = 0, extra: tuple = ((), (), ()),
                n_jobs: int | None = None) -> np.ndarray:
    """Probabilities for every example from a model that never saw its conversation."""
    return _fits(task, texts, ys, groups, folds, random_state, extra, n_jobs, final=False)[0]


def auto_fail_behaviours() -> set[str]:
    """Behaviours whose detection fails an auto-fail checklist item (a QA score of 0)."""
    config = load_default_checklist()
    params = [item.params for item in config.items if item.id in config.auto_fail]
    return {b for p in params if {"behaviour", "behaviours"} & set(p) for b in item_behaviours(p)}


def choose_thresholds(proba: np.ndarray, Y: np.ndarray, labels: list[str],
                      precision_first: set[str] | frozenset[str] = frozenset()) -> dict[str, float]:
    """Per label, the threshold that maximises F1 on out-of-fold probabilities, or
    F0.5 for ``precision_first`` labels: a false detection of those zeroes an
    agent's QA score, which costs more than a missed one."""
    grid = np.round(np.arange(0.1, 0.91, 0.025), 3)
    out = {}
    for j, label in enumerate(labels):
        y = Y[:, j]
        if y.sum() == 0:
            out[label] = 0.5
            continue
        best, best_f1 = 0.5, -1.0
        b2 = 0.25 if label in precision_first else 1.0
        for t in grid:
            pred = proba[:, j] >= t
            tp = float((pred & (y == 1)).sum())
            denom = b2 * y.sum() + pred.sum()
            f1 = (1 + b2) * tp / denom if denom else 0.0
            # Prefer the threshold closest to 0.5 among ties: less overfit to the folds.
            if f1 > best_f1 + 1e-9 or (abs(f1 - best_f1) <= 1e-9 and abs(t - 0.5) < abs(best - 0.5)):
                best, best_f1 = float(t), f1
        out[label] = best
    return out


def fit_temperature(proba: np.ndarray, y: list[int]) -> float:
    """The temperature T that minimises the log-loss of ``proba ** (1 / T)``
    (renormalised) on out-of-fold probabilities. Platt scaling per class inside
    the model leaves the sentiment model underconfident once the low-weight LTEC
    tweets are in its calibration folds (corpus out of fold: ECE 0.135; with the
    fitted T = 0.5, 0.024)."""
    rows = np.arange(len(y))
    best, best_loss = 1.0, np.inf
    for t in np.round(np.arange(0.3, 2.001, 0.05), 2):
        q = np.clip(proba, 1e-12, 1.0) ** (1.0 / t)
        q /= q.sum(axis=1, keepdims=True)
        loss = -np.log(q[rows, y]).mean()
        # Ties go to the temperature closest to 1: change the probabilities only for a real gain.
        if loss < best_loss - 1e-9 or (abs(loss - best_loss) <= 1e-9 and abs(t - 1) < abs(best - 1)):
            best, best_loss = float(t), loss
    return best


def _binarise(ys, labels) -> np.ndarray:
    return np.array([[1 if l in set(row) else 0 for l in labels] for row in ys], dtype=int)


def train_task(task: str, convs: list[Conversation], folds: int = 5, random_state: int = 0,
               extra: list[Conversation] | None = None, n_jobs: int | None = None,
               judgement_texts: list[str] | None = None, context: bool = False) -> tuple[Any, dict] | None:
    """The model for one task and its card. ``context``: add the second stage of
    ``CONTEXT_PARAMS`` where the task has one."""
    texts, ys, groups, langs = task_examples(task, convs, judgement_texts)
    more = extra_examples(task, extra or [])
    if len(texts) < 2:
        log.info("task %s: no labels in the data, skipped", task)
        return None
    labels = label_set(task)
    params = TASK_PARAMS[task]
    proba, model = _fits(task, texts, ys, groups, folds, random_state, more, n_jobs, final=True)
    cv_done = proba.any()
    card_metrics: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    if params["kind"] == "multilabel":
        Y = _binarise(ys, labels)
        precision_first = auto_fail_behaviours() if task == "behaviours" else frozenset()
        turn_model_report = None
        if context and cv_done and task in CONTEXT_PARAMS and len(set(groups)) >= CONTEXT_MIN_CONVERSATIONS:
            thresholds = choose_thresholds(proba, Y, labels, precision_first)
            turn_model_report = _multilabel_card_metrics(task, Y, proba, thresholds, labels, langs)
            blocks = _conversation_blocks(proba, groups)
            second = TurnContextModel(**CONTEXT_PARAMS[task], random_state=random_state)
            proba = context_out_of_fold(second, blocks, Y, labels, folds, random_state)
            model = ContextualTurnModel(model, second.fit(blocks, Y, labels))
        if cv_done:
            thresholds = choose_thresholds(proba, Y, labels, precision_first)
            card_metrics = _multilabel_card_metrics(task, Y, proba, thresholds, labels, langs)
            if turn_model_report is not None:
                card_metrics["turn_model_cross_validated"] = turn_model_report["cross_validated"]
    temperature = 1.0
    if params["kind"] != "multilabel" and cv_done:
        pred = [labels[i] for i in proba.argmax(axis=1)]
        report = multiclass_report(ys, pred, labels)
        card_metrics = {"cross_validated": report["overall"], "per_label": report["per_label"]}
        temperature = fit_temperature(proba, [labels.index(y) for y in ys])
    if temperature != 1.0:
        model.temperature_ = temperature
    if thresholds:
        model.thresholds_ = thresholds
    card = {
        "name": f"convaudit-{task}",
        "task": task,
        "kind": "linear+context" if isinstance(model, ContextualTurnModel) else "linear",
        "model_class": f"pipeline.models.{type(model).__name__}",
        "params": model.get_params(),
        "labels": labels,
        "examples": len(texts),
        "conversations": len(set(groups)),
        "languages": {l: langs.count(l) for l in sorted(set(langs))},
        "cv_folds": min(folds, len(set(groups))) if cv_done else 0,
        "metrics": card_metrics,
        "temperature": temperature if params["kind"] != "multilabel" else None,
        "headline_metric": HEADLINE[task],
        "package_version": __version__,
    }
    return model, card


def _multilabel_card_metrics(task: str, Y: np.ndarray, proba: np.ndarray, thresholds: dict[str, float],
                             labels: list[str], langs: list[str]) -> dict[str, Any]:
    report = multilabel_report(Y, proba >= np.array([thresholds[l] for l in labels]), labels, langs)
    metrics = {"cross_validated": report["overall"], "per_label": report["per_label"]}
    if task == "frustration":
        metrics["cross_validated"]["f1"] = report["per_label"]["frustration"]["f1"]
    return metrics


def _conversation_blocks(proba: np.ndarray, groups: list[str]) -> list[np.ndarray]:
    """``proba`` cut into one block per conversation (examples of a conversation
    are consecutive, as ``task_examples`` emits them)."""
    starts = [i for i, g in enumerate(groups) if i == 0 or g != groups[i - 1]]
    return np.split(proba, starts[1:])


def context_out_of_fold(context: TurnContextModel, blocks: list[np.ndarray], Y: np.ndarray, labels: list[str],
                        folds: int, random_state: int = 0) -> np.ndarray:
    """Second-stage probabilities for every turn from a context model that never
    saw its conversation. ``blocks`` are out-of-fold turn-model scores already."""
    sizes = np.array([len(b) for b in blocks])
    starts = np.cumsum(sizes) - sizes
    rows = [np.arange(start, start + size) for start, size in zip(starts, sizes)]
    out = np.zeros(Y.shape)
    splitter = KFold(n_splits=min(folds, len(blocks)), shuffle=True, random_state=random_state)
    for train, test in splitter.split(np.arange(len(blocks))):
        fold = TurnContextModel(**context.get_params()).fit([blocks[i] for i in train],
                                                            Y[np.concatenate([rows[i] for i in train])], labels)
        out[np.concatenate([rows[i] for i in test])] = fold.predict_proba([blocks[i] for i in test])
    return out


def headline(card: dict) -> float | None:
    return card.get("metrics", {}).get("cross_validated", {}).get(card.get("headline_metric", ""))


def train_all(
    data: list[str],
    out: str | Path,
    *,
    force: bool = False,
    folds: int = 5,
    version: str | None = None,
    tasks: tuple[str, ...] = TASKS,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
    ltec_train: str | Path | None = None,
    n_jobs: int | None = None,
    context: bool = False,
) -> dict[str, Any]:
    """Train every task found in ``data``; refuse to replace a better model unless ``force``.
    ``ltec_train``: the LTEC train file, extra Latvian sentiment examples (see
    ``EXTRA_SENTIMENT_WEIGHT``). ``n_jobs``: processes for the cross-validation
    folds and the final fit (default: one per core). ``context``: see ``CONTEXT_PARAMS``."""
    from pipeline.errors import ConvauditError

    convs, rejects = load_labelled(data)
    if not convs:
        raise ConvauditError("no_labels", paths=", ".join(data))
    extra: list[Conversation] = []
    if ltec_train is not None:
        from .external import ltec_file

        if not Path(ltec_train).is_file():
            raise ConvauditError("input_missing", path=ltec_train)
        loaded = ltec_file(Path(ltec_train), prefix="ltec-train")
        for conv, gold in zip(loaded["conversations"], loaded["customer"]):
            conv.turns[0].sentiment = gold[0]["sentiment"]
            extra.append(conv)
    # The run's hash covers everything it read; a card's covers what its model
    # read, so only sentiment's includes the LTEC file.
    corpus_digest = digest = data_hash(data)
    if ltec_train is not None:
        digest = hashlib.sha256(corpus_digest.encode() + Path(ltec_train).read_bytes()).hexdigest()[:16]
    out = Path(out)
    trained: dict[str, tuple] = {}
    judgement_texts = None
    for task in tasks:
        if progress:
            progress(task)
        if task in JUDGEMENT_TASKS and judgement_texts is None:
            judgement_texts = judgement_inputs(convs)
        result = train_task(task, convs, folds=folds, random_state=random_state, extra=extra, n_jobs=n_jobs,
                            judgement_texts=judgement_texts, context=context)
        if result is not None:
            trained[task] = result
    comparisons = {}
    worse = []
    for task, (model, card) in trained.items():
        old_card = None
        if (out / task / "model_card.json").exists():
            try:
                old_card = load_card(out / task)
            except ConvauditError:
                old_card = None
        new_v, old_v = headline(card), headline(old_card) if old_card else None
        comparisons[task] = {"metric": HEADLINE[task], "old": old_v, "new": new_v,
                             "old_version": old_card.get("version") if old_card else None}
        if old_v is not None and new_v is not None and new_v < old_v - 0.005:
            worse.append(f"{task} {HEADLINE[task]} {old_v:.3f} -> {new_v:.3f}")
    if worse and not force:
        raise ConvauditError("model_worse", path=out, metrics="; ".join(worse))
    for task, (model, card) in trained.items():
        old = comparisons[task]["old_version"]
        card["version"] = version or _next_version(old)
        reads_extra = bool(extra) and task == "sentiment"
        card["training_data"] = {"paths": [str(p) for p in data], "sha256_16": digest if reads_extra else corpus_digest,
                                 "conversations": len(convs), "rejected": len(rejects)}
        if reads_extra:
            card["training_data"]["extra"] = {"path": Path(ltec_train).name, "examples": len(extra),
                                              "weight": EXTRA_SENTIMENT_WEIGHT}
        card["previous"] = {"version": old, "headline": comparisons[task]["old"]} if old else None
        save_model(model, out / task, card)
    return {"tasks": list(trained), "comparisons": comparisons, "conversations": len(convs), "data_hash": digest}


def _next_version(old: str | None) -> str:
    if not old:
        return "1.0.0"
    try:
        major, minor, patch = (int(x) for x in old.split("."))
        return f"{major}.{minor + 1}.0"
    except ValueError:
        return old + ".1"
