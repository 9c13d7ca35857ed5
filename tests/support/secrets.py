"""A secrets backend that fails, as a sealed Vault or an unreachable secrets manager does, for the
warehouse's connection; ``[secrets] backend = tests.support.secrets.FailingSecretsBackend``."""

from __future__ import annotations

from airflow.sdk.bases.secrets_backend import BaseSecretsBackend

FAILING_CONN_ID = "urdu_warehouse"


class FailingSecretsBackend(BaseSecretsBackend):
    """Raises for the warehouse connection; has nothing else."""

    def get_conn_value(self, conn_id: str, team_name: str | None = None) -> str | None:
        if conn_id == FAILING_CONN_ID:
            raise ConnectionError("secrets backend unreachable: connection refused")
        return None

    def get_variable(self, key: str, team_name: str | None = None) -> str | None:
        return None
