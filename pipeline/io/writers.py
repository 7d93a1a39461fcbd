"""Output records: the annotation of formats.md, flat tables, part files, DuckDB."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson

from ..records import Conversation, Turn


def _iso(dt) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def turn_record(turn: Turn) -> dict[str, Any]:
    rec: dict[str, Any] = {**turn.extra, "index": turn.index, "speaker": turn.speaker, "text": turn.text}
    for gold in ("sentiment", "frustration", "behaviours", "behaviour_scores"):
        rec.pop(gold, None)
    if turn.timestamp is not None:
        rec["timestamp"] = _iso(turn.timestamp)
    if turn.speaker == "customer":
        if turn.sentiment is not None:
            rec["sentiment"] = {"label": turn.sentiment, "score": turn.sentiment_score}
        if turn.frustration_score is not None:
            rec["frustration"] = {"score": turn.frustration_score, "frustrated": turn.frustrated}
    elif turn.speaker == "agent" and turn.behaviours is not None:
        rec["behaviours"] = turn.behaviours
        rec["behaviour_scores"] = turn.behaviour_scores or {}
    return rec


def annotation_record(conv: Conversation) -> dict[str, Any]:
    """One line of annotations.jsonl, exactly as formats.md describes it."""
    customer = [t for t in conv.turns if t.speaker == "customer" and t.sentiment_score is not None]
    scores = [t.sentiment_score for t in customer]
    rec: dict[str, Any] = {**conv.extra}
    for gold in ("category", "resolution", "checklist"):
        rec.pop(gold, None)
    rec.update(
        {
            "conversation_id": conv.conversation_id,
            "language": conv.language,
            "channel": conv.channel,
            "agent_id": conv.agent_id,
            "customer_id": conv.customer_id,
            "started_at": _iso(conv.started_at),
            "turns": [turn_record(t) for t in conv.turns],
            "category": {"label": conv.category, "score": conv.category_score},
            "resolution": {"label": conv.resolution, "score": conv.resolution_score},
            "checklist": conv.checklist,
            "qa_score": conv.qa_score,
            "auto_failed": conv.auto_failed,
            "customer_sentiment": {
                "start": scores[0] if scores else None,
                "end": scores[-1] if scores else None,
                "min": min(scores) if scores else None,
                "frustrated_turns": [t.index for t in conv.turns if t.frustrated],
            },
            "metrics": conv.metrics,
            "models": conv.models,
            "pii_redacted": conv.pii_redacted,
        }
    )
    if conv.language_source:
        rec["language_source"] = conv.language_source
    return rec


def turn_rows(rec: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in rec["turns"]:
        sent = t.get("sentiment") if isinstance(t.get("sentiment"), dict) else {}
        frus = t.get("frustration") if isinstance(t.get("frustration"), dict) else {}
        rows.append(
            {
                "conversation_id": rec["conversation_id"],
                "turn_index": t["index"],
                "speaker": t["speaker"],
                "text": t["text"],
                "timestamp": t.get("timestamp"),
                "language": rec["language"],
                "channel": rec["channel"],
                "agent_id": rec["agent_id"],
                "sentiment": sent.get("label"),
                "sentiment_score": sent.get("score"),
                "frustration_score": frus.get("score"),
                "frustrated": frus.get("frustrated"),
                "behaviours": ",".join(t.get("behaviours") or []) or None,
            }
        )
    return rows


def conversation_row(rec: dict[str, Any], item_ids: list[str]) -> dict[str, Any]:
    m = rec.get("metrics") or {}
    row = {
        "conversation_id": rec["conversation_id"],
        "language": rec["language"],
        "channel": rec["channel"],
        "agent_id": rec["agent_id"],
        "customer_id": rec["customer_id"],
        "started_at": rec["started_at"],
        "category": rec["category"]["label"],
        "category_score": rec["category"]["score"],
        "resolution": rec["resolution"]["label"],
        "resolution_score": rec["resolution"]["score"],
        "qa_score": rec["qa_score"],
        "sentiment_start": rec["customer_sentiment"]["start"],
        "sentiment_end": rec["customer_sentiment"]["end"],
        "sentiment_min": rec["customer_sentiment"]["min"],
        "frustrated_turns": len(rec["customer_sentiment"]["frustrated_turns"]),
        "turns": m.get("turns"),
        "words": m.get("words"),
        "agent_word_share": m.get("agent_word_share"),
        "first_response_s": m.get("first_response_s"),
        "max_reply_s": m.get("max_reply_s"),
        "handle_time_s": m.get("handle_time_s"),
    }
    for item in item_ids:
        row[item] = rec["checklist"].get(item, {}).get("verdict")
    return row


def checklist_rows(rec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "conversation_id": rec["conversation_id"],
            "agent_id": rec["agent_id"],
            "started_at": rec["started_at"],
            "item": item,
            "verdict": v.get("verdict"),
            "confidence": v.get("confidence"),
            "evidence": ",".join(str(i) for i in v.get("evidence", [])),
        }
        for item, v in rec["checklist"].items()
    ]


def dumps(rec: dict[str, Any]) -> str:
    """Compact JSON with real letters; what JSON cannot hold is written as ``str``."""
    return orjson.dumps(rec, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME).decode("utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
