"""Instruments a network uploads: check, store, and resolve them next to the shipped library.

Rules (issue 4, "Network managers can upload their own instruments"):

* A file is YAML or JSON (at most :data:`MAX_BYTES`), checked by the instrument
  loader (schema and semantic rules) plus the rules here; every problem is a
  :class:`~lti_tool.selfeval.instruments.Finding` naming line and field path.
  A refused file stores nothing.
* An uploaded instrument needs its own id: the id of a shipped instrument is
  refused with a suggestion (``selbstevaluationsraster-lernen25``), so a
  variant can never be mistaken for the original in rounds and reports.
* Versions are immutable. The same id with a new version adds a version;
  ``id@version`` again with different content is refused ("raise the version");
  the same content again (byte for byte, or the same instrument with only
  comments/formatting changed) is a no-op that keeps the stored file.
* Withdrawing hides a version from new rounds; rounds that use it keep it, and
  so do their reports. A version used by a round is never deleted.

Resolution is always scoped to a network: a round's ``instrument_key`` is looked
up among the uploads of *the round's* network first, then in the shipped
library, so a round can never reach another network's upload. Parsed uploads are
cached by the SHA-256 of the stored file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePath

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import db_session, utcnow
from lti_tool.selfeval.instruments import Finding, Instrument, InstrumentError, list_instruments, load_instrument
from lti_tool.selfeval.instruments._source import Parsed, format_path, looks_like_json, parse
from lti_tool.selfeval.instruments.loader import SHIPPED
from lti_tool.selfeval.models import SelfevalInstrument, SelfevalRound
from lti_tool.workspaces.models import Network

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 1024
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
MEDIA_TYPES = {"yaml": "application/yaml", "json": "application/json"}
#: column widths the stored data must fit (instrument row, answers, responses)
MAX_ID, MAX_VERSION, MAX_ITEM_ID, MAX_GROUP_ID = 80, 40, 64, 40
CACHE_SIZE = 128


class InstrumentRefused(Exception):
    """An upload is refused: ``message`` for the person, ``findings`` with line and field path."""

    def __init__(self, message: str, findings: list[Finding] | tuple[Finding, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.findings = list(findings)


class InstrumentInUse(Exception):
    """A version used by a round cannot be deleted."""


@dataclass
class Added:
    row: SelfevalInstrument
    instrument: Instrument
    created: bool  # False: the same content was already stored (no-op)


# -- shipped library -------------------------------------------------------------------------


def shipped() -> dict[str, Instrument]:
    return {i.key: i for i in list_instruments()}


def shipped_ids() -> set[str]:
    return {i.id for i in list_instruments()}


@cache
def _shipped_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("lti_tool.selfeval.instruments")
    out = {}
    for name in SHIPPED:
        data = folder.joinpath(name).read_bytes()
        instrument = load_instrument(data)
        out[instrument.key] = (data, SUFFIXES.get(PurePath(name).suffix.lower(), "yaml"))
    return out


def shipped_file(key: str) -> tuple[bytes, str] | None:
    """The shipped file of ``key`` and its format ("yaml"/"json"), to start a variant from."""
    return _shipped_files().get(key)


# -- parsing, cached by content hash -------------------------------------------------------------

_cache: OrderedDict[str, Instrument] = OrderedDict()
_cache_lock = threading.Lock()


def parsed(row: SelfevalInstrument) -> Instrument | None:
    """The instrument of a stored version; None (logged) when the stored file no longer loads."""
    with _cache_lock:
        hit = _cache.get(row.sha256)
        if hit is not None:
            _cache.move_to_end(row.sha256)
            return hit
    data = bytes(row.content)
    digest = hashlib.sha256(data).hexdigest()
    if digest != row.sha256:
        log.error("selfeval: stored instrument %s of network %s does not match its hash", row.key, row.network_id)
        return None
    try:
        instrument = load_instrument(data)
    except InstrumentError:
        log.exception("selfeval: stored instrument %s of network %s no longer loads", row.key, row.network_id)
        return None
    with _cache_lock:
        _cache[digest] = instrument
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return instrument


# -- resolution -------------------------------------------------------------------------------


def own_rows(s: Session, network_id: int) -> list[SelfevalInstrument]:
    return list(s.scalars(select(SelfevalInstrument).where(SelfevalInstrument.network_id == network_id)
                          .order_by(SelfevalInstrument.instrument_id, SelfevalInstrument.uploaded_at,
                                    SelfevalInstrument.id)))


def own_row(s: Session, network_id: int, key: str) -> SelfevalInstrument | None:
    return s.scalar(select(SelfevalInstrument).where(SelfevalInstrument.network_id == network_id,
                                                     SelfevalInstrument.key == key))


def resolve(key: str, network_id: int | None, s: Session | None = None) -> Instrument | None:
    """The instrument ``key`` as seen from ``network_id``: its own upload first, then the shipped library.

    Own uploads come first so that a round keeps the version it was created with
    even if a later release ships an instrument with the same id and version."""
    if network_id is not None:
        row = own_row(s or db_session(), network_id, key)
        if row is not None:
            return parsed(row)
    return shipped().get(key)


def available(network_id: int | None, s: Session | None = None, *, for_new_rounds: bool = False
              ) -> dict[str, Instrument]:
    """Instruments by key: the shipped ones, plus the network's own (without withdrawn ones for new rounds)."""
    out = dict(shipped())
    if network_id is not None:
        for row in own_rows(s or db_session(), network_id):
            if for_new_rounds and row.withdrawn_at is not None:
                continue
            instrument = parsed(row)
            if instrument is not None:
                out[row.key] = instrument
    return out


