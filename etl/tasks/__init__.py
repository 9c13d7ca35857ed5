"""The run's Airflow tasks, one module each, in order; each takes and returns the named records of
``etl.contracts``, so the same calls run under Airflow (``dags/urdu_news_nightly.py``), in one
process (``etl.runner``, the command line) and in tests.

=================  ==============================================  ===========================
task               does                                            takes -> returns
=================  ==============================================  ===========================
``fetch``          stage each source's dump, cut it into shards    sources, day -> [Shard]
``transform``      read, clean, segment, enrich one shard          Shard -> ShardResult
``write_lake``     same-key duplicates, copy search, partitions    [ShardResult] -> LakeReport
``load_warehouse`` the day's partitions into the warehouse         LakeReport -> LoadReport
``check``          invariants, run summary and report              LakeReport, LoadReport -> RunSummary
=================  ==============================================  ===========================
"""
