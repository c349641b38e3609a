"""Validate manifests and descriptors with the official CC 1.1 schemas (lxml/libxml2)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

import oer_packager

CC11 = Path(oer_packager.__file__).parent / "schemas" / "cc11"

#: Entry schema per document: the manifest and the three descriptor kinds.
ENTRY = {
    "manifest": "cc11libxml2validator.xsd",
    "weblink": "ccv1p1_imswl_v1p1.xsd",
    "discussion": "ccv1p1_imsdt_v1p1.xsd",
    "lti": "imslticc_v1p0p1.xsd",
}


@cache
def schema(kind: str) -> etree.XMLSchema:
    # Parsed from the file so the relative schemaLocation imports resolve locally.
    return etree.XMLSchema(etree.parse(str(CC11 / ENTRY[kind]), etree.XMLParser(no_network=True)))


def errors(data: bytes, kind: str) -> list[str]:
    """The schema errors of ``data`` ("line: message"); empty when valid."""
    doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    s = schema(kind)
    if s.validate(doc):
        return []
    return [f"{e.line}: {e.message}" for e in s.error_log]
