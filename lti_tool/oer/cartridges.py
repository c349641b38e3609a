"""Cartridges in and out of the library, through the packager's reader, validator and builder.

An import is all or nothing: the upload is spooled to a temporary file, read
with ``oer_packager.reader`` (which refuses hostile archives), and stored in
one transaction; on any error the transaction is rolled back and the files it
created are removed. An export builds into an anonymous temporary file that
is streamed and disappears when the response is closed.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from lti_tool.oer import blobs, media
from lti_tool.oer.models import OerCollection
from lti_tool.oer.store import save_model, to_model
from oer_packager.errors import PackagingError
from oer_packager.findings import Finding

log = logging.getLogger(__name__)

CC_VERSIONS = ("1.1", "1.3")
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Imported:
    collection: OerCollection
    version: str
    findings: list[Finding] = field(default_factory=list)


class ImportFailed(Exception):
    """The import was refused or failed; nothing was stored. ``message`` and ``findings`` are for the page."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.findings = list(findings or [])


def spool(upload: FileStorage | None, limit: int) -> Path:
    """Copy an uploaded cartridge to a temporary file, refusing what is not a zip or too large."""
    if upload is None or not upload.filename:
        raise ImportFailed(_("Please choose a cartridge file (.imscc)."))
    if media.extension(upload.filename) not in ("imscc", "zip"):
        raise ImportFailed(_("Please choose a Common Cartridge file ending in .imscc."))
    # The reader names an untitled collection after the file: keep the uploaded name.
    folder = Path(tempfile.mkdtemp(dir=blobs.tmp_dir()))
    stem = media.safe_filename(upload.filename).rsplit(".", 1)[0] or "cartridge"
    path = folder / (stem + ".imscc")
    try:
        size = 0
        with path.open("xb") as out:
            while chunk := upload.stream.read(blobs.CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ImportFailed(_("The file is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024)))
                out.write(chunk)
        if size == 0:
            raise ImportFailed(_("The file is empty."))
        with path.open("rb") as fh:
            if fh.read(4) != ZIP_MAGIC:
                raise ImportFailed(_("This file is not a cartridge: it is not a zip archive."))
    except BaseException:
        remove(path)
        raise
    return path


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def import_cartridge(s: Session, network_id: int, person_id: int | None, upload: FileStorage | None) -> Imported:
    """Read, validate and store an uploaded cartridge as a new collection, or store nothing."""
    from oer_packager import reader, validator

    path = spool(upload, media.upload_limit())
    created: list[str] = []
    cartridge = None
    try:
        try:
            cartridge = reader.read_cartridge(path)
            findings = list(cartridge.findings or [])
            try:
                findings += validator.validate(path)
            except PackagingError as exc:  # readable but not checkable: say so, keep the import
                findings += exc.findings
            stem = Path(upload.filename or "").stem if upload else ""
            coll = save_model(s, network_id, person_id, cartridge.collection, cartridge.source, created,
                              fallback_title=stem)
            s.commit()
        except PackagingError as exc:
            s.rollback()
            blobs.discard(s, created)
            # name the upload, never the server's temporary path
            shown = upload.filename if upload and upload.filename else path.name
            findings = [replace(f, location=f.location.replace(str(path), shown),
                                message=f.message.replace(str(path), shown)) for f in exc.findings]
            raise ImportFailed(exc.message.replace(str(path), shown), findings) from exc
        except SQLAlchemyError as exc:
            s.rollback()
            blobs.discard(s, created)
            log.warning("oer: import could not be stored", exc_info=True)
            raise ImportFailed(_("The cartridge could not be stored in the library.")) from exc
        except blobs.BlobTooLarge as exc:
            s.rollback()
            blobs.discard(s, created)
            raise ImportFailed(str(exc)) from exc
        except BaseException:
            s.rollback()
            blobs.discard(s, created)
            raise
        return Imported(coll, cartridge.version, _dedupe(findings))
    finally:
        close = getattr(cartridge, "close", None)
        if callable(close):
            close()
        remove(path)


class ExportRefused(Exception):
    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.findings = list(findings or [])


def build_cartridge(s: Session, coll: OerCollection, cc_version: str) -> IO[bytes]:
    """Build the collection into an anonymous temporary file, positioned at its start."""
    from oer_packager import builder
    from oer_packager.findings import has_errors

    if cc_version not in CC_VERSIONS:
        raise ExportRefused(_("Unknown Common Cartridge version."))
    model, source = to_model(s, coll)
    out = tempfile.TemporaryFile(dir=blobs.tmp_dir())
    try:
        report = builder.build(model, source, out, cc_version=cc_version, allow_non_oer=False)
    except PackagingError as exc:
        out.close()
        raise ExportRefused(exc.message, exc.findings) from exc
    except BaseException:
        out.close()
        raise
    if has_errors(list(report.findings or [])):
        out.close()
        raise ExportRefused(_("The cartridge has errors."), list(report.findings))
    out.seek(0)
    return out
