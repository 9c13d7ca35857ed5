"""The docs describe the code as it is: every lake and warehouse column is in docs/SCHEMA.md."""

import re

from etl import schema
from etl.load import warehouse
from tests.support import ROOT

DOC = (ROOT / "docs" / "SCHEMA.md").read_text(encoding="utf-8")


def _documented(table: str, kind: str) -> list[tuple[str, str]]:
    """(column, type) of every row of the page's table of ``table`` (``kind``: lake, warehouse or view)."""
    m = re.search(rf"^### `{table}` \({kind}\)\n(.*?)(?=^### |\Z)", DOC, re.S | re.M)
    assert m, f"docs/SCHEMA.md has no section for {table} ({kind})"
    return [
        tuple(cell.strip() for cell in row.split("|")[1:3])
        for row in m.group(1).splitlines()
        if row.startswith("| ") and not row.startswith("| column |")
    ]


# How the page writes the lake's Arrow types.
_ARROW_NAMES = {
    schema.STRING: "string",
    schema.INT32: "int32",
    schema.INT64: "int64",
    schema.FLOAT32: "float32",
    schema.TIMESTAMP: "timestamp[us, UTC]",
    schema.DATE: "date32",
    schema.STRINGS: "list<string>",
    schema.SIGNATURE: "fixed_size_list<uint32, 128>",
    schema.KEYS: "list<uint32>",
}


def test_lake_tables_are_documented_with_their_types():
    lake_tables = [t for t in schema.ALL.values() if t.lake]
    assert {t.name for t in lake_tables} == {*schema.TABLES, "signatures"}
    for table in lake_tables:
        want = [("ingest_date", "string (partition)"), ("source", "string (partition)")]
        want += [
            (c.name, _ARROW_NAMES[c.type] + (", null" if c.null else "")) for c in table.columns if not c.partition
        ]
        assert _documented(table.name, "lake") == want, table.name
        assert [name for name, _ in want[2:]] == table.arrow.names


def test_warehouse_tables_are_documented_with_their_types():
    for table in warehouse.metadata.sorted_tables:
        spec = schema.ALL[table.name]
        want = [
            (c.name, c.sql_type + (", PK" if c.key else "") + (", null" if c.warehouse_nullable else ""))
            for c in spec.warehouse_columns
        ]
        assert _documented(table.name, "warehouse") == want, table.name
        assert [name for name, _ in want] == [c.name for c in table.columns]


def test_reject_reasons_are_documented():
    from etl.fetch.fetch import BAD_ARCHIVE
    from etl.records import REASONS

    for code in [*REASONS, BAD_ARCHIVE]:
        assert f"`{code}`" in DOC, code


def test_warehouse_views_are_documented(tmp_path):
    import sqlalchemy as sa

    from etl.load.views import VIEWS

    engine = warehouse.engine_for(f"sqlite:///{tmp_path / 'wh.db'}")
    try:
        for name in VIEWS:
            columns = [c["name"] for c in sa.inspect(engine).get_columns(name)]
            assert [name for name, _ in _documented(name, "view")] == columns, name
    finally:
        engine.dispose()
