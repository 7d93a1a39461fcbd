"""Nightly scale: partitioned runs, resume after SIGKILL, local processes and Dask give identical results."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from bench.generate import generate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 240


@pytest.fixture(scope="module")
def bench_input(tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    path = d / "input.jsonl"
    generate(N, path, seed=3)
    # A malformed line and a duplicate id in the middle exercise reject accounting across partitions.
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(100, "{not json")
    lines.insert(150, lines[10])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(inp, out, *extra):
    cmd = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(inp), "--output", str(out),
           "--partition-size", "30", "--progress", "off", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def reference(bench_input, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    proc = _run(bench_input, out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    return out


def _same_results(a, b):
    assert (a / "annotations.jsonl").read_bytes() == (b / "annotations.jsonl").read_bytes()
    assert sorted((a / "rejects.jsonl").read_text().splitlines()) == sorted((b / "rejects.jsonl").read_text().splitlines())
    for table in ("turns", "conversations", "checklist"):
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{table}.parquet"), pd.read_parquet(b / f"{table}.parquet"))


def test_reference_run_accounts_for_every_line(reference):
    anns = (reference / "annotations.jsonl").read_text().splitlines()
    rejects = (reference / "rejects.jsonl").read_text().splitlines()
    assert len(anns) + len(rejects) == N + 2
    assert len(rejects) == 2
    assert len(list((reference / "parts").glob("*.stats.json"))) == 9  # 242 lines / 30 per partition


def test_local_processes_match_single_process(bench_input, reference, tmp_path):
    proc = _run(bench_input, tmp_path, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    _same_results(reference, tmp_path)


def test_resume_after_sigkill_gives_the_uninterrupted_result(bench_input, reference, tmp_path):
    cmd = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(bench_input), "--output", str(tmp_path),
           "--partition-size", "30", "--progress", "off", "--workers", "1"]
    victim = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        done = list((tmp_path / "parts").glob("*.stats.json")) if (tmp_path / "parts").exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    finished = len(list((tmp_path / "parts").glob("*.stats.json")))
    assert 2 <= finished < 9, "the kill must land mid-run"
    assert not (tmp_path / "annotations.jsonl").exists()
    proc = _run(bench_input, tmp_path, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    _same_results(reference, tmp_path)
    import json

    run = json.loads((tmp_path / "run.json").read_text())
    assert run["partitions"]["resumed"] == finished


def test_dask_local_cluster_matches_local_run(bench_input, reference, tmp_path):
    proc = _run(bench_input, tmp_path, "--engine", "dask", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    _same_results(reference, tmp_path)


def test_local_dask_workers_keep_glibc_adaptive_malloc():
    import dask
    import distributed  # noqa: F401  (loads distributed's config defaults)

    from pipeline.runner import _local_worker_environ

    assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get("distributed.nanny.pre-spawn-environ")
    environ = _local_worker_environ()
    assert "MALLOC_TRIM_THRESHOLD_" not in environ
    assert str(environ["OMP_NUM_THREADS"]) == "1"


def test_a_replaced_model_is_not_resumed(config, samples_dir, tmp_path):
    """Parts annotated by an older model version must be redone, not merged."""
    import json

    from pipeline.runner import run, stages_for

    out = tmp_path / "out"
    inp = [str(samples_dir / "hr.jsonl")]
    first = run(inp, out, config)
    assert first["partitions"]["resumed"] == 0
    assert run(inp, out, config)["partitions"]["resumed"] == 1
    stage = next(s for s in stages_for(config) if s.model_versions().get("behaviours"))
    old = stage.card.get("version")
    stage.card["version"] = "0.0.1-test"
    try:
        again = run(inp, out, config)
        assert again["partitions"]["resumed"] == 0
        lines = (out / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
        assert all(json.loads(l)["models"]["behaviours"].endswith("@0.0.1-test") for l in lines)
    finally:
        stage.card["version"] = old
