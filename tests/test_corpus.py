"""The labelled corpus: valid, labelled by labels.md, verdicts equal to the rules, no near-duplicates."""

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.labels import BEHAVIOURS
from training.corpus import near_duplicates
from training.validate import validate_file

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "data" / "labelled").glob("*/*.jsonl"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_labelled_file_is_valid(path, checklist_config):
    problems = validate_file(path, checklist_config)
    assert not problems, "\n".join(problems[:20])


def test_language_folders_match_records():
    for f in FILES:
        langs = {json.loads(l)["language"] for l in f.read_text(encoding="utf-8").splitlines() if l.strip()}
        assert langs == {f.parent.name}, f


def test_no_near_duplicates():
    dup = near_duplicates([str(f) for f in FILES])
    assert not dup["repeated_turns"], list(dup["repeated_turns"].items())[:5]
    assert not dup["similar_conversations"], dup["similar_conversations"][:5]


def test_corpus_size_and_coverage_per_language():
    per_lang = {}
    for f in FILES:
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            s = per_lang.setdefault(r["language"], {"convs": 0, "frus": 0, "beh": Counter(), "fails": Counter()})
            s["convs"] += 1
            for t in r["turns"]:
                s["frus"] += bool(t.get("frustration"))
                s["beh"].update(t.get("behaviours") or [])
            s["fails"].update(k for k, v in r["checklist"].items() if v == "fail")
    assert set(per_lang) == {"en", "hr", "sr", "lv"}
    for lang, s in per_lang.items():
        assert s["convs"] >= 300, (lang, s["convs"])
        assert s["frus"] >= 150, (lang, s["frus"])
        for b in BEHAVIOURS:
            assert s["beh"][b] >= 40, (lang, b, s["beh"][b])
        assert len(s["fails"]) == 21, (lang, sorted(s["fails"]))


def test_near_duplicate_check_catches_copies(tmp_path):
    conv = {"conversation_id": "a", "language": "en", "turns": [
        {"speaker": "agent", "text": "Is there anything else I can help you with today?"},
        {"speaker": "customer", "text": "no that is all for today thanks a lot"}]}
    lines = []
    for i in range(5):
        lines.append(json.dumps({**conv, "conversation_id": f"c{i}"}))
    (tmp_path / "x.jsonl").write_text("\n".join(lines))
    dup = near_duplicates([str(tmp_path / "x.jsonl")])
    assert len(dup["repeated_turns"]) == 2
    assert ("c0", "c1", 1.0) in dup["similar_conversations"]
