"""Safe names inside a cartridge: file paths and XML identifiers.

Moodle uses the paths in a cartridge literally (a percent-encoded link does
not resolve), Windows refuses some characters and names, and zip tools
differ on non-ASCII names. So every path segment in a cartridge uses only
``[A-Za-z0-9._-]``: umlauts are transliterated (ä → ae, ß → ss), other
accents dropped, every other run of characters becomes one "-". The original
name stays visible as the item's title.

Identifiers (``xs:ID``, so NCNames) are derived from the outline position and
the item's content, so the same collection always gets the same identifiers.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

MAX_SEGMENT = 80  # characters per path segment, extension included
MAX_PATH = 200  # characters of a whole path inside the package

_TRANSLIT = {
    "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS",
    "æ": "ae", "Æ": "Ae", "ø": "oe", "Ø": "Oe", "œ": "oe", "Œ": "Oe",
    "ð": "d", "Đ": "D", "đ": "d", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L", "ı": "i",
}  # fmt: skip
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_DASHES = re.compile(r"-{2,}")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_NCNAME_ASCII = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
# Names Windows will not create, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def transliterate(text: str) -> str:
    """Replace German umlauts and ß by their two-letter forms and drop other accents."""
    text = "".join(_TRANSLIT.get(c, c) for c in unicodedata.normalize("NFC", text))
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def is_safe_segment(segment: str) -> bool:
    """True when ``segment`` may stand in a cartridge path unchanged."""
    return (
        bool(_SAFE_SEGMENT.fullmatch(segment))
        and len(segment) <= MAX_SEGMENT
        and segment.split(".")[0].lower() not in _RESERVED
    )


def is_safe_path(path: str) -> bool:
    """True when every segment of ``path`` is safe and the path is not too long."""
    return len(path) <= MAX_PATH and all(is_safe_segment(s) for s in path.split("/"))


def safe_segment(name: str) -> str:
    """A safe file or folder name for ``name`` (its extension kept)."""
    if is_safe_segment(name):
        return name
    m = _EXTENSION.search(name)
    stem, ext = (name[: m.start()], m.group()) if m and m.start() > 0 else (name, "")
    stem = _DASHES.sub("-", _UNSAFE_RUN.sub("-", transliterate(stem))).strip("-._")
    stem = stem[: MAX_SEGMENT - len(ext) - 1].rstrip("-.") or "file"
    if stem.lower() in _RESERVED:
        stem += "-"
    return stem + ext


def safe_path(path: str) -> str:
    """``path`` with every unsafe segment replaced by its safe form."""
    return "/".join(safe_segment(s) for s in path.split("/"))


def with_suffix_number(path: str, n: int) -> str:
    """``dir/name-n.ext`` for ``dir/name.ext``."""
    folder, _, name = path.rpartition("/")
    m = _EXTENSION.search(name)
    stem, ext = (name[: m.start()], m.group()) if m and m.start() > 0 else (name, "")
    stem = stem[: MAX_SEGMENT - len(ext) - len(str(n)) - 1]
    return f"{folder}/{stem}-{n}{ext}" if folder else f"{stem}-{n}{ext}"


class PathAllocator:
    """Hand out unique package paths, deterministically in the order asked.

    Paths are compared case-insensitively (a cartridge unpacked on Windows or
    macOS must not lose a file), and a path is never both a file and a folder.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}
        self._files: set[str] = set()
        self._folders: set[str] = set()

    def is_free(self, path: str) -> bool:
        folded = path.casefold()
        if folded in self._files or folded in self._folders:
            return False
        parts = folded.split("/")
        return not any("/".join(parts[:i]) in self._files for i in range(1, len(parts)))

    def claim(self, key: str, wanted: str) -> str:
        """The path for ``key``: ``wanted`` if free, else ``wanted`` numbered -2, -3, …

        The same ``key`` (e.g. the original path) always gets the same path back.
        """
        if key in self._by_key:
            return self._by_key[key]
        path, n = wanted, 1
        while not self.is_free(path):
            n += 1
            path = self._variant(wanted, n)
        self._by_key[key] = path
        folded = path.casefold()
        self._files.add(folded)
        parts = folded.split("/")
        self._folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return path

    def _variant(self, wanted: str, n: int) -> str:
        parts = wanted.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]).casefold() in self._files:
                # A folder of the path is already a file: number the folder instead.
                parts[i - 1] = with_suffix_number(parts[i - 1], n)
                return "/".join(parts)
        return with_suffix_number(wanted, n)

    def path_of(self, key: str) -> str | None:
        return self._by_key.get(key)


def is_identifier(value: str) -> bool:
    """True for the ASCII NCNames this module produces."""
    return bool(_NCNAME_ASCII.fullmatch(value))


def content_hash(*content: str, length: int = 8) -> str:
    """A short stable hex digest of ``content``."""
    return hashlib.sha256("\x1f".join(content).encode("utf-8")).hexdigest()[:length]


class IdentifierAllocator:
    """Stable, unique NCName identifiers from outline position and content.

    ``I_2_3_1a2b3c4d`` is the third entry of the second top-level module;
    the hash part changes when the entry's content changes.
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def make(self, prefix: str, position: Sequence[int], *content: str) -> str:
        pos = "_".join(str(p) for p in position)
        base = "_".join(p for p in (prefix, pos, content_hash(*content)) if p)
        ident, n = base, 1
        while ident in self._taken:
            n += 1
            ident = f"{base}_{n}"
        if not is_identifier(ident):  # pragma: no cover - guards the prefix chosen by callers
            raise ValueError(f"not an NCName: {ident!r}")
        self._taken.add(ident)
        return ident
