"""Propose new gazetteer entries from a lake or from the corpora, for a person to review.

The hand lists of ``etl/enrich/gazetteer/`` cannot know tomorrow's names. This script looks for
names the articles themselves point at and the tables lack:

* word 1-3-grams right before a postposition (``نے`` / ``کا`` / ``کی`` / ``کے``): ``لیور پول نے``,
  ``گھوٹکی کے``; an n-gram is dropped when one of its words is a stop word (function words,
  ``name_stops.txt``, ``qualifiers.txt``, title words, ``--common-words``), and when a longer n-gram
  ending at the same word covers most of its articles (``یونائیٹڈ`` alone inside ``مانچسٹر یونائیٹڈ``);
* the one to three name words right after a title (``titles.txt``): ``کوچ مکی آرتھر نے``;
* when ``etl/enrich/ner.py`` exists, its confident predictions (``predict_spans``, confidence at
  least ``--min-confidence``) that are not in the tables.

A candidate counts once per distinct article and is kept when it recurs in ``--min-articles``
articles at least and is not already a surface of the tables (``gazetteers.gazetteer()``, agencies
included). The proposed type comes from the recognizer when it voted, else from the last word
(``کونسل``, ``کلب``, ``نیوز`` -> organization; ``آباد``, ``پور``, ``ستان`` -> location), else from the
title cue (person); ``?`` when nothing says.

Output is a TSV (``surface, proposed_type, articles, evidence``), most articles first; evidence
gives the cue counts (``نے:12 کا:3 title:2 ner:location:4``) and up to two short contexts.

Review step (the script never writes the tables): read each row's contexts, drop common words,
fragments and spelling slips, fix the type, then add the good ones by hand to ``locations.tsv`` /
``organizations.tsv`` / ``persons.tsv`` (as a new key or as an alias of an existing key), check the
new surface's whole-word hits in a few contexts, and run ``tests/test_gazetteer_growth.py`` and
``tests/test_entities.py`` (no duplicate surfaces).

    .venv/bin/python bench/propose_gazetteer.py --corpora ../shared/corpora \
        --exclude-sources voa untm --common-words ../shared/corpora/ner --out /tmp/proposals.tsv
    .venv/bin/python bench/propose_gazetteer.py --lake data/corpora/lake --out /tmp/proposals.tsv

``--exclude-sources`` takes source names (``untm``) or file-path parts (``voa``, ``bbc_voa/voa``) and
excludes none by default. The project's curation run excluded ``voa`` and ``untm``: those
articles are the blind entity test set, which nobody mines for entries.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.articles import clean_records
from etl.config import load_sources
from etl.enrich import gazetteers
from etl.enrich.gazetteers import norm, table_rows, word_set
from etl.read import bbc_doc, seed_txt
from etl.records import RawRecord, Reject
from etl.text.normalize import LETTERS

POSTPOSITIONS = ("نے", "کا", "کی", "کے")
MAX_WORDS = 3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Grammar: words that never stand inside a name (postpositions, verbs, pronouns, numerals).
GRAMMAR = _words(
    """
    نے کا کی کے کو سے میں پر تک اور یا بھی ہی تو نہ نہیں ہے ہیں تھا تھی تھے تھیں ہو ہوا ہوئی ہوئے
    ہونے ہوگا ہوگی گا گی گے رہے رہا رہی کر کرنے کرتے کیا کیے کئے دیا دی دیے گیا گئی گئے لیا لی
    لیے لئے کیلئے یہ وہ اس ان جس جن کس کہا کہ جو جب اب آج کل ایک دو تین چار پانچ کئی کچھ کوئی
    کسی سب ہر اپنے اپنی اپنا انہوں جنہوں ساتھ بعد قبل پہلے دوران مطابق بارے طرف خلاف جبکہ لیکن
    مگر اگر پھر ہم آپ وہاں یہاں جہاں کیونکہ بلکہ چاہیے سکتے سکتا سکتی والے والی والا
    """
)
#: Everyday words that do not start a name and are not a name alone (they may sit inside one:
#: the ``کرکٹ`` of ``بلائنڈ کرکٹ کونسل``), with ``name_stops.txt``, ``qualifiers.txt`` and title words.
GENERIC = _words(
    """
    حکومت عدالت پولیس فوج ملک ملکوں شہر صوبے صوبہ علاقے علاقہ ضلع گاؤں لوگوں لوگ افراد عوام
    ٹیم کھلاڑی کھلاڑیوں میچ سال دن ماہ ہفتے رات صبح شام وقت بات کام حوالے معاملے مسئلے واقعے
    رپورٹ بیان اجلاس فیصلے فیصلہ اعلان منصوبے منصوبہ پروگرام قیمت قیمتوں تعداد حصہ حصے نام
    اداروں ادارے ادارہ جماعت جماعتوں رہنما رہنماؤں حکام اہلکاروں اہلکار شہریوں طلبہ بچوں خواتین
    مرد بچے بچی والد والدہ بیٹے بیٹی بھائی بہن شوہر بیوی گھر دنیا ملکی عالمی قومی سرکاری نجی
    مقامی غیر سابق موجودہ نئے نئی نیا پرانے بڑے بڑی بڑا چھوٹے وزیر وزارت محکمہ کمیٹی کمیشن
    کونسل بورڈ اسمبلی پارٹی تنظیم یونین فورس ایجنسی
    """
)
#: Words before a common noun, seldom before a name.
DETERMINERS = _words(
    """
    ان اس یہ وہ ایک دونوں تمام کئی چند دیگر بہت کچھ کسی ہر اپنے اپنی اپنا نئے نئی نیا مختلف
    زیادہ کم بعض متعدد سینکڑوں ہزاروں لاکھوں بیشتر ایسے ایسی جن جس کون
    """
)
#: Last words that make a name an organization or a place (checked in this order).
ORG_HEADS = _words(
    """
    کونسل بورڈ کمیشن کمیٹی پارٹی لیگ موومنٹ تحریک یونیورسٹی بینک کمپنی کارپوریشن ایشن فیڈریشن
    اتھارٹی فاؤنڈیشن ٹرسٹ ایجنسی سروس نیوز ٹائمز پوسٹ ٹریبیون ہیرالڈ گروپ کلب یونائیٹڈ سٹی
    قلندرز زلمی کنگز سلطانز ایٹرز انڈینز رائلز کیپیٹلز رائیڈرز اسپتال ہسپتال کالج اکیڈمی ٹیوٹ
    فورم ایئرلائنز ریڈیو
    """
)
PLACE_HEADS = ("آباد", "پور", "ستان", "گڑھ", "نگر", "کوٹ", "شہر", "گاؤں", "لینڈ", "یا")
_TOKEN = re.compile(f"[{LETTERS}\u200c]+|[0-9]+|\\S")
_LETTER_WORD = re.compile(f"[{LETTERS}\u200c]+")


# --------------------------------------------------------------------------- reading articles


@dataclass
class Article:
    source: str
    file: str
    text: str  # headline and body, cleaned


#: The sources file that declares the corpora's CSV columns for the pipeline.
CORPORA_CONFIG = Path(__file__).resolve().parents[1] / "config" / "corpora.yaml"


def csv_corpora() -> dict[str, tuple[str, str]]:
    """``{file under the corpora folder: (headline column, body column)}`` of every CSV corpus, as
    ``config/corpora.yaml`` declares them."""
    sources = load_sources(CORPORA_CONFIG).values()
    return {
        s.url.split("/corpora/", 1)[1]: (s.columns["headline"], s.columns["body"]) for s in sources if s.format == "csv"
    }


def excluded(source: str, file: str, patterns: Iterable[str]) -> bool:
    """Whether ``pattern`` names the source or a run of the file path's parts (``voa``, ``bbc_voa/voa``)."""
    parts = [p for p in re.split(r"[\\/]", file) if p]
    for pattern in patterns:
        want = [p for p in pattern.split("/") if p]
        if pattern == source or any(parts[i : i + len(want)] == want for i in range(len(parts))):
            return True
    return False


