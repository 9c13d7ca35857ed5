"""Hand-labelled dateline gold sets: resolve them against the corpora and score a dateline parser.

``datelines_dev.jsonl`` (the set rules are tuned on) and ``datelines_test.jsonl`` (the blind set,
scored once, at the end) hold no corpus text. Each line names one article of ``../shared/corpora``
and gives its dateline as character offsets into the article's body *as the pipeline cleans it*
(``etl.articles.clean_record``, read as ``tests.gold.entities`` reads it):

    {"id": "dev-001", "corpus": "untm", "shape": "urdupoint", "file": "untm/sampled_UNTM.csv",
     "record": 8, "sha256": {"body": "<16 hex>"},
     "place": [0, 5], "agency": [33, 40], "agency_key": "آن لائن",
     "date": {"span": [42, 56], "day": 11, "month": 3, "year": 2023},
     "full_date_in_opening": "2023-03-11"}

``place``, ``agency`` and ``date.span`` are half-open offsets into the cleaned body, or ``null``
when the body has none; ``agency_key`` is the canonical name of the credited agency (the key of
``etl/enrich/gazetteer/agencies.tsv``); ``date.year`` is ``null`` when the dateline omits it;
``full_date_in_opening`` is the ISO publication date when the opening states a full one.
``shape`` says which kind of opening the article was drawn for (see ``DATELINES.md``). ``load``
raises ``GoldError`` when a body no longer matches its hash (the corpus or the cleaning changed).

Scoring (``score``): per article, the parser's place and agency as written (whitespace collapsed)
against the gold text, ``None`` against ``None`` counting as correct; the agency key when the
parser gives one; the dateline date over the articles whose gold has one (day and month, and the
year when the dateline states it); dates produced where the gold has none; and the full
publication date of the opening.

``python -m tests.gold.datelines dev [--show-errors]`` (from the repository root, with
``PYTHONPATH`` set to it) scores ``etl.enrich.dateline.parse_dateline`` and a naive reference
regex. ``test`` is the blind part: scored once, and never shown item by item.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import re
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from tests.gold.entities import CLEANED_AS_OF, DEFAULT_CORPORA, Corpora, GoldError, field_hash

HERE = pathlib.Path(__file__).resolve().parent
SETS = {"dev": HERE / "datelines_dev.jsonl", "test": HERE / "datelines_test.jsonl"}
#: A place opens the body: it ends within this many characters.
PLACE_WINDOW = 80
#: An agency credit opens the body (within this many characters) or closes it.
AGENCY_WINDOW = 200


class Pred(NamedTuple):
    """What a dateline parser says about one body (the fields ``score`` reads)."""

    place: str | None
    agency: str | None
    date: dt.date | None


class KeyedPred(NamedTuple):
    """``Pred`` plus the canonical agency key, for a parser that gives one."""

    place: str | None
    agency: str | None
    date: dt.date | None
    agency_key: str | None


#: ``parse(body, published) -> object with .place, .agency, .date (and maybe .agency_key)``.
Parser = Callable[[str, dt.date | None], Any]


def collapse(text: str | None) -> str | None:
    """A surface as compared: one space between words; ``None`` for nothing."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _published(fields: dict, headline: str) -> dt.date | None:
    """The publication day the record's metadata gives (its date field, else a date glued to the
    end of the headline), without looking at the body: what a parser may be told."""
    from etl.articles import latest_publication
    from etl.enrich.dates import parse_date, strip_trailing_date

    when = parse_date(fields.get("published"), latest_publication(CLEANED_AS_OF))
    if when is None and headline:
        when = strip_trailing_date(headline)[1]
    return when.date() if when else None


def _span(body: str, span: Any, where: str, what: str, window: tuple[int, int] | None = None) -> str:
    if not (isinstance(span, list) and len(span) == 2 and 0 <= span[0] < span[1] <= len(body)):
        raise GoldError(f"{where}: bad {what} span {span!r}")
    text = body[span[0] : span[1]]
    if text != text.strip():
        raise GoldError(f"{where}: {what} span {text!r} has surrounding space")
    if window and not (span[1] <= window[0] or span[0] >= len(body) - window[1]):
        raise GoldError(f"{where}: {what} span {span!r} is neither in the opening nor at the end")
    return text


