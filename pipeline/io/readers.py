"""Input readers: JSONL(.gz), long-format CSV and Parquet, split into partitions.

A partition is a bounded slice of one input file (a line range of a JSONL file,
a row range of a long-format file that does not split a conversation), so memory
depends on the partition size, never on the input size.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import fsspec
import orjson

from ..errors import ConvauditError, message
from ..labels import SPEAKER_SYNONYMS
from ..records import Conversation, Reject, Turn

log = logging.getLogger(__name__)

SUFFIXES = (".jsonl.gz", ".jsonl", ".csv", ".parquet")
_CONV_FIELDS = {"conversation_id", "turns", "channel", "language", "agent_id", "customer_id", "customer_name", "started_at"}
_TURN_FIELDS = {"speaker", "text", "timestamp"}
LONG_COLUMNS = ("conversation_id", "turn_index", "speaker", "text")
_LONG_OPTIONAL = ("timestamp", "channel", "agent_id", "customer_id", "customer_name", "language", "started_at")


@dataclass(frozen=True)
class Partition:
    pid: int
    path: str
    kind: str  # "jsonl", "jsonl.gz", "csv", "parquet"
    start: int  # first line (JSONL) or row (long format), 0-based
    stop: int  # one past the last line or row; -1 means to the end
    offset: int = 0  # byte offset of ``start`` in an uncompressed JSONL file

    @property
    def key(self) -> str:
        return f"part-{self.pid:06d}"


def file_kind(path: str) -> str | None:
    low = path.lower()
    for suffix in SUFFIXES:
        if low.endswith(suffix):
            return suffix[1:]
    return None


def _is_url(path: str) -> bool:
    return "://" in path


def expand_inputs(paths: list[str]) -> list[str]:
    """Files named, plus every supported file inside named directories (sorted)."""
    files: list[str] = []
    for raw in paths:
        if _is_url(raw):
            fs, _, [root] = fsspec.get_fs_token_paths(raw)
            if fs.isdir(root):
                protocol = raw.split("://", 1)[0]
                found = sorted(f for f in fs.find(root) if file_kind(f))
                files.extend(f"{protocol}://{f}" for f in found)
                if not found:
                    raise ConvauditError("input_empty", path=raw)
            elif fs.exists(root):
                files.append(raw)
            else:
                raise ConvauditError("input_missing", path=raw)
            continue
        p = Path(raw)
        if not p.exists():
            raise ConvauditError("input_missing", path=raw)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.is_file() and file_kind(f.name))
            if not found:
                raise ConvauditError("input_empty", path=raw)
            files.extend(found)
        elif file_kind(p.name):
            files.append(str(p))
        else:
            raise ConvauditError("input_format", path=raw)
    return files


# ---------------------------------------------------------------- planning
def plan_partitions(files: list[str], size: int) -> list[Partition]:
    parts: list[Partition] = []
    for path in files:
        kind = file_kind(path)
        if kind == "jsonl":
            spans = _jsonl_spans(path, size)
        elif kind == "jsonl.gz":
            spans = _gz_spans(path, size)
        else:
            spans = _long_spans(path, kind, size)
        for start, stop, offset in spans:
            parts.append(Partition(len(parts), path, kind, start, stop, offset))
    return parts


def _jsonl_spans(path: str, size: int) -> list[tuple[int, int, int]]:
    spans, line, offset, start, start_offset = [], 0, 0, 0, 0
    with fsspec.open(path, "rb") as fh:
        for raw in fh:
            line += 1
            offset += len(raw)
            if line - start == size:
                spans.append((start, line, start_offset))
                start, start_offset = line, offset
    if line > start or not spans:
        spans.append((start, line, start_offset))
    return spans


def _gz_spans(path: str, size: int) -> list[tuple[int, int, int]]:
    with fsspec.open(path, "rb") as raw, gzip.open(raw, "rb") as fh:
        n = sum(1 for _ in fh)
    return [(s, min(s + size, n), 0) for s in range(0, max(n, 1), size)]


def _read_long(path: str, kind: str, columns: list[str] | None = None):
    import pandas as pd

    with fsspec.open(path, "rb") as fh:
        data = fh.read()
    if kind == "parquet":
        return pd.read_parquet(io.BytesIO(data), columns=columns)
    return pd.read_csv(io.BytesIO(data), usecols=columns, dtype=str, keep_default_na=False)


def _long_spans(path: str, kind: str, size: int) -> list[tuple[int, int, int]]:
    df = _read_long(path, kind)
    missing = [c for c in LONG_COLUMNS if c not in df.columns]
    if missing:
        raise ConvauditError("long_format_columns", path=path, missing=", ".join(missing))
    ids = df["conversation_id"].astype(str).tolist()
    # Split only where the id changes, and only if each conversation's rows are
    # contiguous; otherwise the whole file is one partition so no conversation is cut.
    starts = [0] + [i for i in range(1, len(ids)) if ids[i] != ids[i - 1]]
    if len({ids[s] for s in starts}) != len(starts):
        return [(0, len(ids), 0)]
    spans = []
    for k in range(0, len(starts), size):
        stop = starts[k + size] if k + size < len(starts) else len(ids)
        spans.append((starts[k], stop, 0))
    return spans or [(0, 0, 0)]


# ---------------------------------------------------------------- reading
def read_partition(part: Partition) -> Iterator[Conversation | Reject]:
    if part.kind == "jsonl":
        with fsspec.open(part.path, "rb") as fh:
            fh.seek(part.offset)
            yield from _parse_lines(part, fh)
    elif part.kind == "jsonl.gz":
        with fsspec.open(part.path, "rb") as raw, gzip.open(raw, "rb") as fh:
            for _ in range(part.start):
                fh.readline()
            yield from _parse_lines(part, fh)
    else:
        yield from _parse_long(part)


def _parse_lines(part: Partition, fh) -> Iterator[Conversation | Reject]:
    line_no = part.start
    for raw in fh:
        if line_no >= part.stop:
            break
        line_no += 1
        location = f"line {line_no}"
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Reject(part.path, location, message("reject_json", detail=str(exc)))
            continue
        yield parse_conversation(obj, part.path, location)


def _parse_long(part: Partition) -> Iterator[Conversation | Reject]:
    df = _read_long(part.path, part.kind)
    df = df.iloc[part.start : part.stop if part.stop >= 0 else None]
    groups: dict[str, list[tuple[int, dict]]] = {}
    for row_no, row in zip(range(part.start, part.start + len(df)), df.to_dict("records")):
        cid = row.get("conversation_id")
        if cid is None or (isinstance(cid, float) and cid != cid) or str(cid).strip() == "":
            yield Reject(part.path, f"row {row_no + 2 if part.kind == 'csv' else row_no + 1}", message("reject_no_id"))
            continue
        groups.setdefault(str(cid), []).append((row_no, row))
    for cid, rows in groups.items():
        first_row = rows[0][0]
        location = f"row {first_row + 2 if part.kind == 'csv' else first_row + 1}"
        try:
            rows.sort(key=lambda r: int(float(r[1]["turn_index"])))
        except (TypeError, ValueError) as exc:
            yield Reject(part.path, location, message("reject_row", row=location, detail=f"turn_index: {exc}"), cid)
            continue
        head = rows[0][1]
        obj: dict[str, Any] = {"conversation_id": cid, "turns": []}
        for col in _LONG_OPTIONAL:
            if col != "timestamp" and _present(head.get(col)):
                obj[col] = head[col]
        for _, row in rows:
            turn = {"speaker": row.get("speaker"), "text": row.get("text")}
            if _present(row.get("timestamp")):
                turn["timestamp"] = row["timestamp"]
            obj["turns"].append(turn)
        yield parse_conversation(obj, part.path, location)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    return not (isinstance(value, str) and value.strip() == "")


# ---------------------------------------------------------------- parsing
def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif hasattr(value, "to_pydatetime"):
        dt = value.to_pydatetime()
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def parse_conversation(obj: Any, source: str, location: str) -> Conversation | Reject:
    """Validate one raw record; a Reject carries the catalogue reason."""
    if not isinstance(obj, dict):
        return Reject(source, location, message("reject_not_object"))
    cid = obj.get("conversation_id")
    if isinstance(cid, int) and not isinstance(cid, bool):
        cid = str(cid)
    if not isinstance(cid, str) or not cid.strip():
        return Reject(source, location, message("reject_no_id"))

    def reject(key: str, **params) -> Reject:
        return Reject(source, location, message(key, **params), cid)

    turns_raw = obj.get("turns")
    if turns_raw is None or turns_raw == []:
        return reject("reject_no_turns")
    if not isinstance(turns_raw, list):
        return reject("reject_turns_type")
    turns: list[Turn] = []
    for i, t in enumerate(turns_raw):
        if not isinstance(t, dict):
            return reject("reject_turn_type", index=i)
        speaker_raw = t.get("speaker")
        speaker = SPEAKER_SYNONYMS.get(str(speaker_raw).strip().lower().replace(" ", "_")) if isinstance(speaker_raw, str) else None
        if speaker is None:
            return reject("reject_speaker", index=i, speaker=speaker_raw)
        text = t.get("text")
        if not isinstance(text, str):
            return reject("reject_text", index=i, type=type(text).__name__)
        ts = None
        if t.get("timestamp") not in (None, ""):
            try:
                ts = parse_time(t["timestamp"])
            except (ValueError, TypeError):
                return reject("reject_timestamp", index=i, value=t["timestamp"])
        extra = {k: v for k, v in t.items() if k not in _TURN_FIELDS}
        turns.append(Turn(index=i, speaker=speaker, text=text, timestamp=ts, extra=extra))
    started = None
    if obj.get("started_at") not in (None, ""):
        try:
            started = parse_time(obj["started_at"])
        except (ValueError, TypeError):
            return reject("reject_started_at", value=obj["started_at"])

    def opt_str(key: str) -> str | None:
        v = obj.get(key)
        return str(v).strip() if v not in (None, "") else None

    channel = opt_str("channel")
    language = opt_str("language")
    return Conversation(
        conversation_id=cid,
        turns=turns,
        channel=channel.lower() if channel else None,
        language=language.lower() if language else None,
        agent_id=opt_str("agent_id"),
        customer_id=opt_str("customer_id"),
        customer_name=opt_str("customer_name"),
        started_at=started,
        source=f"{source}:{location}",
        extra={k: v for k, v in obj.items() if k not in _CONV_FIELDS},
    )


def iter_conversations(paths: list[str], size: int = 5000) -> Iterator[Conversation | Reject]:
    """Every conversation (or reject) of the given inputs, in input order."""
    for part in plan_partitions(expand_inputs(paths), size):
        yield from read_partition(part)
