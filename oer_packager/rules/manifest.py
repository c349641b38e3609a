"""Rules on the manifest as a document: XML, version, schema, Moodle pre-checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from lxml import etree

from oer_packager import xmlsafe
from oer_packager.cc import (
    MANIFEST,
    MOODLE_CC11_DECLARATION,
    MOODLE_SNIFF_BYTES,
    NAMESPACES,
    SCHEMA_VERSIONS,
    declared_schema_version,
    detect_version,
)
from oer_packager.errors import CartridgeError
from oer_packager.findings import Finding
from oer_packager.rules import (
    Package,
    error,
    for_moodle,
    item_path,
    kids,
    local,
    resource_path,
    root_line,
    warning,
    where,
)

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
MANIFEST_SCHEMAS = {"1.0": "cc10/cclibxml2validator.xsd", "1.1": "cc11/cc11libxml2validator.xsd"}
MAX_SCHEMA_FINDINGS = 50


@cache
def schema(relative: str) -> etree.XMLSchema:
    """A compiled official schema from oer_packager/schemas (imports resolved locally)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMAS / relative), parser))


_NS = re.compile(r"\{[^}]*\}")


def schema_errors(xsd: etree.XMLSchema, doc: etree._Element) -> list[tuple[int, str]]:
    """(line, message) of every schema error, namespaces stripped for reading."""
    if xsd.validate(doc):
        return []
    return [(e.line, _NS.sub("", e.message)) for e in xsd.error_log]


def load(pkg: Package) -> Iterator[Finding]:
    """xml / version: parse the manifest safely and detect the CC version."""
    try:
        pkg.manifest = pkg.archive.read(MANIFEST)
        root = xmlsafe.parse(pkg.manifest, name=MANIFEST, max_size=pkg.archive.limits.max_manifest_size).getroot()
    except CartridgeError as exc:
        yield from exc.findings or [error("xml", MANIFEST, exc.message)]
        return
    try:
        pkg.version = detect_version(root)
    except CartridgeError as exc:
        yield error(
            "version",
            f"{MANIFEST}:{root_line(pkg.manifest)}",
            exc.message.split(": ", 1)[-1],
            "use the manifest namespace of CC 1.0, 1.1, 1.2 or 1.3",
        )
        return
    pkg.root = root
    declared = declared_schema_version(root)
    if declared and declared != SCHEMA_VERSIONS[pkg.version]:
        yield warning(
            "version",
            f"{MANIFEST} metadata/schemaversion",
            f"schemaversion {declared!r} does not match the CC {pkg.version} namespace",
            f"write <schemaversion>{SCHEMA_VERSIONS[pkg.version]}</schemaversion>",
        )


def schema_valid(pkg: Package) -> Iterator[Finding]:
    """xsd: CC 1.0 and 1.1 manifests against the official schemas (Moodle aborts on any error)."""
    relative = MANIFEST_SCHEMAS.get(pkg.version)
    if relative is None or pkg.root is None:
        return
    errors = schema_errors(schema(relative), pkg.root)
    for line, message in errors[:MAX_SCHEMA_FINDINGS]:
        yield error(
            "xsd",
            f"{MANIFEST}:{line}",
            message,
            f"follow the official CC {pkg.version} schema; Moodle refuses the whole cartridge otherwise",
        )
    if len(errors) > MAX_SCHEMA_FINDINGS:
        yield error("xsd", MANIFEST, f"{len(errors) - MAX_SCHEMA_FINDINGS} more schema errors not listed")


