"""Fill a shard's enrichment columns in one batch: category, keywords, quality, entities.

Runs after segmentation (keywords and quality flags read the sentence tokens) and before the
lake: every column it fills is a function of the article alone, so a shard's output does not
depend on which other articles share its batch. Cross-article work, the copy search, happens when
the day's shards are merged (``etl.dedup``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl import schema
from etl.dedup import minhash
from etl.enrich import category, dateline, entities, keywords, ner, quality
from etl.enrich.text_counts import ArticleTokens, letter_counts_batch

#: Everything the enrichment columns depend on besides the clean text.
ENRICHMENT_VERSION = "+".join(
    [
        f"gazetteer-{entities.GAZETTEER_VERSION}",
        f"ner-{ner.MODEL_VERSION}",
        f"category-{category.CATEGORY_VERSION}",
        f"keywords-{keywords.KEYWORDS_VERSION}",
        f"quality-{quality.QUALITY_VERSION}",
        f"dedup-{minhash.DEDUP_VERSION}",
        f"dl-{dateline.DATELINE_VERSION}",  # short: the whole version must fit varchar(200)
    ]
)


def _set(table: pa.Table, name: str, values, type_: pa.DataType) -> pa.Table:
    column = values.cast(type_) if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type_)
    return table.set_column(table.schema.get_field_index(name), name, column)


def _record_keys(table: pa.Table) -> list[tuple[str, int]]:
    """Each row's record in the dump: a shard may hold two records with one ``article_id`` (same URL)."""
    return list(zip(table["source_file"].to_pylist(), table["record_no"].to_pylist()))


def article_tokens(articles: pa.Table, sentences: pa.Table) -> list[list[str]]:
    """The tokens of each article, in order, gathered from its sentences."""
    out: list[list[str]] = [[] for _ in range(articles.num_rows)]
    if not sentences.num_rows:
        return out
    row = {key: i for i, key in enumerate(_record_keys(articles))}
    for key, toks in zip(_record_keys(sentences), sentences["tokens"].to_pylist()):
        out[row[key]].extend(toks)
    return out


def _sentence_rows(articles: pa.Table, sentences: pa.Table) -> np.ndarray:
    """The row in ``articles`` of each sentence's record (by ``source_file`` and ``record_no``)."""
    keys = ["source_file", "record_no"]
    left = sentences.select(keys).append_column("__sentence", pa.array(np.arange(sentences.num_rows)))
    right = articles.select(keys).append_column("__row", pa.array(np.arange(articles.num_rows)))
    if right.group_by(keys).aggregate([]).num_rows != articles.num_rows:
        # two rows of one record: the last one gets its tokens, as ``article_tokens`` has it
        row = {key: i for i, key in enumerate(_record_keys(articles))}
        return np.array([row[key] for key in _record_keys(sentences)], dtype=np.int64)
    joined = left.join(right, keys, join_type="left outer")
    if joined["__row"].null_count:
        missing = joined.filter(pc.is_null(joined["__row"])).slice(0, 1).to_pylist()[0]
        raise KeyError((missing["source_file"], missing["record_no"]))
    out = np.empty(sentences.num_rows, dtype=np.int64)
    out[joined["__sentence"].to_numpy()] = joined["__row"].to_numpy()
    return out


def article_token_column(articles: pa.Table, sentences: pa.Table) -> ArticleTokens:
    """``article_tokens`` as one flat column (``ArticleTokens``): no Python object per token."""
    n = articles.num_rows
    if not sentences.num_rows:
        return ArticleTokens.from_arrow(pa.array([], pa.string()), np.zeros(n + 1, dtype=np.int64))
    row = _sentence_rows(articles, sentences)
    tokens = sentences["tokens"]
    if len(row) > 1 and (row[1:] < row[:-1]).any():  # sentences not in article order: put them in it
        order = np.argsort(row, kind="stable")
        row, tokens = row[order], tokens.take(pa.array(order))
    lengths = pc.fill_null(pc.list_value_length(tokens), 0).to_numpy().astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, weights=lengths, minlength=n).astype(np.int64), out=offsets[1:])
    return ArticleTokens.from_arrow(pc.list_flatten(tokens), offsets)


#: Mentions carry their record's provenance until same-key duplicates are resolved.
MENTIONS_WITH_PROVENANCE = pa.schema([*schema.MENTIONS, ("source_file", pa.string()), ("record_no", pa.int64())])


def enrich(articles: pa.Table, sentences: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Fill the enrichment columns of ``articles``; return them and their entity mentions."""
    n = articles.num_rows
    headlines = articles["headline"].to_pylist()
    bodies = articles["body"].to_pylist()
    tokens = article_token_column(articles, sentences)

    # Category: the source's own label when it maps onto the taxonomy, else the model's guess.
    labels = [category.canonical_category(raw) for raw in articles["category_raw"].to_pylist()]
    unlabelled = [i for i, label in enumerate(labels) if label is None]
    sources = ["label" if label else None for label in labels]
    confidence: list[float | None] = [None] * n
    if unlabelled:
        guesses = category.predict_categories([headlines[i] for i in unlabelled], [bodies[i] for i in unlabelled])
        for i, (label, p) in zip(unlabelled, guesses):
            labels[i], sources[i], confidence[i] = label, "model", p
    articles = _set(articles, "category", labels, pa.string())
    articles = _set(articles, "category_source", sources, pa.string())
    articles = _set(articles, "category_confidence", confidence, pa.float32())

    words = articles["word_count"].to_numpy(zero_copy_only=False)
    boiler = articles["boilerplate_chars"].to_pylist()
    letters = letter_counts_batch(bodies)
    articles = _set(articles, "urdu_share", quality.urdu_shares(bodies, letters), pa.float32())
    articles = _set(articles, "reading_time_s", [quality.reading_time_seconds(int(w)) for w in words], pa.int32())
    articles = _set(articles, "keywords", keywords.keywords_column(tokens), pa.list_(pa.string()))
    articles = _set(
        articles, "quality_flags", quality.quality_flags_column(bodies, tokens, boiler, letters), pa.list_(pa.string())
    )
    articles = _set(articles, "enrichment_version", [ENRICHMENT_VERSION] * n, pa.string())

    mentions = entities.extract_entities_batch(headlines, bodies)
    # The mention columns are built as whole columns: the article's own values repeated by its
    # number of mentions, the mentions' fields transposed (no dict per mention).
    per_article = pa.array([len(found) for found in mentions], pa.int64())
    flat = [m for found in mentions for m in found]
    types, surfaces, keys, fields, starts = zip(*flat) if flat else ((), (), (), (), ())
    repeat = pa.array(np.repeat(np.arange(n), per_article.to_numpy()))
    columns = {
        "article_id": articles["article_id"].take(repeat),
        "entity_id": [f"{t}:{k}" for t, k in zip(types, keys)],
        "entity_type": types,
        "entity_name": keys,
        "surface": surfaces,
        "field": fields,
        "position": starts,
        "source_file": articles["source_file"].take(repeat),
        "record_no": articles["record_no"].take(repeat),
    }
    return articles, pa.table(
        {
            f.name: columns[f.name]
            if isinstance(columns[f.name], pa.ChunkedArray)
            else pa.array(list(columns[f.name]), f.type)
            for f in MENTIONS_WITH_PROVENANCE
        },
        schema=MENTIONS_WITH_PROVENANCE,
    )
