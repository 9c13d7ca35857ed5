"""Dedup stage: the same article twice, and copies of one story, resolved while the lake is written.

Two kinds of duplicate (README, "Copies vs duplicates"):

* ``same_key``: one source lists the same article (same URL or id) more than once. The first
  record in dump order loads; the others become rows of ``duplicates`` pointing at it.
* copies: the same story under other URLs or on other sites, found by content hash (exact) and
  MinHash/LSH (near), then by word-3-gram containment with agreeing numbers and entities
  (rewrite), against the day's sources and earlier days (``copies``). Each loads, and its
  ``duplicate_of`` names its cluster's canonical article; copies and articles about the same event
  share a ``story_id``. ``minhash`` makes the signatures and ``rewrites`` the second stage's
  sketches (at transform time, per article), ``clusters`` finds the clusters.
"""
