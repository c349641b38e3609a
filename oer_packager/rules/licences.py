"""Rules on licence metadata: present, known, open, and one licence per item.

Licences are read from LOM ``rights/description`` of the cartridge and, per
item, of the item, its resource and its main file (CC 1.1's resource-level
LOM profile has no rights, so the licence sits on the item or the file).
Missing or unknown licences are warnings: the cartridge still imports, but
it is not usable as OER until they are fixed. Contradicting licences are
errors: nobody can tell under which terms the item may be reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from oer_packager import licences
from oer_packager.cc import MANIFEST, ResourceKind, resource_kind
from oer_packager.findings import Finding
from oer_packager.reader import licences_in, read_lom
from oer_packager.rules import Package, error, file_path, info, item_path, kids, resource_path, warning, where

HINT_URL = "name the licence with its URL, e.g. https://creativecommons.org/licenses/by-sa/4.0/"


@dataclass
class Rights:
    """One rights/description text and where it was found."""

    location: str
    text: str
    ids: list[str]


def _rights(el: etree._Element, location: str) -> Rights | None:
    lom = kids(kids(el, "metadata")[0], "lom") if kids(el, "metadata") else []
    text = read_lom(lom[0]).rights if lom else ""
    return Rights(location, text, licences_in(text)) if text else None


def cartridge_rights(pkg: Package) -> Rights | None:
    assert pkg.root is not None
    found = _rights(pkg.root, f"{MANIFEST} metadata/lom/rights")
    return found


@dataclass
class LearningObject:
    item: etree._Element
    resource: etree._Element
    rights: list[Rights]  # item, resource and main file, where present


def learning_objects(pkg: Package) -> list[LearningObject]:
    """Items that point at content, with the rights statements found for each (computed once)."""
    if "learning_objects" not in pkg.memo:
        pkg.memo["learning_objects"] = _learning_objects(pkg)
    return pkg.memo["learning_objects"]  # type: ignore[no-any-return]


def _learning_objects(pkg: Package) -> list[LearningObject]:
    out = []
    for item in pkg.items:
        res = pkg.resource_by_id.get(item.get("identifierref", ""))
        if res is None or resource_kind(res.get("type", "")) in (ResourceKind.ASSOCIATED, ResourceKind.QUESTION_BANK):
            continue
        found = [_rights(item, where(item, item_path(item))), _rights(res, where(res, resource_path(res)))]
        main = res.get("href") or next((f.get("href", "") for f in kids(res, "file")), "")
        for f in kids(res, "file"):
            if f.get("href") == main:
                found.append(_rights(f, where(f, file_path(res, main))))
        out.append(LearningObject(item, res, [r for r in found if r is not None]))
    return out


def licence_present(pkg: Package) -> Iterator[Finding]:
    """licence-missing, licence-inherited: the cartridge and each item state a licence."""
    if pkg.root is None:
        return
    top = cartridge_rights(pkg)
    if top is None:
        yield warning(
            "licence-missing",
            f"{MANIFEST} metadata/lom/rights",
            "the cartridge states no licence",
            "add lom/rights/description with the licence of the collection; " + HINT_URL,
        )
    inheriting = []
    for lo in learning_objects(pkg):
        if lo.rights:
            continue
        if top is None:
            yield warning(
                "licence-missing",
                where(lo.item, item_path(lo.item)),
                "the item states no licence and the cartridge none either",
                HINT_URL,
            )
        else:
            inheriting.append(lo.item.get("identifier", ""))
    if inheriting and top is not None:
        shown = ", ".join(inheriting[:5]) + (f" and {len(inheriting) - 5} more" if len(inheriting) > 5 else "")
        yield info(
            "licence-inherited",
            top.location,
            f"{len(inheriting)} item(s) state no licence of their own, so the cartridge's applies: {shown}",
            "state each item's licence where it differs from the collection's",
        )


def _all_rights(pkg: Package) -> list[Rights]:
    top = cartridge_rights(pkg)
    return ([top] if top else []) + [r for lo in learning_objects(pkg) for r in lo.rights]


def licence_known(pkg: Package) -> Iterator[Finding]:
    """licence-unknown, licence-not-open: licences are known open licences."""
    if pkg.root is None:
        return
    for rights in _all_rights(pkg):
        if not rights.ids:
            yield warning("licence-unknown", rights.location, f"no known licence in {rights.text!r}", HINT_URL)
        for ident in rights.ids:
            lic = licences.get(ident)
            if lic is not None and not lic.is_open:
                yield warning(
                    "licence-not-open",
                    rights.location,
                    f"{lic.short} is not an open licence (OER allow reuse and adaptation by anyone)",
                    "choose CC0, CC BY or CC BY-SA if the rights holder agrees",
                )


def licence_consistent(pkg: Package) -> Iterator[Finding]:
    """licence-conflict: no item is under two licences."""
    if pkg.root is None:
        return
    for rights in _all_rights(pkg):
        if len(rights.ids) > 1:
            yield error(
                "licence-conflict",
                rights.location,
                f"several licences in one statement: {', '.join(rights.ids)}",
                "state the one licence the item is under",
            )
    # A file listed by two resources (a page and the worksheet it links to) is
    # not a conflict: the page's licence covers the page, not every file it lists.
    by_resource: dict[str, tuple[str, etree._Element]] = {}
    for lo in learning_objects(pkg):
        ids = {r.ids[0] for r in lo.rights if r.ids}
        if len(ids) > 1:
            yield error(
                "licence-conflict",
                where(lo.item, item_path(lo.item)),
                f"item, resource and file metadata name different licences: {', '.join(sorted(ids))}",
                "state the same licence everywhere",
            )
            continue
        if not ids:
            continue
        ident = ids.pop()
        res_id = lo.resource.get("identifier", "")
        earlier = by_resource.setdefault(res_id, (ident, lo.item))
        if earlier[0] != ident:
            yield error(
                "licence-conflict",
                where(lo.item, item_path(lo.item)),
                f"resource {res_id!r} is {earlier[0]} through item {earlier[1].get('identifier')!r} but {ident} here",
                "give both items the same licence",
            )
