"""Several runs at once against one PostgreSQL warehouse: no deadlock, no duplicate row, nothing lost."""

import subprocess
import sys

import sqlalchemy as sa

from tests.support import ROOT

DAYS = ["2024-11-01", "2024-11-02", "2024-11-03", "2024-11-04"]


def _dump(folder, day: str, n: int = 30):
    path = folder / f"{day}.csv"
    rows = [
        f"{i},سرخی {day} {i},https://example.pk/{day}/{i},لاہور: {day} کی خبر نمبر {i}۔ دوسرا جملہ۔,misc"
        for i in range(n)
    ]
    path.write_text("id,title,link,content,gold_label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _ingest(path, day, data_dir, url):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl",
            "ingest",
            str(path),
            "--source",
            "news",
            "--format",
            "csv",
            "--map",
            "external_id=id,headline=title,url=link,body=content,category=gold_label",
            "--date",
            day,
            "--data-dir",
            str(data_dir),
            "--warehouse",
            url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_days_and_a_concurrent_rerun(tmp_path, pg_url):
    dumps = {day: _dump(tmp_path, day) for day in DAYS}
    # four days at once, plus a second run of the first day racing the first
    procs = [_ingest(dumps[day], day, tmp_path / "data", pg_url) for day in DAYS]
    procs.append(_ingest(dumps[DAYS[0]], DAYS[0], tmp_path / "data", pg_url))
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        per_day = dict(
            conn.execute(sa.text("select ingest_date::text, count(*) from articles group by 1 order by 1")).all()
        )
        dup_ids = conn.execute(
            sa.text("select count(*) from (select article_id from articles group by 1 having count(*) > 1) d")
        ).scalar_one()
        dup_sentences = conn.execute(
            sa.text(
                "select count(*) from (select article_id, sentence_no from sentences group by 1, 2 "
                "having count(*) > 1) d"
            )
        ).scalar_one()
        orphans = conn.execute(
            sa.text(
                "select count(*) from sentences s left join articles a using (article_id) where a.article_id is null"
            )
        ).scalar_one()
        runs = conn.execute(sa.text("select count(*), count(*) filter (where status = 'ok') from runs")).one()
    engine.dispose()
    assert per_day == dict.fromkeys(DAYS, 30)
    assert dup_ids == dup_sentences == orphans == 0
    assert tuple(runs) == (5, 5)


def test_runs_starting_at_once_create_the_tables_once(pg_url):
    """Eight runs opening an empty warehouse at the same moment: all get working tables, none fails."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from etl.load import warehouse

    start = Barrier(8)

    def open_warehouse(_):
        start.wait()
        engine = warehouse.engine_for(pg_url)
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text(
                    "select count(*) from information_schema.tables "
                    "where table_schema = 'public' and table_type = 'BASE TABLE'"
                )
            ).scalar_one()
        engine.dispose()
        return tables

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(open_warehouse, range(8)))
    assert counts == [len(warehouse.metadata.tables)] * 8
