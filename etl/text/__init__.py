"""The text stage: clean, then segment, Urdu text.

The specification is a set of plain functions over one string, each rule written once, with its
tables in ``rules/``:

* ``repair.py``: mojibake and HTML remnants (``repair_raw``), page furniture (``remove_boilerplate``);
* ``normalize.py``: characters, compositions, digits, spacing (``normalize``);
* ``segment.py``: paragraphs, sentences, tokens (``paragraphs``, ``sentences``, ``tokens``);
* ``boundary.py``: the sentence ends a source left out, put back by a small model learnt from the
  corpora's own punctuation (weights in ``rules/boundary_model.npz``), for ``sentences``.

The pipeline runs the same rules over a whole column at once, held to the specification byte for
byte by ``tests/test_text_batch.py``, ``tests/test_segment_batch.py`` and
``bench/text_identity.py``:

* ``clean_column.py``: a column of bodies repaired, normalized and stripped of furniture;
* ``segment_column.py``: a column of clean bodies split into sentences and tokens;
* ``compiled/``: the byte scanners both use, compiled by numba (``normalize_scan.py`` for
  ``normalize``, ``token_scan.py`` for the token regex, ``boundary_scan.py`` for the boundary
  model's features and decoding, run by ``sentences`` and by the column path alike); their tables
  are built from the same rule files and patterns, and a row a scan cannot do exactly is handed
  back to the specification.

A change of a rule is a change of the specification first; the column path and the scans follow,
and the tests say where they differ.
"""
