"""The network's OER library: collections, their outline, licence panel, cartridge import and export.

Routes (all under ``/oer/networks/<network_id>/``) start with ``oer_viewer``:
members read, authors (managers, leaders, media coordinators, teachers) change.
Every id in a URL or form is checked to belong to the network in the URL.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from flask import abort, redirect, request, send_file
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, utcnow
from lti_tool.oer import blobs, bp, forms, media
from lti_tool.oer.access import AUTHOR, VIEW, can_author, collection_of, node_of, oer_viewer
from lti_tool.oer.attribution import canonical, label, offered
from lti_tool.oer.cartridges import CC_VERSIONS, ExportRefused, ImportFailed, build_cartridge, import_cartridge
from lti_tool.oer.checks import Problem, blocking, problems
from lti_tool.oer.display import kind_label, send_blob, show
from lti_tool.oer.models import MODULE, OerAsset, OerCollection, OerNode
from lti_tool.oer.store import children_map, nodes_of, subtree_ids
from lti_tool.workspaces import activity
from lti_tool.workspaces.access import Viewer
from lti_tool.workspaces.groups.models import Group, GroupMaterial
from lti_tool.workspaces.models import Person, Upload
from lti_tool.workspaces.text import TextError
from lti_tool.workspaces.uploads import upload_path
from lti_tool.workspaces.views import post_guard, render

MAX_FILES = 20


class FormError(ValueError):
    """A form was refused; the page is shown again with the message (400)."""


def _path(coll: OerCollection, anchor: str = "") -> str:
    return f"/oer/networks/{coll.network_id}/collections/{coll.id}" + (f"#{anchor}" if anchor else "")


def _to_collection(coll: OerCollection, anchor: str = "") -> Any:
    url = web.lurl("oer.collection", network_id=coll.network_id, collection_id=coll.id)
    return redirect(url + (f"#{anchor}" if anchor else ""), code=303)


def _touch(coll: OerCollection) -> None:
    coll.updated_at = utcnow()


def _helpers() -> dict[str, Any]:
    return {"licences": offered(), "licence_label": label, "authors_text": forms.authors_text,
            "cc_versions": CC_VERSIONS, "kind_label": kind_label}


# -- library -------------------------------------------------------------------------------------------


def _library(v: Viewer, *, error: str | None = None, findings: list[Any] | None = None,
             values: dict[str, str] | None = None, status: int = 200) -> Any:
    s = db_session()
    rows = list(s.scalars(select(OerCollection).where(OerCollection.network_id == v.network.id)
                          .order_by(OerCollection.title, OerCollection.id)))
    counts = dict(s.execute(
        select(OerNode.collection_id, func.count()).join(OerCollection, OerCollection.id == OerNode.collection_id)
        .where(OerCollection.network_id == v.network.id, OerNode.kind != MODULE).group_by(OerNode.collection_id)
    ).all())
    names = dict(s.execute(select(Person.id, Person.display_name).where(
        Person.id.in_([c.created_by for c in rows if c.created_by]))).all()) if rows else {}
    page = render("oer/library.html", v, collections=rows, counts=counts, names=names, error=error,
                  findings=findings or [], values=values or {}, can_author=can_author(v),
                  max_mb=media.upload_limit() // (1024 * 1024), **_helpers())
    return page, status


@bp.get("/networks/<int:network_id>/library")
def library(network_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    return _library(v)


@bp.post("/networks/<int:network_id>/collections")
def collection_create(network_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    s = db_session()
    try:
        data = forms.collection(request.form)
    except TextError as exc:
        return _library(v, error=str(exc), values=dict(request.form.items()), status=400)
    coll = OerCollection(network_id=network_id, created_by=v.person.id, **data)
    s.add(coll)
    s.flush()
    # Items always sit in a module (a Moodle course section); start with one.
    s.add(OerNode(collection_id=coll.id, parent_id=None, position=0, kind=MODULE, title=_("Materials")))
    activity.record(network_id, v.person.id, "oer.collection", coll.title, _path(coll), "network")
    s.commit()
    return _to_collection(coll)


def _uploaded(name: str) -> FileStorage | None:
    try:
        return request.files.get(name)
    except RequestEntityTooLarge:
        abort(413, description=_("The file is too large (at most %(mb)d MB).",
                                 mb=media.upload_limit() // (1024 * 1024)))


@bp.post("/networks/<int:network_id>/import")
def import_cartridge_view(network_id: int) -> Any:
    upload = _uploaded("cartridge")
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    s = db_session()
    try:
        result = import_cartridge(s, network_id, v.person.id, upload)
    except ImportFailed as exc:
        return _library(v, error=_("The cartridge was not imported: %(reason)s", reason=exc.message),
                        findings=exc.findings, status=400)
    coll = result.collection
    activity.record(network_id, v.person.id, "oer.imported", coll.title, _path(coll), "network")
    s.commit()
    return render("oer/imported.html", v, coll=coll, version=result.version, findings=result.findings,
                  items=s.scalar(select(func.count()).select_from(OerNode).where(
                      OerNode.collection_id == coll.id, OerNode.kind != MODULE)))


# -- one collection ----------------------------------------------------------------------------------------


def _outline(nodes: list[OerNode]) -> list[dict[str, Any]]:
    """The tree flattened for the page: node, depth, whether it can move up/down."""
    children = children_map(nodes)
    out: list[dict[str, Any]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        siblings = children.get(parent_id, [])
        for i, node in enumerate(siblings):
            out.append({"node": node, "depth": depth, "first": i == 0, "last": i == len(siblings) - 1})
            if node.kind == MODULE:
                walk(node.id, depth + 1)

    walk(None, 0)
    return out


def _materials(network_id: int) -> list[tuple[GroupMaterial, Group, Upload | None]]:
    s = db_session()
    rows = s.execute(select(GroupMaterial, Group).join(Group, Group.id == GroupMaterial.group_id)
                     .where(Group.network_id == network_id).order_by(Group.title, GroupMaterial.title)).all()
    uploads = {u.id: u for u in s.scalars(select(Upload).where(
        Upload.id.in_([m.upload_id for m, _g in rows if m.upload_id]), Upload.network_id == network_id,
        Upload.deleted.is_(False)))} if rows else {}
    out = []
    for material, group in rows:
        upload = uploads.get(material.upload_id) if material.upload_id else None
        if (material.kind == "file" and upload is not None) or (material.kind == "link" and material.link_url):
            out.append((material, group, upload))
    return out


def _rounds(network_id: int) -> list[Any]:
    from lti_tool.selfeval.models import SelfevalRound

    return list(db_session().scalars(select(SelfevalRound).where(SelfevalRound.network_id == network_id)
                                     .order_by(SelfevalRound.opens_at.desc(), SelfevalRound.id.desc())))


def _collection_page(v: Viewer, coll: OerCollection, *, error: str | None = None,
                     forms_: dict[str, dict[str, str]] | None = None, findings: list[Any] | None = None,
                     status: int = 200) -> Any:
    s = db_session()
    nodes = nodes_of(s, coll.id)
    outline = _outline(nodes)
    found = problems(coll, nodes)
    per_node: dict[int, list[Problem]] = {}
    for p in found:
        if p.node_id is not None:
            per_node.setdefault(p.node_id, []).append(p)
    author = can_author(v)
    modules = [e for e in outline if e["node"].kind == MODULE]
    page = render(
        "oer/collection.html", v, coll=coll, outline=outline, modules=modules, problems=found, per_node=per_node,
        blocking=blocking(found), error=error, forms=forms_ or {}, findings=findings or [], can_author=author,
        can_delete=author and (v.is_manager or coll.created_by == v.person.id),
        materials=_materials(v.network.id) if author else [], rounds=_rounds(v.network.id) if author else [],
        max_mb=media.upload_limit() // (1024 * 1024), file_types=", ".join(sorted(media.OER_TYPES)), **_helpers())
    return page, status


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>")
def collection(network_id: int, collection_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    return _collection_page(v, collection_of(v, collection_id))


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>")
def collection_save(network_id: int, collection_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    try:
        data = forms.collection(request.form, keep_licence=coll.licence)
    except TextError as exc:
        db_session().rollback()
        return _collection_page(v, coll, error=str(exc), forms_={"meta": dict(request.form.items())}, status=400)
    for key, value in data.items():
        setattr(coll, key, value)
    _touch(coll)
    db_session().commit()
    return _to_collection(coll, "meta")


def _delete_nodes(s: Any, ids: list[int]) -> list[str]:
    """Delete nodes (and their assets); release blobs nobody uses any more. Returns files to unlink after commit."""
    if not ids:
        return []
    shas = list(s.scalars(select(OerNode.blob_sha256).where(OerNode.id.in_(ids), OerNode.blob_sha256.is_not(None))))
    shas += list(s.scalars(select(OerAsset.blob_sha256).where(OerAsset.node_id.in_(ids))))
    s.execute(delete(OerAsset).where(OerAsset.node_id.in_(ids)))
    # children first: the self-reference must never point at a deleted row
    for node_id in reversed(ids):
        s.execute(delete(OerNode).where(OerNode.id == node_id))
    s.flush()
    return blobs.release(s, shas)


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/delete")
def collection_delete(network_id: int, collection_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    if not (v.is_manager or coll.created_by == v.person.id):
        abort(403, description=_("Only the person who created the collection and the network managers can delete it."))
    s = db_session()
    nodes = nodes_of(s, coll.id)
    ids: list[int] = []
    for top in children_map(nodes).get(None, []):
        ids += subtree_ids(nodes, top.id)
    gone = _delete_nodes(s, ids)
    s.delete(coll)
    s.commit()
    blobs.unlink(gone)
    return redirect(web.lurl("oer.library", network_id=network_id), code=303)


# -- outline: modules and items --------------------------------------------------------------------------------


def _module_of(coll: OerCollection, raw: str | None, *, required: bool = True) -> OerNode | None:
    value = (raw or "").strip()
    if not value:
        if required:
            raise FormError(_("Please choose a module."))
        return None
    if not value.isdigit():
        abort(400)
    node = node_of(coll, int(value))
    if node.kind != MODULE:
        raise FormError(_("Please choose a module."))
    return node


def _next_position(coll: OerCollection, parent_id: int | None) -> int:
    highest = db_session().scalar(select(func.max(OerNode.position)).where(
        OerNode.collection_id == coll.id, OerNode.parent_id.is_(None) if parent_id is None
        else OerNode.parent_id == parent_id))
    return (highest + 1) if highest is not None else 0


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/modules")
def module_add(network_id: int, collection_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    s = db_session()
    try:
        data = forms.item(request.form, MODULE)
        parent = _module_of(coll, request.form.get("parent"), required=False)
    except (TextError, FormError) as exc:
        return _collection_page(v, coll, error=str(exc), forms_={"module": dict(request.form.items())}, status=400)
    node = OerNode(collection_id=coll.id, parent_id=parent.id if parent else None,
                   position=_next_position(coll, parent.id if parent else None), kind=MODULE, **data)
    s.add(node)
    _touch(coll)
    s.commit()
    return _to_collection(coll, f"node-{node.id}")


def _store_file(file: FileStorage, limit: int, created: list[str]) -> tuple[blobs.Stored, str, str, str]:
    """Check and store one uploaded file: (stored, media type, safe file name, kind)."""
    name = media.safe_filename(file.filename or "")
    head = file.stream.read(64 * 1024)
    try:
        media_type = media.check_upload(name, head)
    except media.MediaError as exc:
        raise FormError(f"{name}: {exc}") from None
    if media_type.startswith("text/"):
        data = head + file.stream.read(media.MAX_PAGE + 1 - len(head))
        if len(data) > media.MAX_PAGE:
            raise FormError(_("%(name)s: text files and pages may have at most %(mb)d MB.", name=name,
                              mb=media.MAX_PAGE // (1024 * 1024)))
        try:
            if media.is_page(name):
                data = media.clean_page(data, title=PurePosixPath(name).stem, strict=True)
            else:
                data.decode("utf-8")
        except (media.MediaError, UnicodeDecodeError):
            raise FormError(_("%(name)s: text files and pages must be UTF-8.", name=name)) from None
        stored = blobs.put_bytes(data, limit=limit)
    else:
        try:
            stored = blobs.put(file.stream, limit=limit, prefix=head)
        except blobs.BlobTooLarge as exc:
            raise FormError(f"{name}: {exc}") from None
    if stored.created:
        created.append(stored.sha256)
    return stored, media_type, name, "page" if media.is_page(name) else "file"


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/uploads")
def upload_add(network_id: int, collection_id: int) -> Any:
    try:
        files = [f for f in request.files.getlist("files") if f and f.filename]
    except RequestEntityTooLarge:
        abort(413, description=_("The file is too large (at most %(mb)d MB).",
                                 mb=media.upload_limit() // (1024 * 1024)))
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    s = db_session()
    created: list[str] = []
    first_id = None
    try:
        if not files:
            raise FormError(_("Please choose a file."))
        if len(files) > MAX_FILES:
            raise FormError(_("Please upload at most %(n)d files at once.", n=MAX_FILES))
        module = _module_of(coll, request.form.get("module"))
        assert module is not None
        meta = forms.attribution(request.form)
        title = forms.plain_optional(request.form.get("title"))
        position = _next_position(coll, module.id)
        for i, file in enumerate(files):
            original = PurePosixPath((file.filename or "").replace("\\", "/")).name
            stored, media_type, name, kind = _store_file(file, media.upload_limit(), created)
            blobs.ensure_row(s, stored)
            node = OerNode(collection_id=coll.id, parent_id=module.id, position=position + i, kind=kind,
                           title=(title if title and len(files) == 1 else PurePosixPath(original).stem)[:255]
                           or name, blob_sha256=stored.sha256, filename=name, media_type=media_type,
                           size=stored.size, **meta)
            s.add(node)
            s.flush()
            first_id = first_id or node.id
        _touch(coll)
        s.commit()
    except (TextError, FormError) as exc:
        s.rollback()
        blobs.discard(s, created)
        return _collection_page(v, coll, error=str(exc), forms_={"upload": dict(request.form.items())}, status=400)
    except BaseException:
        s.rollback()
        blobs.discard(s, created)
        raise
    return _to_collection(coll, f"node-{first_id}")


LINK_KINDS = ("weblink", "discussion", "lti")


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/items")
def item_add(network_id: int, collection_id: int) -> Any:
    """Add a web link, a discussion prompt, or an LTI link to a self-evaluation round of this network."""
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    s = db_session()
    kind = request.form.get("kind", "")
    if kind not in LINK_KINDS:
        abort(400, description=_("Unknown kind of item."))
    form = request.form
    try:
        module = _module_of(coll, form.get("module"))
        assert module is not None
        if kind == "lti":
            data = _selfeval_link(v, form)
        else:
            data = forms.item(form, kind)
    except (TextError, FormError) as exc:
        s.rollback()
        return _collection_page(v, coll, error=str(exc), forms_={kind: dict(form.items())}, status=400)
    node = OerNode(collection_id=coll.id, parent_id=module.id, position=_next_position(coll, module.id), kind=kind,
                   **data)
    s.add(node)
    _touch(coll)
    s.commit()
    return _to_collection(coll, f"node-{node.id}")


def _selfeval_link(v: Viewer, form: Any) -> dict[str, Any]:
    from lti_tool.selfeval.models import SelfevalRound

    raw = (form.get("round_id") or "").strip()
    if not raw.isdigit():
        raise FormError(_("Please choose a self-evaluation round."))
    rnd = db_session().get(SelfevalRound, int(raw))
    if rnd is None or rnd.network_id != v.network.id:
        abort(404, description=_("This round does not exist."))
    title = forms.plain_optional(form.get("title")) or rnd.title
    return {"title": title[:255], "url": bridge().url("/lti/launch"),
            "custom": {"feature": "selfeval", "round": str(rnd.id)},
            "description": forms.multiline(form.get("description"), field=forms.F_DESCRIPTION, max_length=2000)}


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/materials")
def materials_add(network_id: int, collection_id: int) -> Any:
    """Copy working-group materials into the collection, with their author and a licence picked here."""
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    s = db_session()
    chosen = request.form.getlist("material")
    created: list[str] = []
    first_id = None
    try:
        module = _module_of(coll, request.form.get("module"))
        assert module is not None
        if not chosen:
            raise FormError(_("Please choose material of the working groups."))
        if any(not c.isdigit() for c in chosen):
            abort(400)
        position = _next_position(coll, module.id)
        for i, raw in enumerate(dict.fromkeys(chosen)):
            material = s.get(GroupMaterial, int(raw))
            group = s.get(Group, material.group_id) if material is not None else None
            if material is None or group is None or group.network_id != network_id:
                abort(404, description=_("This material does not exist in this network."))
            picked = forms.licence(request.form.get(f"licence_{material.id}"), required=True)
            if material.added_by != v.person.id and canonical(material.licence) != picked:
                raise FormError(_("%(title)s is shared in the working group under %(licence)s. Only the person "
                                  "who added it can choose another licence.", title=material.title,
                                  licence=label(material.licence)))
            node = OerNode(collection_id=coll.id, parent_id=module.id, position=position + i, title=material.title,
                           authors=[{"name": material.author, "url": ""}] if material.author else [],
                           licence=picked, source=material.source_url or "", kind="weblink")
            if material.kind == "file":
                upload = s.get(Upload, material.upload_id) if material.upload_id else None
                if upload is None or upload.network_id != network_id or upload.deleted:
                    raise FormError(_("%(title)s has no file any more.", title=material.title))
                path = upload_path(upload)
                if not path.is_file():
                    raise FormError(_("%(title)s has no file any more.", title=material.title))
                with path.open("rb") as fh:
                    stored = blobs.put(fh, limit=max(media.upload_limit(), upload.size))
                if stored.created:
                    created.append(stored.sha256)
                blobs.ensure_row(s, stored)
                node.kind = "file"
                node.blob_sha256, node.size = stored.sha256, stored.size
                node.filename, node.media_type = upload.filename, upload.content_type
            else:
                node.url = material.link_url
                if not node.source:
                    node.source = material.link_url
            s.add(node)
            s.flush()
            first_id = first_id or node.id
        _touch(coll)
        s.commit()
    except (TextError, FormError) as exc:
        s.rollback()
        blobs.discard(s, created)
        return _collection_page(v, coll, error=str(exc), forms_={"materials": dict(request.form.items())},
                                status=400)
    except BaseException:
        s.rollback()
        blobs.discard(s, created)
        raise
    return _to_collection(coll, f"node-{first_id}")


# -- one node ------------------------------------------------------------------------------------------------


def _node_page(v: Viewer, coll: OerCollection, node: OerNode, *, values: dict[str, Any] | None = None,
               error: str | None = None, status: int = 200) -> Any:
    s = db_session()
    nodes = nodes_of(s, coll.id)
    own = set(subtree_ids(nodes, node.id))
    modules = [e for e in _outline(nodes) if e["node"].kind == MODULE and e["node"].id not in own]
    if values is None:
        values = {"title": node.title, "description": node.description, "authors": forms.authors_text(node.authors),
                  "attribution_title": node.attribution_title, "licence": node.licence, "source": node.source,
                  "changes": node.changes, "instructor_only": "1" if node.instructor_only else "", "url": node.url,
                  "text": node.text, "parent": str(node.parent_id or "")}
    found = [p for p in problems(coll, nodes) if p.node_id == node.id]
    page = render("oer/node.html", v, coll=coll, node=node, values=values, error=error, modules=modules,
                  problems=found, **_helpers())
    return page, status


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>")
def node_edit(network_id: int, collection_id: int, node_id: int) -> Any:
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    return _node_page(v, coll, node_of(coll, node_id))


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>")
def node_save(network_id: int, collection_id: int, node_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    node = node_of(coll, node_id)
    s = db_session()
    try:
        data = forms.item(request.form, node.kind, keep_licence=node.licence)
        parent = _module_of(coll, request.form.get("parent"), required=node.kind != MODULE)
        if parent is not None and parent.id in subtree_ids(nodes_of(s, coll.id), node.id):
            raise FormError(_("A module cannot be moved into itself."))
    except (TextError, FormError) as exc:
        s.rollback()
        return _node_page(v, coll, node, values=dict(request.form.items()), error=str(exc), status=400)
    for key, value in data.items():
        setattr(node, key, value)
    new_parent = parent.id if parent else None
    if new_parent != node.parent_id:
        node.parent_id, node.position = new_parent, _next_position(coll, new_parent)
    _touch(coll)
    s.commit()
    return _to_collection(coll, f"node-{node.id}")


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>/move")
def node_move(network_id: int, collection_id: int, node_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    node = node_of(coll, node_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description=_("Please move up or down."))
    s = db_session()
    siblings = children_map(nodes_of(s, coll.id)).get(node.parent_id, [])
    for pos, sibling in enumerate(siblings):
        sibling.position = pos
    i = next(i for i, n in enumerate(siblings) if n.id == node.id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(siblings):
        siblings[i].position, siblings[j].position = j, i
    _touch(coll)
    s.commit()
    return _to_collection(coll, f"node-{node.id}")


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>/delete")
def node_delete(network_id: int, collection_id: int, node_id: int) -> Any:
    post_guard()
    v = oer_viewer(network_id, AUTHOR)
    coll = collection_of(v, collection_id)
    node = node_of(coll, node_id)
    s = db_session()
    nodes = nodes_of(s, coll.id)
    if node.kind == MODULE and node.parent_id is None and \
            sum(1 for n in nodes if n.parent_id is None and n.kind == MODULE) == 1:
        return _collection_page(v, coll, error=_("A collection needs at least one module."), status=400)
    gone = _delete_nodes(s, subtree_ids(nodes, node.id))
    _touch(coll)
    s.commit()
    blobs.unlink(gone)
    return _to_collection(coll, "outline")


# -- files, preview, cartridge ----------------------------------------------------------------------------------


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>/file")
def node_file(network_id: int, collection_id: int, node_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    node = node_of(collection_of(v, collection_id), node_id)
    if not node.blob_sha256:
        abort(404, description=_("This item has no file."))
    return send_blob(node.blob_sha256, node.media_type, node.filename)


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>/assets/<int:asset_id>")
def node_asset(network_id: int, collection_id: int, node_id: int, asset_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    node = node_of(collection_of(v, collection_id), node_id)
    asset = db_session().get(OerAsset, asset_id)
    if asset is None or asset.node_id != node.id:
        abort(404)
    return send_blob(asset.blob_sha256, asset.media_type, asset.path)


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/nodes/<int:node_id>/preview")
def node_preview(network_id: int, collection_id: int, node_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    coll = collection_of(v, collection_id)
    node = node_of(coll, node_id)
    if node.kind == MODULE:
        return _to_collection(coll, f"node-{node.id}")
    assets = list(db_session().scalars(select(OerAsset).where(OerAsset.node_id == node.id)))
    shown = show(coll, node, assets, lang=(v.launch.locale or "de")[:2],
                 file_url=web.lurl("oer.node_file", network_id=network_id, collection_id=coll.id, node_id=node.id),
                 asset_url=lambda a: web.lurl("oer.node_asset", network_id=network_id, collection_id=coll.id,
                                              node_id=node.id, asset_id=a.id))
    return render("oer/preview.html", v, coll=coll, shown=shown)


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/cartridge")
def cartridge(network_id: int, collection_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    coll = collection_of(v, collection_id)
    version = request.args.get("cc_version", "1.1")
    if version not in CC_VERSIONS:
        abort(400, description=_("Unknown Common Cartridge version."))
    s = db_session()
    if blocking(problems(coll, nodes_of(s, coll.id))):
        return _collection_page(v, coll, error=_("The cartridge cannot be built while the licence panel lists "
                                                  "errors. Please fix them first."), status=400)
    try:
        out = build_cartridge(s, coll, version)
    except ExportRefused as exc:
        return _collection_page(v, coll, error=_("The cartridge could not be built: %(reason)s",
                                                 reason=exc.message), findings=exc.findings, status=400)
    name = f"{media.safe_filename(coll.title)}-cc{version.replace('.', '')}.imscc"
    resp = send_file(out, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
