"""Load stage: the Parquet lake and the SQL warehouse."""
