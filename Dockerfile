# Airflow image for the Urdu news ETL: the official image plus our Python
# dependencies, installed at build time (not at container start).
FROM apache/airflow:3.3.2-python3.11

# The official image runs pip as the `airflow` user; keep it that way.
USER airflow

COPY requirements.txt /tmp/requirements.txt

# Pinning apache-airflow to the image's own version stops a requirement from
# silently up- or downgrading Airflow; no constraints file is needed.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt

# dags/, plugins/, etl/, config/ and data/ are mounted by docker-compose.yml;
# PYTHONPATH=/opt/airflow (set there) makes `import etl` work.
