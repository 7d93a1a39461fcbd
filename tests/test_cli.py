"""`convaudit run` end to end: the output contract of formats.md, rejects, errors, DuckDB."""

import json
import re
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline.labels import BEHAVIOURS

ITEMS = None


def _items(checklist_config):
    return checklist_config.item_ids()


def test_annotations_follow_formats_md(sample_run, jsonl, checklist_config, samples_dir):
    out, proc = sample_run
    anns = jsonl(out / "annotations.jsonl")
    inputs = {r["conversation_id"]: r for f in sorted(samples_dir.glob("*.jsonl")) for r in jsonl(f)}
    assert {a["conversation_id"] for a in anns} == set(inputs)
    assert {a["language"] for a in anns} == {"en", "hr", "sr", "lv"}
    for a in anns:
        src = inputs[a["conversation_id"]]
        assert set(a["checklist"]) == set(_items(checklist_config))
        n_turns = len(src["turns"])
        indices = [t["index"] for t in a["turns"]]
        assert indices == sorted(indices) and all(0 <= i < n_turns for i in indices)
        for item, v in a["checklist"].items():
            assert v["verdict"] in ("pass", "fail", "na")
            assert 0 <= v["confidence"] <= 1
            assert all(i in indices for i in v["evidence"]), (item, v)
        assert 0 <= a["qa_score"] <= 100
        for t in a["turns"]:
            if t["speaker"] == "customer":
                assert t["sentiment"]["label"] in ("negative", "neutral", "positive")
                assert -1 <= t["sentiment"]["score"] <= 1
                assert 0 <= t["frustration"]["score"] <= 1 and isinstance(t["frustration"]["frustrated"], bool)
            if t["speaker"] == "agent":
                assert set(t["behaviour_scores"]) == set(BEHAVIOURS)
                assert all(0 <= s <= 1 for s in t["behaviour_scores"].values())
                assert set(t["behaviours"]) <= set(BEHAVIOURS)
        assert a["category"]["label"] and 0 <= a["category"]["score"] <= 1
        assert a["resolution"]["label"] in ("resolved", "pending", "escalated", "unresolved")
        assert set(a["customer_sentiment"]) == {"start", "end", "min", "frustrated_turns"}
        assert a["metrics"]["turns"] == len(a["turns"])
        assert set(a["models"]) >= {"sentiment", "frustration", "behaviours", "category", "resolution"}
    assert "annotated" in proc.stdout and "results in" in proc.stdout


def test_flat_tables_and_run_json(sample_run, checklist_config):
    out, _ = sample_run
    convs = pq.read_table(out / "conversations.parquet").to_pandas()
    turns = pq.read_table(out / "turns.parquet").to_pandas()
    assert len(convs) == 20 and set(_items(checklist_config)) <= set(convs.columns)
    assert turns.groupby("conversation_id").size().min() >= 1
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["read"] == 20 and run["counts"]["annotated"] == 20 and run["counts"]["rejected"] == 0
    assert set(run["counts"]["per_language"]) == {"en", "hr", "sr", "lv"}
    assert set(run["timings_s"]["stages_cpu"]) >= {"clean", "language", "sentiment", "behaviours", "checklist"}
    assert run["config_hash"] and run["models"]["behaviours"]


def test_no_pii_reaches_any_output(sample_run, samples_dir, jsonl):
    out, proc = sample_run
    secrets = []
    for f in samples_dir.glob("*.jsonl"):
        for r in jsonl(f):
            for t in r["turns"]:
                secrets += re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", t["text"])
                secrets += re.findall(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b", t["text"])
    assert secrets, "the samples carry fake PII on purpose"
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()] + [proc.stdout.encode(), proc.stderr.encode()]
    for s in secrets:
        assert not any(s.encode() in b for b in blobs), s


def test_bad_input_is_accounted_for(cli, tmp_path, bad_inputs_path, jsonl):
    proc = cli("run", "--input", str(bad_inputs_path), "--output", str(tmp_path), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    anns = jsonl(tmp_path / "annotations.jsonl")
    rejects = jsonl(tmp_path / "rejects.jsonl")
    assert sorted(a["conversation_id"] for a in anns) == ["good-1", "good-2"]
    assert len(anns) + len(rejects) == 10  # every input line ends up in exactly one file
    by_loc = {r["location"]: r for r in rejects}
    assert by_loc["line 7"]["reason"].startswith("duplicate conversation_id")
    assert by_loc["line 10"]["reason"] == "every turn is empty after cleaning"
    assert all(r["input_file"].endswith("bad_inputs.jsonl") for r in rejects)
    assert "2 annotated, 8 rejected" in proc.stdout


def test_nothing_processed_exits_non_zero(cli, tmp_path):
    f = tmp_path / "all_bad.jsonl"
    f.write_text('{"conversation_id": "x", "turns": []}\nnot json\n')
    proc = cli("run", "--input", str(f), "--output", str(tmp_path / "out"))
    assert proc.returncode != 0
    assert "No conversation could be processed" in proc.stderr and "Traceback" not in proc.stderr
    assert len((tmp_path / "out" / "rejects.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("problem", ["missing_input", "bad_config", "missing_model"])
def test_stopping_problems_write_nothing(cli, tmp_path, root, samples_dir, problem):
    out = tmp_path / "out"
    args = ["run", "--input", str(samples_dir), "--output", str(out)]
    if problem == "missing_input":
        args[2] = str(tmp_path / "no_such_dir")
        expected = "does not exist"
    elif problem == "bad_config":
        cfg = tmp_path / "pipeline.yaml"
        cfg.write_text("stages: [clean, nonsense]\nbatch_size: -3\n")
        args += ["--config", str(cfg)]
        expected = "is invalid"
    else:
        cfg = tmp_path / "configs" / "pipeline.yaml"
        cfg.parent.mkdir()
        shutil.copytree(root / "configs", cfg.parent, dirs_exist_ok=True)
        cfg.write_text(cfg.read_text().replace("model_dir: models/default", "model_dir: models/missing"))
        args += ["--config", str(cfg)]
        expected = "not found"
    proc = cli(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_duckdb_load_is_idempotent(cli, tmp_path, samples_dir):
    db = tmp_path / "audit.duckdb"
    for run in range(2):
        proc = cli("run", "--input", str(samples_dir), "--output", str(tmp_path / f"out{run}"), "--duckdb", str(db), "--workers", "1")
        assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from conversations").fetchone()[0] == 20
    assert con.execute("select count(*), count(distinct conversation_id || item) from checklist").fetchone() == (420, 420)
    n_turns = con.execute("select count(*) from turns").fetchone()[0]
    assert n_turns == con.execute("select count(distinct conversation_id || '#' || turn_index) from turns").fetchone()[0]
    failed = con.execute("select agent_id from checklist where item = 'thank_customer' and verdict = 'fail'").fetchall()
    assert isinstance(failed, list)


def test_help_is_useful(cli):
    for cmd in ("run", "train", "evaluate"):
        proc = cli(cmd, "--help")
        assert proc.returncode == 0 and "usage: convaudit " + cmd in proc.stdout
    assert "--engine" in cli("run", "--help").stdout
