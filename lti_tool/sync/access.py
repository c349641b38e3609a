"""Who may use the LMS sync of a network (network managers), and loading its rows by id."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from lti_tool.db import db_session
from lti_tool.sync.models import SyncRun, SyncTarget
from lti_tool.sync.service import SYNC_MANAGE
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.roles import allowed


def may_manage(role: str | None) -> bool:
    return allowed(role, SYNC_MANAGE)


def sync_viewer(network_id: int) -> Viewer:
    """The current member of ``network_id`` (404 for everybody else) who may manage syncs (403 otherwise)."""
    v = viewer(network_id, "network.view")
    if not may_manage(v.role):
        abort(403, description=_("Only the network managers can sync the network into an LMS."))
    return v


def target_of(v: Viewer, target_id: int) -> SyncTarget:
    target = db_session().get(SyncTarget, target_id)
    if target is None or target.network_id != v.network.id:
        abort(404, description=_("This sync target does not exist in this network."))
    return target


def run_of(v: Viewer, run_id: int) -> tuple[SyncRun, SyncTarget]:
    s = db_session()
    run = s.get(SyncRun, run_id)
    target = s.get(SyncTarget, run.target_id) if run is not None else None
    if run is None or target is None or target.network_id != v.network.id:
        abort(404, description=_("This sync run does not exist in this network."))
    return run, target
