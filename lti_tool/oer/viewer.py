"""The launch-bound viewer of library items, and the Deep Linking choices that create its links.

A resource link with custom ``feature=oer``, ``oer_node=<id>`` (and
``oer_sig``, a keyed signature the Deep Linking response adds) shows that
item — or, for a module, its items — to everybody in the course, always with
the item's TULLU attribution line. Without a valid signature the link works
only in courses bound to a school of the library's network and for the
network's members, so ids cannot be guessed into other courses.
Items marked instructor-only are shown to teachers only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.features import DEEP_LINK_PROVIDERS, FEATURES, DeepLinkChoice
from lti_tool.lti.launches import LaunchSession, current_launch
from lti_tool.oer import bp
from lti_tool.oer.attribution import label
from lti_tool.oer.display import kind_label, send_blob, show
from lti_tool.oer.models import MODULE, OerAsset, OerCollection, OerNode
from lti_tool.oer.store import children_map, nodes_of, subtree_ids
from lti_tool.protocol.roles import INSTRUCTOR, at_least
from lti_tool.workspaces.access import person_for_user
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, SchoolContext


def signature(node_id: int) -> str:
    key = bridge().settings.secret_key.encode()
    return hmac.new(key, f"oer-node:{node_id}".encode(), hashlib.sha256).hexdigest()[:32]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> Any:
    return render_template("oer/refused.html", message=exc.message), exc.status


@dataclass
class ViewContext:
    ls: LaunchSession
    coll: OerCollection
    root: OerNode
    nodes: list[OerNode]
    teacher: bool

    def visible(self, node: OerNode) -> bool:
        return self.teacher or not node.instructor_only


def _bound(ls: LaunchSession, network_id: int) -> bool:
    """The launch comes from a course of the network's schools, or from one of its members."""
    s = db_session()
    if ls.context_pk and s.scalar(select(MemberSchool.id).join(SchoolContext, SchoolContext.school_id == MemberSchool.id)
                                  .where(SchoolContext.context_pk == ls.context_pk,
                                         MemberSchool.network_id == network_id).limit(1)):
        return True
    person = person_for_user(ls.user_pk, create=False)
    return person is not None and s.scalar(select(NetworkMember.id).where(
        NetworkMember.network_id == network_id, NetworkMember.person_id == person.id).limit(1)) is not None


def _context() -> ViewContext:
    ls = current_launch()
    assert ls is not None
    custom = ls.custom or {}
    raw = str(custom.get("oer_node") or "")
    s = db_session()
    root = s.get(OerNode, int(raw)) if raw.isdigit() else None
    coll = s.get(OerCollection, root.collection_id) if root is not None else None
    missing = _("This item of the OER library does not exist (any more). Please ask your teacher to check the link.")
    if root is None or coll is None:
        raise Refused(404, missing)
    signed = hmac.compare_digest(str(custom.get("oer_sig") or ""), signature(root.id))
    if not signed and not _bound(ls, coll.network_id):
        raise Refused(404, missing)
    teacher = at_least(ls.role, INSTRUCTOR)
    if root.instructor_only and not teacher:
        raise Refused(403, _("This item is for teachers only."))
    return ViewContext(ls, coll, root, nodes_of(s, coll.id), teacher)


def _target(ctx: ViewContext) -> OerNode:
    raw = request.args.get("node", "")
    if not raw:
        return ctx.root
    if not raw.isdigit() or int(raw) not in subtree_ids(ctx.nodes, ctx.root.id):
        abort(404)
    node = next(n for n in ctx.nodes if n.id == int(raw))
    if not ctx.visible(node):
        raise Refused(403, _("This item is for teachers only."))
    return node


def _module_outline(ctx: ViewContext, module: OerNode) -> list[dict[str, Any]]:
    children = children_map(ctx.nodes)
    out: list[dict[str, Any]] = []

    def walk(parent_id: int, depth: int) -> None:
        for child in children.get(parent_id, []):
            if not ctx.visible(child):
                continue
            out.append({"node": child, "depth": depth})
            if child.kind == MODULE:
                walk(child.id, depth + 1)

    walk(module.id, 0)
    return out