def usage(s: Session, network_id: int) -> dict[str, list[SelfevalRound]]:
    """Rounds of the network per instrument key."""
    out: dict[str, list[SelfevalRound]] = {}
    for rnd in s.scalars(select(SelfevalRound).where(SelfevalRound.network_id == network_id)
                         .order_by(SelfevalRound.opens_at, SelfevalRound.id)):
        out.setdefault(rnd.instrument_key, []).append(rnd)
    return out


def rounds_using(s: Session, network_id: int, key: str) -> list[SelfevalRound]:
    return list(s.scalars(select(SelfevalRound).where(SelfevalRound.network_id == network_id,
                                                      SelfevalRound.instrument_key == key)
                          .order_by(SelfevalRound.opens_at, SelfevalRound.id)))


# -- adding ------------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._@ -]+", "_", base).strip(" .") or "instrument"
    return cleaned[:120]


def _slug(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text)[:24]


def suggest_id(instrument_id: str, network_name: str) -> str:
    return f"{instrument_id}-{_slug(network_name) or 'netzwerk'}"[:MAX_ID]


def next_version(version: str) -> str:
    """"1.0" -> "1.1", "1.2.3" -> "1.2.4" (a pre-release/build suffix is dropped)."""
    core = re.split(r"[-+]", version, maxsplit=1)[0]
    parts = core.split(".")
    if all(p.isdigit() for p in parts):
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return version + ".1"


def _at(parsed_src: Parsed, path: tuple[str | int, ...], message: str) -> Finding:
    line, column = parsed_src.locate(path)
    return Finding(line, column, format_path(path), message)


def _rule_findings(instrument: Instrument, src: Parsed, network_name: str) -> list[Finding]:
    """Rules of a network upload on top of the loader's: a distinct id, and ids that fit the columns."""
    findings = []
    if instrument.id in shipped_ids():
        findings.append(_at(src, ("id",), _(
            "'%(id)s' is the id of an instrument shipped with LMS Bridge. A variant needs its own id, "
            "e.g. '%(suggestion)s'.", id=instrument.id, suggestion=suggest_id(instrument.id, network_name))))
    if len(instrument.id) > MAX_ID:
        findings.append(_at(src, ("id",), _("is too long (at most %(n)d characters)", n=MAX_ID)))
    if len(instrument.version) > MAX_VERSION:
        findings.append(_at(src, ("version",), _("is too long (at most %(n)d characters)", n=MAX_VERSION)))
    for s_index, section in enumerate(instrument.sections):
        for i_index, item in enumerate(section.items):
            if len(item.id) > MAX_ITEM_ID:
                findings.append(_at(src, ("sections", s_index, "items", i_index, "id"),
                                    _("is too long (at most %(n)d characters)", n=MAX_ITEM_ID)))
    for g_index, group in enumerate(instrument.respondent_groups):
        if len(group.id) > MAX_GROUP_ID:
            findings.append(_at(src, ("respondent_groups", g_index, "id"),
                                _("is too long (at most %(n)d characters)", n=MAX_GROUP_ID)))
    return findings


