"""Licences and TULLU attribution of library items, through ``oer_packager.licences``.

The packager owns the licence list and the attribution line; this module
only picks the identifiers the forms offer and turns rows into the neutral
``Attribution``.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from oer_packager.model import Attribution, Person

#: Identifiers the forms offer, in this order, where the packager knows them.
CANDIDATES = (
    "CC0-1.0", "PDM-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0",
    "CC-BY-NC-ND-4.0", "CC-BY-3.0-DE", "CC-BY-SA-3.0-DE", "CC-BY-ND-3.0-DE", "CC-BY-NC-3.0-DE",
    "CC-BY-NC-SA-3.0-DE", "CC-BY-NC-ND-3.0-DE", "CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-ND-3.0", "CC-BY-NC-3.0",
    "CC-BY-NC-SA-3.0", "CC-BY-NC-ND-3.0",
)


def licences() -> Any:
    from oer_packager import licences as mod

    return mod


def get(identifier: str) -> Any:
    return licences().get(identifier) if identifier else None


def offered() -> list[Any]:
    """Licence objects for the select boxes (open ones first, as the packager knows them)."""
    found = [lic for lic in (get(i) for i in CANDIDATES) if lic is not None]
    return sorted(found, key=lambda lic: (not lic.is_open, CANDIDATES.index(lic.id) if lic.id in CANDIDATES else 99))


def offered_ids() -> set[str]:
    return {lic.id for lic in offered()}


def canonical(identifier: str) -> str:
    """The packager's identifier for a licence written in any usual way ("PDM" -> "PDM-1.0")."""
    lic = get(identifier)
    return lic.id if lic is not None else identifier


def label(identifier: str) -> str:
    lic = get(identifier)
    return (lic.short or lic.name) if lic is not None else identifier


def people(rows: list[dict[str, str]] | None) -> list[Person]:
    return [Person(name=str(p.get("name", "")), url=str(p.get("url", ""))) for p in rows or [] if p.get("name")]


def rows_of(persons: list[Person]) -> list[dict[str, str]]:
    return [{"name": p.name[:255], "url": p.url[:2048]} for p in persons if p.name.strip()]


def effective(coll: Any, node: Any) -> Attribution:
    """The node's TULLU data with the collection's values filled in (like ``Collection.effective``)."""
    return Attribution(
        title=node.attribution_title or node.title,
        authors=people(node.authors) or people(coll.authors),
        licence=node.licence or coll.licence,
        source=node.source or coll.source,
        changes=node.changes,
    )


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:)]")


def tullu_line(attribution: Attribution, lang: str = "de") -> Markup:
    """The packager's TULLU line, with its web addresses as links."""
    text = licences().tullu(attribution, lang="en" if lang.startswith("en") else "de")
    out, last = [], 0
    for m in _URL.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>')
                   .format(m.group(0)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