def _raw_corpora(root: Path) -> Iterator[RawRecord]:
    for path in sorted(root.glob("seed/*.txt")):
        yield RawRecord("seed", str(path.relative_to(root)), 1, seed_txt.parse(path.read_text("utf-8-sig"), path.name))
    for path in sorted(root.glob("bbc_voa/*/*/*.doc")):
        rel = str(path.relative_to(root))
        yield RawRecord("bbc_voa", rel, 1, bbc_doc.parse(path.read_text("utf-8-sig"), rel))
    csv.field_size_limit(sys.maxsize)
    for rel, (head, body) in csv_corpora().items():
        path = root / rel
        if not path.exists():
            continue
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh), 1):
                yield RawRecord(rel.split("/")[0], rel, i, {"headline": row.get(head), "body": row.get(body)})


def corpus_articles(root: Path, exclude: Iterable[str] = ()) -> Iterator[Article]:
    """Articles of a corpora folder laid out as ``../shared/corpora`` (its README), cleaned as the pipeline does."""
    exclude = list(exclude)
    batch: list[RawRecord] = []

    def flush() -> Iterator[Article]:
        for rec, row in zip(batch, clean_records(batch, dt.date(2026, 1, 1))):
            if not isinstance(row, Reject):
                yield Article(rec.source, rec.file, f"{row['headline'] or ''}\n{row['body'] or ''}")
        batch.clear()

    for rec in _raw_corpora(root):
        if excluded(rec.source, rec.file, exclude):
            continue
        batch.append(rec)
        if len(batch) >= 2000:
            yield from flush()
    yield from flush()


