"""The collection folder: ``collection.yaml`` and the files it names.

An OER author keeps a collection (Sammlung) in a folder: the material and a
``collection.yaml`` describing it. ``lms-bridge cc build FOLDER`` turns it
into a cartridge. The format (UTF-8 YAML; ``tests/oer/fixtures/
collection-medienkompetenz/collection.yaml`` is a complete example)::

    title: Medienkompetenz Klasse 7        # required
    description: |                         # optional; blank lines separate paragraphs
      Materialien für vier Doppelstunden …
    language: de                           # optional, default "de" (BCP 47 tag)
    keywords: [Medienkompetenz, Datenschutz]   # optional; a list, or one string split at commas
    authors:                               # optional; each "Name" or {name, url}
      - name: Anna Schmidt
        url: https://example.org/anna
      - Jonas Weber
    licence: CC-BY-SA-4.0                  # licence of the collection; items inherit it
    source: https://example.org/medien7    # optional: Ursprungsort of the collection

    modules:                               # required: the outline, in order
      - module: Einstieg                   # a module (chapter) → a Moodle course section
        items:
          - file: seiten/einstieg.html     # .html/.htm/.xhtml → a page; anything else → a file
            title: Was sind Medien?        # optional for files: default is the file name
            assets: [bilder/wald.jpg]      # pages only: files the page links to
          - file: Arbeitsblatt Datenschutz (Klasse 7).pdf
            licence: CC-BY-4.0             # an item's own licence, authors, source …
            authors: [Landesinstitut Beispiel]
            source: https://example.org/ab-datenschutz
            changes: gekürzt und an Klasse 7 angepasst
          - link: https://www.klicksafe.de/   # a web link; title optional (default: the URL)
            title: klicksafe
          - discussion: |                  # a discussion prompt (plain text or HTML); title required
              Welche Apps nutzt ihr jeden Tag?
            title: "Austausch: Meine Apps"
          - lti: https://bridge.example.org/lti/launch   # an LTI link; title required
            title: Selbsteinschätzung Medienkompetenz
            custom: {instrument: medienkompetenz-7}       # custom parameters, names [A-Za-z_][A-Za-z0-9_.-]*
            instructor_only: true          # only teachers see it (Moodle hides it from learners)
          - module: Vertiefung             # modules nest
            items: [...]

Every item may carry ``title``, ``description``, ``authors``, ``licence``,
``source`` (Ursprungsort), ``changes`` (what was changed against the
original) and ``instructor_only``; ``license`` is accepted for ``licence``.
Paths are relative to the collection folder, with "/" and without "..".
A page's assets are the files its HTML links to; they are packaged at the
same relative place under their exact names — the HTML is not rewritten —,
so their paths must already be safe (letters, digits, ".", "_", "-").
A page's or file's own name may be anything: the builder gives it a safe
name in the package and keeps the original as its title.

Licences are identifiers such as ``CC-BY-SA-4.0``, ``CC0-1.0``, ``PDM-1.0``,
``CC-BY-SA-3.0-DE`` (see :mod:`oer_packager.licences`; "CC BY-SA 4.0" and
licence URLs are understood too). Unknown and non-open licences are
reported here as warnings; the builder refuses them unless allowed.

:func:`load_collection` reports every problem as a :class:`Finding` whose
location is ``collection.yaml:LINE field.path`` (``modules[0].items[2].licence``)
and raises :class:`CollectionError` with all findings when any is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from oer_packager import cc
from oer_packager.errors import CollectionError
from oer_packager.findings import Finding, Severity, has_errors
from oer_packager.licences import LICENCES, canonical_id, restriction_note
from oer_packager.licences import get as get_licence
from oer_packager.model import Attribution, Collection, ContentSource, Item, ItemKind, Module, Person
from oer_packager.names import is_safe_path, safe_path
from oer_packager.pages import MAX_PAGE_BYTES

COLLECTION_FILE = "collection.yaml"
MAX_YAML_BYTES = 16 * 1024 * 1024
MAX_YAML_NODES = 2_000_000  # guards against alias expansion ("billion laughs")

KIND_KEYS = {"file": None, "link": ItemKind.WEBLINK, "discussion": ItemKind.DISCUSSION, "lti": ItemKind.LTI}
COMMON_KEYS = {"title", "description", "authors", "licence", "license", "source", "changes", "instructor_only"}
TOP_KEYS = {"title", "description", "language", "keywords", "authors", "licence", "license", "source", "modules"}

_CUSTOM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"


# -- content source --------------------------------------------------------------


def path_problem(path: str) -> str:
    """Why ``path`` cannot name a file in a collection ("" when it can)."""
    if not path:
        return "empty path"
    if "\\" in path:
        return "backslash in path (write '/')"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    if any(ord(c) < 32 for c in path):
        return "control character in path"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "'..', '.' or an empty segment in path"
    return ""


class FolderSource(ContentSource):
    """Serve the files of a collection folder; refuse anything outside it.

    A path is refused when it is absolute, uses ``..`` or a backslash, or
    resolves — symlinks followed — to a place outside the folder.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve(strict=True)
        self._prefix = str(self.root) + os.sep
        # Resolved once per path: loading and building ask about each file several times.
        self._resolved: dict[str, str] = {}

    def resolve(self, path: str) -> Path:
        """The real file for ``path``; raise CollectionError when it leaves the folder."""
        target = self._resolved.get(path)
        if target is None:
            problem = path_problem(path)
            target = os.path.realpath(os.path.join(self._prefix, path)) if not problem else ""
            if not target.startswith(self._prefix):
                message = f"{path!r}: {problem or 'leads outside the collection folder'}"
                raise CollectionError(message, [Finding("path-outside", Severity.ERROR, path, message)])
            self._resolved[path] = target
        return Path(target)

    def open(self, path: str) -> BinaryIO:
        return self.resolve(path).open("rb")

    def size(self, path: str) -> int:
        return self.resolve(path).stat().st_size

    def exists(self, path: str) -> bool:
        return self.resolve(path).is_file()


