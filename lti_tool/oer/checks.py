"""The licence panel: every attribution problem of a collection before it is exported.

Licence facts come from ``oer_packager.licences``; the rules follow the
builder's (the collection and all content need an open licence; web links and
LTI links only point elsewhere, so their licence problems are warnings) and
add what TULLU needs: an author, and a source for material by others. Codes
match the builder's findings. Each problem names the node to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _

from lti_tool.oer.attribution import effective, get
from lti_tool.oer.models import MODULE, OerCollection, OerNode
from oer_packager.findings import Finding, Severity, has_errors

LINKING_KINDS = ("weblink", "lti")


@dataclass(frozen=True)
class Problem:
    finding: Finding
    #: the item to fix; None: the collection's own details
    node_id: int | None
    title: str

    @property
    def code(self) -> str:
        return self.finding.code


def _names(rows: list[dict[str, str]] | None) -> set[str]:
    return {str(p.get("name", "")).strip().casefold() for p in rows or [] if str(p.get("name", "")).strip()}


def problems(coll: OerCollection, nodes: list[OerNode]) -> list[Problem]:
    """Missing/unknown/non-open licences, unknown authors, third-party material without source."""
    out: list[Problem] = []

    def add(code: str, message: str, hint: str, node: OerNode | None, severity: Severity = Severity.ERROR) -> None:
        location = f"node {node.id}" if node else "collection"
        out.append(Problem(Finding(code, severity, location, message, hint), node.id if node else None,
                           node.title if node else coll.title))

    def licence(identifier: str, node: OerNode | None, severity: Severity) -> None:
        lic = get(identifier)
        if lic is None:
            add("unknown-licence", _("The licence %(id)s is not known.", id=identifier),
                _("Choose one of the offered licences."), node, severity)
        elif not lic.is_open:
            add("non-open-licence", _("%(name)s is not an open licence.", name=lic.short),
                _("Use material under an open licence (CC0, CC BY, CC BY-SA), or leave it out."), node, severity)

    if not coll.licence:
        add("missing-licence", _("The collection has no licence."),
            _("Choose the licence under which the collection as a whole is shared."), None)
    else:
        licence(coll.licence, None, Severity.ERROR)
    if not any(n.kind == MODULE and n.parent_id is None for n in nodes):
        add("no-modules", _("The collection has no modules."), _("Add a module."), None)
    items = sorted((n for n in nodes if n.kind != MODULE), key=lambda n: n.id)
    if not items:
        add("empty", _("The collection has no items yet."), _("Upload files or add links."), None, Severity.WARNING)
    collection_authors = _names(coll.authors)
    for node in items:
        linking = node.kind in LINKING_KINDS
        a = effective(coll, node)
        if node.licence:
            licence(node.licence, node, Severity.WARNING if linking else Severity.ERROR)
        if node.kind in ("page", "file") and not node.blob_sha256:
            add("missing-file", _("The item has no file."), _("Delete the item and upload the file again."), node)
        if node.kind in LINKING_KINDS and urlsplit(node.url or "").scheme not in ("http", "https"):
            add("bad-url", _("The item has no usable web address."), _("Enter the full address (https://…)."), node)
        if linking:
            continue  # links credit nothing of their own
        if not any(p.name.strip() for p in a.authors):
            add("missing-author", _("The author (Urheber) is unknown."),
                _("Enter the author of the item or of the whole collection."), node)
        third_party = bool(_names(node.authors)) and _names(node.authors) != collection_authors
        if third_party and not (node.source or "").strip():
            add("missing-source", _("Material by other authors needs its source (Ursprungsort)."),
                _("Enter where the original can be found, e.g. its web address."), node)
    return out


def blocking(found: list[Problem]) -> bool:
    return has_errors([p.finding for p in found])
