"""Convert any readable cartridge (CC 1.0–1.3, e.g. a Canvas export) to CC 1.1.

Moodle (and LOGINEO NRW LMS) refuses CC 1.2/1.3 outright; this reads the
cartridge into the neutral model and builds it again, so OER published for
other LMSs reach Moodle schools. What cannot be carried over is reported,
never silently dropped: quizzes (QTI), assignments, unknown resource types,
items whose files are missing, web and LTI links without an absolute
http(s) URL, and files no resource lists (Canvas' course data).

Files get safe names before the builder sees them, and pages are served
with their links rewritten to match (see :class:`ConvertSource`), including
links with the CC token ``$IMS-CC-FILEBASE$`` (Canvas writes it for its
course files in web_resources/).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from oer_packager.builder import BuildReport, build
from oer_packager.cc import CANVAS_EXTRA_PREFIXES, MANIFEST, is_html
from oer_packager.findings import Finding, Severity, has_errors
from oer_packager.model import Collection, ContentSource, Item, ItemKind, Module
from oer_packager.names import PathAllocator, is_safe_path, safe_path
from oer_packager.reader import Cartridge, CartridgeSource, page_links, read_cartridge, resolve_link
from oer_packager.validator import validate

#: Reader findings that mean "this part of the cartridge is not in the model".
NOT_CARRIED_CODES = frozenset({"not-carried-over", "missing-file", "identifierref"})


@dataclass
class ConvertReport:
    """What :func:`convert` wrote and what it could not carry over."""

    source_version: str
    cc_version: str
    build: BuildReport
    not_carried: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # the rest: reader, links, builder
    validation: list[Finding] = field(default_factory=list)  # validate() of the written cartridge

    @property
    def valid(self) -> bool:
        return not has_errors(self.validation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_version": self.source_version,
            "cc_version": self.cc_version,
            "valid": self.valid,
            "build": self.build.as_dict(),
            "not_carried_over": [f.as_dict() for f in self.not_carried],
            "findings": [f.as_dict() for f in self.findings],
            "validation": [f.as_dict() for f in self.validation],
        }


def convert(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    cc_version: str = "1.1",
    *,
    allow_non_oer: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ConvertReport:
    """Rebuild the cartridge at ``in_path`` as CC ``cc_version`` at ``out_path``.

    Raises CartridgeError when the input cannot be read, and the builder's
    LicenceError / CollectionError when the content cannot be packaged
    (nothing is written then).
    """
    with read_cartridge(in_path) as cartridge:
        not_carried = [f for f in cartridge.findings if f.code in NOT_CARRIED_CODES]
        # weblink-url: drop_unlinkable reports those links as not carried over.
        findings = [f for f in cartridge.findings if f.code not in NOT_CARRIED_CODES | {"weblink-url"}]
        not_carried += drop_unlinkable(cartridge.collection)
        not_carried += unlisted_files(cartridge)
        findings += canvas_links(cartridge)
        source = ConvertSource(cartridge.source, cartridge.collection)
        report = build(
            cartridge.collection,
            source,
            Path(out_path),
            cc_version=cc_version,
            allow_non_oer=allow_non_oer,
            progress=progress,
        )
        version = cartridge.version
    return ConvertReport(
        source_version=version,
        cc_version=cc_version,
        build=report,
        not_carried=not_carried,
        findings=findings + report.findings,
        validation=validate(out_path),
    )


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url.strip())


def drop_unlinkable(collection: Collection) -> list[Finding]:
    """Remove web and LTI links without an absolute http(s) URL; report each."""
    findings: list[Finding] = []

    def keep(child: Item | Module) -> bool:
        if isinstance(child, Module):
            child.children = [c for c in child.children if keep(c)]
            return True
        if child.kind in (ItemKind.WEBLINK, ItemKind.LTI) and not _is_web_url(child.url):
            findings.append(Finding(
                "not-carried-over", Severity.WARNING, f"{MANIFEST} resource[@identifier='{child.ref}']",
                f"{child.kind.value} {child.title!r} has no absolute http(s) URL ({child.url!r}); not carried over",
                "add the link by hand with its full address",
            ))  # fmt: skip
            return False
        return True

    for module in collection.modules:
        keep(module)
    return findings


def unlisted_files(cartridge: Cartridge) -> list[Finding]:
    """Files in the zip that no resource lists: Canvas course data and strays."""
    listed = {MANIFEST}
    for res in cartridge.resources.values():
        listed.update(res.files)
        listed.update(unquote(f) for f in res.files)
    root = cartridge.source.root
    for item in cartridge.collection.items():
        listed.update(root + p for p in (item.path, *item.assets) if p)
    out = []
    for name in cartridge.source.archive.names():
        if name in listed:
            continue
        if name.startswith(CANVAS_EXTRA_PREFIXES):
            out.append(Finding("not-carried-over", Severity.INFO, name, "Canvas course data; not carried over"))
        else:
            out.append(
                Finding("not-carried-over", Severity.WARNING, name, "no resource lists this file; not carried over")
            )
    return out


_ATTR = re.compile(r"""(?P<pre>\b(?:href|src|poster|data)\s*=\s*)(?P<q>["'])(?P<url>[^"']*)(?P=q)""", re.IGNORECASE)


class ConvertSource(ContentSource):
    """The cartridge's files under safe names, with page links made to match.

    The builder stores files under safe names (letters, digits, "._-") and
    warns that links to renamed files break. So the conversion renames
    first - every page and file of the collection gets its safe name here,
    made unique - and serves pages with each link to a packaged file
    rewritten to the new page-relative path. ``$IMS-CC-FILEBASE$`` links
    (Canvas' course files) and percent-encoded links resolve the same way.
    """

    def __init__(self, inner: CartridgeSource, collection: Collection) -> None:
        self.inner = inner
        allocator = PathAllocator()
        self.renamed: dict[str, str] = {}  # original item path → new item path
        for item in collection.items():
            if item.kind not in (ItemKind.PAGE, ItemKind.FILE):
                continue
            for path in (item.path, *item.assets):
                if path and path not in self.renamed:
                    self.renamed[path] = allocator.claim(path, path if is_safe_path(path) else safe_path(path))
            item.path = self.renamed.get(item.path, item.path)
            item.assets = [self.renamed[a] for a in item.assets]
        self.original = {new: old for old, new in self.renamed.items()}
        self._pages: dict[str, bytes] = {}

    def _old(self, path: str) -> str:
        return self.original.get(path, path)

    def _page(self, path: str) -> bytes | None:
        old = self._old(path)
        if not is_html(old):
            return None
        if path not in self._pages:
            with self.inner.open(old) as fh:
                raw = fh.read()
            self._pages[path] = self.rewrite(old, path, raw)
        return self._pages[path]

    def rewrite(self, old: str, new: str, raw: bytes) -> bytes:
        """A page's bytes with links to packaged files pointing at their new names."""
        root, archive = self.inner.root, self.inner.archive
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"  # byte-transparent; the builder re-encodes
        page_old, base_new = root + old, posixpath.dirname(root + new)

        def replace(m: re.Match[str]) -> str:
            url = m["url"].strip()
            link = resolve_link(page_old, url, archive.exists)
            if link.kind != "file" or not link.target.startswith(root):
                return m.group(0)
            target = root + self.renamed.get(link.target.removeprefix(root), link.target.removeprefix(root))
            suffix = url[len(re.split(r"[?#]", url, maxsplit=1)[0]) :]
            value = posixpath.relpath(target, base_new or ".") + suffix
            return m.group(0) if value == url else f"{m['pre']}{m['q']}{value}{m['q']}"

        out = _ATTR.sub(replace, text)
        return raw if out == text else out.encode(encoding)

    def open(self, path: str) -> BinaryIO:
        page = self._page(path)
        return io.BytesIO(page) if page is not None else self.inner.open(self._old(path))

    def size(self, path: str) -> int:
        page = self._page(path)
        return len(page) if page is not None else self.inner.size(self._old(path))

    def exists(self, path: str) -> bool:
        return self.inner.exists(self._old(path))


def canvas_links(cartridge: Cartridge) -> list[Finding]:
    """Warnings for links into a Canvas course, which work only in Canvas."""
    out = []
    archive, root = cartridge.source.archive, cartridge.source.root
    for item in cartridge.collection.items():
        name = root + item.path
        if item.kind is not ItemKind.PAGE or not archive.exists(name):
            continue
        for url, line in page_links(archive.read(name)):
            if resolve_link(name, url, archive.exists).kind == "canvas":
                out.append(
                    Finding(
                        "html-link-canvas",
                        Severity.WARNING,
                        f"{name}:{line}",
                        f"link {url!r} points into the Canvas course and will not work after conversion",
                        "replace it in the converted course",
                    )
                )
    return out
