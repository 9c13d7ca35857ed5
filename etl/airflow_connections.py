"""An Airflow connection looked up so that "not defined" and "could not be read" stay apart.

Airflow's own ``Connection.get`` takes a secrets backend that fails, or an Execution API that does
not answer, for one that has no such connection. The warehouse (``etl.load.warehouse_url``) and
the fetch's logins (``etl.fetch.credentials``) must not: a sealed Vault is not "use SQLite" nor
"fetch without a login". Here the configured backends are asked in Airflow's order, and a failure
is raised as the caller's error class (transient, so Airflow retries the task).
"""

from __future__ import annotations

from etl.errors import EtlError


def airflow_connection(conn_id: str, error: type[EtlError], consequence: str = ""):
    """The connection from the first secrets backend that has it, its secrets masked in task logs;
    ``None`` when none has it. A backend that fails raises ``error``, naming the backend and its
    failure, its message ending with ``consequence`` (e.g. "; not falling back to SQLite")."""
    try:
        from airflow.sdk.execution_time.secrets.execution_api import ExecutionAPISecretsBackend
        from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded
    except ImportError:  # another Airflow layout: its own lookup, which tells only "not defined"
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return _masked(Connection.get(conn_id))
        except AirflowNotFoundException:
            return None
        except Exception as exc:
            raise error(f"could not read the Airflow connection {conn_id}: {_failure(exc)}{consequence}") from exc
    for backend in ensure_secrets_backend_loaded():
        try:
            if isinstance(backend, ExecutionAPISecretsBackend):
                conn = from_execution_api(conn_id, error, consequence)
            else:
                conn = backend.get_connection(conn_id=conn_id)
        except EtlError:
            raise
        except Exception as exc:
            raise error(
                f"could not read the Airflow connection {conn_id} from the secrets backend "
                f"{type(backend).__name__}: {_failure(exc)}{consequence}"
            ) from exc
        if conn is not None:
            return _masked(conn)
    return None


def from_execution_api(conn_id: str, error: type[EtlError], consequence: str = ""):
    """The connection as the API server gives it to a task; ``None`` only when it answers "not found".

    Airflow's own ``ExecutionAPISecretsBackend`` answers None for any failed request, so the
    request is made here, where "not found" and "failed" can be told apart.
    """
    from airflow.sdk.exceptions import ErrorType
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import ErrorResponse, GetConnection
    from airflow.sdk.execution_time.context import _process_connection_result_conn

    answer = task_runner.SUPERVISOR_COMMS.send(GetConnection(conn_id=conn_id))
    if isinstance(answer, ErrorResponse):
        if answer.error == ErrorType.CONNECTION_NOT_FOUND:
            return None
        raise error(
            f"could not read the Airflow connection {conn_id} from the API server: "
            f"{answer.error.value} {answer.detail or ''}".rstrip()
            + consequence
        )
    return _process_connection_result_conn(answer)


def _failure(exc: BaseException) -> str:
    """An exception in one line of at most 200 characters: its type and its message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _masked(conn):
    """The connection, its password and extra masked in task logs, as ``Connection.get`` does."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:
        return conn
    if conn.password:
        mask_secret(conn.password)
    if conn.extra:
        mask_secret(conn.extra)
    return conn
