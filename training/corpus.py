"""Labelled conversations: loading, gold labels, checklist finalisation, checks."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from pipeline.checklist_rules import ChecklistRules
from pipeline.config import ChecklistConfig, load_checklist_config, PROJECT_ROOT
from pipeline.io.readers import expand_inputs, iter_conversations
from pipeline.records import Conversation, Reject
from pipeline.stages.clean import TranscriptCleaner

DEFAULT_CHECKLIST = PROJECT_ROOT / "configs" / "checklist.yaml"


def apply_gold(conv: Conversation) -> Conversation:
    """Move the gold labels of a labelled record from ``extra`` onto the typed fields."""
    for t in conv.turns:
        if t.speaker == "customer":
            t.sentiment = t.extra.get("sentiment")
            fr = t.extra.get("frustration")
            t.frustrated = bool(fr) if fr is not None else None
        elif t.speaker == "agent" and "behaviours" in t.extra:
            t.behaviours = list(t.extra.get("behaviours") or [])
    conv.category = conv.extra.get("category")
    conv.resolution = conv.extra.get("resolution")
    return conv


def load_labelled(paths: Iterable[str], clean: bool = True) -> tuple[list[Conversation], list[Reject]]:
    """Labelled conversations with gold labels applied; cleaned like the pipeline
    cleans them so training inputs match run-time inputs."""
    convs, rejects = [], []
    for item in iter_conversations(list(paths)):
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            convs.append(apply_gold(item))
    if clean:
        TranscriptCleaner()(convs)
    return convs, rejects


def writer(conversation_id: str) -> str:
    """The writer series of a corpus conversation: its id up to the second dash
    (``hr-c-014`` -> ``hr-c``). Cross-validation grouped by it keeps a writer's
    habits from helping to judge that writer."""
    return "-".join(conversation_id.split("-")[:2])


def data_hash(paths: Iterable[str]) -> str:
    h = hashlib.sha256()
    for f in sorted(expand_inputs(list(paths))):
        h.update(Path(f).name.encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def gold_verdicts(conv: Conversation, rules: ChecklistRules) -> dict[str, str]:
    """The 21 verdicts from the gold turn labels; judgement items keep the annotator's."""
    keep = conv.extra.get("checklist") or {}
    return {k: v["verdict"] for k, v in rules.evaluate(conv, keep=keep).items()}


def finalise_file(path: Path, checklist: ChecklistConfig) -> int:
    """Fill in the computed checklist verdicts of a labelled file in place.

    Annotators record only the six judgement items; every other verdict is
    computed by the project's own rules so data and code cannot drift apart.
    """
    rules = ChecklistRules(checklist)
    from pipeline.io.readers import parse_conversation

    lines_out = []
    changed = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        conv = parse_conversation(raw, str(path), f"line {n}")
        if isinstance(conv, Reject):
            raise ValueError(f"{path}:{n}: {conv.reason}")
        apply_gold(conv)
        judged = {i.id: raw.get("checklist", {}).get(i.id) for i in checklist.items if i.judgement}
        judged = {k: v for k, v in judged.items() if v}
        verdicts = {k: v["verdict"] for k, v in rules.evaluate(conv, keep=judged).items()}
        if raw.get("checklist") != verdicts:
            changed += 1
        raw["checklist"] = verdicts
        lines_out.append(json.dumps(raw, ensure_ascii=False))
    path.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    return changed


# ---------------------------------------------------------------- checks
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def near_duplicates(paths: Iterable[str], max_repeats: int = 3, max_shared: float = 1 / 3) -> dict[str, Any]:
    """Turn texts of more than five words repeated more than ``max_repeats`` times,
    and conversation pairs sharing more than ``max_shared`` of their turns."""
    texts: Counter = Counter()
    conv_turns: dict[str, set[str]] = {}
    for f in expand_inputs(list(paths)):
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            norms = [_norm(t.get("text", "")) for t in rec.get("turns", []) if isinstance(t.get("text"), str)]
            for t in norms:
                if len(_WORD_RE.findall(t)) > 5:
                    texts[t] += 1
            conv_turns[rec["conversation_id"]] = {t for t in norms if len(_WORD_RE.findall(t)) > 2}
    repeated = {t: n for t, n in texts.items() if n > max_repeats}
    index: dict[str, list[str]] = {}
    for cid, turns in conv_turns.items():
        for t in turns:
            index.setdefault(t, []).append(cid)
    shared: Counter = Counter()
    for cids in index.values():
        if 1 < len(cids) < 50:
            for i, a in enumerate(cids):
                for b in cids[i + 1 :]:
                    shared[(a, b)] += 1
    pairs = []
    for (a, b), n in shared.items():
        smaller = min(len(conv_turns[a]), len(conv_turns[b])) or 1
        if n / smaller > max_shared:
            pairs.append((a, b, round(n / smaller, 3)))
    return {"repeated_turns": repeated, "similar_conversations": pairs}


def corpus_stats(paths: Iterable[str]) -> dict[str, Any]:
    from pipeline.labels import BEHAVIOURS

    per_lang: dict[str, dict[str, Any]] = {}
    for f in expand_inputs(list(paths)):
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            s = per_lang.setdefault(rec.get("language", "?"), {
                "files": set(), "conversations": 0, "turns": 0, "customer_turns": 0, "agent_turns": 0,
                "frustrated_turns": 0, "cyrillic_conversations": 0, "channels": Counter(), "categories": Counter(),
                "resolutions": Counter(), "sentiment": Counter(), "behaviours": Counter(), "verdict_fail": Counter(),
            })
            s["files"].add(Path(f).name)
            s["conversations"] += 1
            s["channels"][rec.get("channel")] += 1
            s["categories"][rec.get("category")] += 1
            s["resolutions"][rec.get("resolution")] += 1
            if any("\u0400" <= ch <= "\u04ff" for t in rec["turns"] for ch in t.get("text", "")[:200]):
                s["cyrillic_conversations"] += 1
            for t in rec["turns"]:
                s["turns"] += 1
                if t["speaker"] == "customer":
                    s["customer_turns"] += 1
                    s["sentiment"][t.get("sentiment")] += 1
                    s["frustrated_turns"] += bool(t.get("frustration"))
                elif t["speaker"] == "agent":
                    s["agent_turns"] += 1
                    s["behaviours"].update(t.get("behaviours") or [])
            for item, v in (rec.get("checklist") or {}).items():
                if v == "fail":
                    s["verdict_fail"][item] += 1
    for s in per_lang.values():
        s["files"] = sorted(s["files"])
        for b in BEHAVIOURS:
            s["behaviours"].setdefault(b, 0)
    return per_lang


def load_default_checklist() -> ChecklistConfig:
    return load_checklist_config(DEFAULT_CHECKLIST)
