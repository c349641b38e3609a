"""Open untrusted zip archives (cartridges) with limits.

:class:`SafeZip` refuses hostile archives before anything is read: zip
bombs (entry count, total and per-file size, compression ratio, overlapping
entries), zip slip (absolute paths, ``..``, backslashes, drive letters, NUL),
duplicate names, encrypted entries, symbolic links and exotic compression
methods. Sizes from the headers are only a first filter: every read is
counted as it streams and stops at the declared size and the limits.

Errors: :class:`~oer_packager.errors.CartridgeError` when the file is not a
readable zip (not a zip, truncated, corrupt entry);
:class:`~oer_packager.errors.UnsafeArchiveError` when it is hostile or
exceeds a limit. Both name the entry and the limit.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from oer_packager.errors import CartridgeError, UnsafeArchiveError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

MANIFEST = "imsmanifest.xml"


@dataclass(frozen=True)
class Limits:
    """Upper bounds for an archive; the defaults fit a 10,000-item, 1 GB cartridge."""

    max_entries: int = 50_000
    max_total_size: int = 4 * GiB
    max_file_size: int = 2 * GiB
    #: Inflated/compressed ratio per entry and for the whole archive. Text
    #: compresses ~5:1, deflate cannot exceed ~1032:1 (a run of zeros).
    max_ratio: float = 200.0
    max_total_ratio: float = 100.0
    #: Ratios are checked only above this inflated size: a small XML file
    #: of repeated tags legitimately compresses 100:1.
    ratio_min_size: int = 1 * MiB
    max_manifest_size: int = 32 * MiB
    max_name_length: int = 512
    #: Bytes of central directory read before any entry is inspected.
    max_directory_size: int = 64 * MiB


_ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COPY_CHUNK = 256 * KiB


def _fmt(n: float) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def check_name(name: str, limits: Limits | None = None) -> str | None:
    """Return why ``name`` is not a safe relative archive path, or None."""
    limits = limits or Limits()
    if "\x00" in name:
        return "name contains a NUL byte"
    if _CONTROL.search(name):
        return "name contains control characters"
    if len(name) > limits.max_name_length:
        return f"name is {len(name)} characters long (limit {limits.max_name_length})"
    if "\\" in name:
        return "name contains a backslash (zip paths use forward slashes)"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "path with a drive letter"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if ".." in parts:
        return "path leaves the archive ('..')"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path component"
    return None


def _central_directory(fp: BinaryIO) -> tuple[int, int] | None:
    """(entry count, directory size) from the end record, None if not found.

    Read before zipfile builds one object per entry, so that a directory of
    millions of entries is refused without allocating them.
    """
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    tail_len = min(size, 22 + 65535)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return None
    _sig, _d, _dcd, _n_disk, entries, cd_size, _off, _clen = struct.unpack("<4s4H2LH", tail[pos : pos + 22])
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and pos >= 20:
        locator = tail[pos - 20 : pos]
        if locator[:4] == b"PK\x06\x07":
            (rec_offset,) = struct.unpack("<Q", locator[8:16])
            if 0 <= rec_offset < size:
                fp.seek(rec_offset)
                rec = fp.read(56)
                if len(rec) == 56 and rec[:4] == b"PK\x06\x06":
                    entries, cd_size = struct.unpack("<QQ", rec[32:48])
    return entries, cd_size


class _CountingReader(io.RawIOBase):
    """A read-only stream over one entry that counts bytes as they arrive."""

    def __init__(self, raw: BinaryIO, name: str, declared: int, limit: int, what: str) -> None:
        self._raw = raw
        self._name = name
        self._declared = declared
        self._limit = limit
        self._what = what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        try:
            data = self._raw.read(want)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise CartridgeError(f"{self._name}: corrupt zip entry ({exc})") from exc
        n = len(data)
        self.count += n
        if self.count > self._declared:
            raise UnsafeArchiveError(f"{self._name}: inflates beyond its declared size of {_fmt(self._declared)}")
        if self.count > self._limit:
            raise UnsafeArchiveError(f"{self._name}: larger than the {self._what} limit of {_fmt(self._limit)}")
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class SafeZip:
    """A zip archive opened with limits; refuses hostile input on open."""

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.label = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "archive")
        self._owned: BinaryIO | None = None
        if isinstance(source, (str, os.PathLike)):
            try:
                fp: BinaryIO = open(source, "rb")  # closed in close()
            except OSError as exc:
                raise CartridgeError(f"{self.label}: cannot open ({exc.strerror})") from exc
            self._owned = fp
        else:
            fp = source
        try:
            self._precheck(fp)
            try:
                self._zip = zipfile.ZipFile(fp)
            except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
                raise CartridgeError(
                    f"{self.label}: not a readable zip archive (truncated or not a zip: {exc})"
                ) from exc
            except NotImplementedError as exc:
                raise CartridgeError(f"{self.label}: unsupported zip format ({exc})") from exc
            except UnicodeDecodeError as exc:
                raise UnsafeArchiveError(f"{self.label}: an entry name is not valid UTF-8") from exc
            self._infos = self._inspect(self._zip)
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------

    def _precheck(self, fp: BinaryIO) -> None:
        try:
            found = _central_directory(fp)
        except OSError as exc:
            raise CartridgeError(f"{self.label}: cannot read ({exc})") from exc
        finally:
            fp.seek(0)
        if found is None:
            raise CartridgeError(f"{self.label}: not a readable zip archive (truncated or not a zip)")
        entries, cd_size = found
        if entries > self.limits.max_entries:
            raise UnsafeArchiveError(f"{self.label}: {entries} entries (limit {self.limits.max_entries})")
        if cd_size > self.limits.max_directory_size:
            raise UnsafeArchiveError(
                f"{self.label}: central directory of {_fmt(cd_size)} (limit {_fmt(self.limits.max_directory_size)})"
            )

    def _inspect(self, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
        lim = self.limits
        infos = zf.infolist()
        if len(infos) > lim.max_entries:
            raise UnsafeArchiveError(f"{self.label}: {len(infos)} entries (limit {lim.max_entries})")
        by_name: dict[str, zipfile.ZipInfo] = {}
        total = 0
        total_compressed = 0
        for info in infos:
            name = info.orig_filename
            problem = check_name(name, lim)
            if problem:
                raise UnsafeArchiveError(f"{self.label}: entry {name!r}: {problem}")
            if name in by_name:
                raise UnsafeArchiveError(f"{self.label}: entry {name!r} appears twice")
            by_name[name] = info
            if info.flag_bits & 0x1:
                raise UnsafeArchiveError(f"{self.label}: entry {name!r} is encrypted")
            mode = info.external_attr >> 16
            if info.create_system == 3 and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
                raise UnsafeArchiveError(f"{self.label}: entry {name!r} is {kind}")
            if info.compress_type not in _ALLOWED_METHODS:
                raise UnsafeArchiveError(
                    f"{self.label}: entry {name!r} uses compression method {info.compress_type} "
                    "(only stored and deflate are accepted)"
                )
            if info.is_dir():
                continue
            size = info.file_size
            if name == MANIFEST and size > lim.max_manifest_size:
                raise UnsafeArchiveError(
                    f"{self.label}: entry {name!r} is {_fmt(size)} (manifest limit {_fmt(lim.max_manifest_size)})"
                )
            if size > lim.max_file_size:
                raise UnsafeArchiveError(
                    f"{self.label}: entry {name!r} is {_fmt(size)} (per-file limit {_fmt(lim.max_file_size)})"
                )
            if size > lim.ratio_min_size and size > lim.max_ratio * max(info.compress_size, 1):
                ratio = size / max(info.compress_size, 1)
                raise UnsafeArchiveError(
                    f"{self.label}: entry {name!r} has compression ratio {ratio:.0f}:1 "
                    f"(limit {lim.max_ratio:.0f}:1) - zip bomb"
                )
            total += size
            total_compressed += info.compress_size
            if total > lim.max_total_size:
                raise UnsafeArchiveError(
                    f"{self.label}: entries inflate to more than {_fmt(lim.max_total_size)} "
                    f"(total size limit; reached at {name!r})"
                )
        if total > lim.ratio_min_size and total > lim.max_total_ratio * max(total_compressed, 1):
            raise UnsafeArchiveError(
                f"{self.label}: archive compression ratio {total / max(total_compressed, 1):.0f}:1 "
                f"(overall limit {lim.max_total_ratio:.0f}:1) - zip bomb"
            )
        self._check_layout(zf, infos, by_name)
        return by_name

    def _check_layout(
        self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], by_name: dict[str, zipfile.ZipInfo]
    ) -> None:
        # Entries sharing compressed data ("overlapping" zip bombs) or a file
        # that is also a folder cannot come from an honest zip writer.
        ordered = sorted(infos, key=lambda i: i.header_offset)
        end = 0
        previous = ""
        for info in ordered:
            if info.header_offset < end:
                raise UnsafeArchiveError(
                    f"{self.label}: entry {info.orig_filename!r} overlaps entry {previous!r} - zip bomb"
                )
            raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
            end = info.header_offset + 30 + len(raw_name) + info.compress_size
            previous = info.orig_filename
        if ordered and end > getattr(zf, "start_dir", end):
            raise UnsafeArchiveError(f"{self.label}: entry {previous!r} runs into the central directory")
        folders: set[str] = set()
        for name in by_name:
            parts = name.rstrip("/").split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        for name, info in by_name.items():
            if not info.is_dir() and name in folders:
                raise UnsafeArchiveError(f"{self.label}: entry {name!r} is both a file and a folder")

    # -- reading -------------------------------------------------------------

    def names(self) -> list[str]:
        """File entries (no folders) in archive order."""
        return [n for n, i in self._infos.items() if not i.is_dir()]

    def exists(self, name: str) -> bool:
        info = self._infos.get(name)
        return info is not None and not info.is_dir()

    def size(self, name: str) -> int:
        """Declared (inflated) size of an entry."""
        return self._info(name).file_size

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(name)
        if info is None or info.is_dir():
            raise FileNotFoundError(f"{self.label}: no entry {name!r}")
        return info

    def open(self, name: str) -> BinaryIO:
        """Stream one entry, counting bytes against its declared size and the limits."""
        info = self._info(name)
        if name == MANIFEST:
            limit, what = self.limits.max_manifest_size, "manifest"
        else:
            limit, what = self.limits.max_file_size, "per-file"
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise CartridgeError(f"{name}: corrupt zip entry ({exc})") from exc
        counting = _CountingReader(raw, name, info.file_size, limit, what)  # type: ignore[arg-type]
        return io.BufferedReader(counting, buffer_size=_COPY_CHUNK)  # type: ignore[return-value]

    def read(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def check(self, name: str) -> None:
        """Read an entry to its end (CRC check); raise CartridgeError if corrupt."""
        with self.open(name) as fh:
            while fh.read(_COPY_CHUNK):
                pass

    # -- extracting ------------------------------------------------------------

    def extract_to(self, folder: str | os.PathLike[str]) -> Path:
        """Extract every entry into ``folder`` (new or empty), all or nothing.

        Entries are written into a temporary folder next to the target and
        renamed into place at the end; on any failure the temporary folder is
        removed and the target is left as it was.
        """
        target = Path(folder).absolute()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise CartridgeError(f"{target}: exists and is not an empty folder")
        if not target.parent.is_dir():
            raise CartridgeError(f"{target.parent}: no such folder")
        self._check_case_collisions()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent)).resolve()
        try:
            written = 0
            for name, info in self._infos.items():
                dest = tmp.joinpath(*name.rstrip("/").split("/"))
                if not dest.resolve().is_relative_to(tmp):
                    raise UnsafeArchiveError(f"{self.label}: entry {name!r} would be written outside the folder")
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
                with os.fdopen(fd, "wb") as out, self.open(name) as src:
                    while chunk := src.read(_COPY_CHUNK):
                        written += len(chunk)
                        if written > self.limits.max_total_size:
                            raise UnsafeArchiveError(
                                f"{self.label}: extraction exceeds the total size limit of "
                                f"{_fmt(self.limits.max_total_size)} at {name!r}"
                            )
                        out.write(chunk)
            if target.exists():
                target.rmdir()
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def _check_case_collisions(self) -> None:
        # Names differing only in case overwrite each other on macOS/Windows.
        seen: dict[str, str] = {}
        for name in self._infos:
            key = name.rstrip("/").casefold()
            other = seen.setdefault(key, name)
            if other != name and other.rstrip("/") != name.rstrip("/"):
                raise UnsafeArchiveError(f"{self.label}: entries {other!r} and {name!r} differ only in case")

    # -- life cycle -------------------------------------------------------------

    def close(self) -> None:
        zf = getattr(self, "_zip", None)
        if zf is not None:
            zf.close()
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
