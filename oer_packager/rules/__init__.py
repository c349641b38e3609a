"""The validator's rules: small functions ``rule(pkg) -> Iterator[Finding]``.

Every rule reads the :class:`Package` (the opened archive and the parsed
manifest) and yields findings with a stable code; the order in which they
run is the explicit chain in :mod:`oer_packager.validator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree

from oer_packager.cc import MANIFEST, NAMESPACES
from oer_packager.findings import Finding, Severity
from oer_packager.safezip import SafeZip

Rule = Callable[["Package"], Iterator[Finding]]


def local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [c for c in el if local(c) == name] if el is not None else []


@dataclass
class Package:
    """What the rules look at: the archive and (once parsed) its manifest."""

    archive: SafeZip
    manifest: bytes = b""
    root: etree._Element | None = None
    version: str = ""
    #: Entries found corrupt by the integrity rule; later rules skip them.
    broken: set[str] = field(default_factory=set)
    #: What several rules derive from the manifest, computed once (see rules.licences).
    memo: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def names(self) -> list[str]:
        return self.archive.names()

    def exists(self, name: str) -> bool:
        return self.archive.exists(name) and name not in self.broken

    @property
    def cp(self) -> str:
        return NAMESPACES[self.version].cp

    @cached_property
    def resources(self) -> list[etree._Element]:
        return kids(kids(self.root, "resources")[0] if kids(self.root, "resources") else None, "resource")

    @cached_property
    def resource_by_id(self) -> dict[str, etree._Element]:
        out: dict[str, etree._Element] = {}
        for res in self.resources:
            out.setdefault(res.get("identifier", ""), res)
        return out

    @cached_property
    def organization(self) -> etree._Element | None:
        orgs = kids(kids(self.root, "organizations")[0] if kids(self.root, "organizations") else None, "organization")
        return orgs[0] if orgs else None

    @cached_property
    def items(self) -> list[etree._Element]:
        """Every <item> of the organisation, depth first (the root item included)."""
        org = self.organization
        return [el for el in org.iter() if local(el) == "item"] if org is not None else []

    @cached_property
    def root_items(self) -> list[etree._Element]:
        return kids(self.organization, "item")

    def file_hrefs(self, res: etree._Element) -> list[str]:
        return [f.get("href", "") for f in kids(res, "file")]


_ROOT_TAG = re.compile(rb"<[A-Za-z_]")


def root_line(data: bytes) -> int:
    """Line of the root element's start tag (lxml reports where a long start tag ends)."""
    m = _ROOT_TAG.search(data)
    return data.count(b"\n", 0, m.start()) + 1 if m else 1


def where(el: etree._Element, path: str) -> str:
    """``imsmanifest.xml:LINE path`` for a manifest element."""
    line = f":{el.sourceline}" if el.sourceline else ""
    return f"{MANIFEST}{line} {path}"


def item_path(el: etree._Element) -> str:
    return f"item[@identifier='{el.get('identifier', '')}']"


def resource_path(el: etree._Element) -> str:
    return f"resource[@identifier='{el.get('identifier', '')}']"


def file_path(res: etree._Element, href: str) -> str:
    return f"{resource_path(res)}/file[@href='{href}']"


def error(code: str, location: str, message: str, hint: str = "") -> Finding:
    return Finding(code, Severity.ERROR, location, message, hint)


def warning(code: str, location: str, message: str, hint: str = "") -> Finding:
    return Finding(code, Severity.WARNING, location, message, hint)


def info(code: str, location: str, message: str, hint: str = "") -> Finding:
    return Finding(code, Severity.INFO, location, message, hint)


def for_moodle(pkg: Package) -> bool:
    """Moodle imports only 1.0 and 1.1: its pre-checks are errors only there."""
    return pkg.version in ("1.0", "1.1")
