"""The whole pipeline beside the tools users would otherwise pick, on the same generated corpus, in one run.

Usage (from the repository root, with the benchmark venv of bench/requirements.txt, see bench/README.md):

    python bench/make_corpus.py --n 100000 --out $SCRATCH/c100k --parts 8
    python bench/pipeline_bench.py run --input $SCRATCH/c100k --label 100k --work $SCRATCH/w100k

Each approach runs in its own subprocess (``pipeline_bench.py one APPROACH ...``), one after the
other, so its wall time, CPU time and peak RSS (``getrusage``: the process itself, and separately the
largest of its worker processes) are its own. Input is a folder of JSONL part files written by
``make_corpus.py``, or one JSONL file (``bench/real_corpus.py`` writes the real corpora as one);
MB/s counts the UTF-8 bytes of the ``text`` field (from ``<input>.truth.json``). Approaches:

- ``floor``: pyarrow reads each JSONL file and writes the ``text`` column to Parquet untouched.
- ``pandas``: ``read_json(lines=True)``, a few ``str.replace``, a split on ``۔``, ``to_parquet``
  and ``to_sql`` (articles and exploded sentences) into SQLite.
- ``urduhack``: urduhack-lite 0.2.0 ``normalize`` + ``punctuations_space`` per text, to Parquet.
- ``datatrove1`` / ``datatrove2``: datatrove 0.10.1 JsonlReader -> FTFYFormatter ->
  GopherRepetitionFilter -> GopherQualityFilter (Urdu stop words) -> ParquetWriter ->
  MinhashDedupSignature, with 1 task / 1 worker, and 2 tasks / 2 workers.
- ``ours``: the project's stages in this process: ``fetch`` (stage the files, plan shards: a
  JSONL file, or 8 MiB spans of whole records of a larger one), ``transform_shard`` for each shard in turn, ``write_lake`` (merge,
  dedup across shards, Parquet partitions). Sub-stage seconds inside the transform are taken by
  wrapping the functions ``transform_shard`` calls (in this process only).
- ``ours2``: the same, with ``transform_shard`` run over the shards by a pool of 2 processes.
- ``ours_1file``: ``ours`` on the parts concatenated into ONE JSONL file (cut into 8 MiB shards).
- ``ingest1`` / ``ingest2``: the whole command a user runs, ``urdu-etl ingest FILE --format jsonl
  --map external_id=id,body=text --workers N`` on ONE JSONL file (fetch, transform, write_lake,
  load into SQLite, check), with 1 and 2 workers; the run summary's stage seconds are kept.
- ``pg_ours`` / ``pg_pandas`` (``--pg``): warehouse load of the lake ``ours`` wrote into a throwaway
  PostgreSQL: ``load_warehouse`` against ``DataFrame.to_sql`` (defaults) of the same rows of the
  same six tables (list columns as JSON text) through the same SQLAlchemy engine.

The targets compare the peers with ``ingest1``/``ingest2`` (the whole pipeline) where those ran, and
with ``ours``/``ours2`` (no warehouse load, no check) otherwise.

``--profile`` also runs ``ours`` once under cProfile (untimed) and lists the top functions by
cumulative time. Results: ``bench/results/pipeline_<label>.json``; ``pipeline_bench.py table FILES``
prints them as one markdown table and writes the growth from size to size to
``bench/results/pipeline_growth.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata as md
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLUMNS = {
    "external_id": "id",
    "url": "url",
    "headline": "title",
    "body": "text",
    "published": "published",
    "category": "category",
}
STOP_WORDS = ["کے", "میں", "،", "کی", "اور", "ہے", "سے", "کا", "نے", "اس", "پر", "کو", "ایک"]
#: the lake tables the warehouse holds (signatures stay in the lake)
WAREHOUSE_TABLES = ("articles", "sentences", "mentions", "entities", "rejects", "duplicates")
APPROACHES = (
    "floor",
    "pandas",
    "urduhack",
    "datatrove1",
    "datatrove2",
    "ours",
    "ours2",
    "ours_1file",
    "ingest1",
    "ingest2",
)
DAY = dt.date(2024, 1, 1)
PEERS = (
    "pyarrow",
    "pandas",
    "urduhack-lite",
    "datatrove",
    "ftfy",
    "SQLAlchemy",
    "psycopg",
    "numpy",
    "numba",
    "datasketch",
)


def _parts(inp: Path) -> list[Path]:
    return [inp] if inp.is_file() else sorted(inp.glob("*.jsonl"))


def _one_file(inp: Path, work: Path) -> Path:
    """``inp`` as one JSONL file: itself, or its parts concatenated under ``work``."""
    if inp.is_file():
        return inp
    one = work / "in" / "all.jsonl"
    one.parent.mkdir(parents=True, exist_ok=True)
    with open(one, "wb") as out:
        for path in _parts(inp):
            with open(path, "rb") as fh:
                shutil.copyfileobj(fh, out)
    return one


# ---- approaches (each runs in its own child process) -------------------------------------------------


def run_floor(inp: Path, work: Path) -> dict:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    rows = 0
    for k, path in enumerate(_parts(inp)):
        table = pj.read_json(path, read_options=pj.ReadOptions(block_size=64 << 20))
        pq.write_table(table.select(["text"]), work / f"text-{k:05d}.parquet")
        rows += table.num_rows
    return {"rows_out": rows}


def run_pandas(inp: Path, work: Path) -> dict:
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{work / 'naive.sqlite'}")
    rows = sents = 0
    for k, path in enumerate(_parts(inp)):
        df = pd.read_json(path, lines=True, dtype=False)
        text = (
            df["text"]
            .str.replace("ي", "ی", regex=False)
            .str.replace("ك", "ک", regex=False)
            .str.replace("ه", "ہ", regex=False)
            .str.replace("\r\n", "\n", regex=False)
        )
        df["text"] = text.str.replace(r"[ \t]+", " ", regex=True).str.strip()
        df["sentences"] = df["text"].str.split("۔")
        df.to_parquet(work / f"articles-{k:05d}.parquet")
        df.drop(columns=["sentences"]).to_sql("articles", engine, if_exists="append", index=False)
        sentences = df[["id", "sentences"]].explode("sentences")
        sentences.to_sql("sentences", engine, if_exists="append", index=False)
        rows, sents = rows + len(df), sents + len(sentences)
    engine.dispose()
    return {"rows_out": rows, "sentences": sents}


def run_urduhack(inp: Path, work: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from urduhack_lite.normalization import normalize
    from urduhack_lite.normalization.character import punctuations_space

    rows = 0
    for k, path in enumerate(_parts(inp)):
        ids, texts = [], []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                obj = json.loads(line)
                ids.append(obj["id"])
                texts.append(punctuations_space(normalize(obj["text"])))
        pq.write_table(pa.table({"id": ids, "text": texts}), work / f"text-{k:05d}.parquet")
        rows += len(ids)
    return {"rows_out": rows}


def run_datatrove(inp: Path, work: Path, tasks: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.typeshelper import Languages

    folder, pattern = (inp.parent, inp.name) if inp.is_file() else (inp, "*.jsonl")
    lang = Languages.urdu__arab  # "urd" alone maps to a Latin-script Stanza tokenizer in 0.10.1
    pipeline = [
        # one JSONL file is read as the only match of its name in its folder
        JsonlReader(str(folder), glob_pattern=pattern, text_key="text", id_key="id"),
        FTFYFormatter(),
        GopherRepetitionFilter(language=lang),
        GopherQualityFilter(stop_words=STOP_WORDS, language=lang),
        ParquetWriter(str(work / "out")),
        MinhashDedupSignature(output_folder=str(work / "sigs"), config=MinhashConfig(), language=lang),
    ]
    LocalPipelineExecutor(pipeline, tasks=tasks, workers=tasks, logging_dir=str(work / "logs")).run()
    stats_file = work / "logs" / "stats.json"
    steps, kept = [], None
    for step in json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else []:
        counts = {k: (v.get("total") if isinstance(v, dict) else v) for k, v in step.get("stats", {}).items()}
        steps.append(
            {
                "step": step["name"].encode("ascii", "ignore").decode().strip(" -"),
                "seconds_summed_over_tasks": round(step["time_stats"]["total"], 2),
                **{k: counts[k] for k in ("total", "forwarded", "dropped") if k in counts},
            }
        )
        if "Quality" in step["name"]:
            kept = counts.get("forwarded")
    # the filters are Gopher's English-tuned defaults: they drop many Urdu news articles, so the
    # writer and the MinHash step see only the rows kept
    return {"rows_out": kept, "language": str(lang), "steps": steps}


class _Timers:
    """Seconds spent inside wrapped callables, by name (for the sub-stages of ``transform_shard``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t

        return timed


def _instrument(timers: _Timers) -> None:
    """Time the calls ``transform_shard`` makes, by replacing names in ``etl.tasks.transform`` and
    ``etl.tasks.shard_outputs`` (this process only)."""
    import types

    from etl.tasks import shard_outputs, transform

    def proxy(module, name: str, label: str):
        """``module`` with its function ``name`` timed as ``label``."""
        out = types.SimpleNamespace(**{k: getattr(module, k) for k in dir(module) if not k.startswith("__")})
        setattr(out, name, timers.wrap(label, getattr(module, name)))
        return out

    transform.clean_all = timers.wrap("clean_records", transform.clean_all)
    transform.segment_articles = timers.wrap("segment", transform.segment_articles)
    transform.enrichment = proxy(transform.enrichment, "enrich", "enrich")
    transform.minhash = proxy(transform.minhash, "signature_table", "signatures")
    shard_outputs.pq = proxy(shard_outputs.pq, "write_table", "parquet_write")


def run_ours(inp: Path, work: Path, workers: int, single_file: bool = False) -> dict:
    from etl.config import make_source
    from etl.settings import Settings
    from etl.tasks.fetch import fetch
    from etl.tasks.transform import transform_shard
    from etl.tasks.write_lake import write_lake

    if single_file:
        inp = _one_file(inp, work)
    timers = _Timers()
    if workers == 1:
        _instrument(timers)
    source = make_source("bench", str(inp), "jsonl", COLUMNS)
    settings = Settings.from_env().replace(data_dir=(work / "data").resolve())
    t0 = time.perf_counter()
    shards = fetch([source], DAY, settings, run_id="bench")
    t1 = time.perf_counter()
    if workers == 1:
        results = [transform_shard(s) for s in shards]
    else:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(transform_shard, shards, chunksize=1)
    t2 = time.perf_counter()
    lake_report = write_lake(results, settings, DAY.isoformat())
    t3 = time.perf_counter()
    rep = lake_report["sources"]["bench"]
    (work / "lake_report.json").write_text(json.dumps(lake_report), encoding="utf-8")
    stages = {"fetch": t1 - t0, "transform": t2 - t1, "write_lake": t3 - t2}
    inner = {k: round(v, 3) for k, v in timers.seconds.items()}
    if inner:
        inner["read_and_rest"] = round(
            stages["transform"]
            - sum(v for k, v in timers.seconds.items() if k != "parquet_write")
            - timers.seconds.get("parquet_write", 0.0),
            3,
        )
    return {
        "rows_out": rep["loaded"],
        "shards": len(shards),
        "copies_found": rep["copies"],
        "rejected": rep["rejected"],
        "sentences": rep["sentences"],
        "stages_wall": {k: round(v, 3) for k, v in stages.items()},
        "stages_reported": lake_report["stages"],
        "transform_inner": inner,
    }


def run_ingest(inp: Path, work: Path, workers: int) -> dict:
    """The whole command a user runs, in this process: ``urdu-etl ingest FILE`` (fetch, transform in
    ``workers`` processes, write_lake, load_warehouse into SQLite, check) on one JSONL file."""
    import io

    from etl.cli import main as cli

    one = _one_file(inp, work)
    argv = ["ingest", str(one), "--source", "bench", "--format", "jsonl", "--map", "external_id=id,body=text"]
    argv += ["--date", DAY.isoformat(), "--data-dir", str(work / "data"), "--workers", str(workers)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli(argv)
    if code:
        raise SystemExit(f"urdu-etl ingest exited {code}:\n{printed.getvalue()[-2000:]}")
    seconds = next((ln.split(":", 1)[1].strip() for ln in printed.getvalue().splitlines() if "seconds:" in ln), "")
    stages = {k: float(v) for k, v in (part.rsplit(" ", 1) for part in seconds.split(", ") if " " in part)}
    shown = [f"$SCRATCH/{one.name}" if a == str(one) else a for a in argv[:8]]
    return {"command": "urdu-etl " + " ".join(shown) + f" ... --workers {workers}", "stages_reported": stages}


def run_pg(kind: str, work: Path, ours_work: Path, url: str) -> dict:
    """Load the lake that ``ours`` wrote into PostgreSQL: our warehouse load, or pandas ``to_sql``."""
    import sqlalchemy as sa

    from etl.config import make_source
    from etl.tasks.load_warehouse import load_warehouse

    lake_report = json.loads((ours_work / "lake_report.json").read_text(encoding="utf-8"))
    if kind == "pg_ours":
        source = make_source("bench", str(ours_work), "jsonl", COLUMNS)
        out = load_warehouse(lake_report, url, "bench-pg", dt.datetime.now(dt.UTC), [source])
        return {"rows_out": sum(out["written"].get(t, 0) for t in WAREHOUSE_TABLES), "written": out["written"]}
    import pyarrow.dataset as ds

    # the same rows ours loads: every lake table the warehouse holds, list columns as JSON text
    engine = sa.create_engine(url)
    rows = 0
    for table in WAREHOUSE_TABLES:
        folder = Path(lake_report["lake"]) / table
        if not folder.exists():  # a day with no row of the table (no rejects, say) has no partition
            continue
        data = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
        df = data.to_pandas()
        for col in df.columns:
            if str(data.schema.field(col).type).startswith("list"):
                df[col] = [json.dumps(list(v), ensure_ascii=False) if v is not None else None for v in df[col]]
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS naive_{table}"))
        df.to_sql(f"naive_{table}", engine, index=False)
        rows += len(df)
    engine.dispose()
    return {"rows_out": rows}


def child(args) -> None:
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    inp = Path(args.input)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    with profiler or contextlib.nullcontext():
        if args.approach == "floor":
            out = run_floor(inp, work)
        elif args.approach == "pandas":
            out = run_pandas(inp, work)
        elif args.approach == "urduhack":
            out = run_urduhack(inp, work)
        elif args.approach.startswith("datatrove"):
            out = run_datatrove(inp, work, int(args.approach[-1]))
        elif args.approach in ("ours", "ours2", "ours_1file"):
            out = run_ours(inp, work, 2 if args.approach == "ours2" else 1, args.approach == "ours_1file")
        elif args.approach in ("ingest1", "ingest2"):
            out = run_ingest(inp, work, int(args.approach[-1]))
        elif args.approach in ("pg_ours", "pg_pandas"):
            out = run_pg(args.approach, work, Path(args.ours_work), args.pg_url)
        else:
            raise SystemExit(f"unknown approach {args.approach}")
    wall = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    if profiler is not None:
        profiler.dump_stats(str(work / "profile.prof"))
    out.update(
        {
            "approach": args.approach,
            "wall_s": round(wall, 3),
            "cpu_s": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 3),
            "cpu_self_s": round(time.process_time() - c0, 3),
            "peak_rss_mb": round(me.ru_maxrss / 1024, 1),
            "peak_rss_worker_mb": round(kids.ru_maxrss / 1024, 1),
        }
    )
    print("RESULT " + json.dumps(out, ensure_ascii=False))


# ---- the parent: run every approach, then the ratios --------------------------------------------------


def _one(approach: str, args, work: Path, extra: list[str] | None = None) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "one",
        approach,
        "--input",
        str(args.input),
        "--work",
        str(work / approach),
        *(extra or []),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "URDU_ETL_PROGRESS": "0"}
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
        tree_peak = _watch_tree(proc)
        out.seek(0)
        err.seek(0)
        proc.stdout, proc.stderr = out.read(), err.read()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        return {
            "approach": approach,
            "error": (proc.stderr or proc.stdout)[-3000:],
            "wall_s": round(time.perf_counter() - began, 3),
        }
    res = json.loads(lines[-1][len("RESULT ") :])
    res["peak_rss_tree_mb"] = tree_peak
    return res


