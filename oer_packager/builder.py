"""Write a :class:`~oer_packager.model.Collection` as an IMS Common Cartridge.

Layout of the ``.imscc`` zip::

    imsmanifest.xml            first entry; Moodle sniffs its first 500 bytes
    about/overview.html        generated: title, description, authors, licence
    about/licences.html        generated: every item's TULLU line
    web_resources/<path>       the author's pages, their assets and files (safe names)
    weblinks/<id>.xml          imswl descriptors
    discussions/<id>.xml       imsdt descriptors
    lti/<id>.xml               basic LTI link descriptors

Outline: one root item; its children are the modules. Moodle turns each
child of the root into a course section, numbered from 0 ("General"), and
shows the module title only as the section summary — so the first module is
always the generated "Über diese Sammlung" / "About this collection"
(identifiers starting with :data:`ABOUT_PREFIX`; readers that rebuild a
cartridge drop it) and the author's first module becomes section 1.

Determinism: entries in a fixed order (manifest, about pages, then the
outline depth first), fixed timestamps (1980-01-01 or SOURCE_DATE_EPOCH),
fixed permissions (0644), zlib's default deflate level, identifiers from
outline position and content. Same input, same zlib → the same bytes.

Memory: file contents are copied in 1 MiB chunks; only HTML pages (at most
:data:`~oer_packager.pages.MAX_PAGE_BYTES`) and descriptors are held whole.
A cartridge written to a path appears only when complete (``*.part`` first).
"""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from lxml import etree

from oer_packager import cc
from oer_packager.errors import CollectionError, LicenceError
from oer_packager.findings import Finding, Severity, has_errors
from oer_packager.licences import get as get_licence
from oer_packager.licences import restriction_note, text_lang
from oer_packager.lom import add_cartridge_lom, add_item_lom, add_role_lom, xml_text
from oer_packager.model import Attribution, Collection, ContentSource, Item, ItemKind, Module
from oer_packager.names import IdentifierAllocator, PathAllocator, is_safe_path, safe_path
from oer_packager.pages import (
    MAX_PAGE_BYTES,
    TEXTS,
    attribution_page,
    discussion_text,
    footer_html,
    overview_page,
    with_footer,
)

SUPPORTED_VERSIONS = ("1.1", "1.3")
ABOUT_PREFIX = "ABOUT"
CONTENT_FOLDER = "web_resources"
CHUNK = 1024 * 1024

# Already-compressed formats are stored: deflating them costs time and saves nothing.
STORED_SUFFIXES = frozenset(
    ".jpg .jpeg .png .gif .webp .avif .heic .mp3 .m4a .aac .ogg .oga .opus .flac .mp4 .m4v .mov .webm .mkv "
    ".avi .zip .gz .bz2 .xz .7z .rar .docx .xlsx .pptx .odt .ods .odp .epub .h5p .woff .woff2".split()
)

XSI = cc.XSI
LTICP_NS = "http://www.imsglobal.org/xsd/imslticp_v1p0"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Profile:
    """What differs between the CC versions the builder writes."""

    version: str
    ns: cc.Namespaces
    weblink_type: str
    discussion_type: str
    lti_type: str
    weblink_ns: str
    discussion_ns: str
    profile_url: str  # where IMS publishes the version's schemas

    @property
    def schema_version(self) -> str:
        return cc.SCHEMA_VERSIONS[self.version]


PROFILES = {
    "1.1": Profile(
        version="1.1",
        ns=cc.NAMESPACES["1.1"],
        weblink_type="imswl_xmlv1p1",
        discussion_type="imsdt_xmlv1p1",
        lti_type="imsbasiclti_xmlv1p0",
        weblink_ns=cc.WEBLINK_NS["1.1"],
        discussion_ns=cc.DISCUSSION_NS["1.1"],
        profile_url="http://www.imsglobal.org/profile/cc/ccv1p1/",
    ),
    # As Canvas writes 1.3: own weblink and discussion types, the 1.0 LTI link.
    "1.3": Profile(
        version="1.3",
        ns=cc.NAMESPACES["1.3"],
        weblink_type="imswl_xmlv1p3",
        discussion_type="imsdt_xmlv1p3",
        lti_type="imsbasiclti_xmlv1p0",
        weblink_ns=cc.WEBLINK_NS["1.3"],
        discussion_ns=cc.DISCUSSION_NS["1.3"],
        profile_url="http://www.imsglobal.org/profile/cc/ccv1p3/",
    ),
}