def load(split: str | pathlib.Path, corpora: pathlib.Path = DEFAULT_CORPORA) -> list[dict]:
    """The items of a gold set, each with its cleaned ``body``, ``headline``, metadata ``published``
    day and its ``gold`` (``place``, ``agency``, ``agency_key``, ``date``, ``full_date``);
    raises ``GoldError`` on anything that does not resolve."""
    path = SETS.get(str(split), pathlib.Path(split))
    reader = Corpora(corpora)
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        where = f"{path.name}:{line_no} ({item.get('id')})"
        texts = reader.article(item["file"], item.get("record", 1))
        body = texts["body"]
        if item["sha256"].get("body") != field_hash(body):
            raise GoldError(f"{where}: the cleaned body no longer matches its hash")
        gold: dict[str, Any] = {"place": None, "agency": None, "agency_key": item.get("agency_key")}
        if item["place"] is not None:
            gold["place"] = _span(body, item["place"], where, "place", (PLACE_WINDOW, 0))
        if item["agency"] is not None:
            gold["agency"] = _span(body, item["agency"], where, "agency", (AGENCY_WINDOW, AGENCY_WINDOW))
            if not gold["agency_key"]:
                raise GoldError(f"{where}: an agency without its agency_key")
        elif gold["agency_key"]:
            raise GoldError(f"{where}: an agency_key without an agency")
        gold["date"] = None
        if item["date"] is not None:
            d = item["date"]
            text = _span(body, d["span"], where, "date", (AGENCY_WINDOW, 0))
            year = d.get("year")
            try:
                dt.date(year or 2000, d["month"], d["day"])
            except (KeyError, TypeError, ValueError) as exc:
                raise GoldError(f"{where}: bad date {d!r}") from exc
            gold["date"] = {"text": text, "day": d["day"], "month": d["month"], "year": year}
        full = item.get("full_date_in_opening")
        try:
            gold["full_date"] = dt.date.fromisoformat(full) if full else None
        except ValueError as exc:
            raise GoldError(f"{where}: bad full_date_in_opening {full!r}") from exc
        raw = reader.raw(item["file"], item.get("record", 1))
        items.append(
            {
                **{k: item[k] for k in ("id", "corpus", "shape", "file", "record")},
                "body": body,
                "headline": texts["headline"],
                "published": _published(raw.fields, texts["headline"]),
                "gold": gold,
            }
        )
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        raise GoldError(f"{path.name}: repeated ids")
    keys = [(i["file"], i["record"]) for i in items]
    if len(set(keys)) != len(keys):
        raise GoldError(f"{path.name}: an article is listed twice")
    return items


def _date_ok(gold: dict, pred: dt.date | None) -> bool:
    if pred is None:
        return False
    return (pred.day, pred.month) == (gold["day"], gold["month"]) and gold["year"] in (None, pred.year)


def score(items: list[dict], parse: Parser) -> dict:
    """Accuracies of ``parse`` on ``items`` (in %), the counts behind them, and the disagreements
    as ``(id, field, gold, predicted)`` (for reading on the dev set only)."""
    hits: Counter = Counter()
    per_corpus: dict[str, Counter] = {}
    errors: list[tuple[str, str, Any, Any]] = []
    n_date = n_full = n_nodate = false_dates = 0
    has_keys = False
    for item in items:
        g = item["gold"]
        p = parse(item["body"], item["published"])
        pc = per_corpus.setdefault(item["corpus"], Counter())
        pc["items"] += 1
        for field in ("place", "agency"):
            pred = collapse(getattr(p, field, None))
            if pred == collapse(g[field]):
                hits[field] += 1
                pc[field] += 1
            else:
                errors.append((item["id"], field, g[field], pred))
        key = getattr(p, "agency_key", None)
        if hasattr(p, "agency_key"):
            has_keys = True
            if collapse(key) == g["agency_key"]:
                hits["agency_key"] += 1
            else:
                errors.append((item["id"], "agency_key", g["agency_key"], key))
        pred_date = getattr(p, "date", None)
        if isinstance(pred_date, dt.datetime):
            pred_date = pred_date.date()
        if g["date"] is not None:
            n_date += 1
            if _date_ok(g["date"], pred_date):
                hits["date"] += 1
            else:
                errors.append((item["id"], "date", g["date"], pred_date))
        else:
            n_nodate += 1
            if pred_date is not None:
                false_dates += 1
                errors.append((item["id"], "date", None, pred_date))
        if g["full_date"] is not None:
            n_full += 1
            if pred_date == g["full_date"]:
                hits["full_date"] += 1

    def pct(hit: int, n: int) -> float | None:
        return round(100 * hit / n, 1) if n else None

    n = len(items)
    return {
        "items": n,
        "place": pct(hits["place"], n),
        "agency": pct(hits["agency"], n),
        "agency_key": pct(hits["agency_key"], n) if has_keys else None,
        "date": pct(hits["date"], n_date),
        "date_items": n_date,
        "false_dates": false_dates,
        "no_date_items": n_nodate,
        "full_date": pct(hits["full_date"], n_full),
        "full_date_items": n_full,
        "per_corpus": {
            c: {"items": k["items"], "place": pct(k["place"], k["items"]), "agency": pct(k["agency"], k["items"])}
            for c, k in sorted(per_corpus.items())
        },
        "errors": errors,
    }


