"""Loaders for the public datasets in ``../shared/external`` (evaluation only).

Each loader maps the dataset's own labels to ours as the dataset README says and
returns conversations ready for the pipeline plus the gold labels to compare.
Nothing here is ever used for training, except the LTEC *train* file, which its
licence and the project allow (``convaudit train --ltec-train FILE``; ``make
train`` passes it when ``../shared`` has it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.records import Conversation, Turn


def _conv(cid: str, turns: list[tuple[str, str]], language: str) -> Conversation:
    return Conversation(conversation_id=cid, language=language, channel="chat",
                        turns=[Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(turns)], source=cid)


def multiwoz(root: Path, limit: int | None = None) -> dict[str, Any]:
    """Agent turns of MultiWOZ 2.1 val+test: greeting (general-greet), anything_else (general-reqmore)."""
    dialogues: dict[str, list[dict]] = {}
    with open(root / "multiwoz21" / "turns.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            dialogues.setdefault(r["dialogue_id"], []).append(r)
    convs, gold = [], []
    for did, rows in list(dialogues.items())[:limit]:
        rows.sort(key=lambda r: r["turn"])
        convs.append(_conv(did, [("agent" if r["speaker"] == "system" else "customer", r["text"]) for r in rows], "en"))
        gold.append([set(r.get("behaviours") or []) if r["speaker"] == "system" else None for r in rows])
    return {"name": "MultiWOZ 2.1 (val+test)", "language": "en", "conversations": convs, "agent_behaviours": gold,
            "labels": ["greeting", "anything_else"]}


_MAIA_NEG = {3, 5, 6, 7}  # disappointment, frustration, anger, anxiety
_MAIA_FRUS = {5, 6}  # frustration, anger


def maia(root: Path) -> dict[str, Any]:
    """MAIA-DQE: customer frustration and sentiment (from sentence emotions), agent empathy."""
    convs, cust_gold, agent_gold = [], [], []
    for f in sorted((root / "maia_dqe").glob("*.json")):
        for d in json.loads(f.read_text(encoding="utf-8")):
            turns, cg, ag = [], [], []
            for t in d["turns"]:
                emotions = set(t.get("Emotion") or [])
                if t["floor"] == "inbound":
                    # Customer text: the English machine translation.
                    turns.append(("customer", " ".join(t["text_mt"])))
                    sentiment = "negative" if emotions & _MAIA_NEG else "positive" if 1 in emotions else "neutral"
                    cg.append({"frustration": bool(emotions & _MAIA_FRUS), "sentiment": sentiment})
                    ag.append(None)
                else:
                    turns.append(("agent", " ".join(t["text_src"])))
                    cg.append(None)
                    ag.append({"empathy_apology"} if 0 in emotions else set())
            convs.append(_conv(d["id"], turns, "en"))
            cust_gold.append(cg)
            agent_gold.append(ag)
    return {"name": "MAIA-DQE", "language": "en", "conversations": convs, "customer": cust_gold,
            "agent_behaviours": agent_gold, "labels": ["empathy_apology"]}


def rsics(root: Path) -> dict[str, Any]:
    """RSiCS requests: frustration = rant or expressed emotion."""
    convs, gold = [], []
    with open(root / "rsics" / "requests.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            convs.append(_conv(r["id"], [("customer", r["text"])], "en"))
            gold.append([{"frustration": bool(r["has_rant"] or r["has_express_emotion"]), "sentiment": None}])
    return {"name": "RSiCS", "language": "en", "conversations": convs, "customer": gold}


def senticomments(root: Path) -> dict[str, Any]:
    """SentiComments.SR: sign of the label is the sentiment; NS (non-subjective) is neutral."""
    convs, gold = [], []
    with open(root / "senticomments_sr" / "SentiComments.SR.corr.txt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].strip():
                continue
            label, text = parts[0].strip(), parts[2]
            sentiment = "neutral" if "NS" in label else "positive" if label.startswith("+") else "negative" if label.startswith("-") else "neutral"
            convs.append(_conv(f"sc-{n}", [("customer", text)], "sr"))
            gold.append([{"sentiment": sentiment, "frustration": None}])
    return {"name": "SentiComments.SR", "language": "sr", "conversations": convs, "customer": gold}


def ltec_file(path: Path, prefix: str = "ltec") -> dict[str, Any]:
    """One LTEC sentiment file: each tweet a one-turn conversation of the customer."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    mapping = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    convs, gold = [], []
    for n, r in enumerate(data):
        if r.get("sentiment") not in mapping:
            continue
        convs.append(_conv(f"{prefix}-{n}", [("customer", r["tweet_text"])], "lv"))
        gold.append([{"sentiment": mapping[r["sentiment"]], "frustration": None}])
    return {"language": "lv", "conversations": convs, "customer": gold}


def ltec(root: Path, split: str = "test") -> dict[str, Any]:
    """Latvian Twitter Eater Corpus sentiment (test split for evaluation)."""
    data = ltec_file(root / "ltec" / f"ltec-sentiment-annotated-{split}.json")
    return {"name": f"LTEC sentiment ({split})", **data}


LOADERS = {"multiwoz": multiwoz, "maia": maia, "rsics": rsics, "senticomments_sr": senticomments, "ltec": ltec}
