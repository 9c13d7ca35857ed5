"""In-memory archives for tests: ordinary ones, and the hostile kinds a dump may carry."""

from __future__ import annotations

import io
import tarfile
import zipfile


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip holding ``entries`` (name -> content); names are written as given, ``../`` included."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_gz_bytes(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    """A .tar.gz holding ``entries``, plus a symbolic link named ``symlink`` to /etc/passwd when given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()
