"""Readers: every format yields records with provenance, and rejects instead of raising."""

from pathlib import Path

from etl.config import make_source
from etl.read import read_file
from etl.read.bbc_doc import parse as parse_bbc
from etl.read.bbc_doc import unwrap
from etl.read.seed_txt import parse as parse_seed
from etl.records import RawRecord, Reject

ROOT = Path(__file__).resolve().parents[1]


def _records(path, rel, source):
    out = list(read_file(path, rel, source))
    return [r for r in out if isinstance(r, RawRecord)], [r for r in out if isinstance(r, Reject)]


def test_seed_layout(corpora):
    text = next((corpora / "seed").glob("*.txt")).read_text(encoding="utf-8")
    f = parse_seed(text, "x.txt")
    assert f["headline"] == "پاکستان کسی بھی ملک کیخلاف جارحانہ عزائم نہیں رکھتا، آرمی چیف"
    assert f["caption"].startswith("پاکستان کسی بھی ملک")
    assert f["photo_credit"] == "فوٹو/اسکرین گریب نیو نیوز"
    assert f["body"].startswith("راولپنڈی: آرمی چیف")
    assert f["headline"] not in f["body"].split("\n")[0]


def test_seed_layout_without_repeat_or_caption():
    f = parse_seed("سرخی\n\nپہلا پیراگراف۔\n\nدوسرا پیراگراف۔\n", "a.txt")
    assert f == {"headline": "سرخی", "caption": None, "photo_credit": None, "body": "پہلا پیراگراف۔\n\nدوسرا پیراگراف۔"}


def test_bbc_unwrap_joins_inside_words_and_keeps_boundaries():
    lines = [
        "ہوا وقت کئی لوگوں کے زخموں پر مرہم بن رہا ہے اور وزیر اع",
        "ظم کے خلاف بات ہوئی اور یہ بات کے",
        "                      خلاف تھی",
    ]
    width = max(map(len, lines))
    lines = [ln.ljust(width) if i < 2 else ln.rjust(width) for i, ln in enumerate(lines)]
    text = unwrap([lines[0].rstrip(), lines[1].rstrip() + " ", lines[2]])
    assert "وزیر اعظم کے خلاف" in text


def test_bbc_unwrap_issue_examples():
    assert unwrap(["وزیر اع", "ظم نے کہا"]) == "وزیر اعظم نے کہا"
    assert unwrap(["اس کے", " خلاف بات"]) == "اس کے خلاف بات"
    # padded last line after a word-final letter starts a new word
    first = "یہ بات سب کے سامنے"
    assert unwrap([first, "آئی".rjust(len(first))]) == "یہ بات سب کے سامنے آئی"
    # padded last line after a letter that can continue a word joins it
    first = "انہوں نے کہا کہ وہ اع"
    assert unwrap([first, "ظم ہیں".rjust(len(first))]) == "انہوں نے کہا کہ وہ اعظم ہیں"


def test_bbc_doc_corpus_file(corpora):
    path = next((corpora / "bbc_voa" / "bbc" / "politics").glob("*.doc"))
    f = parse_bbc(path.read_text(encoding="utf-8"), f"bbc/politics/{path.name}")
    assert f["category"] == "politics"
    assert f["published"] and f["published"].endswith(("GMT", "0500", "0000"))
    assert f["headline"] and "\n" not in f["headline"]
    assert len(f["body"]) > 200
    assert "  " not in f["body"]


def test_bbc_sample_rejoins_split_word():
    # samples/make_dumps.py wraps at 70 columns anywhere, so words are cut across lines
    import sys

    sys.path.insert(0, str(ROOT / "samples"))
    from make_dumps import bbc_doc

    body = "اسلام آباد میں قومی اسمبلی کے اجلاس میں حکومتی اور اپوزیشن ارکان نے بجٹ تجاویز پر اظہار خیال کیا۔ وزیر خزانہ نے کہا"
    doc = bbc_doc("سرخی", "خلاصہ", "Wed, 07 Apr 2021 14:20:00 GMT", body)
    assert "بجٹ" not in doc.replace("\n", " ").split()  # the wrap cut at least one word in two
    assert parse_bbc(doc, "politics/x.doc")["body"] == body


