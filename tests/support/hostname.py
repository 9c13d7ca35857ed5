"""``[core] hostname_callable`` for test workers. Two Airflow workers on one machine share its
host name, so each is started with its own ``URDU_ETL_TEST_HOSTNAME`` and records that name on
the task instances it runs (falls back to the machine's name when the variable is unset)."""

from __future__ import annotations

import os
import socket


def from_env() -> str:
    return os.environ.get("URDU_ETL_TEST_HOSTNAME") or socket.getfqdn()