def _watch_tree(proc: subprocess.Popen, every: float = 0.1) -> float | None:
    """Wait for ``proc``; the largest sum of RSS over it and its descendants, sampled every ``every`` s.

    ``getrusage`` in the child misses worker processes that a pool terminates instead of
    waiting for (datatrove's), so the whole tree is sampled from outside as well.
    """
    try:
        import psutil
    except ImportError:
        proc.wait()
        return None
    peak = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        total = 0
        with contextlib.suppress(psutil.Error):
            for p in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        peak = max(peak, total)
        time.sleep(every)
    return round(peak / 2**20, 1)


def _versions() -> dict:
    out = {}
    for name in PEERS:
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _targets(res: dict[str, dict], text_mb: float) -> dict:
    def wall(k):
        return res.get(k, {}).get("wall_s") if "error" not in res.get(k, {"error": 1}) else None

    # the whole command where it ran; the in-process stages (no load, no check) otherwise
    one, two = ("ingest1", "ingest2") if wall("ingest1") else ("ours", "ours2")
    ours = wall(one)
    t = {
        "compared": {"one_process": one, "two_workers": two},
        "ours_vs_datatrove_1proc": {"ratio": _ratio(wall("datatrove1"), ours), "target": 10.0},
        "ours_vs_urduhack_normalize": {"ratio": _ratio(wall("urduhack"), ours), "target": 1.0},
        "ours_vs_io_floor_slowdown": {"ratio": _ratio(ours, wall("floor")), "target_max": 10.0},
        "ours_2workers_vs_1": {"ratio": _ratio(ours, wall(two)), "target": 1.8},
        "ours_2workers_vs_datatrove_2tasks": {"ratio": _ratio(wall("datatrove2"), wall(two))},
        # the same rows of the same six tables, through the same engine
        "pg_load_vs_to_sql": {"ratio": _ratio(wall("pg_pandas"), wall("pg_ours")), "target": 10.0},
    }

    def cpu(k):
        return res.get(k, {}).get("cpu_s") if "error" not in res.get(k, {"error": 1}) else None

    # CPU seconds of the one-process approaches: less sensitive than wall time to other tenants
    t["ours_vs_datatrove_1proc"]["ratio_cpu"] = _ratio(cpu("datatrove1"), cpu(one))
    t["ours_vs_urduhack_normalize"]["ratio_cpu"] = _ratio(cpu("urduhack"), cpu(one))
    t["ours_vs_io_floor_slowdown"]["ratio_cpu"] = _ratio(cpu(one), cpu("floor"))
    rss = res.get(one, {}).get("peak_rss_tree_mb")
    t["ours_peak_rss_mb"] = {"value": rss, "target_max": 768.0, "met": rss < 768.0 if rss else None}
    for v in t.values():
        r = v.get("ratio")
        if r is None:
            continue
        if "target" in v:
            v["met"] = r >= v["target"]
        elif "target_max" in v:
            v["met"] = r <= v["target_max"]
    return t


