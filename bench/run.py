"""`make bench`: end-to-end throughput and memory at several sizes, with the
comparison points the project is measured against, written to bench/results.md.

Measured in one run on the same synthetic turns (bench/generate.py):
- convaudit end to end (all stages, default models, local processes);
- VADER sentiment alone on the same turns (the common lightweight choice);
- a CPU transformer encoder (all-MiniLM-L6-v2) on a time-bounded share of them,
  when its optional requirements (bench/requirements-encoder.txt) are installed;
- the same pipeline on a Dask LocalCluster.
Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from .generate import generate

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


class PeakRss:
    """Peak of the summed memory of a process and all its children: resident set
    (RSS, counts pages shared by forked workers once per process) and proportional
    set (PSS, shares them out, so it adds up to what the machine really holds)."""

    def __init__(self, pid: int, interval: float = 0.2, pss_every: int = 10):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.peak_pss = 0
        self.interval = interval
        # Reading PSS walks every mapping of every process, which costs enough CPU
        # to slow the run being measured: it is sampled less often than RSS.
        self.pss_every = pss_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                total = pss = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                        if tick % self.pss_every == 0:
                            info = p.memory_full_info()
                            pss += getattr(info, "pss", info.rss)
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
                self.peak_pss = max(self.peak_pss, pss)
                tick += 1
            except psutil.Error:
                pass
            time.sleep(self.interval)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.peak_pss


def run_pipeline(inp: Path, out: Path, *extra: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(inp), "--output", str(out), "--progress", "off", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    meter = PeakRss(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    peak, peak_pss = meter.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline failed: {stderr[-2000:]}")
    run = json.loads((out / "run.json").read_text())
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    return {"wall_s": wall, "peak_rss_mb": peak / 2**20, "peak_pss_mb": peak_pss / 2**20, "run": run, "output_bytes": sizes}


def turn_texts(inp: Path, limit: int | None = None) -> list[str]:
    texts = []
    with open(inp, encoding="utf-8") as fh:
        for line in fh:
            texts.extend(t["text"] for t in json.loads(line)["turns"])
            if limit and len(texts) >= limit:
                break
    return texts


def vader_on_file(inp: Path, chunk: int = 50_000) -> dict:
    """VADER over every turn of ``inp``, timing only the scoring (not the JSON)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    turns, seconds, texts = 0, 0.0, []

    def score() -> float:
        t0 = time.perf_counter()
        for t in texts:
            analyzer.polarity_scores(t)
        return time.perf_counter() - t0

    with open(inp, encoding="utf-8") as fh:
        for line in fh:
            texts.extend(t["text"] for t in json.loads(line)["turns"])
            if len(texts) >= chunk:
                seconds += score()
                turns += len(texts)
                texts = []
    seconds += score()
    turns += len(texts)
    return {"turns": turns, "seconds": seconds, "turns_per_s": turns / seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--dask-size", type=int, default=None,
                   help="size of the Dask comparison run (default: the second size, so cluster start-up is amortised as in a nightly run)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    args = p.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    rows = []
    for n in args.sizes:
        inp = WORK / f"input-{n}.jsonl"
        if not inp.exists():
            print(f"generating {n} conversations...", file=sys.stderr)
            generate(n, inp, seed=n)
        print(f"running the pipeline on {n} conversations...", file=sys.stderr)
        res = run_pipeline(inp, WORK / f"out-{n}", "--workers", str(args.workers))
        # Right after the run and on the same turns, so that the machine's speed
        # (which varies on shared hardware) is the same for both.
        print(f"VADER on the same {n} conversations...", file=sys.stderr)
        res["vader"] = vader_on_file(inp)
        rows.append((n, inp, res))
    n0, inp0, res0 = rows[0]
    texts = turn_texts(inp0)
    vader = res0["vader"]
    encoder = None
    try:
        from .encoder import encoder_available, encoder_turns_per_second

        ok, why = encoder_available()
        if ok:
            print("MiniLM encoder on the same turns (time-bounded)...", file=sys.stderr)
            encoder = encoder_turns_per_second(texts, max_seconds=60.0)
        else:
            encoder = {"unavailable": why}
    except ImportError as exc:
        encoder = {"unavailable": str(exc)}
    dask_n = args.dask_size or (rows[1][0] if len(rows) > 1 else n0)
    dask_inp = WORK / f"input-{dask_n}.jsonl"
    if not dask_inp.exists():
        generate(dask_n, dask_inp, seed=dask_n)
    print(f"Dask LocalCluster on {dask_n} conversations...", file=sys.stderr)
    dask = run_pipeline(dask_inp, WORK / f"out-dask-{dask_n}", "--engine", "dask", "--workers", str(args.workers))
    local_same = next((r for n, _, r in rows if n == dask_n), None)
    if local_same is None:
        local_same = run_pipeline(dask_inp, WORK / f"out-{dask_n}", "--workers", str(args.workers))
    report = render(rows, vader, encoder, dask_n, dask, local_same, args.workers, started)
    args.out.write_text(report, encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(json.dumps({
        "machine": _machine(), "started": started.isoformat(), "workers": args.workers,
        "sizes": {n: {k: v for k, v in r.items() if k != "run"} | {"counts": r["run"]["counts"], "timings_s": r["run"]["timings_s"]} for n, _, r in rows},
        "vader": vader, "encoder": encoder, "dask": {"size": dask_n, "wall_s": dask["wall_s"], "peak_rss_mb": dask["peak_rss_mb"], "peak_pss_mb": dask["peak_pss_mb"],
                                                   "local_wall_s": local_same["wall_s"]},
    }, indent=2, default=str), encoding="utf-8")
    print(report)
    return 0


def render(rows, vader, encoder, dask_n, dask, local_same, workers, started) -> str:
    out = ["# Benchmark results", "",
           f"Measured by `make bench` on {started:%Y-%m-%d %H:%M} UTC. Machine: {_machine()}. "
           f"Pipeline with the default models, `--workers {workers}`, synthetic transcripts from `bench/generate.py` "
           "(real turns of the labelled corpus with words dropped, swapped and borrowed; 4 languages, chat/phone/e-mail).", ""]
    out += ["## End to end", "",
            "| conversations | turns | wall s | conversations/s | turns/s | VADER turns/s (same turns, 1 process) | ratio | peak PSS MB | peak RSS MB (sum) | annotations.jsonl MB | parquet MB | duckdb MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, _, r in rows:
        c = r["run"]["counts"]
        b = r["output_bytes"]
        pq = sum(v for k, v in b.items() if k.endswith(".parquet"))
        out.append(f"| {n:,} | {c['turns']:,} | {r['wall_s']:.1f} | {n / r['wall_s']:.0f} | {c['turns'] / r['wall_s']:.0f} | "
                   f"{r['vader']['turns_per_s']:.0f} | {c['turns'] / r['wall_s'] / r['vader']['turns_per_s']:.2f} | "
                   f"{r['peak_pss_mb']:.0f} | {r['peak_rss_mb']:.0f} | {b.get('annotations.jsonl', 0) / 2**20:.1f} | {pq / 2**20:.1f} | {b.get('audit.duckdb', 0) / 2**20:.1f} |")
    out += ["", "CPU seconds per stage (summed over workers):", "", "| conversations | " + " | ".join(rows[0][2]["run"]["timings_s"]["stages_cpu"]) + " |",
            "|---" * (len(rows[0][2]["run"]["timings_s"]["stages_cpu"]) + 1) + "|"]
    for n, _, r in rows:
        out.append(f"| {n:,} | " + " | ".join(f"{v:.1f}" for v in r["run"]["timings_s"]["stages_cpu"].values()) + " |")
    n0, _, r0 = rows[0]
    e2e = r0["run"]["counts"]["turns"] / r0["wall_s"]
    out += ["", "## Comparison points (same turns as the smallest size)", "",
            "| what | turns/s | ratio convaudit / it |", "|---|---|---|",
            f"| convaudit end to end ({n0:,} conversations, {workers} workers) | {e2e:.0f} | 1.00 |",
            f"| VADER sentiment alone (1 process) | {vader['turns_per_s']:.0f} | {e2e / vader['turns_per_s']:.2f} |"]
    if encoder and "turns_per_s" in encoder:
        out.append(f"| MiniLM-L6 encoder on CPU ({encoder['turns']:,} turns, torch {encoder.get('torch')}) | {encoder['turns_per_s']:.0f} | {e2e / encoder['turns_per_s']:.2f} |")
    else:
        out.append(f"| MiniLM-L6 encoder on CPU | not measured: {encoder.get('unavailable') if encoder else 'n/a'} | |")
    ratio = dask["wall_s"] / local_same["wall_s"]
    out += ["", "## Dask", "",
            f"LocalCluster ({workers} worker processes) on {dask_n:,} conversations: {dask['wall_s']:.1f} s wall "
            f"(local run: {local_same['wall_s']:.1f} s), ratio {ratio:.2f}; peak PSS {dask['peak_pss_mb']:.0f} MB. "
            "The Dask time includes starting the cluster and loading the models in each worker.", ""]
    if len(rows) > 1:
        small, big = rows[0][2]["peak_pss_mb"], rows[-1][2]["peak_pss_mb"]
        out += ["## Memory", "", "PSS counts each memory page once even when forked workers share it (their "
                "models are loaded before the fork); the RSS sum counts shared pages once per process.", "",
                f"Peak PSS grows from {small:.0f} MB at {rows[0][0]:,} to {big:.0f} MB at {rows[-1][0]:,} conversations "
                f"({(big / small - 1) * 100:+.0f}%).", ""]
    out += ["## Targets (issue 6)", "",
            "- end-to-end ≥ 0.25 × VADER turns/s: measured "
            + ", ".join(f"{r['run']['counts']['turns'] / r['wall_s'] / r['vader']['turns_per_s']:.2f} × at {n:,}" for n, _, r in rows),
            f"- peak memory < 1.5 GB at the largest size and ≤ 20% above the smallest: measured PSS {rows[-1][2]['peak_pss_mb']:.0f} MB "
            f"(RSS sum {rows[-1][2]['peak_rss_mb']:.0f} MB), {(rows[-1][2]['peak_pss_mb'] / rows[0][2]['peak_pss_mb'] - 1) * 100:+.0f}%",
            f"- Dask LocalCluster within 1.5 × the local run: measured {ratio:.2f} ×", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
