"""Who may read and author the network's OER library, and loading its rows by id.

Every network member reads the library (and downloads cartridges); managers,
school leaders, media coordinators and teachers author it. Until
``workspaces.roles.PERMISSIONS`` names ``oer.view``/``oer.author`` the same
sets are used from here.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from lti_tool.db import db_session
from lti_tool.oer.models import OerCollection, OerNode
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.roles import ALL, LEADER, MANAGER, MEDIA, PERMISSIONS, TEACHER

VIEW, AUTHOR = "oer.view", "oer.author"
#: permission -> roles, used when roles.py does not list the permission
DEFAULTS = {VIEW: ALL, AUTHOR: frozenset({MANAGER, LEADER, MEDIA, TEACHER})}


def may(role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS.get(permission, DEFAULTS[permission])


def oer_viewer(network_id: int, permission: str = VIEW) -> Viewer:
    """The current member of ``network_id`` (404 for others), holding ``permission`` (403 otherwise)."""
    v = viewer(network_id, "network.view")
    if not may(v.role, permission):
        abort(403, description=_("Your role in this network does not allow this."))
    return v


def can_author(v: Viewer) -> bool:
    return may(v.role, AUTHOR)


def collection_of(v: Viewer, collection_id: int) -> OerCollection:
    coll = db_session().get(OerCollection, collection_id)
    if coll is None or coll.network_id != v.network.id:
        abort(404, description=_("This collection does not exist in this network."))
    return coll


def node_of(coll: OerCollection, node_id: int) -> OerNode:
    node = db_session().get(OerNode, node_id)
    if node is None or node.collection_id != coll.id:
        abort(404, description=_("This item does not exist in this collection."))
    return node