def parent(args) -> None:
    inp = Path(args.input)
    truth = json.loads(inp.with_suffix(".truth.json").read_text(encoding="utf-8"))
    text_mb = truth["text_bytes"] / 1e6
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    approaches = args.approaches.split(",")
    started = {"load_avg": os.getloadavg(), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    results: dict[str, dict] = {}
    for name in approaches:
        print(f"[{args.label}] {name} ...", file=sys.stderr, flush=True)
        res = _one(name, args, work)
        cores = 2 if name in ("ours2", "datatrove2", "ingest2") else 1
        if "error" not in res:
            res["text_mb_per_s"] = round(text_mb / res["wall_s"], 2)
            res["articles_per_s_per_core"] = round(truth["n"] / res["wall_s"] / cores, 1)
            res["cores"] = cores
        results[name] = res
        print(
            f"[{args.label}] {name}: {json.dumps({k: v for k, v in res.items() if k != 'error'})}"
            + (f" ERROR {res['error'][-600:]}" if "error" in res else ""),
            file=sys.stderr,
            flush=True,
        )
    if args.pg_url and "ours" in results:
        _pg(args, work, results)
    profile = None
    if args.profile:
        print(f"[{args.label}] profiling ours ...", file=sys.stderr, flush=True)
        res = _one("ours", args, work / "profiled", ["--profile"])
        profile = _top_functions(work / "profiled" / "ours" / "profile.prof", 30) if "error" not in res else res
    ended = {"load_avg": os.getloadavg(), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    doc = {
        "method": __doc__.split("\n\n")[0] + " See bench/pipeline_bench.py; corpus from bench/make_corpus.py.",
        "command": _command(),
        "corpus": truth,
        "text_mb": round(text_mb, 2),
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "start": started,
            "end": ended,
        },
        "versions": _versions(),
        "results": results,
        "targets": _targets(results, text_mb),
        "profile_top_cumulative": profile,
    }
    out = HERE / "results" / f"pipeline_{args.label}.json"
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(doc["targets"], indent=1))
    print(f"wrote {out}", file=sys.stderr)


