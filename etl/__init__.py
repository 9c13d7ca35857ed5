"""Urdu news ETL: fetch dumps, clean and segment Urdu text, enrich, load a Parquet lake and a SQL warehouse.

The package runs without Airflow; the DAGs in ``dags/`` only wire its stages together.
"""

__version__ = "0.2.0"
