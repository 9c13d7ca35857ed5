# Airflow image for the Urdu news ETL: the official image plus this package (`etl`, the
# `urdu-etl` command) and its dependencies, installed at build time (not at container start).
FROM apache/airflow:3.3.2-python3.11

# The official image runs pip as the `airflow` user; keep it that way.
USER airflow

COPY --chown=airflow:0 pyproject.toml README.md requirements.txt constraints.txt /tmp/urdu-etl/
COPY --chown=airflow:0 etl /tmp/urdu-etl/etl

# constraints.txt pins every package to the versions the tests ran with; pinning apache-airflow
# to the image's own version also stops a requirement from up- or downgrading Airflow.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/urdu-etl/requirements.txt \
        -c /tmp/urdu-etl/constraints.txt \
    && pip install --no-cache-dir --no-deps /tmp/urdu-etl \
    && rm -rf /tmp/urdu-etl

# dags/, plugins/, config/ and data/ are mounted by docker-compose.yml; the DAG, the plugin and
# the tasks import the installed package.