def _pg(args, work: Path, results: dict[str, dict]) -> None:
    """Our warehouse load and ``to_sql`` of the lake ``ours`` wrote, one after the other."""
    for name in ("pg_ours", "pg_pandas"):
        res = _one(name, args, work, ["--ours-work", str(work / "ours"), "--pg-url", args.pg_url])
        if "error" not in res:
            res["rows_per_s"] = round(res["rows_out"] / res["wall_s"], 1)
        results[name] = res
        print(f"[{args.label}] {name}: {json.dumps(res)[:800]}", file=sys.stderr, flush=True)


def repeat_pg(args) -> None:
    """Measure the warehouse loads again on the lake an earlier ``run`` left in ``--work``, and
    update that run's results file (the other approaches' figures are kept)."""
    out = HERE / "results" / f"pipeline_{args.label}.json"
    doc = json.loads(out.read_text(encoding="utf-8"))
    _pg(args, Path(args.work), doc["results"])
    doc["targets"] = _targets(doc["results"], doc["text_mb"])
    doc["pg_measured"] = {
        "command": _command(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_avg": os.getloadavg(),
    }
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(doc["targets"]["pg_load_vs_to_sql"]))


def _command() -> str:
    """This run's command line, with scratch folders outside the repository written as $SCRATCH/NAME."""

    def shown(arg: str) -> str:
        if os.path.isabs(arg) and not Path(arg).resolve().is_relative_to(ROOT):
            return f"$SCRATCH/{Path(arg).name}"
        return arg

    return " ".join([Path(sys.executable).name, *map(shown, sys.argv)])


