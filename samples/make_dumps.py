"""Build the bundled sample dumps in ``samples/dumps/<day>/`` from the readable sources in ``samples/articles/``.

One dump per supported layout, each in a different container, so ``make run`` exercises
every reader and archive kind:

- ``seed/``            a folder of seed-layout ``.txt`` files;
- ``bbc_voa.tar.gz``   BBC/VOA ``.doc`` files, hard-wrapped at 70 columns, in category folders;
- ``news.csv.gz``      a gzipped CSV (with a duplicate URL and an empty body);
- ``news.jsonl.zip``   a zipped JSONL file (with one broken line, and a copy of a seed story).

The output is byte-for-byte reproducible (fixed timestamps and ordering), so the committed
dumps can be checked against a rebuild.
"""

from __future__ import annotations

import gzip
import io
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAY = "2021-04-07"
WIDTH = 70


def wrap_block(text: str) -> list[str]:
    """Hard-wrap at exactly WIDTH characters, breaking anywhere; right-align the last line."""
    lines = [text[i : i + WIDTH] for i in range(0, len(text), WIDTH)]
    lines[-1] = lines[-1].rjust(WIDTH)
    return lines


def bbc_doc(title: str, summary: str, date: str, body: str) -> str:
    out = [" "]
    for block in (title, summary, date, body):
        out += wrap_block(block) + ["", "  "]
    return "\n".join(out[:-1]) + "\n"


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def build(out_root: Path) -> Path:
    src = HERE / "articles"
    out = out_root / DAY
    shutil.rmtree(out, ignore_errors=True)
    (out / "seed").mkdir(parents=True)
    for f in sorted((src / "seed").glob("*.txt")):
        shutil.copyfile(f, out / "seed" / f.name)

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for f in sorted((src / "bbc_voa").glob("*/*.txt")):
            title, summary, date, body = f.read_text(encoding="utf-8").strip().split("\n", 3)
            _tar_add(
                tar,
                f"bbc_voa/{f.parent.name}/{title}.doc",
                bbc_doc(title, summary, date, body.replace("\n", " ")).encode(),
            )
    (out / "bbc_voa.tar.gz").write_bytes(buf.getvalue())

    with (
        open(out / "news.csv.gz", "wb") as fh,
        gzip.GzipFile(filename="news.csv", fileobj=fh, mode="wb", mtime=0) as gz,
    ):
        gz.write((src / "news.csv").read_bytes())

    with zipfile.ZipFile(out / "news.jsonl.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("news.jsonl", date_time=(2021, 4, 7, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, (src / "news.jsonl").read_bytes())
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dumps"))
