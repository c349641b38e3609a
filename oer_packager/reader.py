"""Read any Common Cartridge (1.0–1.3) into the neutral model.

The organisation's outline becomes modules and items: items without a
resource become :class:`~oer_packager.model.Module` (also when empty, like
Canvas' text headers); a resource item directly below the root gets a module
of its own, as Moodle gives it a section of its own. Resource types map to
:class:`~oer_packager.model.ItemKind`; quizzes (QTI), assignments,
associated content and unknown types stay out of the model and are reported
("not-carried-over"). Metadata and licences come from the LOM of the
manifest and of each resource, including Canvas' "Licence name - URL" text
in ``rights/description``.

:class:`Cartridge` keeps the archive open (``Cartridge.source`` streams item
files from it); close it or use it as a context manager. Item paths are the
archive names of the files (percent-decoded only where just the decoded name
exists), relative to the folder all item files share - "web_resources/" in
our builder's cartridges, so that a rebuilt cartridge does not nest it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from oer_packager import licences, xmlsafe
from oer_packager.cc import MANIFEST, ResourceKind, detect_version, is_html, resource_kind
from oer_packager.errors import CartridgeError
from oer_packager.findings import Finding, Severity
from oer_packager.model import Attribution, Collection, ContentSource, Item, ItemKind, Module, Person
from oer_packager.safezip import Limits, SafeZip, check_name

# -- the archive as a content source -----------------------------------------


class CartridgeSource(ContentSource):
    """Serves item files straight from the cartridge's zip.

    Paths are archive names below ``root`` (the folder all item files share,
    see :func:`content_root`; usually "").
    """

    def __init__(self, archive: SafeZip, root: str = "") -> None:
        self.archive = archive
        self.root = root

    def _checked(self, path: str) -> str:
        problem = check_name(path, self.archive.limits)
        if problem:
            raise CartridgeError(f"{path!r}: {problem}")
        return self.root + path

    def open(self, path: str) -> BinaryIO:
        return self.archive.open(self._checked(path))

    def size(self, path: str) -> int:
        return self.archive.size(self._checked(path))

    def exists(self, path: str) -> bool:
        return check_name(path, self.archive.limits) is None and self.archive.exists(self.root + path)


# -- what the reader produces ---------------------------------------------------


@dataclass
class Lom:
    """The LOM fields the packager uses (cartridge or resource level)."""

    title: str = ""
    description: str = ""
    language: str = ""
    keywords: list[str] = field(default_factory=list)
    authors: list[Person] = field(default_factory=list)
    rights: str = ""  # rights/description as written
    roles: list[str] = field(default_factory=list)  # educational/intendedEndUserRole


@dataclass
class Resource:
    """One ``<resource>`` of the manifest, as written."""

    identifier: str
    type: str
    href: str = ""
    files: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    line: int | None = None
    lom: Lom | None = None
    #: LOM attached to single files (file/metadata/lom), by href.
    file_lom: dict[str, Lom] = field(default_factory=dict)

    @property
    def kind(self) -> ResourceKind | None:
        return resource_kind(self.type)


@dataclass
class OutlineNode:
    """One organisation item as found, including those not carried over."""

    identifier: str
    title: str
    identifierref: str = ""
    type: str = ""  # resource type ("" for modules)
    kind: str = "module"  # "module", an ItemKind value, or "not carried over"
    licence: str = ""  # licence id, or the rights text when no id was recognised
    instructor_only: bool = False
    children: list[OutlineNode] = field(default_factory=list)


@dataclass
class Cartridge:
    version: str
    collection: Collection
    source: CartridgeSource
    findings: list[Finding]
    resources: dict[str, Resource]
    outline: list[OutlineNode]
    rights: str = ""  # the cartridge's rights/description as written

    def close(self) -> None:
        self.source.archive.close()

    def __enter__(self) -> Cartridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- LOM -----------------------------------------------------------------------------


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if _local(c) == name]


def _kid(el: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        found = _kids(el, name)
        el = found[0] if found else None
    return el


def _text(el: etree._Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _lang_string(el: etree._Element | None) -> str:
    """A LOM LangString: the first <string>, line breaks kept (CC 1.0–1.3 all use <string>)."""
    if el is None:
        return ""
    strings = _kids(el, "string") or _kids(el, "langstring")
    target = strings[0] if strings else el
    return "\n".join(line.strip() for line in (target.text or "").strip().splitlines())


_FN = re.compile(r"^FN(?:;[^:]*)?:(.*)$", re.MULTILINE | re.IGNORECASE)
_URL_LINE = re.compile(r"^URL(?:;[^:]*)?:(.*)$", re.MULTILINE | re.IGNORECASE)


def vcard_person(vcard: str) -> Person | None:
    """The person named by a vCard's FN line (with its URL, if any)."""
    text = re.sub(r"\r?\n[ \t]", "", vcard)  # unfold continuation lines
    m = _FN.search(text)
    if not m:
        return None
    name = m.group(1).strip().replace("\\,", ",").replace("\\;", ";").replace("\\n", " ").replace("\\\\", "\\")
    if not name:
        return None
    url = _URL_LINE.search(text)
    return Person(name=name, url=url.group(1).strip() if url else "")