@dataclass
class BuildReport:
    """What :func:`build` wrote."""

    cc_version: str
    item_count: int  # items of the collection (the generated about pages not counted)
    file_count: int  # entries in the zip, manifest included
    bytes_written: int  # size of the cartridge
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cc_version": self.cc_version,
            "item_count": self.item_count,
            "file_count": self.file_count,
            "bytes_written": self.bytes_written,
            "findings": [f.as_dict() for f in self.findings],
        }


def build(
    collection: Collection,
    source: ContentSource,
    out: Path | BinaryIO,
    *,
    cc_version: str = "1.1",
    allow_non_oer: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Write ``collection`` as a cartridge to ``out`` (a path or a binary stream).

    Raises :class:`LicenceError` for unknown or non-open licences of content
    unless ``allow_non_oer``, and :class:`CollectionError` when items cannot
    be packaged (missing files, pages too large). Nothing is written then.
    ``progress(done, total)`` is called once with 0 and after every item.
    """
    if cc_version not in PROFILES:
        raise ValueError(f"cc_version must be one of {', '.join(SUPPORTED_VERSIONS)}, not {cc_version!r}")
    findings = check_licences(collection, allow_non_oer=allow_non_oer)
    plan = Planner(collection, source, PROFILES[cc_version]).plan()
    findings += plan.findings
    if has_errors(plan.findings):
        errors = [f for f in plan.findings if f.severity is Severity.ERROR]
        raise CollectionError(f"{len(errors)} item(s) cannot be packaged", plan.findings)
    if isinstance(out, (str, Path)):
        bytes_written, page_findings = _write_to_path(Path(out), plan, source, progress)
    else:
        bytes_written, page_findings = _write_to_stream(out, plan, source, progress)
    return BuildReport(
        cc_version=cc_version,
        item_count=plan.item_count,
        file_count=plan.file_count,
        bytes_written=bytes_written,
        findings=findings + page_findings,
    )


def preflight(collection: Collection, source: ContentSource, *, cc_version: str = "1.1") -> list[Finding]:
    """Everything :func:`build` would report or refuse, without writing or raising.

    Licence problems come as errors (what ``allow_non_oer=False`` refuses);
    a converter can drop or fix the items named before it builds.
    """
    try:
        findings = check_licences(collection, allow_non_oer=False)
    except LicenceError as exc:
        findings = exc.findings
    return findings + Planner(collection, source, PROFILES[cc_version]).plan().findings


# -- outline ---------------------------------------------------------------------


def walk_outline(collection: Collection) -> Iterator[tuple[str, tuple[int, ...], Item | Module]]:
    """Every module and item depth first, with its field path and position.

    The field path is the one collection.yaml uses (``modules[0].items[2]``),
    the position counts from 1 with the about module as 0 (``(1, 3)``).
    """

    def walk(children: list[Item | Module], loc: str, pos: tuple[int, ...]) -> Iterator[Any]:
        for i, child in enumerate(children):
            child_loc, child_pos = f"{loc}.items[{i}]", (*pos, i + 1)
            yield child_loc, child_pos, child
            if isinstance(child, Module):
                yield from walk(child.children, child_loc, child_pos)

    for i, module in enumerate(collection.modules):
        yield f"modules[{i}]", (i + 1,), module
        yield from walk(module.children, f"modules[{i}]", (i + 1,))


def check_licences(collection: Collection, *, allow_non_oer: bool) -> list[Finding]:
    """Findings for unknown, missing and non-open licences; raise unless allowed.

    Content in the cartridge (pages, files, discussions, the collection
    itself) must be openly licensed. Web links and LTI links only point
    elsewhere, so their licence problems are warnings.
    """
    severity = Severity.WARNING if allow_non_oer else Severity.ERROR
    findings = _licence_findings(collection.licence, "licence", severity)
    for loc, _pos, node in walk_outline(collection):
        if isinstance(node, Item) and node.attribution.licence:
            linked = node.kind in (ItemKind.WEBLINK, ItemKind.LTI)
            findings += _licence_findings(
                node.attribution.licence, f"{loc}.licence", Severity.WARNING if linked else severity
            )
    if has_errors(findings):
        count = sum(f.severity is Severity.ERROR for f in findings)
        raise LicenceError(f"{count} licence problem(s): not an open educational resource", findings)
    return findings


def _licence_findings(identifier: str, location: str, severity: Severity) -> list[Finding]:
    if not identifier.strip():
        return [
            Finding(
                "missing-licence", severity, location, "no licence given",
                "add `licence: CC-BY-SA-4.0` (or another open licence) to collection.yaml",
            )
        ]  # fmt: skip
    lic = get_licence(identifier)
    if lic is None:
        return [
            Finding(
                "unknown-licence", severity, location, f"{identifier!r} is not a licence the builder knows",
                "use an identifier such as CC0-1.0, PDM-1.0, CC-BY-4.0, CC-BY-SA-4.0, CC-BY-SA-3.0-DE",
            )
        ]  # fmt: skip
    if not lic.is_open:
        return [
            Finding(
                "non-open-licence", severity, location, f"{lic.short}: {restriction_note(lic, 'en')}",
                "if you hold the rights, choose CC BY, CC BY-SA or CC0; otherwise build with --allow-non-oer",
            )
        ]  # fmt: skip
    return []


# -- plan ------------------------------------------------------------------------


@dataclass
class Entry:
    """One file of the zip and where its bytes come from."""

    path: str
    source_path: str = ""  # copied from the content source
    data: bytes | None = None  # generated
    page: Item | None = None  # an author page: footer added while writing
    attribution: Attribution | None = None


@dataclass
class Resource:
    identifier: str
    type: str
    href: str | None
    files: list[str]
    instructor_only: bool = False


@dataclass
class Node:
    """An organization item: a module (children) or a leaf (resource)."""

    identifier: str
    title: str
    children: list[Node] = field(default_factory=list)
    resource: Resource | None = None
    attribution: Attribution | None = None
    description: str = ""


@dataclass
class Plan:
    collection: Collection
    profile: Profile
    manifest_id: str
    root: list[Node]
    resources: list[Resource]
    #: Zip entries in writing order; each tuple is (item or None, its entries).
    jobs: list[tuple[Item | None, list[Entry]]]
    findings: list[Finding]

    @property
    def file_count(self) -> int:
        """Entries of the zip: the manifest and every distinct path."""
        return 1 + len({e.path for _item, entries in self.jobs for e in entries})

    @property
    def item_count(self) -> int:
        return sum(1 for item, _ in self.jobs if item is not None)


class Planner:
    """Decide identifiers, package paths, resources and zip entries."""

    def __init__(self, collection: Collection, source: ContentSource, profile: Profile) -> None:
        self.collection = collection
        self.source = source
        self.profile = profile
        self.lang = collection.language or "de"
        self.ids = IdentifierAllocator()
        self.paths = PathAllocator()
        self.findings: list[Finding] = []
        self.resources: list[Resource] = []
        self.jobs: list[tuple[Item | None, list[Entry]]] = []
        self.page_paths: set[str] = set()  # an asset that is also a page is written as the page

    def plan(self) -> Plan:
        if not self.collection.modules:
            self._error("no-modules", "modules", "the collection has no modules", "add at least one module with items")
        manifest_id = self.ids.make("CC", (), self.collection.title, self.collection.language)
        # Assets keep their exact paths (pages link to them); claim them first.
        for loc, _pos, node in walk_outline(self.collection):
            if isinstance(node, Item) and node.kind is ItemKind.PAGE:
                self.page_paths.add(node.path)
                for i, asset in enumerate(node.assets):
                    self._claim_asset(asset, f"{loc}.assets[{i}]")
        root = [self._about()]
        for i, module in enumerate(self.collection.modules):
            root.append(self._module(module, f"modules[{i}]", (i + 1,)))
        return Plan(self.collection, self.profile, manifest_id, root, self.resources, self.jobs, self.findings)

    # about module -----------------------------------------------------------

    def _about(self) -> Node:
        t = TEXTS[text_lang(self.lang)]
        pages = (
            (t["overview"], "about/overview.html", overview_page(self.collection)),
            (t["attribution"], "about/licences.html", attribution_page(self.collection)),
        )
        module = Node(self.ids.make(ABOUT_PREFIX, (0,), t["about"]), t["about"])
        for n, (title, path, data) in enumerate(pages, start=1):
            rid = self.ids.make(f"{ABOUT_PREFIX}_R", (0, n), title)
            href = self.paths.claim(f"gen:{path}", path)
            resource = Resource(rid, "webcontent", href, [href])
            self.resources.append(resource)
            self.jobs.append((None, [Entry(href, data=data)]))
            module.children.append(Node(self.ids.make(ABOUT_PREFIX, (0, n), title), title, resource=resource))
        return module

    # author outline ---------------------------------------------------------

    def _module(self, module: Module, loc: str, pos: tuple[int, ...]) -> Node:
        node = Node(self.ids.make("M", pos, module.title), _one_line(module.title) or "-")
        if not module.children:
            self._warn("empty-module", loc, f"module {module.title!r} has no items", "Moodle shows an empty section")
        for i, child in enumerate(module.children):
            child_loc, child_pos = f"{loc}.items[{i}]", (*pos, i + 1)
            if isinstance(child, Module):
                node.children.append(self._module(child, child_loc, child_pos))
            else:
                item_node = self._item(child, child_loc, child_pos)
                if item_node:
                    node.children.append(item_node)
        return node

    def _item(self, item: Item, loc: str, pos: tuple[int, ...]) -> Node | None:
        content = (item.kind.value, item.title, item.path, item.url, item.text)
        rid = self.ids.make("R", pos, *content)
        attribution = self.collection.effective(item)
        entries: list[Entry] = []
        if item.kind in (ItemKind.PAGE, ItemKind.FILE):
            href = self._claim_content(item, loc)
            if href is None:
                return None
            files = [href]
            entries.append(Entry(href, source_path=item.path, page=item if item.kind is ItemKind.PAGE else None,
                                 attribution=attribution))  # fmt: skip
            if item.kind is ItemKind.PAGE:
                for asset in item.assets:
                    asset_href = self.paths.path_of(f"src:{asset}")
                    if asset_href and asset_href not in files:
                        files.append(asset_href)
                        if asset not in self.page_paths:
                            entries.append(Entry(asset_href, source_path=asset))
            resource = Resource(rid, "webcontent", href, files, item.instructor_only)
        else:
            folder, kind_type, data = self._descriptor(item, attribution, loc)
            if data is None:
                return None
            href = self.paths.claim(f"gen:{folder}/{rid}", f"{folder}/{rid}.xml")
            entries.append(Entry(href, data=data))
            resource = Resource(rid, kind_type, None, [href], item.instructor_only)
        self.resources.append(resource)
        self.jobs.append((item, entries))
        return Node(
            self.ids.make("I", pos, *content),
            _one_line(item.title) or "-",
            resource=resource,
            attribution=attribution,
            description=item.description,
        )

    def _claim_content(self, item: Item, loc: str) -> str | None:
        if not self._check_source(item.path, f"{loc}.path"):
            return None
        if item.kind is ItemKind.PAGE and self.source.size(item.path) > MAX_PAGE_BYTES:
            self._error(
                "page-too-large", f"{loc}.path", f"{item.path}: HTML page larger than {MAX_PAGE_BYTES // 2**20} MB",
                "split the page, or package it as a file",
            )  # fmt: skip
            return None
        return self.paths.claim(f"src:{item.path}", f"{CONTENT_FOLDER}/{safe_path(item.path)}")

    def _claim_asset(self, asset: str, loc: str) -> None:
        if not self._check_source(asset, loc):
            return
        wanted = f"{CONTENT_FOLDER}/{asset if is_safe_path(asset) else safe_path(asset)}"
        got = self.paths.claim(f"src:{asset}", wanted)
        if got != f"{CONTENT_FOLDER}/{asset}":
            self._warn(
                "renamed-asset", loc, f"{asset}: stored as {got.removeprefix(CONTENT_FOLDER + '/')}; links to it break",
                "rename the file to a name of letters, digits, '.', '_' and '-' and change the page's link",
            )  # fmt: skip

    def _check_source(self, path: str, loc: str) -> bool:
        try:
            ok = bool(path) and self.source.exists(path)
        except CollectionError:  # the source refused the path (leaves its root)
            self._error(
                "path-outside", loc, f"{path}: outside the collection", "keep files inside the collection folder"
            )
            return False
        if not ok:
            self._error(
                "missing-file", loc, f"{path or '(no path)'}: file not found", "check the path and its spelling"
            )
        return ok

    def _descriptor(self, item: Item, attribution: Attribution, loc: str) -> tuple[str, str, bytes | None]:
        p = self.profile
        if item.kind is ItemKind.WEBLINK:
            if not _is_web_url(item.url):
                self._error("bad-url", f"{loc}.url", f"{item.url!r} is not an http(s) URL", "write the full URL")
                return "weblinks", p.weblink_type, None
            return "weblinks", p.weblink_type, weblink_xml(p, item)
        if item.kind is ItemKind.DISCUSSION:
            return "discussions", p.discussion_type, discussion_xml(p, item, footer_html(attribution, self.lang))
        if not _is_web_url(item.url):
            self._error("bad-url", f"{loc}.url", f"{item.url!r} is not an http(s) launch URL", "write the full URL")
            return "lti", p.lti_type, None
        custom = {name: str(value) for name, value in item.custom.items() if _is_xs_name(name)}
        for name in sorted(set(item.custom) - set(custom)):
            self._warn("dropped-custom", f"{loc}.custom", f"custom parameter {name!r} left out: not an XML name")
        return "lti", p.lti_type, lti_xml(item, custom)

    def _error(self, code: str, loc: str, message: str, hint: str = "") -> None:
        self.findings.append(Finding(code, Severity.ERROR, loc, message, hint))

    def _warn(self, code: str, loc: str, message: str, hint: str = "") -> None:
        self.findings.append(Finding(code, Severity.WARNING, loc, message, hint))


def _one_line(text: str) -> str:
    return xml_text(" ".join(text.split()))


def _is_web_url(url: str) -> bool:
    url = url.strip()
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() or c < " " or c == "\x7f" for c in url)
    )


# -- XML -----------------------------------------------------------------------


def _serialize(root: etree._Element) -> bytes:
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def manifest_xml(plan: Plan) -> bytes:
    """The imsmanifest.xml; the default namespace is its first declaration."""
    p, ns = plan.profile, plan.profile.ns
    nsmap = {None: ns.cp, "lomimscc": ns.lom_manifest, "lom": ns.lom_resource, "xsi": XSI}
    short = p.version.replace(".", "p")
    locations = (
        f"{ns.cp} {p.profile_url}ccv{short}_imscp_v1p2_v1p0.xsd "
        f"{ns.lom_manifest} {p.profile_url}LOM/ccv{short}_lommanifest_v1p0.xsd "
        f"{ns.lom_resource} {p.profile_url}LOM/ccv{short}_lomresource_v1p0.xsd"
    )
    manifest = etree.Element(f"{{{ns.cp}}}manifest", nsmap=nsmap)  # type: ignore[arg-type]
    manifest.set("identifier", plan.manifest_id)
    manifest.set(f"{{{XSI}}}schemaLocation", locations)

    def sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{ns.cp}}}{name}", **attrs)
        if text is not None:
            el.text = text
        return el

    metadata = sub(manifest, "metadata")
    sub(metadata, "schema", "IMS Common Cartridge")
    sub(metadata, "schemaversion", p.schema_version)
    add_cartridge_lom(metadata, ns.lom_manifest, plan.collection)

    organization = sub(sub(manifest, "organizations"), "organization", identifier="ORG_1", structure="rooted-hierarchy")
    root_item = sub(organization, "item", identifier="ROOT")
    lang = plan.collection.language or "de"

    def add(parent: etree._Element, node: Node) -> None:
        attrs = {"identifier": node.identifier}
        if node.resource:
            attrs["identifierref"] = node.resource.identifier
        el = sub(parent, "item", **attrs)
        sub(el, "title", node.title)
        for child in node.children:
            add(el, child)
        if node.attribution:  # item metadata comes after title and children
            add_item_lom(
                sub(el, "metadata"), ns.lom_manifest, node.attribution, description=node.description, lang=lang
            )

    for node in plan.root:
        add(root_item, node)

    resources = sub(manifest, "resources")
    for res in plan.resources:
        attrs = {"identifier": res.identifier, "type": res.type}
        if res.href:
            attrs["href"] = res.href
        el = sub(resources, "resource", **attrs)
        if res.instructor_only:
            add_role_lom(sub(el, "metadata"), ns.lom_resource, "Instructor")
        for href in res.files:
            sub(el, "file", href=href)
    return _serialize(manifest)


def weblink_xml(profile: Profile, item: Item) -> bytes:
    ns = profile.weblink_ns
    root = etree.Element(f"{{{ns}}}webLink", nsmap={None: ns, "xsi": XSI})  # type: ignore[dict-item]
    root.set(f"{{{XSI}}}schemaLocation", f"{ns} {profile.profile_url}{_descriptor_xsd(profile, 'imswl')}")
    etree.SubElement(root, f"{{{ns}}}title").text = _one_line(item.title)
    etree.SubElement(root, f"{{{ns}}}url", href=xml_text(item.url.strip()))
    return _serialize(root)


def discussion_xml(profile: Profile, item: Item, footer: str) -> bytes:
    ns = profile.discussion_ns
    root = etree.Element(f"{{{ns}}}topic", nsmap={None: ns, "xsi": XSI})  # type: ignore[dict-item]
    root.set(f"{{{XSI}}}schemaLocation", f"{ns} {profile.profile_url}{_descriptor_xsd(profile, 'imsdt')}")
    etree.SubElement(root, f"{{{ns}}}title").text = _one_line(item.title)
    etree.SubElement(root, f"{{{ns}}}text", texttype="text/html").text = xml_text(discussion_text(item.text, footer))
    return _serialize(root)


def _descriptor_xsd(profile: Profile, kind: str) -> str:
    v = profile.version.replace(".", "p")
    return f"ccv{v}_{kind}_v{v}.xsd"


def lti_xml(item: Item, custom: dict[str, str]) -> bytes:
    """A basic LTI link descriptor (imslticc_v1p0, the same in 1.1 and 1.3)."""
    cc_ns, blti, lticm = cc.LTI_CC_NS[0], cc.BASICLTI_NS, cc.LTICM_NS
    nsmap = {None: cc_ns, "blti": blti, "lticm": lticm, "lticp": LTICP_NS, "xsi": XSI}
    root = etree.Element(f"{{{cc_ns}}}cartridge_basiclti_link", nsmap=nsmap)  # type: ignore[arg-type]
    root.set(
        f"{{{XSI}}}schemaLocation",
        f"{cc_ns} http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticc_v1p0.xsd "
        f"{blti} http://www.imsglobal.org/xsd/lti/ltiv1p0/imsbasiclti_v1p0p1.xsd "
        f"{lticm} http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticm_v1p0.xsd "
        f"{LTICP_NS} http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticp_v1p0.xsd",
    )
    etree.SubElement(root, f"{{{blti}}}title").text = _one_line(item.title)
    description = item.description or item.text
    if description.strip():
        etree.SubElement(root, f"{{{blti}}}description").text = xml_text(description.strip())
    if custom:
        properties = etree.SubElement(root, f"{{{blti}}}custom")
        for name in sorted(custom):  # sorted: no dict-order dependence
            etree.SubElement(properties, f"{{{lticm}}}property", name=name).text = xml_text(custom[name])
    url = item.url.strip()
    etree.SubElement(root, f"{{{blti}}}launch_url").text = url
    if url.startswith("https://"):
        etree.SubElement(root, f"{{{blti}}}secure_launch_url").text = url
    host = urlsplit(url).hostname or ""
    vendor = etree.SubElement(root, f"{{{blti}}}vendor")
    etree.SubElement(vendor, f"{{{LTICP_NS}}}code").text = host if _is_xs_name(host) else "unknown"
    etree.SubElement(vendor, f"{{{LTICP_NS}}}name").text = host or "unknown"
    return _serialize(root)


def _is_xs_name(value: str) -> bool:
    return bool(value) and (value[0].isalpha() or value[0] in "_:") and all(c.isalnum() or c in "._:-" for c in value)


# -- zip -----------------------------------------------------------------------


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    """1980-01-01 00:00, or SOURCE_DATE_EPOCH (UTC, not before 1980)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        t = time.gmtime(int(epoch))
        if t.tm_year >= 1980:
            # Zip stores even seconds only.
            return (min(t.tm_year, 2107), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)
    return (1980, 1, 1, 0, 0, 0)


def _zipinfo(path: str, size: int, date_time: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time)
    info.create_system = 3  # Unix, wherever the build runs
    info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
    stored = os.path.splitext(path)[1].lower() in STORED_SUFFIXES
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.file_size = size  # lets zipfile decide on zip64 before streaming
    return info


class _Counter:
    """A write-only stream wrapper that counts bytes (for unseekable outputs)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()


def _write_to_path(
    out: Path, plan: Plan, source: ContentSource, progress: Progress | None
) -> tuple[int, list[Finding]]:
    part = out.with_name(f".{out.name}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # the umask decides the mode
    try:
        with os.fdopen(fd, "wb") as f:
            findings = write_zip(f, plan, source, progress)
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return out.stat().st_size, findings


def _write_to_stream(
    out: BinaryIO, plan: Plan, source: ContentSource, progress: Progress | None
) -> tuple[int, list[Finding]]:
    seekable = getattr(out, "seekable", lambda: False)()
    if seekable:
        start = out.tell()
        findings = write_zip(out, plan, source, progress)
        return out.tell() - start, findings
    counter = _Counter(out)
    findings = write_zip(counter, plan, source, progress)  # type: ignore[arg-type]
    return counter.count, findings


def write_zip(fp: BinaryIO, plan: Plan, source: ContentSource, progress: Progress | None = None) -> list[Finding]:
    """Stream the planned cartridge into ``fp``; return findings about pages."""
    date_time = zip_date_time()
    findings: list[Finding] = []
    total = plan.item_count
    done = 0
    written: set[str] = set()
    lang = plan.collection.language or "de"
    if progress:
        progress(0, total)
    with zipfile.ZipFile(fp, "w", allowZip64=True) as zf:
        manifest = manifest_xml(plan)
        zf.writestr(_zipinfo(cc.MANIFEST, len(manifest), date_time), manifest)
        for item, entries in plan.jobs:
            for entry in entries:
                if entry.path in written:
                    continue
                written.add(entry.path)
                if entry.data is not None:
                    zf.writestr(_zipinfo(entry.path, len(entry.data), date_time), entry.data)
                elif entry.page is not None and entry.attribution is not None:
                    data, notes = _page_bytes(source, entry.page, entry.attribution, lang)
                    findings += [Finding("page-html", Severity.INFO, entry.page.path, note) for note in notes]
                    zf.writestr(_zipinfo(entry.path, len(data), date_time), data)
                else:
                    size = source.size(entry.source_path)
                    with (
                        source.open(entry.source_path) as src,
                        zf.open(_zipinfo(entry.path, size, date_time), "w") as dst,
                    ):
                        shutil.copyfileobj(src, dst, CHUNK)
            if item is not None:
                done += 1
                if progress:
                    progress(done, total)
    return findings


def _page_bytes(source: ContentSource, item: Item, attribution: Attribution, lang: str) -> tuple[bytes, list[str]]:
    with source.open(item.path) as f:
        raw = f.read(MAX_PAGE_BYTES + 1)
    if len(raw) > MAX_PAGE_BYTES:  # it grew after planning
        message = f"{item.path}: HTML page larger than {MAX_PAGE_BYTES // 2**20} MB"
        raise CollectionError(message, [Finding("page-too-large", Severity.ERROR, item.path, message)])
    page = with_footer(raw, footer_html(attribution, lang), title=item.title, lang=lang)
    return page.data, page.notes
