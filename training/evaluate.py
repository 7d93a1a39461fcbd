"""Evaluation: per-language, per-label accuracy of the pipeline on labelled data,
checklist verdict accuracy, calibration, baselines, and the public datasets."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.checklist_rules import ChecklistRules
from pipeline.config import load_pipeline_config
from pipeline.io.readers import iter_conversations
from pipeline.labels import BEHAVIOURS, CATEGORIES, RESOLUTIONS, SENTIMENTS
from pipeline.records import Conversation, Reject
from pipeline.runner import Pipeline, build_stages

from . import baselines
from .corpus import gold_verdicts, load_labelled
from .metrics import (
    bootstrap_interval,
    confusion_by_unit,
    f1_counts_by_unit,
    multiclass_report,
    multilabel_report,
    reliability,
)

log = logging.getLogger(__name__)

TARGETS = {"behaviours_micro_f1": 0.85, "sentiment_macro_f1": 0.75, "frustration_f1": 0.80, "checklist_accuracy": 0.90}
# Headline metric -> the statistic its per-conversation counts feed (see
# ``_unit_counts``); the bootstrap resamples conversations.
INTERVALS = {"behaviours_micro_f1": "f1", "sentiment_macro_f1": "macro_f1", "frustration_f1": "f1",
             "checklist_accuracy": "accuracy", "category_accuracy": "accuracy", "resolution_accuracy": "accuracy"}


def _predict(paths: list[str], config) -> dict[str, Conversation]:
    convs = [c for c in iter_conversations(paths) if not isinstance(c, Reject)]
    for c in convs:  # the pipeline must not see the gold labels
        c.extra = {}
        for t in c.turns:
            t.extra = {}
    done, _ = Pipeline(build_stages(config)).process(convs)
    return {c.conversation_id: c for c in done}


class _Collector:
    def __init__(self):
        self.sent_true, self.sent_pred, self.sent_conf = [], [], []
        self.frus_true, self.frus_pred, self.frus_score = [], [], []
        self.beh_true, self.beh_pred, self.beh_score = [], [], []
        self.cat_true, self.cat_pred, self.res_true, self.res_pred = [], [], [], []
        self.verdicts: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
        self.kw_pred = []
        self.vader_sent, self.vader_frus = [], []
        # Headline metric -> one row of counts per conversation (``_unit_counts``).
        self.units: dict[str, list[list[float]]] = defaultdict(list)

    def merge(self, other: "_Collector") -> None:
        for name, value in vars(other).items():
            if isinstance(value, list):
                getattr(self, name).extend(value)
        for key, rows in other.verdicts.items():
            self.verdicts[key].extend(rows)
        for key, rows in other.units.items():
            self.units[key].extend(rows)


def evaluate(data: list[str], model_dir: str | None = None, config_path: str | None = None,
             external: str | None = None, with_baselines: bool = True, previous: str | None = None) -> dict[str, Any]:
    config = load_pipeline_config(config_path)
    if model_dir:
        config.model_dir = str(Path(model_dir).resolve())
    gold_convs, _ = load_labelled(data)
    pred = _predict(data, config)
    rules = ChecklistRules(config.checklist_config)
    by_lang: dict[str, _Collector] = defaultdict(_Collector)
    for g in gold_convs:
        p = pred.get(g.conversation_id)
        if p is None:
            continue
        one = _Collector()
        _collect(one, g, p, rules, with_baselines)
        for metric, counts in _unit_counts(one).items():
            one.units[metric].append(counts)
        for col in (by_lang[g.language or "?"], by_lang["all"]):
            col.merge(one)
    report: dict[str, Any] = {
        "data": [str(d) for d in data],
        "models": next(iter(pred.values())).models if pred else {},
        "model_dir": str(config.resolve(config.model_dir)),
        "languages": {},
        "targets": TARGETS,
    }
    for lang, col in sorted(by_lang.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        report["languages"][lang] = _summarise(col, with_baselines)
    report["calibration"] = _calibration(by_lang["all"]) if "all" in by_lang else {}
    if external:
        report["external"] = evaluate_external(Path(external), config, with_baselines)
    if previous and Path(previous).exists():
        report["previous"] = _compare(report, json.loads(Path(previous).read_text(encoding="utf-8")))
    return report


def _unit_counts(one: _Collector) -> dict[str, list[float]]:
    """What one conversation (a collector holding its rows alone) contributes
    to each headline metric, as counts the bootstrap intervals can add up."""
    # Every decision belongs to the one unit 0; micro-F1 pools all behaviour labels.
    beh_t = np.array(one.beh_true, dtype=bool).ravel()
    beh_p = np.array(one.beh_pred, dtype=bool).ravel()
    verdicts = [r for v in one.verdicts.values() for r in v]
    return {
        "behaviours_micro_f1": f1_counts_by_unit(np.zeros(len(beh_t), int), beh_t, beh_p, 1)[0].tolist(),
        "sentiment_macro_f1": confusion_by_unit(np.zeros(len(one.sent_true), int), one.sent_true, one.sent_pred,
                                                SENTIMENTS, 1)[0].tolist(),
        "frustration_f1": f1_counts_by_unit(np.zeros(len(one.frus_true), int), one.frus_true, one.frus_pred, 1)[0].tolist(),
        "checklist_accuracy": [sum(1 for g, p, _ in verdicts if g == p), len(verdicts)],
        "category_accuracy": [sum(1 for t, p in zip(one.cat_true, one.cat_pred) if t == p), len(one.cat_true)],
        "resolution_accuracy": [sum(1 for t, p in zip(one.res_true, one.res_pred) if t == p), len(one.res_true)],
    }


def _collect(col: _Collector, g: Conversation, p: Conversation, rules: ChecklistRules, with_baselines: bool) -> None:
    pturns = {t.index: t for t in p.turns}
    for gt in g.turns:
        pt = pturns.get(gt.index)
        if pt is None:
            continue
        if gt.speaker == "customer" and gt.sentiment is not None:
            col.sent_true.append(gt.sentiment)
            col.sent_pred.append(pt.sentiment)
            col.frus_true.append(bool(gt.frustrated))
            col.frus_pred.append(bool(pt.frustrated))
            col.frus_score.append(pt.frustration_score or 0.0)
            # Confidence of the sentiment label: the probability mass behind it,
            # reconstructed from the signed score for the extremes.
            col.sent_conf.append(abs(pt.sentiment_score or 0.0) if pt.sentiment != "neutral" else 1 - abs(pt.sentiment_score or 0.0))
            if with_baselines and g.language == "en":
                col.vader_sent.append((gt.sentiment, baselines.vader_sentiment(gt.text)))
                col.vader_frus.append((bool(gt.frustrated), baselines.vader_frustrated(gt.text)))
        elif gt.speaker == "agent" and gt.behaviours is not None:
            col.beh_true.append([b in gt.behaviours for b in BEHAVIOURS])
            col.beh_pred.append([b in (pt.behaviours or []) for b in BEHAVIOURS])
            col.beh_score.append([(pt.behaviour_scores or {}).get(b, 0.0) for b in BEHAVIOURS])
            if with_baselines:
                kw = baselines.keyword_behaviours(gt.text)
                col.kw_pred.append([b in kw for b in BEHAVIOURS])
    if g.category:
        col.cat_true.append(g.category)
        col.cat_pred.append(p.category)
    if g.resolution:
        col.res_true.append(g.resolution)
        col.res_pred.append(p.resolution)
    gold_v = g.extra.get("checklist") or {}
    if len(gold_v) < len(rules.config.items):
        gold_v = gold_verdicts(g, rules)
    for item, v in p.checklist.items():
        if item in gold_v:
            col.verdicts[item].append((gold_v[item], v["verdict"], float(v["confidence"])))


def _summarise(col: _Collector, with_baselines: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if col.sent_true:
        out["sentiment"] = multiclass_report(col.sent_true, col.sent_pred, list(SENTIMENTS))
        fr = multilabel_report(np.array(col.frus_true)[:, None], np.array(col.frus_pred)[:, None], ["frustration"])
        out["frustration"] = fr["per_label"]["frustration"]
    if col.beh_true:
        out["behaviours"] = multilabel_report(np.array(col.beh_true), np.array(col.beh_pred), list(BEHAVIOURS))
    if col.cat_true:
        out["category"] = multiclass_report(col.cat_true, col.cat_pred, list(CATEGORIES))
    if col.res_true:
        out["resolution"] = multiclass_report(col.res_true, col.res_pred, list(RESOLUTIONS))
    if col.verdicts:
        items = {}
        correct = total = 0
        for item, rows in col.verdicts.items():
            ok = sum(1 for g, p, _ in rows if g == p)
            items[item] = {"accuracy": round(ok / len(rows), 4), "n": len(rows),
                           "gold_fail": sum(1 for g, _, _ in rows if g == "fail")}
            correct += ok
            total += len(rows)
        out["checklist"] = {"accuracy": round(correct / total, 4) if total else 0.0, "items": items}
    base: dict[str, Any] = {}
    if with_baselines and col.kw_pred:
        kw = multilabel_report(np.array(col.beh_true), np.array(col.kw_pred), list(BEHAVIOURS))
        base["keyword_behaviours"] = {"micro_f1": kw["overall"]["micro_f1"], "macro_f1": kw["overall"]["macro_f1"],
                                      "per_label_f1": {k: v["f1"] for k, v in kw["per_label"].items()}}
    if with_baselines and col.vader_sent:
        vs = multiclass_report([g for g, _ in col.vader_sent], [v for _, v in col.vader_sent], list(SENTIMENTS))
        base["vader_sentiment"] = {"macro_f1": vs["overall"]["macro_f1"], "accuracy": vs["overall"]["accuracy"],
                                   "examples": len(col.vader_sent)}
        base["vader_frustration"] = {"f1": _binary_f1([g for g, _ in col.vader_frus], [v for _, v in col.vader_frus])}
    if base:
        out["baselines"] = base
    out["headline"] = {
        "behaviours_micro_f1": out.get("behaviours", {}).get("overall", {}).get("micro_f1"),
        "sentiment_macro_f1": out.get("sentiment", {}).get("overall", {}).get("macro_f1"),
        "frustration_f1": out.get("frustration", {}).get("f1"),
        "checklist_accuracy": out.get("checklist", {}).get("accuracy"),
        "category_accuracy": out.get("category", {}).get("overall", {}).get("accuracy"),
        "resolution_accuracy": out.get("resolution", {}).get("overall", {}).get("accuracy"),
    }
    out["conversations"] = len(next(iter(col.units.values()), []))
    out["intervals"] = {metric: list(bootstrap_interval(np.array(col.units[metric]), statistic))
                        for metric, statistic in INTERVALS.items()
                        if out["headline"][metric] is not None and col.units.get(metric)}
    return out


def _calibration(col: _Collector) -> dict[str, Any]:
    out = {}
    if col.beh_score:
        S = np.array(col.beh_score)
        Y = np.array(col.beh_true)
        P = np.array(col.beh_pred)
        conf = np.where(P, S, 1 - S).ravel()
        out["behaviours"] = reliability(conf, (P == Y).ravel())
    if col.frus_score:
        s = np.array(col.frus_score)
        p = np.array(col.frus_pred)
        out["frustration"] = reliability(np.where(p, s, 1 - s), p == np.array(col.frus_true))
    if col.sent_true:
        out["sentiment"] = reliability(col.sent_conf, [t == p for t, p in zip(col.sent_true, col.sent_pred)])
    rows = [r for v in col.verdicts.values() for r in v]
    if rows:
        out["checklist"] = reliability([c for _, _, c in rows], [g == p for g, p, _ in rows])
    return out


# ---------------------------------------------------------------- external data
def evaluate_external(root: Path, config, with_baselines: bool = True) -> dict[str, Any]:
    from .external import LOADERS

    stage_names = [s for s in config.stages if s in ("clean", "sentiment", "frustration", "behaviours")]
    stages = [s for s in build_stages(config) if s.name in stage_names]
    pipe = Pipeline(stages)
    results: dict[str, Any] = {}
    for key, loader in LOADERS.items():
        try:
            ds = loader(root)
        except FileNotFoundError:
            log.warning("external dataset %s not found under %s", key, root)
            continue
        done, _ = pipe.process(ds["conversations"])
        by_id = {c.conversation_id: c for c in done}
        res: dict[str, Any] = {"name": ds["name"], "language": ds["language"], "conversations": len(ds["conversations"])}
        n_units = len(ds["conversations"])
        if "customer" in ds:
            su, st, sp, sv, fu, ft, fp, fv = [], [], [], [], [], [], [], []
            for unit, text, gl, pred in _aligned(ds["conversations"], ds["customer"], by_id):
                if gl.get("sentiment"):
                    su.append(unit); st.append(gl["sentiment"]); sp.append(pred.sentiment)
                    if with_baselines:
                        sv.append(baselines.vader_sentiment(text))
                if gl.get("frustration") is not None:
                    fu.append(unit); ft.append(gl["frustration"]); fp.append(bool(pred.frustrated))
                    if with_baselines:
                        fv.append(baselines.vader_frustrated(text))
            if st:
                res["sentiment_macro_f1"] = multiclass_report(st, sp, list(SENTIMENTS))["overall"]["macro_f1"]
                if sv:
                    res["vader_sentiment_macro_f1"] = multiclass_report(st, sv, list(SENTIMENTS))["overall"]["macro_f1"]
                    res["sentiment_macro_f1_gain"] = list(bootstrap_interval(
                        confusion_by_unit(su, st, sp, SENTIMENTS, n_units), "macro_f1",
                        baseline=confusion_by_unit(su, st, sv, SENTIMENTS, n_units)))
                res["sentiment_n"] = len(st)
            if ft:
                res["frustration_f1"] = _binary_f1(ft, fp)
                if fv:
                    res["vader_frustration_f1"] = _binary_f1(ft, fv)
                    res["frustration_f1_gain"] = list(bootstrap_interval(
                        f1_counts_by_unit(fu, ft, fp, n_units), "f1", baseline=f1_counts_by_unit(fu, ft, fv, n_units)))
                res["frustration_n"] = len(ft)
                res["frustration_positives"] = int(sum(ft))
        if "agent_behaviours" in ds:
            aligned = list(_aligned(ds["conversations"], ds["agent_behaviours"], by_id))
            units = [unit for unit, _, _, _ in aligned]
            keyword = [baselines.keyword_behaviours(text) for _, text, _, _ in aligned] if with_baselines else []
            for label in ds["labels"]:
                t = [label in gl for _, _, gl, _ in aligned]
                p_ = [label in (pred.behaviours or []) for _, _, _, pred in aligned]
                res[f"{label}_f1"] = _binary_f1(t, p_)
                if keyword:
                    k = [label in kw for kw in keyword]
                    res[f"keyword_{label}_f1"] = _binary_f1(t, k)
                    res[f"{label}_f1_gain"] = list(bootstrap_interval(
                        f1_counts_by_unit(units, t, p_, n_units), "f1", baseline=f1_counts_by_unit(units, t, k, n_units)))
                res[f"{label}_positives"] = int(sum(t))
        results[key] = res
    return results


def _aligned(convs, golds, predicted: dict):
    """(conversation number, text, gold labels, predicted turn) for every turn
    with gold labels; turns are matched by input index because cleaning may drop
    empty ones. The number lets the bootstrap resample whole conversations."""
    for unit, (conv, gold) in enumerate(zip(convs, golds)):
        p = predicted.get(conv.conversation_id)
        if p is None:
            continue
        turns = {t.index: t for t in p.turns}
        for i, gl in enumerate(gold):
            if gl is not None and i in turns:
                yield unit, turns[i].text, gl, turns[i]


def _binary_f1(truth, pred) -> float:
    r = multilabel_report(np.array(truth)[:, None], np.array(pred)[:, None], ["x"])
    return r["per_label"]["x"]["f1"]


def _compare(report: dict, old: dict) -> dict[str, Any]:
    out = {"models": old.get("models"), "headline": {}}
    for lang, cur in report["languages"].items():
        prev = old.get("languages", {}).get(lang, {}).get("headline", {})
        out["headline"][lang] = {k: {"previous": prev.get(k), "current": v} for k, v in cur["headline"].items()}
    return out


# ---------------------------------------------------------------- rendering
def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


_INTERVAL_NAMES = {"behaviours_micro_f1": "behaviours micro-F1", "sentiment_macro_f1": "sentiment macro-F1",
                   "frustration_f1": "frustration F1", "checklist_accuracy": "checklist accuracy",
                   "category_accuracy": "category acc.", "resolution_accuracy": "resolution acc."}


def _interval_cell(lang_report: dict, metric: str) -> str:
    interval = lang_report.get("intervals", {}).get(metric)
    return "-" if interval is None else f"{interval[0]:.3f}–{interval[1]:.3f}"


def _gain_cell(result: dict, metric: str, base: str) -> str:
    interval = result.get(f"{metric}_gain")
    if interval is None or result.get(base) is None:
        return "-"
    return f"{result[metric] - result[base]:+.3f} ({interval[0]:+.3f} to {interval[1]:+.3f})"


def render_table(report: dict) -> str:
    lines = []
    langs = list(report["languages"])
    lines.append("Headline metrics (targets: behaviours micro-F1 >= 0.85, sentiment macro-F1 >= 0.75, "
                 "frustration F1 >= 0.80, checklist accuracy >= 0.90)")
    head = f"{'language':9s} {'behav µF1':>10s} {'keyword µF1':>12s} {'sent mF1':>9s} {'VADER mF1':>10s} {'frus F1':>8s} {'checklist':>10s} {'category':>9s} {'resolution':>11s}"
    lines.append(head)
    for lang in langs:
        r = report["languages"][lang]
        h = r["headline"]
        b = r.get("baselines", {})
        lines.append(f"{lang:9s} {_fmt(h['behaviours_micro_f1']):>10s} {_fmt(b.get('keyword_behaviours', {}).get('micro_f1')):>12s} "
                     f"{_fmt(h['sentiment_macro_f1']):>9s} {_fmt(b.get('vader_sentiment', {}).get('macro_f1')):>10s} "
                     f"{_fmt(h['frustration_f1']):>8s} {_fmt(h['checklist_accuracy']):>10s} {_fmt(h['category_accuracy']):>9s} "
                     f"{_fmt(h['resolution_accuracy']):>11s}")
    if any(r.get("intervals") for r in report["languages"].values()):
        lines.append("")
        lines.append("95% intervals (bootstrap over conversations)")
        lines.append(f"{'language':9s} " + " ".join(f"{_INTERVAL_NAMES[m]:>20s}" for m in INTERVALS))
        for lang in langs:
            lines.append(f"{lang:9s} " + " ".join(f"{_interval_cell(report['languages'][lang], m):>20s}" for m in INTERVALS))
    lines.append("")
    lines.append("Per-label precision / recall / F1 (support), by language")
    for task in ("behaviours", "sentiment"):
        labels = BEHAVIOURS if task == "behaviours" else SENTIMENTS
        lines.append(f"{task:22s} " + " ".join(f"{l:>20s}" for l in langs))
        for label in labels:
            cells = []
            for lang in langs:
                pl = report["languages"][lang].get(task, {}).get("per_label", {}).get(label)
                cells.append(f"{pl['precision']:.2f}/{pl['recall']:.2f}/{pl['f1']:.2f} ({pl['support']})" if pl else "-")
            lines.append(f"  {label:20s} " + " ".join(f"{c:>20s}" for c in cells))
    cells = []
    for lang in langs:
        fr = report["languages"][lang].get("frustration")
        cells.append(f"{fr['precision']:.2f}/{fr['recall']:.2f}/{fr['f1']:.2f} ({fr['support']})" if fr else "-")
    lines.append(f"  {'frustration':20s} " + " ".join(f"{c:>20s}" for c in cells))
    lines.append("")
    lines.append("Checklist verdict accuracy per item")
    lines.append(f"  {'item':26s} " + " ".join(f"{l:>7s}" for l in langs))
    items = report["languages"].get("all", {}).get("checklist", {}).get("items", {})
    for item in items:
        lines.append(f"  {item:26s} " + " ".join(
            f"{_fmt(report['languages'][l].get('checklist', {}).get('items', {}).get(item, {}).get('accuracy')):>7s}" for l in langs))
    cal = report.get("calibration", {})
    if cal:
        lines.append("")
        lines.append("Calibration (expected calibration error): " + ", ".join(f"{k} {v['ece']:.3f}" for k, v in cal.items()))
    if report.get("external"):
        lines.append("")
        lines.append("Public datasets (evaluation only; ours vs baseline)")
        for key, r in report["external"].items():
            parts = [f"{k}={_fmt(v)}" for k, v in r.items() if k.endswith("_f1")]
            parts += [f"{k}={v[0]:+.3f}..{v[1]:+.3f}" for k, v in r.items() if k.endswith("_gain")]
            lines.append(f"  {r['name']:28s} " + "  ".join(parts))
    return "\n".join(lines)


def render_markdown(report: dict) -> str:
    out = ["# convaudit evaluation report", ""]
    out.append(f"Data: {', '.join(report['data'])}  ")
    out.append(f"Models: {', '.join(f'{k} `{v}`' for k, v in report.get('models', {}).items())}")
    out.append("")
    out.append("## Headline metrics per language")
    out.append("")
    out.append("| language | behaviours micro-F1 | keyword baseline micro-F1 | sentiment macro-F1 | VADER macro-F1 | frustration F1 | checklist accuracy | category acc. | resolution acc. |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for lang, r in report["languages"].items():
        h, b = r["headline"], r.get("baselines", {})
        out.append(f"| {lang} | {_fmt(h['behaviours_micro_f1'])} | {_fmt(b.get('keyword_behaviours', {}).get('micro_f1'))} | "
                   f"{_fmt(h['sentiment_macro_f1'])} | {_fmt(b.get('vader_sentiment', {}).get('macro_f1'))} | "
                   f"{_fmt(h['frustration_f1'])} | {_fmt(h['checklist_accuracy'])} | {_fmt(h['category_accuracy'])} | {_fmt(h['resolution_accuracy'])} |")
    out.append("")
    out.append("Targets: behaviours micro-F1 ≥ 0.85, sentiment macro-F1 ≥ 0.75, frustration F1 ≥ 0.80, checklist verdict accuracy ≥ 0.90, in each language.")
    if any(r.get("intervals") for r in report["languages"].values()):
        out.append("")
        out.append("95% intervals: the same metrics when the conversations are drawn again with replacement "
                   "(1,000 resamples; turns of one conversation stay together). Where an interval spans a "
                   "target, this data cannot tell whether the target is met.")
        out.append("")
        out.append("| language | conversations | " + " | ".join(_INTERVAL_NAMES[m] for m in INTERVALS) + " |")
        out.append("|---|---|" + "---|" * len(INTERVALS))
        for lang, r in report["languages"].items():
            cells = [_interval_cell(r, m) for m in INTERVALS]
            out.append(f"| {lang} | {r.get('conversations', '-')} | " + " | ".join(cells) + " |")
    for lang, r in report["languages"].items():
        out.append("")
        out.append(f"## {lang}")
        if "behaviours" in r:
            out.append("")
            out.append("| behaviour | precision | recall | F1 | support | keyword F1 |")
            out.append("|---|---|---|---|---|---|")
            kw = r.get("baselines", {}).get("keyword_behaviours", {}).get("per_label_f1", {})
            for label, v in r["behaviours"]["per_label"].items():
                out.append(f"| {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} | {_fmt(kw.get(label))} |")
            o = r["behaviours"]["overall"]
            out.append(f"| **micro** | {o['micro_precision']:.3f} | {o['micro_recall']:.3f} | {o['micro_f1']:.3f} | | |")
            out.append(f"| **macro** | | | {o['macro_f1']:.3f} | | |")
        for task in ("sentiment", "category", "resolution"):
            if task not in r:
                continue
            out.append("")
            out.append(f"**{task}** — accuracy {r[task]['overall']['accuracy']:.3f}, macro-F1 {r[task]['overall']['macro_f1']:.3f}")
            out.append("")
            labels = list(r[task]["per_label"])
            out.append("| true \\ predicted | " + " | ".join(labels) + " | P | R | F1 |")
            out.append("|---" * (len(labels) + 4) + "|")
            for t in labels:
                pl = r[task]["per_label"][t]
                out.append(f"| {t} | " + " | ".join(str(r[task]['confusion'][t][p]) for p in labels)
                           + f" | {pl['precision']:.2f} | {pl['recall']:.2f} | {pl['f1']:.2f} |")
        if "frustration" in r:
            f = r["frustration"]
            out.append("")
            out.append(f"**frustration** — precision {f['precision']:.3f}, recall {f['recall']:.3f}, F1 {f['f1']:.3f} (support {f['support']})")
        if "checklist" in r:
            out.append("")
            out.append(f"**checklist verdict accuracy** {r['checklist']['accuracy']:.3f}")
            out.append("")
            out.append("| item | accuracy | n | gold fails |")
            out.append("|---|---|---|---|")
            for item, v in r["checklist"]["items"].items():
                out.append(f"| {item} | {v['accuracy']:.3f} | {v['n']} | {v['gold_fail']} |")
    cal = report.get("calibration", {})
    if cal:
        out.append("")
        out.append("## Calibration (all languages)")
        for task, c in cal.items():
            out.append("")
            out.append(f"**{task}** — expected calibration error {c['ece']:.3f} over {c['n']} decisions")
            out.append("")
            out.append("| confidence | n | mean confidence | accuracy |")
            out.append("|---|---|---|---|")
            for b in c["bins"]:
                out.append(f"| {b['bin']} | {b['n']} | {b['mean_confidence']:.3f} | {b['accuracy']:.3f} |")
    if report.get("external"):
        out.append("")
        out.append("## Public datasets (evaluation only)")
        out.append("")
        out.append("Difference: convaudit minus the baseline, with its 95% interval from 1,000 paired resamples "
                   "of the conversations (both scored on the same resample).")
        out.append("")
        out.append("| dataset | language | metric | convaudit | baseline | difference (95% interval) |")
        out.append("|---|---|---|---|---|---|")
        for key, r in report["external"].items():
            for metric, base in (("frustration_f1", "vader_frustration_f1"), ("sentiment_macro_f1", "vader_sentiment_macro_f1"),
                                 ("greeting_f1", "keyword_greeting_f1"), ("anything_else_f1", "keyword_anything_else_f1"),
                                 ("empathy_apology_f1", "keyword_empathy_apology_f1")):
                if metric in r:
                    out.append(f"| {r['name']} | {r['language']} | {metric} | {_fmt(r[metric])} | {_fmt(r.get(base))} "
                               f"({base.split('_')[0]}) | {_gain_cell(r, metric, base)} |")
    if report.get("previous"):
        out.append("")
        out.append("## Compared with the previous evaluation")
        out.append("")
        out.append("| language | metric | previous | current |")
        out.append("|---|---|---|---|")
        for lang, metrics in report["previous"]["headline"].items():
            for k, v in metrics.items():
                out.append(f"| {lang} | {k} | {_fmt(v['previous'])} | {_fmt(v['current'])} |")
    return "\n".join(out) + "\n"