def structure(pkg: Package) -> Iterator[Finding]:
    """structure: the CP/CC structure of 1.2 and 1.3 manifests (no schemas shipped for them)."""
    root = pkg.root
    if root is None or pkg.version not in ("1.2", "1.3"):
        return
    hint = f"see the CC {pkg.version} profile of IMS Content Packaging"
    if not root.get("identifier"):
        yield error("structure", where(root, "manifest"), "<manifest> has no identifier", hint)
    children = [local(c) for c in root if local(c)]
    for name in ("metadata", "organizations", "resources"):
        if name not in children:
            yield error("structure", where(root, "manifest"), f"<manifest> has no <{name}>", hint)
    metadata = kids(root, "metadata")
    if metadata:
        schema_el = kids(metadata[0], "schema")
        if not schema_el or (schema_el[0].text or "").strip() not in (
            "IMS Common Cartridge",
            "IMS Thin Common Cartridge",
        ):
            yield error(
                "structure",
                where(metadata[0], "metadata/schema"),
                "metadata/schema must be 'IMS Common Cartridge'",
                hint,
            )
    orgs = kids(kids(root, "organizations")[0], "organization") if kids(root, "organizations") else []
    if len(orgs) > 1:
        yield error("structure", where(orgs[1], "organization"), "more than one <organization>", hint)
    if orgs:
        org = orgs[0]
        if org.get("structure") != "rooted-hierarchy":
            yield error(
                "structure", where(org, "organization"), "organization/@structure must be 'rooted-hierarchy'", hint
            )
        top = kids(org, "item")
        if len(top) != 1 or top[0].get("identifierref"):
            yield error(
                "structure",
                where(org, "organization"),
                "the organisation must hold exactly one root <item> without identifierref",
                hint,
            )
        for item in pkg.items:
            if item.getparent() is not org and not kids(item, "title"):
                yield error("structure", where(item, item_path(item)), "item has no <title>", hint)
    for res in pkg.resources:
        for attr in ("identifier", "type"):
            if not res.get(attr):
                yield error("structure", where(res, resource_path(res)), f"resource has no @{attr}", hint)
        for f in kids(res, "file"):
            if not f.get("href"):
                yield error("structure", where(f, f"{resource_path(res)}/file"), "file has no @href", hint)
        for d in kids(res, "dependency"):
            if not d.get("identifierref"):
                yield error(
                    "structure", where(d, f"{resource_path(res)}/dependency"), "dependency has no @identifierref", hint
                )


def moodle_namespace(pkg: Package) -> Iterator[Finding]:
    """moodle-namespace: Moodle sniffs the CC 1.1 default namespace in the first 500 bytes."""
    if pkg.version != "1.1":
        return
    if MOODLE_CC11_DECLARATION not in pkg.manifest[:MOODLE_SNIFF_BYTES]:
        yield error(
            "moodle-namespace",
            f"{MANIFEST}:1",
            f"the declaration {MOODLE_CC11_DECLARATION.decode()} is not within the first "
            f"{MOODLE_SNIFF_BYTES} bytes; Moodle will not recognise the cartridge",
            "declare the CC 1.1 namespace as the default namespace on <manifest>, before other attributes",
        )


def foreign_metadata(pkg: Package) -> Iterator[Finding]:
    """foreign-metadata: only CC namespaces inside the manifest (Moodle refuses others)."""
    if pkg.root is None:
        return
    allowed = NAMESPACES[pkg.version].all()
    stack = [pkg.root]
    while stack:
        el = stack.pop()
        for child in el:
            if not isinstance(child.tag, str):
                continue
            ns = etree.QName(child).namespace or ""
            if ns in allowed:
                stack.append(child)
                continue
            make = error if for_moodle(pkg) else warning
            yield make(
                "foreign-metadata",
                f"{MANIFEST}:{child.sourceline} <{local(child)}>",
                f"element from the foreign namespace {ns or '(none)'!r} in the manifest",
                "remove it or move the information into LOM metadata",
            )


def no_authorizations(pkg: Package) -> Iterator[Finding]:
    """authorizations: protected cartridges cannot be imported by Moodle."""
    if pkg.root is None:
        return
    for el in kids(pkg.root, "authorizations"):
        make = error if for_moodle(pkg) else warning
        yield make(
            "authorizations",
            f"{MANIFEST}:{el.sourceline} authorizations",
            "the cartridge declares <authorizations> (protected content); Moodle cannot import it",
            "remove <authorizations> - OER need no access control",
        )
