"""Files uploaded into a workspace: size-limited, type-checked by content."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.workspaces.models import Upload

MAX_BYTES = 20 * 1024 * 1024
#: extension -> (content type, check of the first bytes)
TYPES: dict[str, tuple[str, bytes | None]] = {
    "pdf": ("application/pdf", b"%PDF-"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "gif": ("image/gif", b"GIF8"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK\x03\x04"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    "odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    "odp": ("application/vnd.oasis.opendocument.presentation", b"PK\x03\x04"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", b"PK\x03\x04"),
    "txt": ("text/plain", None),
    "md": ("text/markdown", None),
    "csv": ("text/csv", None),
}


class UploadError(ValueError):
    """The file is refused; the message says why (for the user)."""


def _safe_name(name: str) -> str:
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .") or "datei"
    return cleaned[:120]


def save_upload(network_id: int, person_id: int | None, file: FileStorage | None) -> Upload:
    """Check and store a file; adds the ``Upload`` row to the session (caller commits)."""
    if file is None or not file.filename:
        raise UploadError(_("Please choose a file."))
    name = _safe_name(file.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in TYPES:
        raise UploadError(_("This file type is not allowed. Allowed: %(types)s.", types=", ".join(sorted(TYPES))))
    data = file.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UploadError(_("The file is too large (at most %(mb)d MB).", mb=MAX_BYTES // (1024 * 1024)))
    if not data:
        raise UploadError(_("The file is empty."))
    content_type, magic = TYPES[ext]
    if magic is not None and not data.startswith(magic):
        raise UploadError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
    if magic is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UploadError(_("Text files must be UTF-8.")) from exc
    digest = hashlib.sha256(data).hexdigest()
    root = Path(bridge().settings.instance_dir) / "uploads" / str(network_id)
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{digest}.{ext}"
    if not target.exists():
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic: no half-written file is ever visible
    row = Upload(
        network_id=network_id,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_path=f"{network_id}/{digest}.{ext}",
        uploaded_by=person_id,
    )
    db_session().add(row)
    return row


def upload_path(row: Upload) -> Path:
    return Path(bridge().settings.instance_dir) / "uploads" / row.storage_path
