"""Rule on descriptor files: web links, discussions, LTI links, QTI."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from oer_packager import xmlsafe
from oer_packager.cc import (
    BASICLTI_NS,
    DESCRIPTOR_ROOTS,
    DESCRIPTOR_SCHEMAS_11,
    DISCUSSION_NS,
    LTI_CC_NS,
    QTI_NS,
    VERSIONS,
    WEBLINK_NS,
    ResourceKind,
    resource_kind,
)
from oer_packager.errors import CartridgeError
from oer_packager.findings import Finding
from oer_packager.rules import Package, error, kids, local, root_line
from oer_packager.rules.manifest import schema, schema_errors

K = ResourceKind
MAX_FINDINGS_PER_FILE = 10


def _namespaces(kind: ResourceKind, version: str) -> set[str]:
    """Descriptor namespaces a cartridge of ``version`` may use (earlier versions too, from 1.2)."""
    upto = VERSIONS[: VERSIONS.index(version) + 1] if version in ("1.2", "1.3") else (version,)
    if kind is K.WEBLINK:
        return {WEBLINK_NS[v] for v in upto}
    if kind is K.DISCUSSION:
        return {DISCUSSION_NS[v] for v in upto}
    if kind is K.LTI:
        return set(LTI_CC_NS) if version == "1.3" else {LTI_CC_NS[0]}
    return {QTI_NS}


def _structural(kind: ResourceKind, doc: etree._Element, line: int) -> list[tuple[int, str]]:
    """(line, message) for descriptors without a shipped schema (CC 1.0, 1.2, 1.3)."""
    if kind is K.WEBLINK:
        url = kids(doc, "url")
        if not kids(doc, "title"):
            return [(line, "web link has no <title>")]
        if not url or not url[0].get("href"):
            return [(line, "web link has no <url href=...>")]
    elif kind is K.DISCUSSION:
        if not kids(doc, "title") or not kids(doc, "text"):
            return [(line, "discussion topic needs <title> and <text>")]
    elif kind is K.LTI:
        blti = [c for c in doc if etree.QName(c).namespace == BASICLTI_NS] if isinstance(doc.tag, str) else []
        names = {local(c) for c in blti}
        if "title" not in names:
            return [(line, "LTI link has no <blti:title>")]
        if not names & {"launch_url", "secure_launch_url"}:
            return [(line, "LTI link has neither <blti:launch_url> nor <blti:secure_launch_url>")]
    elif not (kids(doc, "assessment") or kids(doc, "objectbank")):
        return [(line, "QTI file has neither <assessment> nor <objectbank>")]
    return []


def descriptors_valid(pkg: Package) -> Iterator[Finding]:
    """descriptor: descriptor files are well-formed and valid (1.1: against the official schemas)."""
    for res in pkg.resources:
        kind = resource_kind(res.get("type", ""))
        if kind not in DESCRIPTOR_ROOTS:
            continue
        hrefs = [f.get("href", "") for f in kids(res, "file")]
        path = next((h for h in hrefs if pkg.exists(h)), None)
        if path is None:
            continue  # missing-file / descriptor-resource report this
        hint = f"see the CC {pkg.version} {kind.value} descriptor format"
        try:
            data = pkg.archive.read(path)
            doc = xmlsafe.parse(data, name=path).getroot()
        except CartridgeError as exc:
            for f in exc.findings or []:
                yield error("descriptor", f.location, f.message, f.hint)
            continue
        qname = etree.QName(doc)
        if qname.localname != DESCRIPTOR_ROOTS[kind] or (qname.namespace or "") not in _namespaces(kind, pkg.version):
            yield error(
                "descriptor",
                f"{path}:{root_line(data)}",
                f"root element {{{qname.namespace}}}{qname.localname} is not a CC {pkg.version} "
                f"{kind.value} descriptor",
                hint,
            )
            continue
        if pkg.version == "1.1":
            problems = schema_errors(schema(f"cc11/{DESCRIPTOR_SCHEMAS_11[kind]}"), doc)
        else:
            problems = _structural(kind, doc, root_line(data))
        for line, message in problems[:MAX_FINDINGS_PER_FILE]:
            yield error("descriptor", f"{path}:{line}", message, hint)
