"""A catalogue of bad input. Each kind goes into a dump beside a valid article; the run must finish,
account for every record (loaded + duplicates + rejected = records in), give the bad input its
reason code, and never lose the valid article."""

import gzip
import io
import tarfile

import pytest
import sqlalchemy as sa

from etl.config import make_source
from etl.tasks.fetch import FILES_PER_SHARD, fetch
from tests.support.archives import tar_gz_bytes, zip_bytes
from tests.support.runs import run_pipeline, settings_for

DAY = __import__("datetime").date(2024, 11, 8)
GOOD_CSV = "title,content,link\nاچھی خبر,لاہور: یہ ایک درست خبر ہے۔,https://ok/1\n".encode()
GOOD_JSONL = '{"t": "اچھی خبر", "b": "کراچی: یہ ایک درست خبر ہے۔", "u": "https://ok/2"}\n'.encode()
GOOD_TXT = "اچھی خبر\n\nپشاور: یہ ایک درست خبر ہے۔\n".encode()
CSV_COLS = {"headline": "title", "body": "content", "url": "link"}
JSONL_COLS = {"headline": "t", "body": "b", "url": "u", "published": "p"}


def _row(title: str, body: str, link: str = "https://x/9") -> bytes:
    return f'title,content,link\n"{title}","{body}",{link}\n'.encode()


# id, format, files of the dump besides the good one, reasons expected, articles expected (good included)
CASES = [
    ("empty_file", "csv", {"bad.csv": b""}, {"empty_file"}, 1),
    ("whitespace_only", "seed_txt", {"bad.txt": b" \n\t \n"}, {"empty_body"}, 1),
    ("binary_garbage", "seed_txt", {"bad.txt": bytes(range(256)) * 40}, {"undecodable_bytes"}, 1),
    (
        "utf16_with_bom",
        "csv",
        {"bad.csv": "title,content,link\nخبر,متن,u\n".encode("utf-16")},
        {"undecodable_bytes"},
        1,
    ),
    ("utf16_with_bom_txt", "seed_txt", {"bad.txt": "سرخی\n\nمتن".encode("utf-16")}, {"undecodable_bytes"}, 1),
    (
        "cp1256_declared_utf8",
        "csv",
        {"bad.csv": "title,content,link\nخبر,متن خبر,u\n".encode("cp1256")},
        {"undecodable_bytes"},
        1,
    ),
    (
        "invalid_utf8_mid_file",
        "csv",
        {
            "bad.csv": GOOD_CSV.replace(b"https://ok/1", b"https://ok/3")
            + "خبر,".encode()
            + b"\xc3\x28 bad,https://x/4\n"
        },
        {"undecodable_bytes"},
        2,
    ),
    ("truncated_gzip", "csv", {"bad.csv.gz": gzip.compress(GOOD_CSV)[:30]}, {"bad_archive"}, 1),
    ("corrupt_zip", "csv", {"bad.zip": zip_bytes({"a.csv": GOOD_CSV})[:40]}, {"bad_archive"}, 1),
    ("zip_slip_dotdot", "csv", {"bad.zip": zip_bytes({"../../evil.csv": GOOD_CSV})}, {"bad_archive"}, 1),
    ("zip_slip_absolute", "csv", {"bad.zip": zip_bytes({"/tmp/evil.csv": GOOD_CSV})}, {"bad_archive"}, 1),
    ("zip_bomb", "csv", {"bad.zip": zip_bytes({"bomb.csv": b"0" * 60_000_000})}, {"bad_archive"}, 1),
    ("symlink_in_archive", "csv", {"bad.tar.gz": tar_gz_bytes({}, symlink="link.csv")}, {"bad_archive"}, 1),
    ("csv_embedded_newlines", "csv", {"bad.csv": _row("خبر", "پہلی سطر\nدوسری سطر")}, set(), 2),
    ("csv_stray_quote", "csv", {"bad.csv": b'title,content,link\n"\xd8\xae"\xd8\xa8\xd8\xb1",text,u\n'}, set(), 2),
    ("csv_missing_columns", "csv", {"bad.csv": "title,content,link\nخبر,متن\n".encode()}, {"bad_row_shape"}, 1),
    ("csv_extra_columns", "csv", {"bad.csv": "title,content,link\nخبر,متن,u,زائد\n".encode()}, {"bad_row_shape"}, 1),
    ("csv_missing_required_column", "csv", {"bad.csv": "title,text,link\nخبر,متن,u\n".encode()}, {"missing_field"}, 1),
    ("jsonl_invalid_lines", "jsonl", {"bad.jsonl": b'{"t": 1\n[1,2]\nnull\n'}, {"bad_json"}, 1),
    (
        "html_page_instead_of_text",
        "seed_txt",
        {
            "bad.txt": "<html><head><title>x</title></head><body><p>سرخی</p><p>لاہور: صفحہ &amp; متن۔</p></body></html>".encode()
        },
        {"html_page"},
        1,
    ),
    (
        "sql_in_text",
        "csv",
        {"bad.csv": _row("خبر'); DROP TABLE articles;--", "متن'); DROP TABLE articles;--")},
        set(),
        2,
    ),
    (
        "template_syntax",
        "csv",
        {"bad.csv": _row("{{ 7*7 }}", "{% for x in y %}متن{% endfor %} {{ config }}")},
        set(),
        2,
    ),
    (
        "rtl_override_characters",
        "csv",
        {"bad.csv": _row("\u202eخبر\u202c", "متن \u202e\u2066الٹا\u2069\u202c خبر")},
        set(),
        2,
    ),
    ("one_megabyte_title", "csv", {"bad.csv": _row("خ" * 1_000_000, "متن خبر")}, set(), 2),
    (
        "future_and_year_zero_dates",
        "jsonl",
        {
            "bad.jsonl": (
                '{"t": "a", "b": "متن ایک", "u": "u1", "p": "2999-01-01"}\n'
                '{"t": "b", "b": "متن دو", "u": "u2", "p": "0000-01-01"}\n'
            ).encode()
        },
        set(),
        3,
    ),
    ("nul_bytes", "csv", {"bad.csv": _row("خبر", "متن\x00خبر")}, {"invalid_characters"}, 1),
    (
        "lone_surrogate",
        "jsonl",
        {"bad.jsonl": b'{"t": "a", "b": "\\ud83d text", "u": "s"}\n'},
        {"invalid_characters"},
        1,
    ),
    ("unexpected_file_type", "csv", {"notes.docx": b"PK\x03\x04 not a csv"}, {"unexpected_file"}, 1),
    ("same_file_twice", "csv", {"good.csv.gz": gzip.compress(GOOD_CSV)}, {"duplicate_file"}, 1),
    (
        "two_hundred_megabyte_line",
        "jsonl",
        {"bad.jsonl": b'{"b": "' + b"x" * 200_000_000 + b'"}\n'},
        {"record_too_large"},
        1,
    ),
]