CSV_SOURCE = dict(name="t", url="x", fmt="csv", columns={"headline": "title", "body": "content", "url": "link"})


def test_csv_rows_shapes_and_encoding(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(
        "title,content,link\n"
        "ایک,پہلی خبر,https://a/1\n"
        "\n"
        'دو,"دوسری\nخبر، کئی سطروں میں",https://a/2\n'
        "تین,زائد,کالم,https://a/3\n".encode()
        + "چار,".encode()
        + b"\xff\xfe bad"
        + b",https://a/4\n"
    )
    recs, rejs = _records(path, "d.csv", make_source(**CSV_SOURCE))
    assert [r.record_no for r in recs] == [1, 2]
    assert recs[1].fields["body"] == "دوسری\nخبر، کئی سطروں میں"
    assert [(r.record_no, r.reason) for r in rejs] == [(3, "bad_row_shape"), (4, "undecodable_bytes")]


def test_csv_with_bom_and_missing_required_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufefftitle,content,link\nا,ب,ج\n".encode())
    recs, rejs = _records(path, "d.csv", make_source(**CSV_SOURCE))
    assert len(recs) == 1 and not rejs
    path.write_text("title,text,link\nا,ب,ج\n", encoding="utf-8")
    recs, rejs = _records(path, "d.csv", make_source(**CSV_SOURCE))
    assert not recs and rejs[0].reason == "missing_field" and "content" in rejs[0].detail


def test_csv_in_cp1256(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("title,content,link\nخبر,متن خبر پاکستان,u\n".encode("cp1256"))
    src = make_source(**{**CSV_SOURCE, "encoding": "cp1256"})
    recs, rejs = _records(path, "d.csv", src)
    assert recs[0].fields["body"] == "متن خبر پاکستان" and not rejs


def test_jsonl_bad_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"t": "ا", "b": "متن", "n": 5}\nnot json\n[1, 2]\n\n{"t": "ب", "b": "دوسرا"}\n', encoding="utf-8")
    src = make_source("t", "x", "jsonl", {"headline": "t", "body": "b", "external_id": "n"})
    recs, rejs = _records(path, "d.jsonl", src)
    assert [(r.record_no, r.fields["headline"]) for r in recs] == [(1, "ا"), (4, "ب")]
    assert recs[0].fields["external_id"] == "5"
    assert [(r.record_no, r.reason) for r in rejs] == [(2, "bad_json"), (3, "bad_json")]


def test_unexpected_file_and_undecodable_text(tmp_path):
    src = make_source("t", "x", "seed_txt")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "bad.txt").write_bytes(b"\xc3\x28garbage")
    assert _records(tmp_path / "notes.docx", "notes.docx", src)[1][0].reason == "unexpected_file"
    rej = _records(tmp_path / "bad.txt", "bad.txt", src)[1][0]
    assert rej.reason == "undecodable_bytes" and "byte 0" in rej.detail


def test_gzip_csv_roundtrip_of_corpus_csv(corpora, tmp_path):
    src = make_source(
        "ns",
        "x",
        "csv",
        {"headline": "title", "body": "content", "url": "link", "external_id": "id", "category": "gold_label"},
    )
    path = corpora / "news_sites" / "geo_jang_express_dunya_2024b.csv"
    recs, rejs = _records(path, path.name, src)
    assert len(recs) + len(rejs) == 1465
    assert all(r.fields["url"].startswith("http") for r in recs[:50])
    assert not any(r.reason != "undecodable_bytes" and r.reason != "bad_row_shape" for r in rejs)
