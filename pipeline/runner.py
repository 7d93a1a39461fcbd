"""Running the stages over inputs: partitions, part files, resume, merge.

The unit of work is a partition (see ``io.readers``). ``process_partition`` runs
every stage over one partition and writes its part files atomically, ending with
the ``.stats.json`` marker; a rerun skips partitions whose marker exists. The
same function runs in-process, in a local process pool, or on Dask workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

from .config import PipelineConfig
from .errors import ConvauditError, message
from .io.readers import Partition, expand_inputs, plan_partitions, read_partition
from .io.writers import (
    annotation_record,
    atomic_write_bytes,
    checklist_rows,
    conversation_row,
    dumps,
    turn_rows,
)
from .records import Conversation, Reject
from .stages import STAGES, Stage

log = logging.getLogger(__name__)

PARTS_DIR = "parts"
# Position of a conversation inside its partition, kept in part tables so the
# merge can drop exactly the rows of a duplicate occurrence.
ROW_COLUMN = "_row"
PLAN_FILE = "plan.json"


def build_stages(config: PipelineConfig) -> list[Stage]:
    stages = []
    for name in config.stages:
        if name not in STAGES:
            raise ConvauditError("unknown_stage", name=name, known=", ".join(sorted(STAGES)))
        stages.append(STAGES[name].from_config(config))
    return stages


_WORKER_STAGES: dict[str, list[Stage]] = {}


def stages_for(config: PipelineConfig) -> list[Stage]:
    """Stages built once per process (models load once per worker)."""
    key = config.digest()
    if key not in _WORKER_STAGES:
        _WORKER_STAGES[key] = build_stages(config)
    return _WORKER_STAGES[key]


def model_versions(stages: list[Stage]) -> dict[str, str]:
    """Task -> ``name@version`` of every model the stages load."""
    return {k: v for s in stages for k, v in s.model_versions().items()}


class Pipeline:
    """The stages in config order; ``process`` turns conversations into annotated
    ones and rejects, never dropping one silently."""

    def __init__(self, stages: list[Stage]):
        self.stages = stages

    def process(self, convs: list[Conversation], timings: Counter | None = None) -> tuple[list[Conversation], list[Reject]]:
        timings = timings if timings is not None else Counter()
        rejects: list[Reject] = []
        done: list[Conversation] = []
        try:
            done = self._process_batch(convs, timings, rejects)
        except Exception:
            # One bad conversation must not sink its batch: retry one at a time.
            log.warning("a stage failed on a batch of %d; retrying one by one", len(convs), exc_info=True)
            done, rejects = [], []
            for conv in convs:
                try:
                    done.extend(self._process_batch([conv], timings, rejects))
                except Exception as exc:  # noqa: BLE001 - reported as a reject
                    stage = getattr(exc, "stage_name", "unknown")
                    rejects.append(_reject_of(conv, message("reject_stage", stage=stage, detail=f"{type(exc).__name__}: {exc}")))
        return done, rejects

    def _process_batch(self, convs: list[Conversation], timings: Counter, rejects: list[Reject]) -> list[Conversation]:
        batch = list(convs)
        for stage in self.stages:
            t0 = time.perf_counter()
            try:
                batch = stage(batch)
            except Exception as exc:
                exc.stage_name = stage.name  # type: ignore[attr-defined]
                raise
            timings[stage.name] += time.perf_counter() - t0
            if not all(conv.turns for conv in batch):
                # Cleaning can empty a conversation; later stages need turns.
                rejects.extend(_reject_of(c, message("reject_all_empty")) for c in batch if not c.turns)
                batch = [c for c in batch if c.turns]
        return batch


def _reject_of(conv: Conversation, reason: str) -> Reject:
    source, _, location = conv.source.rpartition(":")
    return Reject(source or conv.source, location, reason, conv.conversation_id)


# ---------------------------------------------------------------- partitions
def _part_paths(out_dir: Path, part: Partition) -> dict[str, Path]:
    base = out_dir / PARTS_DIR / part.key
    return {
        "annotations": base.with_suffix(".annotations.jsonl"),
        "rejects": base.with_suffix(".rejects.jsonl"),
        "turns": base.with_suffix(".turns.parquet"),
        "conversations": base.with_suffix(".conversations.parquet"),
        "checklist": base.with_suffix(".checklist.parquet"),
        "stats": base.with_suffix(".stats.json"),
    }


def _parquet_bytes(rows: list[dict[str, Any]], schema) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=schema.append(pa.field(ROW_COLUMN, pa.int32())))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _schemas(item_ids: list[str]):
    import pyarrow as pa

    turns = pa.schema([
        ("conversation_id", pa.string()), ("turn_index", pa.int32()), ("speaker", pa.string()), ("text", pa.string()),
        ("timestamp", pa.string()), ("language", pa.string()), ("channel", pa.string()), ("agent_id", pa.string()),
        ("sentiment", pa.string()), ("sentiment_score", pa.float64()), ("frustration_score", pa.float64()),
        ("frustrated", pa.bool_()), ("behaviours", pa.string()),
    ])
    conv_fields = [
        ("conversation_id", pa.string()), ("language", pa.string()), ("channel", pa.string()), ("agent_id", pa.string()),
        ("customer_id", pa.string()), ("started_at", pa.string()), ("category", pa.string()), ("category_score", pa.float64()),
        ("resolution", pa.string()), ("resolution_score", pa.float64()), ("qa_score", pa.float64()),
        ("sentiment_start", pa.float64()), ("sentiment_end", pa.float64()), ("sentiment_min", pa.float64()),
        ("frustrated_turns", pa.int32()), ("turns", pa.int32()), ("words", pa.int32()), ("agent_word_share", pa.float64()),
        ("first_response_s", pa.float64()), ("max_reply_s", pa.float64()), ("handle_time_s", pa.float64()),
    ]
    conversations = pa.schema(conv_fields + [(i, pa.string()) for i in item_ids])
    checklist = pa.schema([
        ("conversation_id", pa.string()), ("agent_id", pa.string()), ("started_at", pa.string()), ("item", pa.string()),
        ("verdict", pa.string()), ("confidence", pa.float64()), ("evidence", pa.string()),
    ])
    return {"turns": turns, "conversations": conversations, "checklist": checklist}


def process_partition(part: Partition, config: PipelineConfig, out_dir: str) -> dict[str, Any]:
    """Run all stages over one partition and write its part files (idempotent)."""
    out = Path(out_dir)
    paths = _part_paths(out, part)
    if paths["stats"].exists():
        return json.loads(paths["stats"].read_text(encoding="utf-8"))
    t_start = time.perf_counter()
    pipeline = Pipeline(stages_for(config))
    item_ids = config.checklist_config.item_ids()
    schemas = _schemas(item_ids)
    timings: Counter = Counter()
    annotations, rejects, ids = [], [], []
    turns_tab, convs_tab, check_tab = [], [], []
    read = 0
    t0 = time.perf_counter()
    pending: list[Conversation] = []
    lang: Counter = Counter()
    chan: Counter = Counter()

    def flush() -> None:
        done, bad = pipeline.process(pending, timings)
        rejects.extend(bad)
        for conv in done:
            rec = annotation_record(conv)
            row = len(annotations)
            annotations.append(dumps(rec))
            ids.append([conv.conversation_id, conv.source])
            turns_tab.extend({**r, ROW_COLUMN: row} for r in turn_rows(rec))
            convs_tab.append({**conversation_row(rec, item_ids), ROW_COLUMN: row})
            check_tab.extend({**r, ROW_COLUMN: row} for r in checklist_rows(rec))
            lang[conv.language or "unknown"] += 1
            chan[conv.channel or "unknown"] += 1
        pending.clear()

    for item in read_partition(part):
        read += 1
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        pending.append(item)
        if len(pending) >= config.batch_size:
            flush()
    if pending:
        flush()
    t_write = time.perf_counter()
    atomic_write_bytes(paths["annotations"], ("\n".join(annotations) + ("\n" if annotations else "")).encode("utf-8"))
    atomic_write_bytes(paths["rejects"], "".join(dumps(r.to_dict()) + "\n" for r in rejects).encode("utf-8"))
    atomic_write_bytes(paths["turns"], _parquet_bytes(turns_tab, schemas["turns"]))
    atomic_write_bytes(paths["conversations"], _parquet_bytes(convs_tab, schemas["conversations"]))
    atomic_write_bytes(paths["checklist"], _parquet_bytes(check_tab, schemas["checklist"]))
    timings["write"] += time.perf_counter() - t_write
    stage_total = sum(v for k, v in timings.items() if k != "write")
    timings["read"] = max(0.0, (t_write - t0) - stage_total)
    stats = {
        "partition": part.key,
        "read": read,
        "annotated": len(annotations),
        "rejected": len(rejects),
        "turns": len(turns_tab),
        "languages": dict(lang),
        "channels": dict(chan),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "seconds": round(time.perf_counter() - t_start, 4),
        "ids": ids,
        "models": model_versions(pipeline.stages),
        "pid": os.getpid(),
    }
    # The stats file is the completion marker, so it is written last.
    atomic_write_bytes(paths["stats"], json.dumps(stats, ensure_ascii=False).encode("utf-8"))
    return stats


# ---------------------------------------------------------------- executors
def _init_worker(config: PipelineConfig) -> None:
    logging.getLogger().setLevel(logging.WARNING)
    stages_for(config)


def _execute_local(parts, config, out_dir, workers, on_done) -> None:
    todo = list(parts)
    if workers <= 1 or len(todo) <= 1:
        for part in todo:
            on_done(part, process_partition(part, config, out_dir))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                             initializer=_init_worker, initargs=(config,)) as pool:
        futures = {pool.submit(process_partition, p, config, out_dir): p for p in todo}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


def _local_worker_environ() -> dict:
    """Dask's worker environment without ``MALLOC_TRIM_THRESHOLD_``.

    Setting it turns off glibc's adaptive mmap threshold, so every large numpy
    and sparse buffer of a batch is mapped and unmapped afresh; on 20,000
    conversations the workers' stage CPU time fell from 121 s to 108 s without
    it. The single-threaded BLAS settings stay."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


