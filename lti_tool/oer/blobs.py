"""Content-addressed file storage of the OER library.

A file is streamed into a temporary file next to its target while it is
hashed, then renamed to ``<instance>/oer/<sha[:2]>/<sha256>``: no reader ever
sees a half-written file, and the same content is stored once. Rows in
``oer_blob`` say which files belong to the library; ``discard`` removes files
this request created when its transaction did not commit.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.oer.models import OerAsset, OerBlob, OerNode

CHUNK = 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobTooLarge(ValueError):
    """A file exceeds the limit; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(_("The file is too large (at most %(mb)d MB).", mb=max(1, limit // (1024 * 1024))))
        self.limit = limit


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    #: True when this call wrote the file (it did not exist before)
    created: bool


def root() -> Path:
    return Path(bridge().settings.instance_dir) / "oer"


def tmp_dir() -> Path:
    path = root() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def blob_path(sha256: str) -> Path:
    if not SHA256.match(sha256):
        raise ValueError("not a sha256")
    return root() / sha256[:2] / sha256


def put(stream: IO[bytes], *, limit: int, prefix: bytes = b"") -> Stored:
    """Store ``prefix`` + the rest of ``stream``; refuse more than ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir(), suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            chunk = prefix
            while True:
                if chunk:
                    size += len(chunk)
                    if size > limit:
                        raise BlobTooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
        sha = digest.hexdigest()
        target = blob_path(sha)
        if target.exists():
            tmp.unlink()
            return Stored(sha, size, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)  # atomic: the file appears whole or not at all
        return Stored(sha, size, created=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def put_bytes(data: bytes, *, limit: int) -> Stored:
    import io

    return put(io.BytesIO(data), limit=limit)


def ensure_row(s: Session, stored: Stored) -> None:
    """Add the ``oer_blob`` row for a stored file unless this session already has it."""
    if s.get(OerBlob, stored.sha256) is None:
        s.add(OerBlob(sha256=stored.sha256, size=stored.size))
        s.flush()


def references(s: Session, sha256: str) -> int:
    nodes = s.scalar(select(func.count()).select_from(OerNode).where(OerNode.blob_sha256 == sha256)) or 0
    assets = s.scalar(select(func.count()).select_from(OerAsset).where(OerAsset.blob_sha256 == sha256)) or 0
    return nodes + assets


def release(s: Session, shas: Iterable[str]) -> list[str]:
    """Delete the rows of blobs nobody refers to any more; returns them for ``unlink`` after commit."""
    gone = []
    for sha in dict.fromkeys(x for x in shas if x):
        if references(s, sha) == 0:
            row = s.get(OerBlob, sha)
            if row is not None:
                s.delete(row)
            gone.append(sha)
    s.flush()
    return gone


def unlink(shas: Iterable[str]) -> None:
    for sha in shas:
        blob_path(sha).unlink(missing_ok=True)


def discard(s: Session, created: Iterable[str]) -> None:
    """After a rollback: remove files this request created that no committed row refers to."""
    for sha in dict.fromkeys(created):
        if s.get(OerBlob, sha) is None:
            blob_path(sha).unlink(missing_ok=True)
