"""The news agency or byline an article credits, by its canonical key: ``agency``.

Agencies and their spellings come from ``gazetteer/agencies.tsv`` (through
``etl.enrich.gazetteers``, whose ``GAZETTEER_VERSION`` covers that file too). The credit is read by
the dateline grammar (``etl.enrich.dateline``): the agency of the dateline's bracket or after its
dash, else one closing the story, else one closing the headline. An agency named as a source in
the running text (``رائٹرز کے مطابق``) is not the article's credit, and the generic "agencies"
(``غیر ملکی خبر ایجنسی``) credit nobody. The pipeline stores the credit as written beside this key
(``agency`` and ``agency_key``).
"""

from __future__ import annotations

from etl.enrich.dateline import closing_credit, parse_dateline


def agency(body: str, headline: str | None = None) -> str | None:
    """The canonical key of the agency or byline an article credits, or ``None``.

    Looked for, in order: the dateline at the start of the body (UrduPoint's bracket, a
    newspaper's ``(نمائندہ جنگ)``, an agency's ``ٹوکیو۔ 3 جولائی (اے پی پی)``), a closing credit at
    the end of the body, one at the end of the headline. A bare UrduPoint dateline without an
    agency is the paper's own copy and gives ``None``.
    """
    if not body:
        return None
    key = parse_dateline(body).agency_key
    if key is None and headline:
        key = closing_credit(headline)[1]
    return key
