"""Shared fixtures. Test data lives in tests/data (see its README for origin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def config():
    from pipeline.config import load_pipeline_config

    return load_pipeline_config()


@pytest.fixture(scope="session")
def checklist_config(config):
    return config.checklist_config


@pytest.fixture(scope="session")
def tiny_labelled_path() -> Path:
    return DATA / "tiny_labelled.jsonl"


@pytest.fixture(scope="session")
def bad_inputs_path() -> Path:
    return DATA / "bad_inputs.jsonl"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return ROOT / "data" / "samples"


@pytest.fixture()
def sample_conversations(samples_dir):
    """Parsed sample conversations in all four languages (fresh objects per test)."""
    from pipeline.io.readers import iter_conversations
    from pipeline.records import Conversation

    return [c for c in iter_conversations([str(samples_dir)]) if isinstance(c, Conversation)]


def make_conv(turns, **kw):
    """A Conversation from (speaker, text[, labels]) tuples; labels set gold fields."""
    from datetime import datetime, timedelta, timezone

    from pipeline.records import Conversation, Turn

    start = kw.pop("start", datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc))
    gaps = kw.pop("gaps", None)
    out = []
    t = start
    for i, spec in enumerate(turns):
        speaker, text = spec[0], spec[1]
        labels = spec[2] if len(spec) > 2 else None
        if gaps is not None:
            t = t + timedelta(seconds=gaps[i])
        turn = Turn(index=i, speaker=speaker, text=text, timestamp=t if gaps is not None else None)
        if speaker == "agent":
            turn.behaviours = list(labels or [])
        elif speaker == "customer" and labels is not None:
            turn.sentiment = labels[0]
            turn.frustrated = labels[1]
        out.append(turn)
    return Conversation(conversation_id=kw.pop("conversation_id", "c-1"), turns=out, **kw)


@pytest.fixture()
def conv_factory():
    return make_conv


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def cli():
    return run_cli


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]


@pytest.fixture(scope="session")
def jsonl():
    return read_jsonl


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, samples_dir):
    """One real CLI run over data/samples, shared by the output tests."""
    out = tmp_path_factory.mktemp("sample_run")
    proc = run_cli("run", "--input", str(samples_dir), "--output", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    return out, proc
