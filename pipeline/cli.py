"""The ``convaudit`` command line: run, train, evaluate.

Only this module prints; the library logs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from . import __version__
from .errors import ConvauditError

log = logging.getLogger("convaudit")

EPILOG_RUN = """examples:
  convaudit run --input data/samples --output out/
  convaudit run --input calls.csv chats.jsonl.gz --output out/ --workers 2
  convaudit run --input s3://bucket/exports/ --output out/ --engine dask --scheduler tcp://10.0.0.5:8786

outputs in DIR: annotations.jsonl, rejects.jsonl, turns.parquet, conversations.parquet,
checklist.parquet, run.json and audit.duckdb (tables conversations, turns, checklist).
A rerun with the same DIR resumes: finished partitions are skipped."""


def _progress_enabled(flag: str) -> bool:
    if flag == "on":
        return True
    if flag == "off":
        return False
    return sys.stderr.isatty()


def cmd_run(args: argparse.Namespace) -> int:
    from .config import load_pipeline_config
    from .runner import run

    config = load_pipeline_config(args.config)
    if args.batch_size:
        config.batch_size = args.batch_size
    if args.partition_size:
        config.partition_size = args.partition_size
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    bar = None
    use_bar = _progress_enabled(args.progress)
    counts = {"done": 0, "annotated": 0, "rejected": 0}

    def on_plan(parts) -> None:
        nonlocal bar
        total = sum(max(p.stop - p.start, 0) for p in parts)
        if use_bar:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="conv", desc="auditing", file=sys.stderr, dynamic_ncols=True)
        else:
            log.info("%d input partition(s), about %d records", len(parts), total)

    def on_partition(part, stats) -> None:
        counts["done"] += 1
        counts["annotated"] += stats["annotated"]
        counts["rejected"] += stats["rejected"]
        if bar is not None:
            bar.update(max(part.stop - part.start, 0))
            bar.set_postfix(annotated=counts["annotated"], rejected=counts["rejected"])
        else:
            log.info("%s done: %d annotated, %d rejected (%s)", part.key, stats["annotated"], stats["rejected"], part.path)

    try:
        summary = run(args.input, args.output, config, workers=workers, engine=args.engine,
                      scheduler=args.scheduler, duckdb_path=args.duckdb, on_plan=on_plan, on_partition=on_partition)
    finally:
        if bar is not None:
            bar.close()
    c = summary["counts"]
    out = Path(args.output)
    print(f"read {c['read']} conversation(s): {c['annotated']} annotated, {c['rejected']} rejected "
          f"({summary['timings_s']['total_wall']:.1f} s)")
    if c["per_language"]:
        print("  languages: " + ", ".join(f"{k} {v}" for k, v in sorted(c["per_language"].items())))
    if c["per_channel"]:
        print("  channels:  " + ", ".join(f"{k} {v}" for k, v in sorted(c["per_channel"].items())))
    _print_run_summary(out)
    print(f"results in {out}/: annotations.jsonl, rejects.jsonl, turns.parquet, conversations.parquet, run.json"
          + (f", {summary['duckdb']}" if summary.get("duckdb") else ""))
    return 0


def _print_run_summary(out: Path) -> None:
    """A few lines an auditor reads first: mean QA score and the most failed items."""
    item_ids = _checklist_ids()
    try:
        import pyarrow.parquet as pq

        path = out / "conversations.parquet"
        present = set(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[c for c in ["qa_score", *item_ids] if c in present]).to_pandas()
    except Exception:  # summary is a courtesy; the files are the result
        return
    if table.empty or "qa_score" not in table:
        return
    print(f"  mean QA score: {table['qa_score'].mean():.1f} (min {table['qa_score'].min():.1f}, max {table['qa_score'].max():.1f})")
    items = [c for c in table.columns if c in item_ids]
    fails = sorted(((int((table[c] == 'fail').sum()), c) for c in items), reverse=True)[:5]
    if fails and fails[0][0]:
        print("  most failed items: " + ", ".join(f"{c} ({n})" for n, c in fails if n))


def _checklist_ids() -> set[str]:
    from .config import DEFAULT_PIPELINE_CONFIG, load_pipeline_config

    return set(load_pipeline_config(DEFAULT_PIPELINE_CONFIG).checklist_config.item_ids())


def _train_tasks() -> list[str]:
    from .checklist_rules import model_tasks
    from .config import DEFAULT_PIPELINE_CONFIG, load_pipeline_config

    return list(model_tasks(load_pipeline_config(DEFAULT_PIPELINE_CONFIG).checklist_config))


def cmd_train(args: argparse.Namespace) -> int:
    from training.train import TASKS, train_all

    tasks = tuple(args.tasks) if args.tasks else TASKS
    t0 = time.perf_counter()

    def progress(task: str) -> None:
        print(f"training {task} ({args.folds}-fold grouped cross-validation, then the final fit)...", file=sys.stderr)

    try:
        result = train_all(args.data, args.out, force=args.force, folds=args.folds, version=args.version,
                           tasks=tasks, progress=progress, ltec_train=args.ltec_train, n_jobs=args.jobs,
                           context=args.context)
    except ConvauditError as exc:
        if exc.key == "model_worse":
            print("new models are worse than the ones in place; nothing was overwritten:", file=sys.stderr)
        raise
    print(f"trained {', '.join(result['tasks'])} on {result['conversations']} conversations "
          f"(data hash {result['data_hash']}) in {time.perf_counter() - t0:.0f} s -> {args.out}")
    for task, cmp in result["comparisons"].items():
        old = "n/a" if cmp["old"] is None else f"{cmp['old']:.3f}"
        new = "n/a" if cmp["new"] is None else f"{cmp['new']:.3f}"
        print(f"  {task:12s} {cmp['metric']:9s} cross-validated: {new} (previous: {old})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate, render_markdown, render_table

    report = evaluate(args.data, model_dir=args.model, config_path=args.config, external=args.external,
                      with_baselines=not args.no_baselines, previous=args.previous)
    print(render_table(report))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.json}")
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(render_markdown(report), encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="convaudit",
        description="Audit customer-service conversations against a QA checklist: clean transcripts, "
        "score customer sentiment and frustration, detect agent behaviours, and give a verdict with "
        "evidence for each of the 21 checklist items.",
    )
    p.add_argument("--version", action="version", version=f"convaudit {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="audit transcripts and write annotations", epilog=EPILOG_RUN,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Audit conversations (JSONL, JSONL.gz, long-format CSV or Parquet; a directory "
                       "means every such file in it) and write per-conversation annotations with evidence.")
    r.add_argument("--input", "-i", nargs="+", required=True, metavar="PATH", help="input files or directories (local paths or fsspec URLs)")
    r.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory (created if missing)")
    r.add_argument("--config", "-c", metavar="YAML", help="pipeline config (default: configs/pipeline.yaml)")
    r.add_argument("--duckdb", metavar="PATH", help="DuckDB database to upsert results into (default: DIR/audit.duckdb)")
    r.add_argument("--workers", "-w", type=int, metavar="N", help="parallel worker processes (default: number of cores)")
    r.add_argument("--engine", choices=["local", "dask"], default="local", help="local processes (default) or a Dask cluster")
    r.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address; without it a LocalCluster is started")
    r.add_argument("--batch-size", type=int, metavar="N", help="conversations per model call (config: batch_size)")
    r.add_argument("--partition-size", type=int, metavar="N", help="conversations per partition (config: partition_size)")
    r.add_argument("--progress", choices=["auto", "on", "off"], default="auto", help="progress bar (auto: only on a terminal)")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("train", help="train the models on labelled conversations",
                       description="Train every task the labelled data has labels for (sentiment, frustration, "
                       "behaviours, category, resolution, and the verdicts of the checklist items marked learned). "
                       "Decision thresholds are chosen by cross-validation grouped "
                       "by conversation (F1; F0.5 for the behaviours behind auto-fail checklist items). An existing "
                       "model whose cross-validated headline metric is better by more than 0.005 is not overwritten "
                       "unless --force is given.")
    t.add_argument("--data", "-d", nargs="+", required=True, metavar="PATH", help="labelled files or directories")
    t.add_argument("--out", "-o", default="models/default", metavar="DIR", help="model directory (default: models/default)")
    t.add_argument("--tasks", nargs="+", choices=_train_tasks(), metavar="TASK",
                   help="train only these tasks: %(choices)s")
    t.add_argument("--folds", type=int, default=5, help="cross-validation folds for thresholds and metrics (default: 5)")
    t.add_argument("--version", help="version to write into the model cards (default: next minor version)")
    t.add_argument("--force", action="store_true", help="overwrite even if the new model scores worse")
    t.add_argument("--jobs", "-j", type=int, metavar="N", help="processes for the cross-validation folds and the final "
                   "fit, which run side by side (default: one per core)")
    t.add_argument("--ltec-train", metavar="FILE", help="the LTEC train file (ltec-sentiment-annotated-train.json): labelled "
                   "Latvian tweets added to the sentiment training data at a low weight; `make train` passes it when "
                   "../shared has it")
    t.add_argument("--context", action="store_true",
                   help="give behaviours and frustration a second stage that re-scores each turn with its neighbours' "
                   "scores, trained on out-of-fold scores (needs 200 or more conversations). It gained on this "
                   "project's corpus but not on conversations written by other people; see the README")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="measure model accuracy on labelled conversations",
                       description="Run the pipeline on labelled conversations and report precision, recall and F1 "
                       "per label and language, confusion matrices, checklist verdict accuracy, calibration, and 95% "
                       "intervals (bootstrap over conversations) for the headline numbers and the public-data gains.")
    e.add_argument("--data", "-d", nargs="+", required=True, metavar="PATH", help="labelled files or directories")
    e.add_argument("--model", "-m", metavar="DIR", help="model directory (default: model_dir of the config)")
    e.add_argument("--config", "-c", metavar="YAML", help="pipeline config (default: configs/pipeline.yaml)")
    e.add_argument("--json", metavar="FILE", default="reports/last_evaluation.json",
                   help="write the full report as JSON (default: reports/last_evaluation.json)")
    e.add_argument("--report", metavar="FILE", help="also write a Markdown report")
    e.add_argument("--external", metavar="DIR", help="also evaluate on the public datasets in DIR (../shared/external)")
    e.add_argument("--previous", metavar="JSON", help="an earlier evaluation JSON to compare with")
    e.add_argument("--no-baselines", action="store_true", help="skip the keyword and VADER baselines")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("distributed", "asyncio", "tornado", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except ConvauditError as exc:
        print(f"convaudit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convaudit: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
