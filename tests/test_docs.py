"""The docs describe the code as it is: every lake and warehouse column is in docs/SCHEMA.md."""

import re

from etl import schema
from etl.load import warehouse
from etl.pipeline import ROOT

DOC = (ROOT / "docs" / "SCHEMA.md").read_text(encoding="utf-8")


def _documented(table: str, kind: str) -> list[str]:
    m = re.search(rf"^### `{table}` \({kind}\)\n(.*?)(?=^### |\Z)", DOC, re.S | re.M)
    assert m, f"docs/SCHEMA.md has no section for {table} ({kind})"
    return [row.split("|")[1].strip() for row in m.group(1).splitlines()
            if row.startswith("| ") and not row.startswith("| column |")]


def test_lake_tables_are_documented():
    from etl.enrich.dedup import signature_type

    tables = {**schema.TABLES, "signatures": schema.signatures_schema(signature_type())}
    for name, table_schema in tables.items():
        assert _documented(name, "lake") == ["ingest_date", "source", *table_schema.names], name


def test_warehouse_tables_are_documented():
    for table in warehouse.metadata.sorted_tables:
        assert _documented(table.name, "warehouse") == [c.name for c in table.columns], table.name


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
            assert _documented(name, "view") == columns, name
    finally:
        engine.dispose()
