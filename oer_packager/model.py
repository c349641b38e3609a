"""The neutral model of an OER collection.

The builder writes it as a cartridge, the reader produces it from any
cartridge (CC 1.0–1.3), the tool's OER library stores it. Pure data.

Vocabulary: a *collection* (Sammlung) has an ordered outline of *modules*
(chapters; each becomes a Moodle course section) holding *items* and nested
modules. Every item carries its own :class:`Attribution` where it differs
from the collection's (TULLU: Titel, Urheber, Lizenz, Link, Ursprungsort).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO


class ItemKind(StrEnum):
    PAGE = "page"  # an HTML page (webcontent, shown as a Moodle Page)
    FILE = "file"  # any other file: PDF, image, audio, video (webcontent)
    WEBLINK = "weblink"  # imswl_xmlv1p1 / imswl_xmlv1p3
    DISCUSSION = "discussion"  # imsdt_xmlv1p1 / imsdt_xmlv1p3
    LTI = "lti"  # imsbasiclti_xmlv1p0 (a link to an LTI tool, e.g. this one)


@dataclass
class Person:
    name: str
    url: str = ""


@dataclass
class Attribution:
    """What TULLU needs. ``licence`` is an identifier such as ``CC-BY-SA-4.0``."""

    title: str = ""
    authors: list[Person] = field(default_factory=list)
    licence: str = ""
    source: str = ""  # Ursprungsort: where the original can be found (URL or text)
    changes: str = ""  # what was changed against the original, if anything


@dataclass
class Item:
    kind: ItemKind
    title: str
    #: Path of the file relative to the collection folder (PAGE/FILE); for
    #: PAGE items extra files the page needs are listed in ``assets``.
    path: str = ""
    assets: list[str] = field(default_factory=list)
    url: str = ""  # WEBLINK target, LTI launch URL
    text: str = ""  # DISCUSSION prompt (HTML allowed), LTI description
    description: str = ""
    #: LTI custom parameters (name → value).
    custom: dict[str, str] = field(default_factory=dict)
    attribution: Attribution = field(default_factory=Attribution)
    #: Shown to teachers only (LOM role Instructor: Moodle hides it).
    instructor_only: bool = False
    #: Identifier in a source cartridge or the library; the builder derives
    #: its own stable identifiers and does not trust this one.
    ref: str = ""


@dataclass
class Module:
    title: str
    children: list[Item | Module] = field(default_factory=list)
    ref: str = ""


@dataclass
class Collection:
    title: str
    description: str = ""
    language: str = "de"
    keywords: list[str] = field(default_factory=list)
    authors: list[Person] = field(default_factory=list)
    licence: str = ""
    source: str = ""
    modules: list[Module] = field(default_factory=list)

    def items(self) -> list[Item]:
        """Every item in outline order (depth first)."""
        out: list[Item] = []

        def walk(children: list[Item | Module]) -> None:
            for child in children:
                if isinstance(child, Module):
                    walk(child.children)
                else:
                    out.append(child)

        for module in self.modules:
            walk(module.children)
        return out

    def effective(self, item: Item) -> Attribution:
        """The item's attribution with the collection's values filled in."""
        a = item.attribution
        return Attribution(
            title=a.title or item.title,
            authors=a.authors or list(self.authors),
            licence=a.licence or self.licence,
            source=a.source or self.source,
            changes=a.changes,
        )


class ContentSource:
    """Where the bytes of PAGE/FILE items come from (a folder, a cartridge).

    Paths are the ``Item.path`` / ``Item.assets`` strings, always with
    forward slashes and relative. Implementations refuse paths that leave
    their root.
    """

    def open(self, path: str) -> BinaryIO:  # pragma: no cover - interface
        raise NotImplementedError

    def size(self, path: str) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, path: str) -> bool:  # pragma: no cover - interface
        raise NotImplementedError