def read_lom(lom: etree._Element | None) -> Lom:
    """The fields of one LOM element (namespace-agnostic)."""
    out = Lom()
    if lom is None:
        return out
    general = _kid(lom, "general")
    out.title = " ".join(_lang_string(_kid(general, "title")).split())
    out.description = _lang_string(_kid(general, "description"))
    out.language = _text(_kid(general, "language"))
    if not out.language:
        title_string = _kid(general, "title", "string")
        if title_string is not None:
            out.language = title_string.get("language", "")
    out.keywords = [k for k in (_lang_string(kw) for kw in _kids(general, "keyword")) if k]
    for contribute in _kids(_kid(lom, "lifeCycle"), "contribute"):
        role = _text(_kid(contribute, "role", "value")).lower()
        if role not in ("", "author"):
            continue
        for entity in _kids(contribute, "entity"):
            person = vcard_person(entity.text or "")
            if person and person.name not in [p.name for p in out.authors]:
                out.authors.append(person)
    out.rights = _lang_string(_kid(lom, "rights", "description"))
    for educational in _kids(lom, "educational"):
        out.roles += [_text(_kid(r, "value")) for r in _kids(educational, "intendedEndUserRole")]
    return out


def _metadata_lom(el: etree._Element) -> etree._Element | None:
    return _kid(el, "metadata", "lom")


def merge_lom(*loms: Lom | None) -> Lom:
    """One view of several LOM records, the first non-empty field winning.

    An item's metadata can sit on the item, its resource or its main file
    (in CC 1.1 the resource-level LOM profile holds only the intended role,
    so the licence lives on the item or the file).
    """
    out = Lom()
    for lom in loms:
        if lom is None:
            continue
        for name in ("title", "description", "language", "rights"):
            if not getattr(out, name):
                setattr(out, name, getattr(lom, name))
        out.keywords = out.keywords or list(lom.keywords)
        out.authors = out.authors or list(lom.authors)
        out.roles += [r for r in lom.roles if r not in out.roles]
    return out


INSTRUCTOR_ROLES = {"instructor", "mentor", "teacher"}


# -- licences -------------------------------------------------------------------------

_HTTP = re.compile(r"https?://[^\s,;<>\"')]+", re.IGNORECASE)
# Canvas' licence names ("<name> - <url>" in rights/description).
_CANVAS_NAMES = {
    "public domain": "PDM-1.0",
    "cc attribution": "CC-BY-4.0",
    "cc attribution share alike": "CC-BY-SA-4.0",
    "cc attribution no derivatives": "CC-BY-ND-4.0",
    "cc attribution non commercial": "CC-BY-NC-4.0",
    "cc attribution non commercial share alike": "CC-BY-NC-SA-4.0",
    "cc attribution non commercial no derivatives": "CC-BY-NC-ND-4.0",
}


def _lookup(candidate: str) -> str | None:
    """The one place that asks the licence registry."""
    lic = licences.get(candidate)
    return lic.id if lic else None


def licences_in(text: str) -> list[str]:
    """Licence identifiers named in a rights text, in order, without repeats.

    Licence URLs win; then the whole text, its "name - URL" parts and the
    "Lizenz:"/"licence:" phrase of a TULLU line; then Canvas' names.
    """
    found: list[str] = []

    def add(ident: str | None) -> None:
        if ident and ident not in found:
            found.append(ident)

    for url in _HTTP.findall(text):
        add(_lookup(url.rstrip(".")))
    if found:
        return found
    add(_lookup(text))
    for part in re.split(r"\s+[-–/]\s+|,\s*|\(|\)", text):
        part = re.sub(r"^(lizenz|licen[cs]e)\s*:\s*", "", part.strip(), flags=re.IGNORECASE)
        if part:
            add(_lookup(part))
    if not found:
        name = re.split(r"\s+[-–]\s+", text.strip())[0].strip().lower()
        add(_CANVAS_NAMES.get(name))
    return found