# The naive reference: a regex anyone would write in a few minutes.
_MONTHS = "جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر"
_MONTH_NO = {m: i for i, m in enumerate(_MONTHS.split("|"), 1)}
_NAIVE_PLACE = re.compile(r"^((?:[^\W\d_]+ ){0,2}[^\W\d_]+)\s*[۔:(]")
_NAIVE_BRACKET = re.compile(r"\(([^()]{2,80})\)")
_NAIVE_DATE = re.compile(r"(\d{1,2})\s*(" + _MONTHS + r")\s*،?\s*(\d{4})?")


def naive(body: str, published: dt.date | None = None) -> Pred:
    """Place = one to three words before ``۔ : (`` at the start of the body; agency = the first
    bracket in the opening (its part after a dash, without a date); date = the first
    ``DD month [YYYY]`` of the opening, the year from ``published`` when it is missing."""
    m = _NAIVE_PLACE.match(body)
    place = m.group(1) if m else None
    agency = None
    b = _NAIVE_BRACKET.search(body, 0, 150)
    if b:
        content = b.group(1).split("-")[-1]
        agency = collapse(re.sub(r"[\d۰-۹].*$", "", content).strip(" ۔،:/"))
    date = None
    d = _NAIVE_DATE.search(body, 0, 150)
    if d:
        year = int(d.group(3)) if d.group(3) else (published.year if published else None)
        try:
            date = dt.date(year, _MONTH_NO[d.group(2)], int(d.group(1))) if year else None
        except ValueError:
            date = None
    return Pred(place, agency, date)


def current(body: str, published: dt.date | None = None) -> KeyedPred:
    """The pipeline's dateline before ``etl.enrich.dateline``: ``structure.dateline_city``, the
    agency key of ``bylines.agency`` and the body date ``structure.publication_date`` falls back to."""
    from etl.enrich.bylines import agency
    from etl.enrich.structure import dateline_city, publication_date

    key = agency(body)
    when = publication_date(None, None, body)[0]
    return KeyedPred(dateline_city(body), key, when.date() if when else None, key)


def parser() -> tuple[str, Parser]:
    """The parser to score: ``etl.enrich.dateline.parse_dateline``, else the current baseline."""
    try:
        from etl.enrich.dateline import parse_dateline
    except ImportError:
        return "current (structure.dateline_city + bylines.agency; parse_dateline not available)", current
    return "parse_dateline", parse_dateline


def table(results: dict[str, dict]) -> str:
    """Scores of several parsers as a Markdown table."""
    rows = [
        "| parser | place | agency | agency key | date | false dates | full date |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        key = "–" if r["agency_key"] is None else r["agency_key"]
        rows.append(
            f"| {name} | {r['place']} | {r['agency']} | {key} | {r['date']} (of {r['date_items']}) "
            f"| {r['false_dates']} (of {r['no_date_items']}) | {r['full_date']} (of {r['full_date_items']}) |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    show = "--show-errors" in argv
    split = args[0] if args else "dev"
    if split not in SETS:
        print(f"usage: python -m tests.gold.datelines dev|test [--show-errors] (not {split!r})", file=sys.stderr)
        return 2
    if show and split == "test":
        print("refused: the test part is blind; its errors are never shown (use dev)", file=sys.stderr)
        return 2
    corpora = pathlib.Path(args[1]) if len(args) > 1 else DEFAULT_CORPORA
    if not corpora.is_dir():
        print(f"the corpora folder {corpora} is absent: nothing to score", file=sys.stderr)
        return 2
    items = load(split, corpora)
    name, parse = parser()
    results = {name: score(items, parse), "naive reference regex": score(items, naive)}
    print(f"{split}: {len(items)} articles, {sum(1 for i in items if i['gold']['place'])} with a dateline place")
    print(table(results))
    if show:
        print("\nper corpus (place / agency):")
        for corpus, c in results[name]["per_corpus"].items():
            print(f"  {corpus}: {c['items']} items, place {c['place']}, agency {c['agency']}")
        print(f"\ndisagreements of {name} (id, field, gold, predicted):")
        for err in results[name]["errors"]:
            print("  ", *err)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
