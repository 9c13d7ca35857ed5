"""Download one ``http(s)://`` file by a single streaming GET, held to the fetch's limits.

The standard library's ``urllib`` is used, not fsspec's HTTP file: fsspec reads a file in blocks
by ``Range`` requests (a server without ``Range`` support, such as ``python -m http.server``,
cannot serve a file larger than one block) and decodes ``Content-Encoding`` out of sight. One
plain GET needs nothing of the server, and reading the bytes as they came off the wire lets the
fetch count them: the Content-Length is checked both ways (a body shorter or longer than
announced is a truncated transfer, retried), a gzip or deflate encoding is decoded here with the
decoded size and the decoded/wire ratio capped (``archives.MAX_RATIO``), and an overall deadline
stops a server that trickles its bytes.

The answer tells a missing dump (404, 410: ``NoDumpError``) from a server fault (5xx, 429:
``TransientFetchError``) and from a refusal that will repeat (401, 403, other 4xx: ``FetchError``).
A login goes as basic auth to the URL's own scheme, host and port, never along a redirect elsewhere.
The deadline is kept by a watchdog that cuts the connection, so a server that trickles its status
line or headers stops too; each read also waits at most ``URDU_ETL_FETCH_TIMEOUT``.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from etl.errors import FetchError, NoDumpError, TransientFetchError
from etl.fetch.archives import MAX_RATIO, archive_kind
from etl.fetch.credentials import Login
from etl.fetch.limits import Deadline, LimitExceeded, Sink

_CHUNK = 1 << 20
#: Decoded bytes allowed beyond ``MAX_RATIO`` times the wire bytes: the first block of a small answer.
_RATIO_SLACK = 1 << 20
#: How long to wait, after the announced Content-Length, for bytes a lying server sends beyond it.
_EXTRA_WAIT = 1.0


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects; the login goes along only to the original scheme, host and port."""

    def __init__(self, url: str, authorization: str | None) -> None:
        self.origin, self.authorization = _origin(url), authorization

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and self.authorization and _origin(newurl) == self.origin:
            new.add_unredirected_header("Authorization", self.authorization)
        return new


class _Tracked:
    """The sockets a request opens, so that a watchdog can cut them when the deadline passes (also
    while the server trickles its status line or headers, where no read loop of ours runs)."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []

    def connection(self, base: type[http.client.HTTPConnection]):
        tracked = self

        class Connection(base):  # type: ignore[valid-type,misc]
            def connect(self) -> None:
                super().connect()
                tracked.sockets.append(self.sock)

        return Connection

    def handlers(self) -> list[urllib.request.BaseHandler]:
        tracked = self

        class HTTP(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(tracked.connection(http.client.HTTPConnection), req)

        context = ssl.create_default_context()

        class HTTPS(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(tracked.connection(http.client.HTTPSConnection), req, context=context)

        return [HTTP(), HTTPS()]

    def cut(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @property
    def last(self) -> socket.socket | None:
        return self.sockets[-1] if self.sockets else None


class _Decoder:
    """Decodes a gzip or deflate body piece by piece (each piece at most ``_CHUNK`` bytes), member after member."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header
        self.done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self.done:  # a further gzip member follows the first
                if not data.strip(b"\0"):
                    return  # padding after the last member
                self._z, self.done = zlib.decompressobj(32 + zlib.MAX_WBITS), False
            out = self._z.decompress(data, _CHUNK)
            if self._z.eof:
                self.done = True
                data = self._z.unused_data
            else:
                data = self._z.unconsumed_tail
            if out:
                yield out


