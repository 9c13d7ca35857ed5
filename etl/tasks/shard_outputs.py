"""Where a transformed shard keeps its rows until ``write_lake`` takes them: one Parquet file per table.

Layout: ``<staging>/shards/<shard_id>/<table>.parquet`` and ``_SUCCESS.json`` (the shard's
fingerprint and ``ShardResult``). The folder appears whole: it is written under a temporary name,
then renamed.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.contracts import ShardResult

TABLES = ("articles", "sentences", "mentions", "signatures", "rejects")
MARKER = "_SUCCESS.json"


def folder(staging: str, shard_id: str) -> Path:
    return Path(staging) / "shards" / shard_id


def finished(out_dir: Path, fingerprint: str) -> ShardResult | None:
    """The result of a shard already written for the same fingerprint, else None."""
    marker = out_dir / MARKER
    if not marker.exists():
        return None
    done = json.loads(marker.read_text(encoding="utf-8"))
    return done["result"] if done.get("fingerprint") == fingerprint else None


def write(out_dir: Path, tables: dict[str, pa.Table], fingerprint: str, result: ShardResult) -> None:
    """Write a shard's tables and its marker into ``out_dir``, all at once (a rename)."""
    tmp = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex}")
    tmp.mkdir(parents=True)
    for name in TABLES:
        pq.write_table(tables[name], tmp / f"{name}.parquet")
    (tmp / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "result": result}), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)


def read(result: ShardResult, table: str, columns: list[str] | None = None) -> pa.Table:
    """One table of a transformed shard (``columns`` only, when given)."""
    return pq.read_table(Path(result["out_dir"]) / f"{table}.parquet", columns=columns)