# -- loading ---------------------------------------------------------------------


def load_collection(folder: Path) -> tuple[Collection, FolderSource, list[Finding]]:
    """Read ``folder/collection.yaml``; return the collection, its source and findings.

    Raises :class:`CollectionError` (with findings) when the collection
    cannot be built: no or unreadable collection.yaml, or any error finding.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CollectionError(
            f"{folder}: not a folder", [Finding("no-folder", Severity.ERROR, str(folder), "not a folder")]
        )
    yaml_path = folder / COLLECTION_FILE
    if not yaml_path.is_file():
        finding = Finding(
            "no-collection-yaml", Severity.ERROR, COLLECTION_FILE, f"{folder} has no {COLLECTION_FILE}",
            f"describe the collection in {COLLECTION_FILE} (see the format in oer_packager/collection.py)",
        )  # fmt: skip
        raise CollectionError(finding.message, [finding])
    if yaml_path.stat().st_size > MAX_YAML_BYTES:
        message = f"{COLLECTION_FILE} is larger than {MAX_YAML_BYTES // 2**20} MB"
        raise CollectionError(message, [Finding("yaml", Severity.ERROR, COLLECTION_FILE, message)])
    source = FolderSource(folder)
    reader = _Reader(source)
    collection = reader.read(yaml_path.read_bytes())
    if collection is None or has_errors(reader.findings):
        count = sum(f.severity is Severity.ERROR for f in reader.findings)
        raise CollectionError(f"{COLLECTION_FILE}: {count} error(s)", reader.findings)
    return collection, source, reader.findings


class _Reader:
    """Walk the YAML node tree, keeping line numbers for every finding."""

    def __init__(self, source: FolderSource) -> None:
        self.source = source
        self.findings: list[Finding] = []
        self._files_seen: dict[str, int] = {}  # item file path → line of first use
        self._links_seen: dict[str, int] = {}

    # findings ---------------------------------------------------------------

    def _add(self, severity: Severity, code: str, node: Node | None, field: str, message: str, hint: str) -> None:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        location = f"{COLLECTION_FILE}{line} {field}".rstrip()
        self.findings.append(Finding(code, severity, location, message, hint))

    def error(self, code: str, node: Node | None, field: str, message: str, hint: str = "") -> None:
        self._add(Severity.ERROR, code, node, field, message, hint)

    def warn(self, code: str, node: Node | None, field: str, message: str, hint: str = "") -> None:
        self._add(Severity.WARNING, code, node, field, message, hint)

    # YAML -------------------------------------------------------------------

    def read(self, data: bytes) -> Collection | None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.error("yaml", None, "", f"not UTF-8 (byte {exc.start})", "save collection.yaml as UTF-8")
            return None
        # libyaml's composer when installed (10× faster on large outlines); both keep line marks.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            self.findings.append(
                Finding("yaml", Severity.ERROR, f"{COLLECTION_FILE}{line}", f"not valid YAML: {problem}")
            )
            return None
        finally:
            loader.dispose()
        if root is None:
            self.error("missing-title", None, "title", "collection.yaml is empty", "start with `title:` and `modules:`")
            return None
        if _count_nodes(root) > MAX_YAML_NODES:
            self.error("yaml", root, "", "too many YAML nodes (aliases expanding?)")
            return None
        return self._collection(root)

    def mapping(self, node: Node, field: str, allowed: set[str]) -> dict[str, Node] | None:
        """The mapping's values by key; report duplicates and unknown keys."""
        if not isinstance(node, MappingNode):
            self.error("bad-value", node, field, "expected a mapping of `key: value` lines")
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else ""
            path = f"{field}.{key}" if field else key
            if key in out:
                self.error("duplicate-key", key_node, path, f"`{key}` appears twice", "keep one of them")
                continue
            if key not in allowed:
                hint = f"allowed here: {', '.join(sorted(allowed - {'license'}))}"
                self.warn("unknown-field", key_node, path, f"unknown field `{key}` (ignored)", hint)
                continue
            out[key] = value_node
        if "licence" in out and "license" in out:
            self.error("duplicate-key", out["license"], f"{field}.license".lstrip("."), "both `licence` and `license`")
        elif "license" in out:
            out["licence"] = out.pop("license")
        return out

    def text(self, node: Node | None, field: str, *, required: bool = False, parent: Node | None = None) -> str:
        """A scalar as text, exactly as written (no YAML number or date guessing)."""
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            if required:
                self.error("missing-field", node or parent, field, f"`{field.rsplit('.', 1)[-1]}` is required")
            return ""
        if not isinstance(node, ScalarNode):
            self.error("bad-value", node, field, "expected text")
            return ""
        value = str(node.value).strip()
        if required and not value:
            self.error("missing-field", node, field, f"`{field.rsplit('.', 1)[-1]}` is empty")
        return value

    def flag(self, node: Node | None, field: str) -> bool:
        if node is None:
            return False
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            return node.value.lower() in ("true", "yes", "on")
        self.error("bad-value", node, field, "expected true or false")
        return False

    def texts(self, node: Node | None, field: str) -> list[str]:
        """A list of strings, or one string split at commas."""
        if node is None:
            return []
        if isinstance(node, ScalarNode):
            return [p.strip() for p in self.text(node, field).split(",") if p.strip()]
        if not isinstance(node, SequenceNode):
            self.error("bad-value", node, field, "expected a list")
            return []
        return [t for i, n in enumerate(node.value) if (t := self.text(n, f"{field}[{i}]"))]

    def people(self, node: Node | None, field: str) -> list[Person]:
        if node is None:
            return []
        entries = [node] if isinstance(node, (ScalarNode, MappingNode)) else None
        if isinstance(node, SequenceNode):
            entries = list(node.value)
        if entries is None:
            self.error("bad-value", node, field, "expected a list of authors")
            return []
        people = []
        for i, entry in enumerate(entries):
            path = f"{field}[{i}]" if isinstance(node, SequenceNode) else field
            if isinstance(entry, MappingNode):
                values = self.mapping(entry, path, {"name", "url"}) or {}
                name = self.text(values.get("name"), f"{path}.name", required=True, parent=entry)
                url = self.text(values.get("url"), f"{path}.url")
                if url and not _is_web_url(url):
                    self.error("bad-url", values.get("url"), f"{path}.url", f"{url!r} is not an http(s) URL")
            else:
                name, url = self.text(entry, path, required=True), ""
            if name:
                people.append(Person(name=name, url=url))
        return people

    def licence(self, node: Node | None, field: str) -> str:
        """The canonical licence id (or the text as written when unknown)."""
        raw = self.text(node, field)
        if not raw:
            return ""
        ident = canonical_id(raw)
        if ident is None:
            self.warn(
                "unknown-licence", node, field, f"{raw!r} is not a licence the builder knows",
                f"use one of {', '.join(sorted(LICENCES))}",
            )  # fmt: skip
            return raw
        lic = get_licence(ident)
        if lic is not None and not lic.is_open:
            self.warn(
                "non-open-licence", node, field, f"{lic.short}: {restriction_note(lic, 'en')}",
                "if you hold the rights, choose CC BY, CC BY-SA or CC0; otherwise build with --allow-non-oer",
            )  # fmt: skip
        return ident

    # the collection ---------------------------------------------------------

    def _collection(self, root: Node) -> Collection | None:
        top = self.mapping(root, "", TOP_KEYS)
        if top is None:
            return None
        language = self.text(top.get("language"), "language") or "de"
        if not _LANGUAGE.fullmatch(language):
            self.error(
                "bad-language",
                top.get("language"),
                "language",
                f"{language!r} is not a language tag",
                "write e.g. de or en",
            )
        collection = Collection(
            title=self.text(top.get("title"), "title", required=True, parent=root),
            description=self.text(top.get("description"), "description"),
            language=language,
            keywords=self.texts(top.get("keywords"), "keywords"),
            authors=self.people(top.get("authors"), "authors"),
            licence=self.licence(top.get("licence"), "licence"),
            source=self.text(top.get("source"), "source"),
        )
        if "licence" not in top:
            self.warn(
                "missing-licence", root, "licence", "the collection has no licence",
                "add `licence: CC-BY-SA-4.0` (or another open licence)",
            )  # fmt: skip
        modules = top.get("modules")
        if not isinstance(modules, SequenceNode) or not modules.value:
            self.error("no-modules", modules or root, "modules", "no modules", "list the modules under `modules:`")
            return collection
        for i, node in enumerate(modules.value):
            field = f"modules[{i}]"
            if not (isinstance(node, MappingNode) and any(k.value == "module" for k, _ in node.value)):
                self.error(
                    "not-a-module", node, field, "a top-level entry must be a module",
                    "write `- module: Titel` with its `items:`; Moodle makes each top-level module a section",
                )  # fmt: skip
                continue
            module = self._module(node, field)
            if module:
                collection.modules.append(module)
        return collection

    def _module(self, node: Node, field: str) -> Module | None:
        values = self.mapping(node, field, {"module", "items"})
        if values is None:
            return None
        module = Module(title=self.text(values.get("module"), f"{field}.module", required=True, parent=node))
        items = values.get("items")
        if (
            items is None
            or (isinstance(items, ScalarNode) and items.tag == _NULL)
            or (isinstance(items, SequenceNode) and not items.value)
        ):
            self.warn("empty-module", node, field, f"module {module.title!r} has no items", "add items or remove it")
            return module
        if not isinstance(items, SequenceNode):
            self.error("bad-value", items, f"{field}.items", "expected a list of items")
            return module
        for i, child in enumerate(items.value):
            path = f"{field}.items[{i}]"
            sub: Item | Module | None
            if isinstance(child, MappingNode) and any(k.value == "module" for k, _ in child.value):
                sub = self._module(child, path)
            else:
                sub = self._item(child, path)
            if sub is not None:
                module.children.append(sub)
        return module

    def _item(self, node: Node, field: str) -> Item | None:
        if not isinstance(node, MappingNode):
            self.error(
                "bad-value", node, field, "expected an item (`- file: …`, `- link: …`, `- discussion: …`, `- lti: …`)"
            )
            return None
        kinds = [k.value for k, _ in node.value if isinstance(k, ScalarNode) and k.value in KIND_KEYS]
        if len(kinds) != 1:
            what = "none" if not kinds else " and ".join(kinds)
            self.error(
                "item-kind", node, field, f"an item needs exactly one of file, link, discussion, lti ({what} given)"
            )
            return None
        key = kinds[0]
        value_node = next(v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key)
        value = self.text(value_node, f"{field}.{key}", required=True, parent=node)
        kind = KIND_KEYS[key] or (ItemKind.PAGE if cc.is_html(value) else ItemKind.FILE)
        allowed = (
            COMMON_KEYS
            | {key}
            | ({"assets"} if kind is ItemKind.PAGE else set())
            | ({"custom"} if kind is ItemKind.LTI else set())
        )
        if "assets" in (k.value for k, _ in node.value) and kind is not ItemKind.PAGE:
            self.error(
                "bad-field", node, f"{field}.assets", "only HTML pages have assets", "make the files items of their own"
            )
        values = self.mapping(node, field, allowed) or {}
        item = Item(
            kind=kind,
            title=self.text(values.get("title"), f"{field}.title"),
            description=self.text(values.get("description"), f"{field}.description"),
            instructor_only=self.flag(values.get("instructor_only"), f"{field}.instructor_only"),
            attribution=Attribution(
                authors=self.people(values.get("authors"), f"{field}.authors"),
                licence=self.licence(values.get("licence"), f"{field}.licence"),
                source=self.text(values.get("source"), f"{field}.source"),
                changes=self.text(values.get("changes"), f"{field}.changes"),
            ),
        )
        if not value:
            return None
        if kind in (ItemKind.PAGE, ItemKind.FILE):
            self._file_item(item, value, value_node, field)
            if kind is ItemKind.PAGE:
                self.assets(item, values.get("assets"), f"{field}.assets")
        elif kind is ItemKind.WEBLINK:
            self._link_item(item, value, value_node, field)
        elif kind is ItemKind.DISCUSSION:
            item.text = value
            if not item.title:
                self.error("missing-title", node, f"{field}.title", "a discussion needs a title")
        else:
            self._lti_item(item, value, value_node, values, field)
            if not item.title:
                self.error("missing-title", node, f"{field}.title", "an LTI link needs a title")
        return item

    def _file_item(self, item: Item, path: str, node: Node, field: str) -> None:
        path = path.removeprefix("./")
        item.path = path
        if not item.title:
            # The original name, without extension, is the title; the package name is made safe.
            item.title = path.rsplit("/", 1)[-1].rsplit(".", 1)[0] or path
        if not self._check_file(path, node, f"{field}.file"):
            return
        if path in self._files_seen:
            self.warn(
                "duplicate-item", node, f"{field}.file", f"{path} is already an item (line {self._files_seen[path]})",
                "remove one of them unless it should appear twice",
            )  # fmt: skip
        else:
            self._files_seen[path] = node.start_mark.line + 1
        if item.kind is ItemKind.PAGE and self.source.size(path) > MAX_PAGE_BYTES:
            self.error(
                "page-too-large", node, f"{field}.file", f"{path}: larger than {MAX_PAGE_BYTES // 2**20} MB",
                "split the page; only HTML pages are read whole",
            )  # fmt: skip

    def _check_file(self, path: str, node: Node, field: str) -> bool:
        problem = path_problem(path)
        if problem:
            code = "path-outside" if ".." in path.split("/") or path.startswith("/") else "bad-path"
            self.error(code, node, field, f"{path}: {problem}", "write the path from the collection folder, with '/'")
            return False
        try:
            exists = self.source.exists(path)
        except CollectionError:
            self.error("path-outside", node, field, f"{path}: leads outside the collection folder (symlink?)",
                       "copy the file into the collection folder")  # fmt: skip
            return False
        if not exists:
            self.error(
                "missing-file",
                node,
                field,
                f"{path}: no such file in the collection folder",
                "check the path and its spelling",
            )
        return exists

    def _link_item(self, item: Item, url: str, node: Node, field: str) -> None:
        item.url = url
        item.title = item.title or url
        if not _is_web_url(url):
            self.error(
                "bad-url", node, f"{field}.link", f"{url!r} is not an http(s) URL", "write the full URL with https://"
            )
            return
        if url in self._links_seen:
            self.warn(
                "duplicate-item", node, f"{field}.link", f"{url} is already linked (line {self._links_seen[url]})"
            )
        else:
            self._links_seen[url] = node.start_mark.line + 1

    def _lti_item(self, item: Item, url: str, node: Node, values: dict[str, Node], field: str) -> None:
        item.url = url
        if not _is_web_url(url):
            self.error(
                "bad-url",
                node,
                f"{field}.lti",
                f"{url!r} is not an http(s) launch URL",
                "write the full URL with https://",
            )
        elif url.startswith("http://"):
            self.warn("insecure-url", node, f"{field}.lti", "LTI launch over http", "use https")
        custom_node = values.get("custom")
        if custom_node is None:
            return
        if not isinstance(custom_node, MappingNode):
            self.error("bad-value", custom_node, f"{field}.custom", "expected `name: value` lines")
            return
        for key_node, value_node in custom_node.value:
            name = key_node.value if isinstance(key_node, ScalarNode) else ""
            if name in item.custom:
                self.error("duplicate-key", key_node, f"{field}.custom.{name}", f"`{name}` appears twice")
                continue
            if not _CUSTOM_NAME.fullmatch(name):
                self.error(
                    "bad-custom-name", key_node, f"{field}.custom.{name}", f"{name!r} cannot be a custom parameter name",
                    "use letters, digits and '_' (start with a letter)",
                )  # fmt: skip
                continue
            item.custom[name] = self.text(value_node, f"{field}.custom.{name}")

    def assets(self, item: Item, node: Node | None, field: str) -> None:
        """Read a page's ``assets:`` list into ``item.assets``."""
        seen: set[str] = set()
        for i, (path, path_node) in enumerate(self._asset_paths(node, field)):
            loc = f"{field}[{i}]"
            if path in seen:
                self.warn("duplicate-asset", path_node, loc, f"{path} is listed twice")
                continue
            seen.add(path)
            if not self._check_file(path, path_node, loc):
                continue
            if not is_safe_path(path):
                self.error(
                    "unsafe-asset-name", path_node, loc,
                    f"{path}: the page links to this name, but Moodle needs names of letters, digits, '.', '_', '-'",
                    f"rename it to {safe_path(path)} and change the link in the page",
                )  # fmt: skip
                continue
            item.assets.append(path)

    def _asset_paths(self, node: Node | None, field: str) -> Iterator[tuple[str, Node]]:
        if node is None:
            return
        if not isinstance(node, SequenceNode):
            self.error("bad-value", node, field, "expected a list of paths")
            return
        for i, entry in enumerate(node.value):
            path = self.text(entry, f"{field}[{i}]", required=True).removeprefix("./")
            if path:
                yield path, entry


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() or c < " " or c == "\x7f" for c in url)
    )


def _count_nodes(root: Node) -> int:
    count, stack = 0, [root]
    while stack and count <= MAX_YAML_NODES:
        node = stack.pop()
        count += 1
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
    return count