def check(data: bytes, filename: str, network_name: str) -> tuple[Instrument, str, str]:
    """Check an uploaded file; returns (instrument, format, safe file name) or raises :class:`InstrumentRefused`."""
    name = safe_filename(filename or "")
    if PurePath(name).suffix.lower() not in SUFFIXES:
        raise InstrumentRefused(_("Please upload a YAML (.yaml, .yml) or JSON (.json) file."))
    if not data:
        raise InstrumentRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise InstrumentRefused(_("The file is too large (at most %(kb)d KB).", kb=MAX_BYTES // 1024))
    not_stored = _("The file was not stored. Please correct these problems and upload it again.")
    try:
        instrument = load_instrument(data)
    except InstrumentError as exc:
        raise InstrumentRefused(not_stored, exc.findings) from None
    text = data.decode("utf-8-sig")
    fmt = "json" if looks_like_json(text) else "yaml"
    findings = _rule_findings(instrument, parse(text, as_json=fmt == "json", source=name), network_name)
    if findings:
        raise InstrumentRefused(not_stored, findings)
    return instrument, fmt, name


def _immutable(existing: SelfevalInstrument, data: bytes, fmt: str, filename: str) -> InstrumentRefused:
    text = data.decode("utf-8-sig")
    src = parse(text, as_json=fmt == "json", source=filename)
    message = _("Version %(version)s of '%(id)s' is already stored with different content. Versions are immutable "
                "— raise the version (e.g. to %(next)s) and upload the file again.",
                version=existing.version, id=existing.instrument_id, next=next_version(existing.version))
    return InstrumentRefused(_("The file was not stored."), [_at(src, ("version",), message)])


def add(s: Session, network_id: int, data: bytes, filename: str, person_id: int | None) -> Added:
    """Check and store one version of a network's instrument (commits); raises :class:`InstrumentRefused`."""
    network = s.get(Network, network_id)
    if network is None:
        raise LookupError(network_id)
    instrument, fmt, name = check(data, filename, network.name)
    digest = hashlib.sha256(data).hexdigest()
    existing = own_row(s, network_id, instrument.key)
    if existing is not None:
        if existing.sha256 == digest or parsed(existing) == instrument:
            return Added(existing, instrument, created=False)
        raise _immutable(existing, data, fmt, name)
    row = SelfevalInstrument(
        network_id=network_id, instrument_id=instrument.id, version=instrument.version, key=instrument.key,
        format=fmt, filename=name, content=data, sha256=digest, uploaded_by=person_id,
    )
    s.add(row)
    try:
        s.commit()
    except IntegrityError:  # the same id@version arrived at the same moment
        s.rollback()
        existing = own_row(s, network_id, instrument.key)
        if existing is not None and existing.sha256 == digest:
            return Added(existing, instrument, created=False)
        raise InstrumentRefused(_("This version was stored at the same moment by someone else. "
                                  "Please check the list and raise the version.")) from None
    with _cache_lock:
        _cache[digest] = instrument
    return Added(row, instrument, created=True)


# -- withdrawing and deleting ----------------------------------------------------------------


def withdraw(s: Session, row: SelfevalInstrument) -> None:
    if row.withdrawn_at is None:
        row.withdrawn_at = utcnow()
    s.commit()


def restore(s: Session, row: SelfevalInstrument) -> None:
    row.withdrawn_at = None
    s.commit()


def delete(s: Session, row: SelfevalInstrument) -> None:
    """Delete an unused version; raises :class:`InstrumentInUse` when a round uses it."""
    if rounds_using(s, row.network_id, row.key):
        raise InstrumentInUse(row.key)
    s.delete(row)
    s.commit()


# -- reports -----------------------------------------------------------------------------------

