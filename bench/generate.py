"""Synthetic transcripts at any size, for benchmarks only.

Text is drawn from the labelled corpus: each synthetic turn is a real turn of the
same speaker and language with words dropped, swapped or borrowed from another
turn, so the vocabulary and turn lengths are realistic and no sentence repeats
verbatim thousands of times. Lengths, languages, channels and reply delays vary.
The result is never used for training or evaluation.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_pools(labelled: Path) -> dict[str, dict[str, list[list[str]]]]:
    pools: dict[str, dict[str, list[list[str]]]] = {}
    for f in sorted(labelled.glob("*/*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            lang = pools.setdefault(r["language"], {"customer": [], "agent": [], "bot": [], "system": []})
            for t in r["turns"]:
                lang[t["speaker"]].append(t["text"].split())
    return pools


def _mutate(rng: random.Random, words: list[str], donor: list[str]) -> str:
    out = list(words)
    for _ in range(max(1, len(out) // 6)):
        op = rng.random()
        if op < 0.35 and len(out) > 3:
            del out[rng.randrange(len(out))]
        elif op < 0.7 and len(out) > 2:
            i, j = rng.randrange(len(out)), rng.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        elif donor:
            out.insert(rng.randrange(len(out) + 1), rng.choice(donor))
    return " ".join(out)


def generate(n: int, out: Path, seed: int = 0, labelled: Path | None = None) -> dict:
    rng = random.Random(seed)
    pools = load_pools(labelled or ROOT / "data" / "labelled")
    langs = sorted(pools)
    channels = ["chat"] * 5 + ["phone"] * 3 + ["email"] * 2
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    turns_total = 0
    opener = gzip.open if str(out).endswith(".gz") else open
    with opener(out, "wt", encoding="utf-8") as fh:
        for i in range(n):
            lang = rng.choice(langs)
            pool = pools[lang]
            channel = rng.choice(channels)
            n_turns = max(2, min(30, int(rng.gauss(12, 5))))
            t = start + timedelta(seconds=rng.randrange(30 * 86400))
            turns = []
            speaker = "customer" if rng.random() < 0.8 else "agent"
            for k in range(n_turns):
                words = rng.choice(pool[speaker])
                donor = rng.choice(pool[speaker])
                turns.append({"speaker": speaker, "text": _mutate(rng, words, donor), "timestamp": t.isoformat().replace("+00:00", "Z")})
                gap = rng.expovariate(1 / (40 if channel != "email" else 20000))
                t += timedelta(seconds=gap)
                speaker = "agent" if speaker == "customer" else "customer"
            rec = {"conversation_id": f"bench-{i:08d}", "channel": channel, "agent_id": f"a-{rng.randrange(300)}",
                   "customer_id": f"u-{rng.randrange(10**6)}", "turns": turns}
            if rng.random() < 0.9:
                rec["language"] = lang
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            turns_total += n_turns
    return {"conversations": n, "turns": turns_total, "path": str(out)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("n", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(json.dumps(generate(args.n, args.out, args.seed)))


if __name__ == "__main__":
    main()