_SOURCE = re.compile(r"(?:^|,\s*)(?:Quelle|source)\s*:\s*(.+?)(?=,\s*(?:Änderungen|changes)\s*:|$)", re.IGNORECASE)
_CHANGES = re.compile(r"(?:^|,\s*)(?:Änderungen|changes)\s*:\s*(.+)$", re.IGNORECASE)


def tullu_parts(text: str) -> tuple[str, str]:
    """(source, changes) from a TULLU line in ``rights/description``."""
    source = _SOURCE.search(text)
    changes = _CHANGES.search(text)
    return (source.group(1).strip() if source else "", changes.group(1).strip() if changes else "")


# -- HTML pages ------------------------------------------------------------------------

_LINK_ATTRS = {"href", "src", "poster", "data", "srcset"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
FILEBASE_TOKENS = ("$IMS-CC-FILEBASE$", "%24IMS-CC-FILEBASE%24")
_TOKEN = re.compile(r"^(\$[A-Z_\-]+\$|%24[A-Z_\-]+%24)")


def page_links(data: bytes) -> list[tuple[str, int]]:
    """(url, line) of every href/src-like attribute in an HTML page."""
    parser = etree.HTMLParser(no_network=True, recover=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(data.decode("utf-8", "replace"), parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    out: list[tuple[str, int]] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, value in el.attrib.items():
            if attr.lower() not in _LINK_ATTRS or not value.strip():
                continue
            if attr.lower() == "srcset":
                out += [(c.strip().split(" ")[0], el.sourceline or 0) for c in value.split(",") if c.strip()]
            elif not (el.tag == "base" or (attr.lower() == "data" and el.tag != "object")):
                out.append((value.strip(), el.sourceline or 0))
    return out


@dataclass(frozen=True)
class Link:
    """Where a page link points: ``kind`` is external, file, missing, outside, canvas or absolute."""

    kind: str
    target: str = ""  # archive path for file/missing
    encoded: bool = False  # found only after percent-decoding


def resolve_link(page: str, url: str, has: Callable[[str], bool]) -> Link:
    """Classify a link of ``page``; ``has(path)`` tells whether the archive holds a file."""
    if not url or url.startswith(("#", "//")) or _SCHEME.match(url):
        return Link("external")
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    base = posixpath.dirname(page)
    for token in FILEBASE_TOKENS:
        if path.startswith(token):
            rest = path[len(token) :].lstrip("/")
            for candidate in (posixpath.join("web_resources", rest), posixpath.join(base, rest), rest):
                found = _existing(posixpath.normpath(candidate), has)
                if found:
                    return found
            return Link("missing", posixpath.normpath(posixpath.join("web_resources", rest)))
    if _TOKEN.match(path):
        return Link("canvas")
    if path.startswith("/"):
        return Link("absolute")
    if not path:
        return Link("external")
    joined = posixpath.normpath(posixpath.join(base, path))
    if joined == ".." or joined.startswith("../"):
        return Link("outside", joined)
    return _existing(joined, has) or Link("missing", joined)


def _existing(path: str, has: Callable[[str], bool]) -> Link | None:
    if has(path):
        return Link("file", path)
    decoded = unquote(path)
    if decoded != path and has(decoded):
        return Link("file", decoded, encoded=True)
    return None


# -- the reader -------------------------------------------------------------------------------

_ABOUT_ID = re.compile(r"^ABOUT_0_[0-9a-f]{8}$")


def _generated_about(el: etree._Element) -> bool:
    """True for the "about this collection" module our builder generates.

    Its identifier is ``ABOUT_0_<hash>`` (builder.ABOUT_PREFIX, position 0);
    rebuilding a read cartridge would otherwise add a second one.
    """
    return not el.get("identifierref") and bool(_ABOUT_ID.match(el.get("identifier", "")))


def _walk(nodes: list[OutlineNode]) -> list[OutlineNode]:
    out: list[OutlineNode] = []
    for node in nodes:
        out += [node, *_walk(node.children)]
    return out


def content_root(collection: Collection) -> str:
    """The folder every item file and asset lies in ("web_resources/" for our builder's cartridges)."""
    paths = [p for item in collection.items() for p in (item.path, *item.assets) if p]
    if not paths:
        return ""
    folders = [p.split("/")[:-1] for p in paths]
    common: list[str] = []
    for parts in zip(*folders, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    # zip() stops at the shortest path: a file directly in the common folder limits it.
    return "/".join(common) + "/" if common else ""


def relocate(collection: Collection, root: str) -> None:
    """Make item paths relative to ``root``, so a rebuilt cartridge does not nest it again."""
    for item in collection.items():
        item.path = item.path.removeprefix(root) if item.path else ""
        item.assets = [a.removeprefix(root) for a in item.assets]


def inherit(collection: Collection) -> None:
    """Blank item attributions that only repeat the collection's (they inherit them)."""
    for item in collection.items():
        a = item.attribution
        if a.licence == collection.licence:
            a.licence = ""
        if [p.name for p in a.authors] == [p.name for p in collection.authors]:
            a.authors = []
        if a.source == collection.source:
            a.source = ""


def _where(el: etree._Element, what: str) -> str:
    line = f":{el.sourceline}" if el.sourceline else ""
    return f"{MANIFEST}{line} {what}"


class _Reader:
    def __init__(self, archive: SafeZip, root: etree._Element, version: str, fallback_title: str) -> None:
        self.archive = archive
        self.root = root
        self.version = version
        self.fallback_title = fallback_title
        self.findings: list[Finding] = []
        self._noted: set[Finding] = set()
        self.resources: dict[str, Resource] = {}
        self.used: set[str] = set()

    def note(self, code: str, severity: Severity, location: str, message: str, hint: str = "") -> None:
        finding = Finding(code, severity, location, message, hint)
        if finding not in self._noted:  # a file shared by several items is reported once
            self._noted.add(finding)
            self.findings.append(finding)

    # resources

    def read_resources(self) -> None:
        for el in _kids(_kid(self.root, "resources"), "resource"):
            ident = el.get("identifier", "")
            if ident in self.resources:
                self.note(
                    "identifier-duplicate",
                    Severity.WARNING,
                    _where(el, f"resource[@identifier='{ident}']"),
                    "resource identifier used twice; the first one is read",
                )
                continue
            lom_el = _metadata_lom(el)
            self.resources[ident] = Resource(
                identifier=ident,
                type=el.get("type", ""),
                href=el.get("href", ""),
                files=[f.get("href", "") for f in _kids(el, "file")],
                dependencies=[d.get("identifierref", "") for d in _kids(el, "dependency")],
                line=el.sourceline,
                lom=read_lom(lom_el) if lom_el is not None else None,
                file_lom={
                    f.get("href", ""): read_lom(_metadata_lom(f))
                    for f in _kids(el, "file")
                    if _metadata_lom(f) is not None
                },
            )

    def path(self, href: str, res: Resource) -> str | None:
        """The archive name for an href of ``res``: as written, else percent-decoded (reported)."""
        if not href or check_name(href, self.archive.limits):
            return None
        if self.archive.exists(href):
            return href
        decoded = unquote(href)
        if decoded != href and self.archive.exists(decoded):
            self.note(
                "href-decoded",
                Severity.WARNING,
                f"{MANIFEST}:{res.line} resource[@identifier='{res.identifier}']",
                f"file {href!r} exists only percent-decoded as {decoded!r}; read from there",
                "write hrefs exactly as the file names in the zip (Moodle uses them literally)",
            )
            return decoded
        return None

    # outline

    def read_outline(self) -> tuple[list[Module], list[OutlineNode]]:
        orgs = _kids(_kid(self.root, "organizations"), "organization")
        if not orgs:
            return [], []
        items = _kids(orgs[0], "item")
        if len(items) == 1 and not items[0].get("identifierref"):
            top = _kids(items[0], "item")
        else:
            top = items
            self.note(
                "structure",
                Severity.WARNING,
                _where(orgs[0], "organization"),
                "the organisation has no single root item; its items are read as top level",
                "wrap the outline in one root <item> (rooted-hierarchy)",
            )
        modules: list[Module] = []
        nodes: list[OutlineNode] = []
        for el in top:
            node = self.node(el)
            nodes.append(node)
            if _generated_about(el):
                # The builder writes it anew; keep it only in the outline.
                self.used.update(n.identifierref for n in _walk(node.children) if n.identifierref)
                for generated in _walk(node.children):
                    if generated.identifierref:
                        generated.kind = "generated by LMS Bridge"
                continue
            converted = self.convert(el, node)
            if isinstance(converted, Module):
                modules.append(converted)
            elif converted is not None:
                # A resource directly below the root: Moodle gives it a section of its own.
                modules.append(Module(title=converted.title, children=[converted], ref=el.get("identifier", "")))
        return modules, nodes

    def node(self, el: etree._Element) -> OutlineNode:
        ref = el.get("identifierref", "")
        res = self.resources.get(ref)
        return OutlineNode(
            identifier=el.get("identifier", ""),
            title=_text(_kid(el, "title")),
            identifierref=ref,
            type=res.type if res else "",
            kind="module" if not ref else "not carried over",
            children=[self.node(c) for c in _kids(el, "item")],
        )

    def convert(self, el: etree._Element, node: OutlineNode) -> Item | Module | None:
        ident = el.get("identifier", "")
        title = node.title
        children = list(zip(_kids(el, "item"), node.children, strict=True))
        if not node.identifierref:
            module = Module(title=title, ref=ident)
            for child_el, child_node in children:
                converted = self.convert(child_el, child_node)
                if converted is not None:
                    module.children.append(converted)
            return module
        item = self.item(el, node)
        if not children:
            return item
        self.note(
            "structure",
            Severity.WARNING,
            _where(el, f"item[@identifier='{ident}']"),
            "an item with a resource has child items; read as a module",
            "move the child items next to it (a learning object has no children)",
        )
        module = Module(title=title, ref=ident, children=[item] if item else [])
        for child_el, child_node in children:
            converted = self.convert(child_el, child_node)
            if converted is not None:
                module.children.append(converted)
        return module

    def item(self, el: etree._Element, node: OutlineNode) -> Item | None:
        ident = el.get("identifier", "")
        where = _where(el, f"item[@identifier='{ident}']")
        res = self.resources.get(node.identifierref)
        if res is None:
            self.note(
                "identifierref",
                Severity.WARNING,
                where,
                f"item {node.title!r} points to resource {node.identifierref!r}, which does not exist; "
                "not carried over",
                "point identifierref at a resource identifier",
            )
            return None
        self.used.add(res.identifier)
        main_file = res.href or (res.files[0] if res.files else "")
        item_lom = _metadata_lom(el)
        lom = merge_lom(read_lom(item_lom) if item_lom is not None else None, res.lom, res.file_lom.get(main_file))
        node.instructor_only = any(r.lower() in INSTRUCTOR_ROLES for r in lom.roles)
        ids = licences_in(lom.rights) if lom.rights else []
        node.licence = ids[0] if ids else lom.rights
        item = self.item_of_kind(res, node, where)
        if item is None:
            return None
        node.kind = item.kind.value
        if not item.title:
            item.title = lom.title or res.identifier
        source, changes = tullu_parts(lom.rights)
        item.attribution = Attribution(
            title=lom.title if lom.title and lom.title != item.title else "",
            authors=list(lom.authors),
            licence=ids[0] if ids else "",
            source=source,
            changes=changes,
        )
        item.description = item.description or lom.description
        item.instructor_only = node.instructor_only
        item.ref = res.identifier
        return item

    def not_carried(self, res: Resource, node: OutlineNode, where: str, what: str) -> None:
        self.note(
            "not-carried-over",
            Severity.WARNING,
            where,
            f"{what} {node.title!r} ({res.type or 'no type'}) is not carried over",
            "rebuild it in the target course by hand",
        )

    def item_of_kind(self, res: Resource, node: OutlineNode, where: str) -> Item | None:
        kind = res.kind
        if kind is ResourceKind.WEBCONTENT:
            return self.webcontent(res, node, where)
        if kind in (ResourceKind.WEBLINK, ResourceKind.DISCUSSION, ResourceKind.LTI):
            return self.descriptor_item(kind, res, node, where)
        what = (
            {
                ResourceKind.ASSESSMENT: "QTI quiz",
                ResourceKind.QUESTION_BANK: "QTI question bank",
                ResourceKind.ASSIGNMENT: "assignment",
                ResourceKind.ASSOCIATED: "associated content (learning application resource)",
            }.get(kind, "resource of unknown type")
            if kind
            else "resource of unknown type"
        )
        self.not_carried(res, node, where, what)
        return None

    def webcontent(self, res: Resource, node: OutlineNode, where: str) -> Item | None:
        main_href = res.href or (res.files[0] if res.files else "")
        main = self.path(main_href, res)
        if main is None and res.href and res.href not in res.files and res.files:
            main = self.path(res.files[0], res)
            if main:
                self.note(
                    "resource-href",
                    Severity.WARNING,
                    where,
                    f"resource href {res.href!r} is not one of its files; read {main!r} instead",
                    "make resource/@href equal to one file/@href",
                )
        if main is None:
            self.note(
                "missing-file",
                Severity.WARNING,
                where,
                f"{node.title!r}: file {main_href or '(none)'!r} is not in the package; not carried over",
                "add the file or remove the item",
            )
            return None
        if not is_html(main):
            for extra in res.files:
                if self.path(extra, res) not in (None, main):
                    self.note(
                        "not-carried-over",
                        Severity.INFO,
                        where,
                        f"{node.title!r}: extra file {extra!r} of a file resource is not carried over",
                    )
            return Item(kind=ItemKind.FILE, title=node.title, path=main)
        assets: list[str] = []
        for href, owner in self.page_files(res, set()):
            found = self.path(href, owner)
            if found is None:
                self.note(
                    "missing-file",
                    Severity.WARNING,
                    where,
                    f"{node.title!r}: file {href!r} is not in the package",
                    "add the file or remove the reference",
                )
            elif found != main and found not in assets:
                assets.append(found)
        for link in self.linked_files(main):
            if link not in assets and link != main:
                assets.append(link)
        return Item(kind=ItemKind.PAGE, title=node.title, path=main, assets=assets)

    def page_files(self, res: Resource, seen: set[str]) -> list[tuple[str, Resource]]:
        """The files of a page resource and of its content dependencies."""
        seen.add(res.identifier)
        files = [(f, res) for f in res.files]
        for dep in res.dependencies:
            target = self.resources.get(dep)
            if target and dep not in seen and target.kind in (ResourceKind.WEBCONTENT, ResourceKind.ASSOCIATED):
                self.used.add(dep)
                files += self.page_files(target, seen)
        return files

    def linked_files(self, page: str) -> list[str]:
        """Package files a page links to (images, style sheets) that exist."""
        try:
            data = self.archive.read(page)
        except CartridgeError:
            return []
        out = []
        for url, _line in page_links(data):
            link = resolve_link(page, url, self.archive.exists)
            if link.kind == "file" and link.target not in out:
                out.append(link.target)
        return out

    def descriptor_item(self, kind: ResourceKind, res: Resource, node: OutlineNode, where: str) -> Item | None:
        href = res.files[0] if res.files else res.href
        path = self.path(href, res)
        if path is None:
            self.note(
                "missing-file",
                Severity.WARNING,
                where,
                f"{node.title!r}: descriptor {href or '(none)'!r} is not in the package; not carried over",
                "add the descriptor file",
            )
            return None
        try:
            with self.archive.open(path) as fh:
                doc = xmlsafe.parse(fh, name=path).getroot()
        except CartridgeError as exc:
            self.findings += exc.findings or [Finding("xml", Severity.WARNING, path, exc.message)]
            self.not_carried(res, node, where, "unreadable descriptor of")
            return None
        if kind is ResourceKind.WEBLINK:
            url_el = _kid(doc, "url")
            url = url_el.get("href", "").strip() if url_el is not None else ""
            if not re.match(r"^https?://", url, re.IGNORECASE):
                self.note(
                    "weblink-url",
                    Severity.WARNING,
                    f"{path}",
                    f"web link {node.title!r} has no absolute http(s) URL ({url!r})",
                    "write the full URL with https://",
                )
            return Item(kind=ItemKind.WEBLINK, title=node.title or _text(_kid(doc, "title")), url=url)
        if kind is ResourceKind.DISCUSSION:
            if _kids(_kid(doc, "attachments"), "attachment"):
                self.note(
                    "not-carried-over",
                    Severity.WARNING,
                    path,
                    f"attachments of discussion {node.title!r} are not carried over",
                )
            text_el = _kid(doc, "text")
            return Item(
                kind=ItemKind.DISCUSSION,
                title=node.title or _text(_kid(doc, "title")),
                text=(text_el.text or "").strip() if text_el is not None else "",
            )
        custom = {p.get("name", ""): (p.text or "").strip() for p in _kids(_kid(doc, "custom"), "property")}
        # Canvas writes both; the https one is what a tool expects today.
        url = _text(_kid(doc, "secure_launch_url")) or _text(_kid(doc, "launch_url"))
        description = _kid(doc, "description")
        return Item(
            kind=ItemKind.LTI,
            title=node.title or _text(_kid(doc, "title")),
            url=url,
            text=(description.text or "").strip() if description is not None else "",
            custom={k: v for k, v in custom.items() if k},
        )

    def unused_resources(self) -> None:
        deps = {d for r in self.resources.values() for d in r.dependencies}
        for res in self.resources.values():
            if res.identifier not in self.used and res.identifier not in deps:
                self.note(
                    "not-carried-over",
                    Severity.INFO,
                    f"{MANIFEST}:{res.line} resource[@identifier='{res.identifier}']",
                    f"resource {res.identifier!r} ({res.type}) is not in the outline; not carried over",
                )

    def collection(self, modules: list[Module]) -> tuple[Collection, str]:
        lom = read_lom(_metadata_lom(self.root))
        orgs = _kids(_kid(self.root, "organizations"), "organization")
        title = lom.title or (_text(_kid(orgs[0], "title")) if orgs else "") or self.fallback_title
        ids = licences_in(lom.rights) if lom.rights else []
        source, _changes = tullu_parts(lom.rights)
        collection = Collection(
            title=title,
            description=lom.description,
            keywords=lom.keywords,
            authors=lom.authors,
            licence=ids[0] if ids else "",
            source=source,
            modules=modules,
        )
        if lom.language:
            collection.language = lom.language
        if lom.rights and not ids:
            self.note(
                "licence-unknown",
                Severity.WARNING,
                f"{MANIFEST} metadata/lom/rights",
                f"no known licence in the cartridge's rights: {lom.rights!r}",
                "name the licence by its URL, e.g. https://creativecommons.org/licenses/by/4.0/",
            )
        elif ids and len(ids) > 1:
            self.note(
                "licence-conflict",
                Severity.WARNING,
                f"{MANIFEST} metadata/lom/rights",
                f"the cartridge's rights name several licences ({', '.join(ids)}); {ids[0]} is read",
            )
        if ids == ["PDM-1.0"] and "creativecommons.org" not in lom.rights.lower():
            self.note(
                "licence-read",
                Severity.INFO,
                f"{MANIFEST} metadata/lom/rights",
                f"{lom.rights!r} read as the Public Domain Mark 1.0 (PDM-1.0)",
            )
        return collection, lom.rights


def read_cartridge(path: str | os.PathLike[str] | BinaryIO, limits: Limits | None = None) -> Cartridge:
    """Read a cartridge; raise CartridgeError/UnsafeArchiveError if it cannot be read at all."""
    archive = SafeZip(path, limits)
    try:
        if not archive.exists(MANIFEST):
            nested = [n for n in archive.names() if n.endswith("/" + MANIFEST)]
            hint = f" (found {nested[0]!r}: zip the folder's contents, not the folder)" if nested else ""
            raise CartridgeError(
                f"{archive.label}: no {MANIFEST} at the root of the archive{hint}",
                [Finding("manifest-missing", Severity.ERROR, MANIFEST, f"no {MANIFEST} at the root{hint}")],
            )
        with archive.open(MANIFEST) as fh:
            root = xmlsafe.parse(fh, name=MANIFEST, max_size=archive.limits.max_manifest_size).getroot()
        version = detect_version(root)
        stem = os.path.splitext(os.path.basename(archive.label))[0]
        reader = _Reader(archive, root, version, fallback_title=stem)
        reader.read_resources()
        modules, outline = reader.read_outline()
        reader.unused_resources()
        collection, rights = reader.collection(modules)
        inherit(collection)
        content = content_root(collection)
        relocate(collection, content)
        return Cartridge(
            version=version,
            collection=collection,
            source=CartridgeSource(archive, content),
            findings=reader.findings,
            resources=reader.resources,
            outline=outline,
            rights=rights,
        )
    except BaseException:
        archive.close()
        raise