def _top_functions(path: Path, n: int) -> list[dict]:
    import pstats

    stats = pstats.Stats(str(path))
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        rel = file.replace(str(ROOT) + os.sep, "").replace(sys.base_prefix, "<python>").replace(sys.prefix, "<venv>")
        if "site-packages" in rel:
            rel = rel.split("site-packages" + os.sep, 1)[1]
        rows.append(
            {"function": f"{rel}:{line}({func})", "calls": nc, "tottime_s": round(tt, 2), "cumtime_s": round(ct, 2)}
        )
    rows.sort(key=lambda r: -r["cumtime_s"])
    return rows[:n]


def table(paths: list[Path]) -> None:
    """Print a markdown table of several result files; write their size-to-size growth to pipeline_growth.json."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    print("| size | approach | wall s | CPU s | MB/s | articles/s/core | peak RSS MB (tree) |")
    print("|---|---|---|---|---|---|---|")
    for doc in docs:
        for name, r in doc["results"].items():
            if "error" in r:
                print(f"| {doc['corpus']['n']:,} | {name} | error | | | | |")
                continue
            print(
                f"| {doc['corpus']['n']:,} | {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                f"{r.get('text_mb_per_s', '')} | {r.get('articles_per_s_per_core', '')} | "
                f"{r.get('peak_rss_tree_mb')} |"
            )
    growth = {}
    for a, b in zip(docs, docs[1:]):
        key = f"{a['corpus']['n']}->{b['corpus']['n']}"
        growth[key] = {"input": round(b["corpus"]["text_bytes"] / a["corpus"]["text_bytes"], 2)}
        for name in b["results"]:
            ra, rb = a["results"].get(name, {}), b["results"][name]
            if "error" in ra or "error" in rb or not ra:
                continue
            growth[key][name] = {
                "wall": _ratio(rb["wall_s"], ra["wall_s"]),
                "peak_rss": _ratio(rb.get("peak_rss_tree_mb"), ra.get("peak_rss_tree_mb")),
            }
    out = HERE / "results" / "pipeline_growth.json"
    out.write_text(
        json.dumps({"files": [p.name for p in paths], "growth": growth, "rss_growth_target_max": 1.3}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(json.dumps(growth, indent=1))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run every approach on one corpus, write bench/results/pipeline_<label>.json")
    run.add_argument("--input", required=True, help="folder of JSONL parts from make_corpus.py")
    run.add_argument("--label", required=True, help="names the results file, e.g. 100k")
    run.add_argument("--work", required=True, help="scratch folder for the approaches' outputs")
    run.add_argument("--approaches", default=",".join(APPROACHES))
    run.add_argument("--profile", action="store_true", help="also profile ours once under cProfile")
    run.add_argument("--pg-url", help="a throwaway PostgreSQL to compare warehouse loads in")
    pg = sub.add_parser("pg", help="measure the warehouse loads again on the lake of an earlier run")
    pg.add_argument("--input", required=True, help="the corpus folder of that run")
    pg.add_argument("--label", required=True)
    pg.add_argument("--work", required=True, help="that run's scratch folder (holds ours/)")
    pg.add_argument("--pg-url", required=True)
    tab = sub.add_parser("table", help="markdown table of result files, and their growth from size to size")
    tab.add_argument("files", nargs="+", type=Path)
    one = sub.add_parser("one", help="run one approach in this process (the parent calls this)")
    one.add_argument("approach")
    one.add_argument("--input", required=True)
    one.add_argument("--work", required=True)
    one.add_argument("--profile", action="store_true")
    one.add_argument("--ours-work")
    one.add_argument("--pg-url")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        parent(args)
    elif args.cmd == "pg":
        repeat_pg(args)
    elif args.cmd == "table":
        table(args.files)
    else:
        sys.path.insert(0, str(ROOT))
        child(args)


if __name__ == "__main__":
    main()
