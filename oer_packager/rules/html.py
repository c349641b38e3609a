"""Rules on HTML pages: UTF-8 and links that resolve inside the package."""

from __future__ import annotations

from collections.abc import Iterator

from oer_packager.cc import ResourceKind, is_html, resource_kind
from oer_packager.errors import CartridgeError
from oer_packager.findings import Finding
from oer_packager.reader import page_links, resolve_link
from oer_packager.rules import Package, error, kids, warning


def html_files(pkg: Package) -> list[str]:
    """HTML files listed by web content and associated content resources."""
    out: list[str] = []
    for res in pkg.resources:
        if resource_kind(res.get("type", "")) not in (ResourceKind.WEBCONTENT, ResourceKind.ASSOCIATED):
            continue
        for f in kids(res, "file"):
            href = f.get("href", "")
            if is_html(href) and pkg.exists(href) and href not in out:
                out.append(href)
    return out


def _read(pkg: Package, name: str) -> bytes | None:
    try:
        return pkg.archive.read(name)
    except CartridgeError:
        return None  # entries_intact reported it


def pages_utf8(pkg: Package) -> Iterator[Finding]:
    """html-encoding: pages are UTF-8 (Moodle reads them as UTF-8 and mangles other encodings)."""
    for name in html_files(pkg):
        data = _read(pkg, name)
        if data is None:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            yield error(
                "html-encoding",
                f"{name}:{line}",
                f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                "save the page as UTF-8",
            )


def links_resolve(pkg: Package) -> Iterator[Finding]:
    """html-link, html-link-encoded, html-link-canvas: relative links of pages point into the package."""
    for name in html_files(pkg):
        data = _read(pkg, name)
        if data is None:
            continue
        for url, line in page_links(data):
            link = resolve_link(name, url, pkg.exists)
            location = f"{name}:{line}"
            if link.kind == "missing":
                yield error(
                    "html-link",
                    location,
                    f"link {url!r} points to {link.target!r}, which is not in the package",
                    "add the file to the package (and to the resource's <file> list) or fix the link",
                )
            elif link.kind == "outside":
                yield error(
                    "html-link",
                    location,
                    f"link {url!r} leaves the package",
                    "keep linked files inside the package and link them relatively",
                )
            elif link.kind == "absolute":
                yield error(
                    "html-link",
                    location,
                    f"link {url!r} is a server path; it resolves nowhere after import",
                    "link files relatively to the page, or use a full https:// URL",
                )
            elif link.kind == "file" and link.encoded:
                yield warning(
                    "html-link-encoded",
                    location,
                    f"link {url!r} is percent-encoded; Moodle uses file paths literally and drops it",
                    f"name the file without characters that need encoding, or link {link.target!r} as written",
                )
            elif link.kind == "canvas":
                yield warning(
                    "html-link-canvas",
                    location,
                    f"link {url!r} points into a Canvas course; it works only in Canvas",
                    "replace it with a link to a file in the package or a full URL",
                )