@pytest.mark.parametrize("kind, fmt, files, reasons, loaded", CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, kind, fmt, files, reasons, loaded):
    dump = tmp_path / "dump"
    dump.mkdir()
    good = {"csv": ("good.csv", GOOD_CSV), "jsonl": ("good.jsonl", GOOD_JSONL), "seed_txt": ("good.txt", GOOD_TXT)}
    name, data = good[fmt]
    (dump / name).write_bytes(data)
    for rel, content in files.items():
        (dump / rel).write_bytes(content)
    columns = {"csv": CSV_COLS, "jsonl": JSONL_COLS, "seed_txt": {}}[fmt]
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    summary = run_pipeline([make_source("s", str(dump), fmt, columns)], DAY, tmp_path / "data", url)
    assert summary["status"] == "ok"
    assert summary["records_in"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    assert summary["loaded"] == loaded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        got = {r for (r,) in conn.execute(sa.text("select reason from rejects"))}
        bodies = [b for (b,) in conn.execute(sa.text("select body from articles"))]
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert got == reasons
    assert any("یہ ایک درست خبر ہے" in b for b in bodies), "the valid article was lost"
    assert {"articles", "sentences", "runs"} <= tables
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path.parent / "evil.csv").exists()
    if kind == "sql_in_text":
        assert any("DROP TABLE articles" in b for b in bodies)  # stored verbatim, never executed
    if kind == "template_syntax":
        assert any("{% for x in y %}" in b and "{{ config }}" in b for b in bodies)  # never rendered
    if kind == "rtl_override_characters":
        assert not any(c in b for b in bodies for c in "\u202e\u202c\u2066\u2069")
    if kind == "future_and_year_zero_dates":
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(published_at) from articles")).scalar_one() == 0
        engine.dispose()


def test_catalogue_covers_at_least_25_kinds():
    assert len({c[0] for c in CASES}) >= 25


@pytest.mark.slow
@pytest.mark.timeout(900)  # a whole run or cluster; pytest.ini gives every other test 300 s
def test_one_hundred_thousand_tiny_files(tmp_path):
    """A dump of 100k one-line article files: every one is accounted for, shards stay under Airflow's map limit."""
    n = 100_000
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for i in range(n):
            data = (f"سرخی {i}\n\nخبر نمبر {i}۔\n" if i % 10 else "").encode()  # every tenth is empty
            info = tarfile.TarInfo(f"d/{i:06d}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "many.tar.gz").write_bytes(buf.getvalue())
    src = make_source("many", str(tmp_path / "many.tar.gz"), "seed_txt")
    shards = fetch([src], DAY, settings_for(tmp_path / "data"), run_id="t")
    assert len(shards) == n // FILES_PER_SHARD < 1024  # well under Airflow's map limit
    summary = run_pipeline([src], DAY, tmp_path / "data", f"sqlite:///{tmp_path / 'wh.db'}", run_id="t")
    assert summary["records_in"] == n
    assert (summary["loaded"], summary["rejected"]) == (n - n // 10, n // 10)
