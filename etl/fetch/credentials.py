"""Credentials of a dump's URL, and the URL as messages show it (its password as ``***``).

A web dump's login comes from the first of these that has one:

1. the URL's userinfo, ``https://user:password@host/...`` (percent-encode ``@ : / #`` in the password);
2. the Airflow connection ``urdu_etl_fetch_<source name>``: the variable
   ``AIRFLOW_CONN_URDU_ETL_FETCH_<SOURCE NAME>`` (a URI or Airflow's JSON form), or, inside an
   Airflow task, Airflow's secrets backends. A connection that names a host applies to that host only;
3. the netrc file (``NETRC``, else ``~/.netrc``), the entry of the URL's host (or its ``default``).

The password is sent as HTTP basic auth, to the URL's host only, and never shown: every message,
log line and manifest entry shows ``redact(url)``.
"""

from __future__ import annotations

import json
import netrc
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from etl.airflow_connections import airflow_connection
from etl.errors import FetchError, TransientFetchError
from etl.settings import outside_variable

CONN_PREFIX = "urdu_etl_fetch_"
MASK = "***"


@dataclass(frozen=True)
class Login:
    """A user name and password, and where they came from (for messages: never the password)."""

    user: str
    password: str
    origin: str


def split_userinfo(url: str) -> tuple[str, Login | None]:
    """``url`` without its userinfo, and the login the userinfo held (``None`` when it had none)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    bare = urlunsplit(parts._replace(netloc=hostport))
    if not user and not sep:
        return bare, None
    return bare, Login(unquote(user), unquote(password), "the URL")


def redact(url: str) -> str:
    """``url`` with the password of its userinfo shown as ``***`` (any URL, also a template)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@", 1)[-1] if "://" in url else url
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, _password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=f"{user}{':' + MASK if sep else ''}@{hostport}"))


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (as given and percent-encoded) replaced by ``***``."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, MASK)
    return text


def login_for(url: str, source: str) -> Login | None:
    """The login to send with ``url`` (already without userinfo) for ``source``, or ``None``."""
    host = (urlsplit(url).hostname or "").lower()
    return _from_airflow(CONN_PREFIX + source, host) or _from_netrc(host)


def _from_netrc(host: str) -> Login | None:
    configured = outside_variable("NETRC")
    path = Path(configured).expanduser() if configured else Path.home() / ".netrc"
    if not host or not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        # the parser's message quotes the offending line, which may be a password: name the file only
        line = getattr(exc, "lineno", None)
        raise FetchError(f"the netrc file {path} cannot be read{f' (line {line})' if line else ''}") from None
    if not entry:
        return None
    user, _account, password = entry
    return Login(user or "", password or "", f"the netrc file {path}")


def _from_airflow(conn_id: str, host: str) -> Login | None:
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = outside_variable(variable)
    if value:
        try:
            conn_host, user, password = _parse_conn_value(value)
        except (ValueError, TypeError, AttributeError):
            raise FetchError(f"{variable} is not a connection URI or JSON") from None
        where = f"the connection {variable}"
    elif "airflow.sdk" in sys.modules:
        conn = _airflow_connection(conn_id)
        if conn is None:
            return None
        conn_host, user, password = conn.host, conn.login, conn.password
        where = f"the Airflow connection {conn_id}"
    else:
        return None
    if conn_host and conn_host.lower() != host:
        return None  # a connection for another host: its password is not sent here
    if not user and not password:
        return None
    return Login(user or "", password or "", where)


def _parse_conn_value(value: str) -> tuple[str | None, str | None, str | None]:
    """``(host, login, password)`` of an ``AIRFLOW_CONN_*`` value, a URI or Airflow's JSON form."""
    if value.lstrip().startswith("{"):
        d = json.loads(value)
        return d.get("host"), d.get("login"), d.get("password")
    parts = urlsplit(value)
    return (
        unquote(parts.hostname or "") or None,
        unquote(parts.username or "") or None,
        unquote(parts.password or "") or None,
    )


def _airflow_connection(conn_id: str):
    """The connection from the first of Airflow's secrets backends that has it; ``None`` when none
    has it. A backend or an API server that fails is an error (transient: Airflow retries the
    task), never "not defined", as for the warehouse's connection."""
    return airflow_connection(conn_id, TransientFetchError)


def mask(password: str) -> None:
    """Inside Airflow, have its task logs show ``password`` as ``***`` wherever it appears."""
    if "airflow.sdk" not in sys.modules or not password:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:
        return
    mask_secret(password)