def download(
    url: str,
    target: Path,
    *,
    login: Login | None,
    timeout: float,
    deadline: Deadline,
    max_bytes: int,
) -> tuple[int, str]:
    """GET ``url`` (without userinfo) into ``target``; returns its size and sha256. Messages do not
    name the URL: the caller puts it, without a password, in front."""
    authorization = None
    if login is not None:
        token = base64.b64encode(f"{login.user}:{login.password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate", "User-Agent": "urdu-etl"})
    if authorization:
        request.add_unredirected_header("Authorization", authorization)
    tracked = _Tracked()
    opener = urllib.request.build_opener(*tracked.handlers(), _Redirects(url, authorization))
    watchdog = threading.Timer(max(0.0, deadline.remaining()), tracked.cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            resp = opener.open(request, timeout=max(0.001, min(timeout, deadline.remaining())))
        except urllib.error.HTTPError as exc:
            exc.close()
            raise _status_error(exc.code, exc.reason, login) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            deadline.check()
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise FetchError(f"the server's TLS certificate is not trusted: {reason}") from None
            raise TransientFetchError(f"{type(exc).__name__}: {reason}") from None
        with resp:
            try:
                return _read_body(resp, tracked.last, target, timeout, deadline, max_bytes, urlsplit(url).path)
            except TimeoutError:
                deadline.check()
                raise TransientFetchError(f"no byte came for {timeout:g} s (URDU_ETL_FETCH_TIMEOUT)") from None
            except (OSError, http.client.HTTPException) as exc:
                deadline.check()
                raise TransientFetchError(f"the transfer broke off: {type(exc).__name__}: {exc}") from None
            except zlib.error as exc:
                raise FetchError(f"the body does not decode as its Content-Encoding says: {exc}") from None
    finally:
        watchdog.cancel()


def _status_error(code: int, reason: str, login: Login | None) -> FetchError:
    if code in (404, 410):
        return NoDumpError(f"answered {code}")
    text = f"HTTP {code} {reason}"
    if code in (401, 403):
        return FetchError(f"{text} (login from {login.origin})" if login else f"{text} (no login was sent)")
    return TransientFetchError(text) if code >= 500 or code == 429 else FetchError(text)


def _read_body(
    resp, sock: socket.socket | None, target: Path, timeout: float, deadline: Deadline, max_bytes: int, path: str
):
    announced = resp.getheader("Content-Length")
    length = int(announced) if announced and announced.strip().isdigit() and not resp.chunked else None
    encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
    decoder: _Decoder | None = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        # a .gz file sent with Content-Encoding: gzip is kept as sent: the archive step expands it, capped
        if not (encoding != "deflate" and archive_kind(path) in ("gz", "tar.gz")):
            decoder = _Decoder()
    elif encoding != "identity":
        raise FetchError(f"answered with Content-Encoding {encoding!r}, which the fetch cannot decode")
    if decoder is None and length is not None and length > max_bytes:
        raise FetchError(f"announces {length} bytes, over the {max_bytes} byte limit of one fetched file")
    # read to the end of the connection (the request asks to close it), and compare with Content-Length here
    resp.length = None
    wire = 0
    with Sink(target, max_bytes) as sink:
        try:
            while length is None or wire < length:
                deadline.check()
                chunk = resp.read1(_CHUNK)
                if not chunk:
                    break
                wire += len(chunk)
                if decoder is None:
                    sink.write(chunk)
                    continue
                for piece in decoder.feed(chunk):
                    sink.write(piece)
                    if sink.size > MAX_RATIO * wire + _RATIO_SLACK:
                        raise FetchError(
                            f"its Content-Encoding {encoding} expands more than {MAX_RATIO} times "
                            f"(refusing a possible compression bomb)"
                        )
        except LimitExceeded as exc:
            raise FetchError(str(exc)) from None
        deadline.check()  # the watchdog cuts the connection at the deadline: an end then is no end
        if length is not None and wire < length:
            raise TransientFetchError(f"truncated transfer: {wire} of the {length} bytes announced came")
        if length is not None and (wire > length or _more_follows(resp, sock, deadline)):
            raise TransientFetchError(f"the server sent more than the {length} bytes it announced")
        if decoder is not None and not decoder.done:
            raise TransientFetchError(f"truncated transfer: the {encoding} stream ends early")
    return sink.size, sink.sha256


def _more_follows(resp, sock: socket.socket | None, deadline: Deadline) -> bool:
    """Whether bytes follow the announced Content-Length (waits briefly for the server to close)."""
    if sock is not None:
        sock.settimeout(max(0.001, min(_EXTRA_WAIT, deadline.remaining())))
    try:
        return bool(resp.read1(1))
    except (TimeoutError, OSError, http.client.HTTPException):
        return False  # the server keeps the connection open and sends nothing more
