"""Parse untrusted XML (manifests, descriptors) without entities, DTDs or network.

A DOCTYPE is refused before lxml sees the document, so XXE and entity
expansion ("billion laughs") never start; the parser itself also runs with
entity resolution, DTD loading and network access switched off and with
libxml2's default depth and text-size limits (``huge_tree=False``).
Errors are :class:`~oer_packager.errors.CartridgeError` naming the file and
line, with one finding (code ``xml``).
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

from lxml import etree

from oer_packager.errors import CartridgeError
from oer_packager.findings import Finding, Severity

MAX_XML_SIZE = 32 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _fail(name: str, line: int | None, message: str, hint: str = "") -> CartridgeError:
    location = f"{name}:{line}" if line else name
    finding = Finding("xml", Severity.ERROR, location, message, hint)
    return CartridgeError(f"{location}: {message}", [finding])


def _prolog_text(data: bytes) -> str:
    """The document decoded far enough to see what precedes the root element."""
    head = data[:65536]
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "replace")
    if head[:4] in (b"<\x00?\x00", b"<\x00!\x00"):
        return head.decode("utf-16-le", "replace")
    if head[:4] in (b"\x00<\x00?", b"\x00<\x00!"):
        return head.decode("utf-16-be", "replace")
    # Every other encoding libxml2 accepts here is ASCII-compatible for markup.
    return head.decode("latin-1")


def _doctype_problem(data: bytes) -> tuple[int, str] | None:
    """(line, message) when a DOCTYPE precedes the root element."""
    text = _prolog_text(data).lstrip("\ufeff")
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            line = text.count("\n", 0, pos) + 1
            if "<!ENTITY" in text[pos:].upper():
                return line, "entity declarations are not allowed (DOCTYPE with <!ENTITY>)"
            return line, "DOCTYPE declarations are not allowed"
        else:
            return None


def parse(source: bytes | BinaryIO, *, name: str, max_size: int = MAX_XML_SIZE) -> etree._ElementTree:
    """Parse XML from bytes or a binary stream; raise CartridgeError naming ``name``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read(max_size + 1)
    if len(data) > max_size:
        size = f"{max_size / 2**20:g} MiB" if max_size >= 2**20 else f"{max_size} bytes"
        raise _fail(name, None, f"larger than {size}", "split the content or remove unused parts")
    problem = _doctype_problem(data)
    if problem:
        line, message = problem
        raise _fail(name, line, message, "remove the DOCTYPE; cartridges need no DTD")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        message = exc.msg or str(exc)
        # lxml appends its own "(line N)"; keep the location in one place.
        message = message.split(", line ")[0]
        raise _fail(name, exc.lineno, message, "make the file well-formed UTF-8 XML") from exc
    # Belt and braces: a DOCTYPE the prolog scan missed (exotic encodings).
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise _fail(name, 1, "DOCTYPE declarations are not allowed", "remove the DOCTYPE")
    return tree
