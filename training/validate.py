"""Validation of labelled files against labels.md and formats.md."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.checklist_rules import ChecklistRules
from pipeline.config import ChecklistConfig
from pipeline.io.readers import parse_conversation
from pipeline.labels import BEHAVIOURS, CATEGORIES, RESOLUTIONS, SENTIMENTS
from pipeline.records import Reject

from .corpus import apply_gold


def validate_record(raw: dict, where: str, rules: ChecklistRules) -> list[str]:
    problems = []
    conv = parse_conversation(raw, where, where)
    if isinstance(conv, Reject):
        return [f"{where}: {conv.reason}"]
    if raw.get("language") not in ("en", "hr", "sr", "lv"):
        problems.append(f"{where}: language {raw.get('language')!r}")
    if raw.get("category") not in CATEGORIES:
        problems.append(f"{where}: category {raw.get('category')!r}")
    if raw.get("resolution") not in RESOLUTIONS:
        problems.append(f"{where}: resolution {raw.get('resolution')!r}")
    for i, t in enumerate(raw["turns"]):
        sp = conv.turns[i].speaker
        if sp == "customer":
            if t.get("sentiment") not in SENTIMENTS:
                problems.append(f"{where} turn {i}: sentiment {t.get('sentiment')!r}")
            if not isinstance(t.get("frustration"), bool):
                problems.append(f"{where} turn {i}: frustration must be true or false")
            elif t["frustration"] and t.get("sentiment") != "negative":
                problems.append(f"{where} turn {i}: frustrated but not negative")
        elif sp == "agent":
            b = t.get("behaviours")
            if not isinstance(b, list) or any(x not in BEHAVIOURS for x in b) or len(set(b)) != len(b):
                problems.append(f"{where} turn {i}: behaviours {b!r}")
        elif any(k in t for k in ("sentiment", "frustration", "behaviours")):
            problems.append(f"{where} turn {i}: {sp} turns carry no labels")
    if problems:
        return problems
    apply_gold(conv)
    given = raw.get("checklist") or {}
    if set(given) != set(rules.config.item_ids()):
        return [f"{where}: checklist must have all {len(rules.config.items)} items (run corpus_tools finalise)"]
    computed = rules.evaluate(conv, keep={k: v for k, v in given.items()})
    for item in rules.config.items:
        v = given[item.id]
        if v not in ("pass", "fail", "na"):
            problems.append(f"{where}: {item.id} verdict {v!r}")
        elif not item.judgement and computed[item.id]["verdict"] != v:
            problems.append(f"{where}: {item.id} is {v!r} but the rules compute {computed[item.id]['verdict']!r}")
    return problems


def validate_file(path: Path, checklist: ChecklistConfig) -> list[str]:
    rules = ChecklistRules(checklist)
    problems = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{n}: bad JSON ({exc})")
            continue
        problems += validate_record(raw, f"{Path(path).name}:{n}", rules)
    return problems