def lake_articles(lake: Path, exclude: Iterable[str] = ()) -> Iterator[Article]:
    """Articles of a lake (``<lake>/articles``, Parquet, hive-partitioned), as the pipeline stored them."""
    import pyarrow.dataset as ds

    exclude = list(exclude)
    dataset = ds.dataset(lake / "articles", partitioning="hive")
    for batch in dataset.to_batches(columns=["source", "source_file", "headline", "body"]):
        for row in batch.to_pylist():
            if excluded(row["source"] or "", row["source_file"] or "", exclude):
                continue
            yield Article(
                row["source"] or "", row["source_file"] or "", f"{row['headline'] or ''}\n{row['body'] or ''}"
            )


# --------------------------------------------------------------------------- candidates


def common_words_from_ner(folder: Path, min_count: int = 3) -> frozenset[str]:
    """Words tagged O at least ``min_count`` times and never inside an entity in the NER corpora
    of ``folder`` (``token<TAB>tag`` files): everyday words, never proposed as names."""
    other: Counter[str] = Counter()
    named: set[str] = set()
    for path in sorted(folder.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            token, _, tag = line.partition("\t")
            token = norm(token)
            if not token:
                continue
            if tag.strip() in ("", "O", "NUMBER", "DATE", "TIME", "DESIGNATION"):
                other[token] += 1
            else:
                named.add(token)
    return frozenset(w for w, n in other.items() if n >= min_count and w not in named)


def stop_words(extra: Iterable[str] = ()) -> frozenset[str]:
    titles = {w for t in word_set("titles.txt") for w in t.split()}
    return GENERIC | word_set("name_stops.txt") | word_set("qualifiers.txt") | titles | frozenset(extra)


def known_surfaces() -> frozenset[str]:
    """Every surface the tables already know: the three gazetteers, blocking phrases, agencies."""
    agencies = {norm(s) for key, _, surfaces in table_rows("agencies.tsv") for s in [key, *surfaces.split("|")]}
    return frozenset(gazetteers.gazetteer()) | frozenset(agencies)


@dataclass
class Candidate:
    articles: set[int] = field(default_factory=set)
    cues: Counter[str] = field(default_factory=Counter)
    contexts: list[str] = field(default_factory=list)
    ner: Counter[str] = field(default_factory=Counter)


def _context(tokens: list[str], i: int, j: int) -> str:
    return " ".join(tokens[max(0, i - 3) : j + 3])


class Proposer:
    """Collects candidates article by article (``add``), then ranks them (``proposals``)."""

    def __init__(self, stops: frozenset[str], known: frozenset[str], max_contexts: int = 2):
        self.stops, self.known, self.max_contexts = stops, known, max_contexts
        self.titles: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
        for t in sorted((tuple(t.split()) for t in word_set("titles.txt")), key=len, reverse=True):
            self.titles[t[0]].append(t)
        self.quals = word_set("qualifiers.txt")
        self.cands: defaultdict[str, Candidate] = defaultdict(Candidate)
        #: Known surfaces as word tuples, to skip n-grams that are the end of a known name
        #: (``لنکا`` of ``سری لنکا``).
        self.known_words = frozenset(tuple(s.split()) for s in known)
        self.longest_known = max((len(w) for w in self.known_words), default=0)
        #: Every word's count, and how often a determiner (``ان``, ``ایک``, ``دونوں``) came right
        #: before it: common nouns take one, names almost never do.
        self.word_count: Counter[str] = Counter()
        self.after_determiner: Counter[str] = Counter()
        #: How often a genitive (``کا``/``کی``/``کے``) came right before it: ``فلم کی شوٹنگ``.
        self.after_genitive: Counter[str] = Counter()

    def _in_name(self, tok: str) -> bool:
        """Whether ``tok`` may stand inside a name: a word of two letters or more, not grammar."""
        return len(tok) > 1 and tok not in GRAMMAR and bool(_LETTER_WORD.fullmatch(tok))

    def _is_name_word(self, tok: str) -> bool:
        """Whether ``tok`` may start a name or be one alone: not a stop word either."""
        return self._in_name(tok) and tok not in self.stops

    def _note(self, article: int, words: list[str], cue: str, tokens: list[str], i: int, j: int) -> None:
        surface = " ".join(words)
        if surface in self.known:
            return
        c = self.cands[surface]
        c.cues[cue] += 1
        if article not in c.articles:
            c.articles.add(article)
            if len(c.contexts) < self.max_contexts:
                c.contexts.append(_context(tokens, i, j))

    def _title_at(self, tokens: list[str], i: int) -> int:
        """End (token index) of a chain of titles starting at ``i``, or ``i`` when none starts there."""
        end = i
        while True:
            for t in self.titles.get(tokens[end], ()) if end < len(tokens) else ():
                if tuple(tokens[end : end + len(t)]) == t:
                    end += len(t)
                    break
            else:
                return end

    def _known_ends_at(self, tokens: list[str], k: int) -> bool:
        return any(tuple(tokens[k - n : k]) in self.known_words for n in range(1, min(k, self.longest_known) + 1))

    def add(self, article: int, text: str) -> None:
        tokens = _TOKEN.findall(text)
        self.word_count.update(tokens)
        self.after_determiner.update(b for a, b in zip(tokens, tokens[1:]) if a in DETERMINERS)
        self.after_genitive.update(b for a, b in zip(tokens, tokens[1:]) if a in POSTPOSITIONS[1:])
        for k, tok in enumerate(tokens):
            if tok in POSTPOSITIONS and not self._known_ends_at(tokens, k):
                for n in range(1, MAX_WORDS + 1):
                    i = k - n
                    if i < 0 or not self._in_name(tokens[i]):
                        break
                    if self._is_name_word(tokens[i]):
                        self._note(article, tokens[i:k], tok, tokens, i, k)
        k = 0
        while k < len(tokens):
            end = self._title_at(tokens, k)
            if end == k:
                k += 1
                continue
            while end < len(tokens) and tokens[end] in self.quals:
                end += 1
            j = end
            while j < len(tokens) and j - end <= MAX_WORDS and self._is_name_word(tokens[j]):
                j += 1
            # Like the title patterns of the extractor: a name of 1-3 words that a stop word or
            # punctuation ends.
            if 0 < j - end <= MAX_WORDS and (
                j == len(tokens) or not _LETTER_WORD.fullmatch(tokens[j]) or tokens[j] in self.stops
            ):
                self._note(article, tokens[end:j], "title", tokens, end, j)
            k = max(j, k + 1)

    def add_ner(
        self, article: int, text: str, spans: Iterable[tuple[int, int, str, float]], min_confidence: float
    ) -> None:
        for start, end, typ, confidence in spans:
            if confidence < min_confidence:
                continue
            surface = norm(text[start:end])
            words = surface.split()
            if not words or surface in self.known or words[0] in self.stops or not all(map(self._in_name, words)):
                continue
            c = self.cands[surface]
            c.ner[typ.lower()] += 1
            if article not in c.articles:
                c.articles.add(article)
                if len(c.contexts) < self.max_contexts:
                    c.contexts.append(" ".join(text[max(0, start - 30) : end + 30].split()))

    def common_noun(self, word: str, max_determiner: float, max_genitive: float) -> bool:
        """Whether ``word`` behaves as a common noun: it often follows a determiner or a genitive,
        or it is an oblique infinitive (``جیتنے``, ``بڑھنے``)."""
        n = max(1, self.word_count[word])
        return (
            self.after_determiner[word] > max_determiner * n
            or self.after_genitive[word] > max_genitive * n
            or (len(word) > 3 and word.endswith("نے"))
        )

    def proposals(
        self, min_articles: int, cover: float = 0.8, max_determiner: float = 0.015, max_genitive: float = 0.1
    ) -> list[tuple[str, str, int, str]]:
        """``(surface, proposed type, articles, evidence)``, most articles first.

        An n-gram is dropped when a longer candidate that ends with it (one more word on the left)
        was seen in at least ``cover`` of its articles: the longer one is the name; and when its
        first word behaves as a common noun (``common_noun``).
        """
        kept = {
            s: c
            for s, c in self.cands.items()
            if len(c.articles) >= min_articles and not self.common_noun(s.split()[0], max_determiner, max_genitive)
        }
        longer: defaultdict[str, int] = defaultdict(int)
        for s, c in kept.items():
            words = s.split()
            if len(words) > 1:
                tail = " ".join(words[1:])
                longer[tail] = max(longer[tail], len(c.articles))
        out = []
        for s, c in kept.items():
            n = len(c.articles)
            if longer.get(s, 0) >= cover * n:
                continue
            cues = " ".join(f"{k}:{v}" for k, v in c.cues.most_common())
            ner = " ".join(f"ner:{k}:{v}" for k, v in c.ner.most_common())
            evidence = " ".join(x for x in (cues, ner) if x) + " | " + " || ".join(c.contexts)
            out.append((s, self.proposed_type(s, c), n, evidence))
        out.sort(key=lambda r: (-r[2], r[0]))
        return out

    @staticmethod
    def proposed_type(surface: str, c: Candidate) -> str:
        if c.ner:
            return c.ner.most_common(1)[0][0]
        words = surface.split()
        if words[-1] in ORG_HEADS or surface.endswith((" ٹی وی", " ایف سی")):
            return "organization"
        if len(words[-1]) > 4 and words[-1].endswith(PLACE_HEADS):
            return "location"
        if c.cues["title"] * 2 >= sum(c.cues.values()):
            return "person"
        return "?"


def _ner_predict():
    """``etl.enrich.ner.predict_spans`` when that module exists, else ``None``."""
    if importlib.util.find_spec("etl.enrich.ner") is None:
        return None
    from etl.enrich import ner

    return getattr(ner, "predict_spans", None)


def propose(
    articles: Iterable[Article],
    min_articles: int = 3,
    common: Iterable[str] = (),
    use_ner: bool = True,
    min_confidence: float = 0.8,
) -> tuple[list[tuple[str, str, int, str]], int]:
    """The proposals over ``articles`` and the number of articles read."""
    proposer = Proposer(stop_words(common), known_surfaces())
    predict = _ner_predict() if use_ner else None
    pending: list[tuple[int, str]] = []

    def run_ner() -> None:
        nonlocal predict
        if predict is not None and pending:
            try:
                predicted = predict([t for _, t in pending])
            except OSError as e:  # the module is there but its model file is not (not trained yet)
                print(f"recognizer not used: {e}", file=sys.stderr)
                predict, predicted = None, []
            for (i, text), spans in zip(pending, predicted):
                proposer.add_ner(i, text, spans, min_confidence)
        pending.clear()

    n = 0
    for n, art in enumerate(articles, 1):
        proposer.add(n, art.text)
        if predict is not None:
            pending.append((n, art.text))
            if len(pending) >= 256:
                run_ner()
    run_ner()
    return proposer.proposals(min_articles), n


def write_tsv(rows: list[tuple[str, str, int, str]], out: Path) -> None:
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["surface", "proposed_type", "articles", "evidence"])
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--lake", type=Path, help="a lake folder holding articles/ (Parquet)")
    src.add_argument("--corpora", type=Path, help="a corpora folder laid out as ../shared/corpora")
    ap.add_argument("--exclude-sources", nargs="*", default=[], help="source names or path parts (voa, untm)")
    ap.add_argument("--min-articles", type=int, default=3)
    ap.add_argument(
        "--common-words", type=Path, help="a folder of token<TAB>tag NER corpora: their O words are stop words"
    )
    ap.add_argument("--no-ner", action="store_true", help="do not use etl/enrich/ner.py even when it exists")
    ap.add_argument("--min-confidence", type=float, default=0.8)
    ap.add_argument("--out", type=Path, default=Path("gazetteer_proposals.tsv"))
    args = ap.parse_args(argv)
    common = common_words_from_ner(args.common_words) if args.common_words else frozenset()
    articles = (
        lake_articles(args.lake, args.exclude_sources)
        if args.lake
        else corpus_articles(args.corpora, args.exclude_sources)
    )
    rows, n = propose(articles, args.min_articles, common, not args.no_ner, args.min_confidence)
    write_tsv(rows, args.out)
    print(f"{n} articles read, {len(rows)} proposals written to {args.out}")


if __name__ == "__main__":
    main()
