-- Runs once, when the postgres service starts with an empty data volume
-- (files in /docker-entrypoint-initdb.d are executed by the official image
-- as POSTGRES_USER, connected to POSTGRES_DB = airflow).
--
-- The Airflow metadata DB (`airflow`) is created by the image itself; this
-- adds the separate warehouse database the pipeline loads into. DAGs reach
-- it through the Airflow connection `urdu_warehouse`
-- (AIRFLOW_CONN_URDU_WAREHOUSE in docker-compose.yml).
CREATE DATABASE warehouse;