def _execute_dask(parts, config, out_dir, workers, scheduler, on_done) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConvauditError("dask_missing") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
        client.wait_for_workers(1)
    else:
        import dask

        with dask.config.set({"distributed.nanny.pre-spawn-environ": _local_worker_environ()}):
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        # Tasks submitted before every worker has registered all land on the first
        # one, and long tasks are rarely stolen back.
        client.wait_for_workers(max(1, workers))
    try:
        futures = client.map(process_partition, list(parts), config=config, out_dir=out_dir, pure=False)
        index = {f.key: p for f, p in zip(futures, parts)}
        for fut in as_completed(futures):
            on_done(index[fut.key], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------- merge
def _input_fingerprint(files: list[str], config: PipelineConfig, models: dict[str, str]) -> str:
    # Model versions are in it so that parts annotated by a replaced model are not resumed.
    h = hashlib.sha256(config.digest().encode())
    h.update(json.dumps(models, sort_keys=True).encode())
    for f in files:
        try:
            st = os.stat(f)
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
        except OSError:
            h.update(f.encode())
    return h.hexdigest()[:16]


class PartMerger:
    """Concatenates part files in input order while later partitions still run;
    later duplicates of a conversation_id move to rejects (first occurrence wins).

    ``feed`` merges every partition whose predecessors are all merged, so the
    parent process does the merging alongside the workers instead of after them.
    """

    def __init__(self, parts: list[Partition], out_dir: Path, config: PipelineConfig):
        import pyarrow.parquet as pq

        self.parts = parts
        self.out_dir = out_dir
        self.next = 0
        self.seen: dict[str, str] = {}
        self.duplicates: list[Reject] = []
        self.schemas = _schemas(config.checklist_config.item_ids())
        self.tmp = {name: out_dir / f".{name}.tmp" for name in ("annotations.jsonl", "rejects.jsonl")}
        self.ann = open(self.tmp["annotations.jsonl"], "w", encoding="utf-8")
        self.rej = open(self.tmp["rejects.jsonl"], "w", encoding="utf-8")
        self.writers = {name: pq.ParquetWriter(out_dir / f".{name}.parquet.tmp", self.schemas[name], compression="zstd")
                        for name in ("turns", "conversations", "checklist")}

    def feed(self, stats: dict[str, dict]) -> None:
        while self.next < len(self.parts) and self.parts[self.next].key in stats:
            part = self.parts[self.next]
            self._merge(part, stats[part.key])
            self.next += 1

    def _merge(self, part: Partition, st: dict) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        skip = set()
        for row, (cid, source) in enumerate(st["ids"]):
            if cid in self.seen:
                skip.add(row)
                src, _, loc = source.rpartition(":")
                self.duplicates.append(Reject(src, loc, message("reject_duplicate", first=self.seen[cid]), cid))
            else:
                self.seen[cid] = source
        paths = _part_paths(self.out_dir, part)
        with open(paths["annotations"], encoding="utf-8") as fh:
            if not skip:
                shutil.copyfileobj(fh, self.ann)
            else:
                for row, line in enumerate(fh):
                    if row not in skip:
                        self.ann.write(line)
        with open(paths["rejects"], encoding="utf-8") as fh:
            shutil.copyfileobj(fh, self.rej)
        for name, writer in self.writers.items():
            table = pq.read_table(paths[name])
            if skip and table.num_rows:
                table = table.filter(pc.invert(pc.is_in(table.column(ROW_COLUMN), pa.array(sorted(skip), pa.int32()))))
            writer.write_table(table.drop_columns([ROW_COLUMN]).cast(self.schemas[name]))

    def _close(self) -> None:
        self.ann.close()
        self.rej.close()
        for writer in self.writers.values():
            writer.close()

    def abort(self) -> None:
        """Close and remove the half-merged files of a run that stopped."""
        self._close()
        for name in self.writers:
            (self.out_dir / f".{name}.parquet.tmp").unlink(missing_ok=True)
        for path in self.tmp.values():
            path.unlink(missing_ok=True)

    def finish(self) -> dict[str, Any]:
        if self.next != len(self.parts):
            raise RuntimeError(f"merge stopped at partition {self.next} of {len(self.parts)}")
        for r in self.duplicates:
            self.rej.write(dumps(r.to_dict()) + "\n")
        self._close()
        os.replace(self.tmp["annotations.jsonl"], self.out_dir / "annotations.jsonl")
        os.replace(self.tmp["rejects.jsonl"], self.out_dir / "rejects.jsonl")
        for name in self.writers:
            os.replace(self.out_dir / f".{name}.parquet.tmp", self.out_dir / f"{name}.parquet")
        return {"duplicates": len(self.duplicates), "annotated": len(self.seen)}


def load_duckdb(out_dir: Path, db_path: Path) -> None:
    """Upsert this run's tables into DuckDB; a conversation loaded again replaces its rows."""
    import duckdb

    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN TRANSACTION")
        for table in ("conversations", "turns", "checklist"):
            src = str(out_dir / f"{table}.parquet").replace("'", "''")
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchone()[0]
            if not exists:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{src}') LIMIT 0")
            con.execute(
                f"DELETE FROM {table} WHERE conversation_id IN (SELECT conversation_id FROM read_parquet('{src}'))"
            )
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{src}')")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


# ---------------------------------------------------------------- the run
def run(
    inputs: list[str],
    out_dir: str | Path,
    config: PipelineConfig,
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    duckdb_path: str | None = None,
    on_plan: Callable[[list[Partition]], None] | None = None,
    on_partition: Callable[[Partition, dict], None] | None = None,
) -> dict[str, Any]:
    """Audit ``inputs`` into ``out_dir``; returns the run summary (also run.json).

    Everything that can stop a run (config, models, inputs) is checked before
    anything is written.
    """
    t0 = time.perf_counter()
    files = expand_inputs(inputs)
    stages = stages_for(config)  # models must load before any output exists
    parts = plan_partitions(files, config.partition_size)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConvauditError("output_not_dir", path=out)
    parts_dir = out / PARTS_DIR
    models = model_versions(stages)
    fingerprint = _input_fingerprint(files, config, models)
    plan_file = out / PLAN_FILE
    if plan_file.exists():
        old = json.loads(plan_file.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fingerprint or old.get("partitions") != len(parts):
            log.info("inputs or config changed since the last run in %s; starting afresh", out)
            shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(plan_file, json.dumps({"fingerprint": fingerprint, "partitions": len(parts),
                                              "files": files}).encode("utf-8"))
    if on_plan:
        on_plan(parts)
    stats: dict[str, dict] = {}
    resumed = 0
    todo = []
    for p in parts:
        marker = _part_paths(out, p)["stats"]
        if marker.exists():
            stats[p.key] = json.loads(marker.read_text(encoding="utf-8"))
            resumed += 1
            if on_partition:
                on_partition(p, stats[p.key])
        else:
            todo.append(p)

    merger = PartMerger(parts, out, config)
    merger.feed(stats)

    def done(part: Partition, st: dict) -> None:
        stats[part.key] = st
        merger.feed(stats)
        if on_partition:
            on_partition(part, st)

    if engine != "dask" and len(todo) > 1:
        # Before the fork, so every worker starts with warm caches.
        for stage in stages:
            if hasattr(stage, "warm_up"):
                stage.warm_up()
    t_exec = time.perf_counter()
    try:
        if engine == "dask":
            _execute_dask(todo, config, str(out), workers, scheduler, done)
        else:
            _execute_local(todo, config, str(out), workers, done)
    except BaseException:
        merger.abort()
        raise
    t_merge = time.perf_counter()
    merged = merger.finish()
    db = Path(duckdb_path) if duckdb_path else (out / config.output.duckdb if config.output.duckdb else None)
    if db is not None:
        load_duckdb(out, db)
    t_end = time.perf_counter()
    timings: Counter = Counter()
    languages: Counter = Counter()
    channels: Counter = Counter()
    for st in stats.values():
        timings.update(st["timings_s"])
        languages.update(st["languages"])
        channels.update(st["channels"])
    read = sum(st["read"] for st in stats.values())
    rejected = sum(st["rejected"] for st in stats.values()) + merged["duplicates"]
    annotated = read - rejected
    summary = {
        "inputs": files,
        "output_dir": str(out),
        "counts": {
            "read": read,
            "annotated": annotated,
            "rejected": rejected,
            "turns": sum(st["turns"] for st in stats.values()),
            "duplicates": merged["duplicates"],
            "per_language": dict(languages),
            "per_channel": dict(channels),
        },
        "partitions": {"total": len(parts), "resumed": resumed},
        "engine": engine,
        "workers": workers,
        "timings_s": {
            "stages_cpu": {k: round(v, 3) for k, v in timings.items()},
            "execute_wall": round(t_merge - t_exec, 3),
            "merge_and_load": round(t_end - t_merge, 3),
            "total_wall": round(t_end - t0, 3),
        },
        "models": models,
        "config_hash": config.digest(),
        "duckdb": str(db) if db else None,
    }
    # Language and channel counts above are from part stats; duplicates are few and
    # counted in 'rejected', so per-language counts may include them.
    atomic_write_bytes(out / "run.json", json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))
    if annotated == 0:
        raise ConvauditError("nothing_processed", rejected=rejected, rejects=out / "rejects.jsonl")
    return summary


def annotate(convs: Iterable[Conversation], config: PipelineConfig) -> tuple[list[Conversation], list[Reject]]:
    """In-memory convenience: run the stages over parsed conversations."""
    return Pipeline(stages_for(config)).process(list(convs))


__all__ = ["Pipeline", "build_stages", "process_partition", "run", "annotate", "load_duckdb"]
