"""Common Cartridge vocabulary: namespaces, version detection, resource types.

Each CC version has its own manifest (IMS CP profile) namespace; the version
of a cartridge is read from the namespace of its ``<manifest>`` root, with
``metadata/schemaversion`` as the fallback for the plain IMS CP namespace.

Resource types are the *per-version* strings (``imswl_xmlv1p1`` in 1.1,
``imswl_xmlv1p3`` in 1.3). The schematron rules embedded in the official
1.1 schema still test the 1.0 strings (``imsdt_xmlv1p0``), so the validator
uses :func:`resource_kind` and these tables instead of those rules.
CC 1.2 and 1.3 accept the resource types of earlier versions (backward
compatibility); 1.0 and 1.1 accept only their own enumerations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree

from oer_packager.errors import CartridgeError

VERSIONS = ("1.0", "1.1", "1.2", "1.3")

MANIFEST = "imsmanifest.xml"

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
PLAIN_CP = "http://www.imsglobal.org/xsd/imscp_v1p1"


@dataclass(frozen=True)
class Namespaces:
    """The namespaces a manifest of one CC version may use."""

    cp: str  # the manifest itself (IMS CP profile)
    lom_manifest: str  # cartridge-level LOM
    lom_resource: str  # resource-level LOM
    auth: str  # <authorizations>
    extra: tuple[str, ...] = ()  # further CC namespaces allowed in the manifest

    def all(self) -> frozenset[str]:
        return frozenset((self.cp, self.lom_manifest, self.lom_resource, self.auth, XSI, XML, *self.extra))


NAMESPACES: dict[str, Namespaces] = {
    "1.0": Namespaces(
        cp="http://www.imsglobal.org/xsd/imscc/imscp_v1p1",
        lom_manifest="http://ltsc.ieee.org/xsd/imscc/LOM",
        lom_resource="http://ltsc.ieee.org/xsd/LOM",
        auth="http://www.imsglobal.org/xsd/imsccauth_v1p0",
    ),
    "1.1": Namespaces(
        cp="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
        lom_manifest="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest",
        lom_resource="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource",
        auth="http://www.imsglobal.org/xsd/imsccv1p1/imsccauth_v1p1",
    ),
    "1.2": Namespaces(
        cp="http://www.imsglobal.org/xsd/imsccv1p2/imscp_v1p1",
        lom_manifest="http://ltsc.ieee.org/xsd/imsccv1p2/LOM/manifest",
        lom_resource="http://ltsc.ieee.org/xsd/imsccv1p2/LOM/resource",
        auth="http://www.imsglobal.org/xsd/imsccv1p2/imsccauth_v1p2",
        extra=(
            "http://www.imsglobal.org/xsd/imsccv1p2/imscp_extensionv1p2",
            "http://www.imsglobal.org/xsd/imsccv1p2/imscsmd_v1p0",
        ),
    ),
    "1.3": Namespaces(
        cp="http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1",
        lom_manifest="http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest",
        lom_resource="http://ltsc.ieee.org/xsd/imsccv1p3/LOM/resource",
        auth="http://www.imsglobal.org/xsd/imsccv1p3/imsccauth_v1p3",
        extra=(
            "http://www.imsglobal.org/xsd/imsccv1p3/imscp_extensionv1p2",
            "http://www.imsglobal.org/xsd/imsccv1p3/imscsmd_v1p0",
        ),
    ),
}

#: The default namespace declaration Moodle looks for in the first 500 bytes
#: of imsmanifest.xml before it treats a cartridge as CC 1.1.
MOODLE_CC11_DECLARATION = b'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"'
MOODLE_SNIFF_BYTES = 500

SCHEMA_VERSIONS = {"1.0": "1.0.0", "1.1": "1.1.0", "1.2": "1.2.0", "1.3": "1.3.0"}


class ResourceKind(StrEnum):
    """What a resource type means, independent of the CC version token."""

    WEBCONTENT = "webcontent"
    WEBLINK = "weblink"
    DISCUSSION = "discussion"
    LTI = "lti"
    ASSESSMENT = "assessment"
    QUESTION_BANK = "question-bank"
    ASSOCIATED = "associatedcontent"
    ASSIGNMENT = "assignment"  # IMS assignment extension (Canvas exports it)


_V = {"1.0": "1p0", "1.1": "1p1", "1.2": "1p2", "1.3": "1p3"}


def own_types(version: str) -> dict[str, ResourceKind]:
    """The resource types introduced (or kept) by ``version`` itself."""
    v = _V[version]
    types = {
        "webcontent": ResourceKind.WEBCONTENT,
        f"imswl_xmlv{v}": ResourceKind.WEBLINK,
        f"imsdt_xmlv{v}": ResourceKind.DISCUSSION,
        f"imsqti_xmlv1p2/imscc_xmlv{v}/assessment": ResourceKind.ASSESSMENT,
        f"imsqti_xmlv1p2/imscc_xmlv{v}/question-bank": ResourceKind.QUESTION_BANK,
        f"associatedcontent/imscc_xmlv{v}/learning-application-resource": ResourceKind.ASSOCIATED,
    }
    if version != "1.0":
        types["imsbasiclti_xmlv1p0"] = ResourceKind.LTI
    if version == "1.3":
        types["imsbasiclti_xmlv1p3"] = ResourceKind.LTI
        types["assignment_xmlv1p0"] = ResourceKind.ASSIGNMENT
    return types


def allowed_types(version: str) -> dict[str, ResourceKind]:
    """Resource type strings a cartridge of ``version`` may declare."""
    if version in ("1.0", "1.1"):
        return own_types(version)
    out: dict[str, ResourceKind] = {}
    for earlier in VERSIONS[: VERSIONS.index(version) + 1]:
        out.update(own_types(earlier))
    return out


_KNOWN_TYPES: dict[str, ResourceKind] = allowed_types("1.3")


def resource_kind(type_: str) -> ResourceKind | None:
    """Map any known resource type string (of any CC version) to its kind."""
    return _KNOWN_TYPES.get(type_.strip())


def type_version(type_: str) -> str | None:
    """The first CC version whose tables contain ``type_`` (None if unknown)."""
    for version in VERSIONS:
        if type_ in allowed_types(version):
            return version
    return None


def detect_version(root: etree._Element) -> str:
    """Return "1.0".."1.3" for a manifest root element or raise CartridgeError."""
    qname = etree.QName(root)
    if qname.localname != "manifest":
        raise CartridgeError(f"{MANIFEST}: the root element is <{qname.localname}>, not <manifest>")
    for version, ns in NAMESPACES.items():
        if qname.namespace == ns.cp:
            return version
    if qname.namespace == PLAIN_CP:
        # Some 1.0 exporters use the plain IMS CP namespace; trust schemaversion.
        declared = declared_schema_version(root)
        for version, text in SCHEMA_VERSIONS.items():
            if declared in (text, version):
                return version
    raise CartridgeError(f"{MANIFEST}: not a Common Cartridge manifest (namespace {qname.namespace or 'none'!r})")


def declared_schema_version(root: etree._Element) -> str:
    """The text of ``metadata/schemaversion`` ("" when absent)."""
    for el in root:
        if isinstance(el.tag, str) and etree.QName(el).localname == "metadata":
            for child in el:
                if isinstance(child.tag, str) and etree.QName(child).localname == "schemaversion":
                    return (child.text or "").strip()
    return ""


# Descriptor namespaces, for reading: the reader matches local names so that
# Canvas' mixes (a 1.1 discussion inside a 1.3 cartridge) still read.
WEBLINK_NS = {
    "1.0": "http://www.imsglobal.org/xsd/imswl_v1p0",
    "1.1": "http://www.imsglobal.org/xsd/imsccv1p1/imswl_v1p1",
    "1.2": "http://www.imsglobal.org/xsd/imsccv1p2/imswl_v1p2",
    "1.3": "http://www.imsglobal.org/xsd/imsccv1p3/imswl_v1p3",
}
DISCUSSION_NS = {
    "1.0": "http://www.imsglobal.org/xsd/imsdt_v1p0",
    "1.1": "http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1",
    "1.2": "http://www.imsglobal.org/xsd/imsccv1p2/imsdt_v1p2",
    "1.3": "http://www.imsglobal.org/xsd/imsccv1p3/imsdt_v1p3",
}
LTI_CC_NS = ("http://www.imsglobal.org/xsd/imslticc_v1p0", "http://www.imsglobal.org/xsd/imslticc_v1p3")
BASICLTI_NS = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
LTICM_NS = "http://www.imsglobal.org/xsd/imslticm_v1p0"
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"

#: Root element expected in the descriptor file of each kind.
DESCRIPTOR_ROOTS = {
    ResourceKind.WEBLINK: "webLink",
    ResourceKind.DISCUSSION: "topic",
    ResourceKind.LTI: "cartridge_basiclti_link",
    ResourceKind.ASSESSMENT: "questestinterop",
    ResourceKind.QUESTION_BANK: "questestinterop",
}

#: Official 1.1 descriptor schemas shipped in schemas/cc11.
DESCRIPTOR_SCHEMAS_11 = {
    ResourceKind.WEBLINK: "ccv1p1_imswl_v1p1.xsd",
    ResourceKind.DISCUSSION: "ccv1p1_imsdt_v1p1.xsd",
    ResourceKind.LTI: "imslticc_v1p0p1.xsd",
    ResourceKind.ASSESSMENT: "ccv1p1_qtiasiv1p2p1_v1p0.xsd",
    ResourceKind.QUESTION_BANK: "ccv1p1_qtiasiv1p2p1_v1p0.xsd",
}

_NCNAME = re.compile(
    r"^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
    r"\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]"
    r"[A-Za-z_\-.0-9\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D"
    r"\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$"
)


def is_ncname(value: str) -> bool:
    """True when ``value`` is an XML NCName (what xs:ID requires)."""
    return bool(_NCNAME.match(value))


#: Folders a Canvas export adds next to the CC content; other LMSs ignore them.
CANVAS_EXTRA_PREFIXES = ("course_settings/", "non_cc_assessments/")

HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def is_html(path: str) -> bool:
    return path.lower().endswith(HTML_SUFFIXES)
