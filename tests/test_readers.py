"""Input formats of formats.md and the reject accounting of malformed records."""

import gzip
import json

import pandas as pd
import pytest

from pipeline.errors import ConvauditError
from pipeline.io.readers import expand_inputs, iter_conversations, plan_partitions, read_partition
from pipeline.records import Conversation, Reject


def _split(items):
    return [i for i in items if isinstance(i, Conversation)], [i for i in items if isinstance(i, Reject)]


def test_bad_inputs_are_rejected_with_reasons(bad_inputs_path):
    convs, rejects = _split(list(iter_conversations([str(bad_inputs_path)])))
    reasons = {r.location: r.reason for r in rejects}
    assert reasons["line 2"].startswith("malformed JSON")
    assert reasons["line 3"] == "conversation has no turns"
    assert "unknown speaker 'martian'" in reasons["line 4"]
    assert "non-string text (int)" in reasons["line 5"]
    assert "invalid timestamp 'yesterday-ish'" in reasons["line 6"]
    assert reasons["line 8"] == "missing or non-string conversation_id"
    # Duplicates and all-empty conversations are decided later (merge and clean).
    assert [c.conversation_id for c in convs] == ["good-1", "good-1", "good-2", "all-empty"]


def test_speaker_synonyms_are_mapped(bad_inputs_path):
    convs, _ = _split(list(iter_conversations([str(bad_inputs_path)])))
    good2 = [c for c in convs if c.conversation_id == "good-2"][0]
    assert [t.speaker for t in good2.turns] == ["customer", "agent"]


def _write_formats(tmp_path, records):
    jl = tmp_path / "a.jsonl"
    jl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    gz = tmp_path / "b.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    rows = []
    for r in records:
        for i, t in enumerate(r["turns"]):
            rows.append({"conversation_id": r["conversation_id"], "turn_index": i, "speaker": t["speaker"],
                         "text": t["text"], "timestamp": t.get("timestamp", ""), "channel": r.get("channel", ""),
                         "customer_name": r.get("customer_name", "")})
    df = pd.DataFrame(rows)
    df.to_csv(tmp_path / "c.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet", index=False)
    return jl, gz, tmp_path / "c.csv", tmp_path / "d.parquet"


RECORDS = [
    {"conversation_id": f"c-{i}", "channel": "chat", "customer_name": "Ana Kovač",
     "turns": [{"speaker": "customer", "text": f"Pozdrav, pitanje {i}?", "timestamp": "2026-01-01T10:00:00Z"},
               {"speaker": "agent", "text": f"Dobar dan, odgovor {i}.", "timestamp": "2026-01-01T10:00:20Z"}]}
    for i in range(7)
]


def test_all_four_formats_give_the_same_conversations(tmp_path):
    files = _write_formats(tmp_path, RECORDS)
    seen = []
    for f in files:
        convs, rejects = _split(list(iter_conversations([str(f)], size=3)))
        assert not rejects
        seen.append([(c.conversation_id, c.channel, c.customer_name, [(t.speaker, t.text, t.timestamp) for t in c.turns]) for c in convs])
    assert all(s == seen[0] for s in seen)
    assert len(seen[0]) == 7


def test_directory_means_every_supported_file(tmp_path):
    _write_formats(tmp_path, RECORDS)
    (tmp_path / "notes.txt").write_text("ignored")
    assert len(expand_inputs([str(tmp_path)])) == 4


def test_partitions_cover_every_line_once(tmp_path):
    jl, gz, csv, pq = _write_formats(tmp_path, RECORDS)
    for f in (jl, gz, csv, pq):
        parts = plan_partitions([str(f)], 3)
        ids = [c.conversation_id for p in parts for c in read_partition(p)]
        assert ids == [r["conversation_id"] for r in RECORDS], f
        assert len(parts) == 3


def test_unsorted_long_format_is_not_split(tmp_path):
    rows = [{"conversation_id": cid, "turn_index": i, "speaker": "customer", "text": "x"} for cid, i in
            [("a", 0), ("b", 0), ("a", 1), ("b", 1)]]
    pd.DataFrame(rows).to_csv(tmp_path / "u.csv", index=False)
    parts = plan_partitions([str(tmp_path / "u.csv")], 1)
    assert len(parts) == 1
    convs = list(read_partition(parts[0]))
    assert [len(c.turns) for c in convs] == [2, 2]


def test_missing_inputs_raise_catalogue_errors(tmp_path):
    with pytest.raises(ConvauditError, match="does not exist"):
        expand_inputs([str(tmp_path / "nope.jsonl")])
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ConvauditError, match="Unsupported input file type"):
        expand_inputs([str(tmp_path / "x.txt")])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConvauditError, match="No input files"):
        expand_inputs([str(empty)])
    pd.DataFrame([{"conversation_id": "a", "text": "x"}]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ConvauditError, match="lacks required columns: turn_index, speaker"):
        plan_partitions([str(tmp_path / "bad.csv")], 10)
