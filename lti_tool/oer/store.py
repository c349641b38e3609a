"""The neutral model (``oer_packager.model``) in and out of the library's rows.

``save_model`` stores a whole collection with its files (an import);
``to_model`` gives the builder a ``Collection`` and a ``ContentSource`` that
serves the stored files. Node ids travel as ``ref`` (``n<id>``).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from typing import BinaryIO
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.oer import blobs, media
from lti_tool.oer.attribution import people, rows_of
from lti_tool.oer.models import MODULE, OerAsset, OerCollection, OerNode
from oer_packager.errors import ImportRefused
from oer_packager.model import Attribution, Collection, ContentSource, Item, ItemKind, Module

#: An import may create at most this many modules and items.
MAX_NODES = 20000


def ref_of(node_id: int) -> str:
    return f"n{node_id}"


def nodes_of(s: Session, collection_id: int) -> list[OerNode]:
    return list(s.scalars(select(OerNode).where(OerNode.collection_id == collection_id)
                          .order_by(OerNode.position, OerNode.id)))


def children_map(nodes: list[OerNode]) -> dict[int | None, list[OerNode]]:
    children: dict[int | None, list[OerNode]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (n.position, n.id)):
        children[node.parent_id].append(node)
    return children


def subtree_ids(nodes: list[OerNode], root_id: int) -> list[int]:
    children = children_map(nodes)
    out, todo = [], [root_id]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(n.id for n in children.get(current, []))
    return out


# -- rows -> model ---------------------------------------------------------------------------------


class LibrarySource(ContentSource):
    """Serves stored files under the paths ``to_model`` gave the items."""

    def __init__(self, files: dict[str, tuple[str, int]]) -> None:
        self.files = files

    def _entry(self, path: str) -> tuple[str, int]:
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def open(self, path: str) -> BinaryIO:
        sha, _size = self._entry(path)
        return blobs.blob_path(sha).open("rb")

    def size(self, path: str) -> int:
        return self._entry(path)[1]

    def exists(self, path: str) -> bool:
        return path in self.files


def _clean_path(path: str, fallback: str) -> str:
    norm = posixpath.normpath((path or "").replace("\\", "/")).lstrip("/")
    if not norm or norm in (".", "..") or norm.startswith("../"):
        return fallback
    return norm


def to_model(s: Session, coll: OerCollection) -> tuple[Collection, LibrarySource]:
    """The collection as the neutral model, and the source of its files."""
    nodes = nodes_of(s, coll.id)
    children = children_map(nodes)
    assets: dict[int, list[OerAsset]] = defaultdict(list)
    if nodes:
        for asset in s.scalars(select(OerAsset).where(OerAsset.node_id.in_([n.id for n in nodes]))
                               .order_by(OerAsset.id)):
            assets[asset.node_id].append(asset)
    files: dict[str, tuple[str, int]] = {}

    def claim(node: OerNode) -> tuple[str, list[str]]:
        # Keep the original paths (a page's relative links keep working); a node whose
        # paths collide with different content moves into its own folder.
        own = [(_clean_path(node.filename, f"file-{node.id}"), node.blob_sha256 or "", node.size)]
        own += [(_clean_path(a.path, f"asset-{a.id}"), a.blob_sha256, a.size) for a in assets[node.id]]
        if any(p in files and files[p][0] != sha for p, sha, _size in own):
            own = [(f"{ref_of(node.id)}/{p}", sha, size) for p, sha, size in own]
        for p, sha, size in own:
            files[p] = (sha, size)
        return own[0][0], [p for p, _sha, _size in own[1:]]

    def build(parent_id: int | None) -> list[Item | Module]:
        out: list[Item | Module] = []
        for node in children.get(parent_id, []):
            if node.kind == MODULE:
                out.append(Module(title=node.title, children=build(node.id), ref=ref_of(node.id)))
                continue
            path, asset_paths = claim(node) if node.blob_sha256 else ("", [])
            out.append(Item(
                kind=ItemKind(node.kind), title=node.title, path=path, assets=asset_paths, url=node.url,
                text=node.text, description=node.description,
                custom={str(k): str(v) for k, v in (node.custom or {}).items()},
                attribution=Attribution(title=node.attribution_title, authors=people(node.authors),
                                        licence=node.licence, source=node.source, changes=node.changes),
                instructor_only=node.instructor_only, ref=ref_of(node.id),
            ))
        return out

    top = build(None)
    modules = [m for m in top if isinstance(m, Module)]
    collection = Collection(
        title=coll.title, description=coll.description, language=coll.language or "de",
        keywords=list(coll.keywords or []), authors=people(coll.authors), licence=coll.licence, source=coll.source,
        modules=modules,
    )
    return collection, LibrarySource(files)


# -- model -> rows (import) -------------------------------------------------------------------------


def _cut(value: str | None, n: int) -> str:
    return (value or "").strip()[:n]


def _http(url: str) -> str:
    return url if urlsplit(url).scheme in ("http", "https") else ""


class _Saver:
    """Writes one collection; remembers the files it created so a failure can remove them."""

    def __init__(self, s: Session, source: ContentSource, language: str, created: list[str]) -> None:
        self.s, self.source, self.language, self.created = s, source, language, created
        self.count = 0
        self.limit = media.upload_limit()

    def _read(self, path: str, limit: int) -> bytes:
        with self.source.open(path) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise ImportRefused(_("%(path)s is too large to be imported as a page.", path=path[:200]))
        return data

    def file(self, path: str, title: str) -> tuple[blobs.Stored, str]:
        media_type = media.guess_type(path)
        if media.is_page(path):
            data = media.clean_page(self._read(path, media.MAX_PAGE), title=title, lang=self.language)
            stored = blobs.put_bytes(data, limit=self.limit)
        else:
            with self.source.open(path) as fh:
                try:
                    stored = blobs.put(fh, limit=self.limit)
                except blobs.BlobTooLarge as exc:
                    raise ImportRefused(f"{path[:200]}: {exc}") from None
        if stored.created:
            self.created.append(stored.sha256)
        blobs.ensure_row(self.s, stored)
        return stored, media_type

    def node(self, collection_id: int, parent_id: int | None, position: int, child: Item | Module) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise ImportRefused(_("The cartridge has more than %(n)d items.", n=MAX_NODES))
        s = self.s
        if isinstance(child, Module):
            row = OerNode(collection_id=collection_id, parent_id=parent_id, position=position, kind=MODULE,
                          title=_cut(child.title, 255) or _("Module"))
            s.add(row)
            s.flush()
            for pos, grandchild in enumerate(child.children):
                self.node(collection_id, row.id, pos, grandchild)
            return
        a = child.attribution
        kind = ItemKind(child.kind).value
        row = OerNode(
            collection_id=collection_id, parent_id=parent_id, position=position, kind=kind,
            title=_cut(child.title, 255) or _("Untitled"), description=(child.description or "").strip(),
            url=_http(_cut(child.url, 2048)) if kind == "weblink" else _cut(child.url, 2048),
            text=media.clean_body(child.text or "") if kind == "discussion" else (child.text or ""),
            custom={str(k)[:64]: str(v)[:1024] for k, v in (child.custom or {}).items()},
            authors=rows_of(a.authors), attribution_title=_cut(a.title, 255) if a.title != child.title else "",
            licence=_cut(a.licence, 64), source=_cut(a.source, 2048), changes=(a.changes or "").strip(),
            instructor_only=bool(child.instructor_only),
        )
        if kind in ("page", "file") and child.path:
            stored, media_type = self.file(child.path, row.title)
            row.blob_sha256, row.size, row.media_type = stored.sha256, stored.size, media_type
            row.filename = _cut(child.path, 1024)
        s.add(row)
        s.flush()
        seen = set()
        for asset_path in child.assets:
            if asset_path in seen or asset_path == child.path:
                continue
            seen.add(asset_path)
            stored, media_type = self.file(asset_path, posixpath.basename(asset_path))
            s.add(OerAsset(node_id=row.id, path=_cut(asset_path, 1024), blob_sha256=stored.sha256,
                           media_type=media_type, size=stored.size))


def save_model(s: Session, network_id: int, person_id: int | None, model: Collection, source: ContentSource,
               created: list[str], *, fallback_title: str = "") -> OerCollection:
    """Add a collection with all its nodes and files to the session (the caller commits or rolls back)."""
    coll = OerCollection(
        network_id=network_id, title=_cut(model.title, 255) or _cut(fallback_title, 255) or _("Collection"),
        description=(model.description or "").strip(), language=_cut(model.language, 16) or "de",
        keywords=[_cut(k, 100) for k in model.keywords if k and k.strip()][:50], authors=rows_of(model.authors),
        licence=_cut(model.licence, 64), source=_cut(model.source, 2048), created_by=person_id,
    )
    s.add(coll)
    s.flush()
    saver = _Saver(s, source, coll.language, created)
    for pos, module in enumerate(model.modules):
        saver.node(coll.id, None, pos, module)
    return coll
