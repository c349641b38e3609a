"""Who may read and author the network's OER library, and loading its rows by id.

Every network member reads the library (and downloads cartridges); managers,
school leaders, media coordinators and teachers author it
(``oer.view``/``oer.author`` in ``workspaces.roles.PERMISSIONS``).
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from lti_tool.db import db_session
from lti_tool.oer.models import OerCollection, OerNode
from lti_tool.workspaces.access import Viewer, viewer

VIEW, AUTHOR = "oer.view", "oer.author"


def oer_viewer(network_id: int, permission: str = VIEW) -> Viewer:
    """The current member of ``network_id`` (404 for others), holding ``permission`` (403 otherwise)."""
    v = viewer(network_id, "network.view")
    if not v.can(permission):
        abort(403, description=_("Your role in this network does not allow this."))
    return v


def can_author(v: Viewer) -> bool:
    return v.can(AUTHOR)


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