@bp.get("/view")
def view() -> Any:
    ctx = _context()
    node = _target(ctx)
    lang = (ctx.ls.locale or "de")[:2]
    if node.kind == MODULE:
        return render_template("oer/view.html", ctx=ctx, node=node, outline=_module_outline(ctx, node), shown=None,
                               kind_label=kind_label)
    assets = list(db_session().scalars(select(OerAsset).where(OerAsset.node_id == node.id)))
    shown = show(ctx.coll, node, assets, lang=lang, file_url=web.lurl("oer.view_file", node=node.id),
                 asset_url=lambda a: web.lurl("oer.view_asset", asset_id=a.id, node=node.id))
    return render_template("oer/view.html", ctx=ctx, node=node, outline=None, shown=shown, kind_label=kind_label)


@bp.get("/view/file")
def view_file() -> Any:
    ctx = _context()
    node = _target(ctx)
    if not node.blob_sha256:
        abort(404)
    return send_blob(node.blob_sha256, node.media_type, node.filename)


@bp.get("/view/asset/<int:asset_id>")
def view_asset(asset_id: int) -> Any:
    ctx = _context()
    node = _target(ctx)
    asset = db_session().get(OerAsset, asset_id)
    if asset is None or asset.node_id != node.id:
        abort(404)
    return send_blob(asset.blob_sha256, asset.media_type, asset.path)


# -- Deep Linking ------------------------------------------------------------------------------------------


def _lti_custom(node: OerNode, network_id: int) -> dict[str, str] | None:
    """An LTI item can be linked only when it opens this tool's self-evaluation of the same network."""
    from lti_tool.selfeval.models import SelfevalRound

    custom = {str(k): str(v) for k, v in (node.custom or {}).items()}
    if node.url != bridge().url("/lti/launch") or custom.get("feature") != "selfeval":
        return None
    raw = custom.get("round", "")
    rnd = db_session().get(SelfevalRound, int(raw)) if raw.isdigit() else None
    if rnd is None or rnd.network_id != network_id:
        return None
    return {"feature": "selfeval", "round": raw}


def _choices_of(net: Network, coll: OerCollection) -> list[DeepLinkChoice]:
    nodes = nodes_of(db_session(), coll.id)
    children = children_map(nodes)
    group = f"{net.name} · {coll.title}"
    out: list[DeepLinkChoice] = []

    def oer_custom(node: OerNode) -> dict[str, str]:
        return {"feature": "oer", "oer_node": str(node.id), "oer_sig": signature(node.id)}

    def walk(parent_id: int | None) -> None:
        for node in children.get(parent_id, []):
            if node.kind == MODULE:
                count = len(subtree_ids(nodes, node.id)) - 1
                out.append(DeepLinkChoice(key=f"oer:{node.id}", title=node.title, group=group,
                                          description=ngettext("Module of the OER library (%(num)d entry)", "Module of the OER library (%(num)d entries)", count),
                                          custom=oer_custom(node)))
                walk(node.id)
                continue
            custom = _lti_custom(node, net.id) if node.kind == "lti" else oer_custom(node)
            if custom is None:
                continue
            graded = node.kind == "lti" and "selfeval" in FEATURES and FEATURES["selfeval"].graded
            licence = node.licence or coll.licence
            description = kind_label(node.kind) + (f" · {label(licence)}" if licence else "")
            if node.instructor_only:
                description += " · " + _("for teachers only")
            out.append(DeepLinkChoice(key=f"oer:{node.id}", title=node.title, description=description,
                                      custom=custom, graded=graded, group=group))

    walk(None)
    return out


def deep_link_choices(ls: Any) -> list[DeepLinkChoice]:
    """Modules and items of the libraries of the teacher's networks, as course links."""
    s = db_session()
    person = person_for_user(ls.user_pk, create=False)
    if person is None:
        return []
    networks = s.scalars(select(Network).join(NetworkMember, NetworkMember.network_id == Network.id)
                         .where(NetworkMember.person_id == person.id).order_by(Network.name)).all()
    choices: list[DeepLinkChoice] = []
    for net in networks:
        for coll in s.scalars(select(OerCollection).where(OerCollection.network_id == net.id)
                              .order_by(OerCollection.title, OerCollection.id)):
            choices.extend(_choices_of(net, coll))
    return choices


if deep_link_choices not in DEEP_LINK_PROVIDERS:
    DEEP_LINK_PROVIDERS.append(deep_link_choices)
