"""The lake: atomic partition replacement, deterministic files, and the committed sample dumps."""

import gc
import hashlib
import sys
import weakref

import pyarrow as pa
import pyarrow.dataset as ds

from etl import schema
from etl.load import lake
from tests.support import ROOT


def _rows(n):
    return pa.Table.from_pylist(
        [{"source_file": f"f{i}", "record_no": i, "reason": "r", "detail": "", "excerpt": ""} for i in range(n)],
        schema=schema.REJECTS,
    )


def test_replace_partition_swaps_whole_partition(tmp_path):
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(3))
    lake.replace_partition(tmp_path, "rejects", "2024-01-02", "s", _rows(1))
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(2))
    table = ds.dataset(tmp_path / "rejects", partitioning="hive").to_table()
    by_day = {d: table.filter(ds.field("ingest_date") == d).num_rows for d in ("2024-01-01", "2024-01-02")}
    assert by_day == {"2024-01-01": 2, "2024-01-02": 1}
    assert not list((tmp_path / lake.TMP).iterdir())


def test_empty_table_removes_partition(tmp_path):
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(3))
    assert lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(0)) == []
    assert not lake.partition_dir(tmp_path, "rejects", "2024-01-01", "s").exists()
    assert lake.read_partition(tmp_path, "rejects", "2024-01-01", "s", schema.REJECTS).num_rows == 0


def test_same_rows_give_byte_identical_files(tmp_path):
    a = lake.replace_partition(tmp_path / "a", "rejects", "d", "s", _rows(50))
    b = lake.replace_partition(tmp_path / "b", "rejects", "d", "s", _rows(50))
    assert a == b == ["rejects/ingest_date=d/source=s/part-00000.parquet"]
    assert (tmp_path / "a" / a[0]).read_bytes() == (tmp_path / "b" / b[0]).read_bytes()


def test_committed_sample_dumps_match_their_sources(tmp_path):
    sys.path.insert(0, str(ROOT / "samples"))
    from make_dumps import DAY, build

    out = build(tmp_path)
    committed = ROOT / "samples" / "dumps" / DAY
    digest = lambda root: {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    assert digest(out) == digest(committed), "run `make samples` and commit samples/dumps"


def test_concurrent_replacements_leave_one_whole_partition(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def write(n):
        return lake.replace_partition(tmp_path, "rejects", "d", "s", _rows(n))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, [1, 2, 3, 4, 5, 6, 7, 8] * 5))
    rows = lake.read_partition(tmp_path, "rejects", "d", "s", schema.REJECTS).num_rows
    assert rows in range(1, 9)
    assert len(list(lake.partition_dir(tmp_path, "rejects", "d", "s").iterdir())) == 1


def test_a_partition_swapped_between_its_listing_and_its_reading_is_read_again(tmp_path, monkeypatch):
    """Another run of the day replaces the partition after this reader listed it: the file it listed
    is gone, so the reader lists again and reads the new partition whole, not an error, not a mix."""
    monkeypatch.setattr(lake, "ROWS_PER_FILE", 2)
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(3))  # two files
    stale = lake.partition_files(tmp_path, "rejects", "2024-01-01", "s")
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(1))  # one file: part-00001 is gone
    listings = iter([stale])
    real = lake.partition_files
    monkeypatch.setattr(lake, "partition_files", lambda *a: next(listings, None) or real(*a))
    batches = list(lake.iter_partition(tmp_path, "rejects", "2024-01-01", "s", schema.REJECTS))
    assert pa.Table.from_batches(batches, schema.REJECTS).to_pylist() == _rows(1).to_pylist()


def test_a_partition_reader_lets_go_of_each_file_once_it_is_read(tmp_path, monkeypatch):
    """A ``ParquetFile`` keeps what it read until it is dropped: a reader that held every file of a
    partition to its end held the whole day (3.1 GB of a 1M-article load). Each file must be gone
    by the time the next one is read."""
    monkeypatch.setattr(lake, "ROWS_PER_FILE", 2)
    lake.replace_partition(tmp_path, "rejects", "2024-01-01", "s", _rows(5))  # three files
    opened: list[weakref.ref] = []
    real = lake.open_partition

    def spy(*args, **kwargs):
        files = real(*args, **kwargs)
        opened.extend(weakref.ref(f) for f in files)
        return files

    monkeypatch.setattr(lake, "open_partition", spy)
    seen = []
    for batch in lake.iter_partition(tmp_path, "rejects", "2024-01-01", "s", schema.REJECTS, batch_size=2):
        gc.collect()
        seen.append([ref() is None for ref in opened])
        del batch
    assert len(opened) == 3
    # while the k-th file is read, the files before it are gone and those after it are still open
    assert seen == [[False, False, False], [True, False, False], [True, True, False]]
