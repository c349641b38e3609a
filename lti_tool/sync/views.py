"""Pages of the LMS sync for network managers: targets, preflight, plan, apply and the run page.

Routes (all under ``/sync/networks/<network_id>/``) start with ``sync_viewer``
(managers only; 404 for non-members) and check that every target or run in the
URL belongs to that network. Every POST goes through ``post_guard`` (CSRF).
A run is refused with 409 while another run holds the target.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, get_database
from lti_tool.sync import bp, jobs
from lti_tool.sync.access import run_of, sync_viewer, target_of
from lti_tool.sync.models import ACTIVE, SyncTarget
from lti_tool.sync.service import (
    USER_AUTHS,
    SyncRefused,
    active_run,
    add_target,
    is_active,
    last_run,
    mapping_count,
    report_counts,
    run_preflight,
    runs_of,
    schools_with_course,
    set_token,
    site_warning,
    start_run,
    state_of,
)
from lti_tool.sync.store import DbTargetLock, aware
from lti_tool.workspaces import activity
from lti_tool.workspaces.access import Viewer
from lti_tool.workspaces.models import MemberSchool
from lti_tool.workspaces.views import post_guard, render

FEATURE_LABELS = {
    "provisioning": _l("Provisioning (course, groups, accounts, enrolments)"),
    "section_titles": _l("Section titles"),
    "prune": _l("Removing what the network no longer has (prune)"),
    "cartridge_delivery": _l("Delivering OER cartridges (companion plugin)"),
}
AUTH_LABELS = {
    "nologin": _l("No login (accounts only hold enrolments and groups)"),
    "oauth2": _l("OAuth 2 single sign-on"),
    "saml2": _l("SAML 2 single sign-on"),
    "shibboleth": _l("Shibboleth"),
    "ldap": _l("LDAP"),
    "cas": _l("CAS"),
    "lti": _l("LTI"),
}
STATE_LABELS = {
    "queued": _l("waiting to start"),
    "running": _l("running"),
    "done": _l("finished"),
    "failed": _l("failed"),
    "stalled": _l("stopped without finishing"),
}
#: runs of a target: the sync's own, and those other features record there (OER cartridge delivery)
MODE_LABELS = {"plan": lazy_pgettext("sync", "Plan"), "apply": _l("Sync"), "dry_run": _l("Dry run"), "deliver": _l("Cartridge delivery")}
OP_LABELS = {"create": _l("Create"), "update": _l("Update"), "remove": _l("Remove"), "leave": _l("Leave unchanged")}
KIND_LABELS = {
    "category": _l("Course category"),
    "course": _l("Course"),
    "section": _l("Section"),
    "group": _l("Group"),
    "user": _l("Account"),
    "enrolment": _l("Enrolment"),
    "membership": _l("Group membership"),
}
RESULT_LABELS = {"created": _l("created"), "updated": _l("updated"), "mapped": _l("taken over"),
                 "removed": _l("removed"), "forgotten": _l("forgotten")}


LOCAL = ZoneInfo("Europe/Berlin")


@bp.app_template_filter("sync_time")
def _time_filter(dt: datetime | None) -> str:
    """A time of a run or check as the network sees it (German schools: Europe/Berlin)."""
    value = aware(dt)
    return value.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M") if value is not None else "–"


def _helpers() -> dict[str, Any]:
    return {"feature_labels": FEATURE_LABELS, "auth_labels": AUTH_LABELS, "state_labels": STATE_LABELS,
            "op_labels": OP_LABELS, "mode_labels": MODE_LABELS, "kind_labels": KIND_LABELS, "result_labels": RESULT_LABELS,
            "user_auths": USER_AUTHS}


def _refused(exc: SyncRefused) -> str:
    return _(exc.template, **exc.params)


def _lock() -> DbTargetLock:
    return DbTargetLock(get_database().sessions)


# -- targets ----------------------------------------------------------------------------------------------


def _targets_page(v: Viewer, *, error: str | None = None, values: dict[str, str] | None = None,
                  status: int = 200) -> Any:
    s = db_session()
    targets = list(s.scalars(select(SyncTarget).where(SyncTarget.network_id == v.network.id)
                             .order_by(SyncTarget.name, SyncTarget.id)))
    last_runs = {t.id: last_run(s, t) for t in targets}
    states = {t.id: state_of(s, r) for t, r in ((t, last_runs[t.id]) for t in targets) if r is not None}
    page = render("sync/targets.html", v, targets=targets, last_runs=last_runs, states=states, error=error,
                  values=values or {}, schools=schools_with_course(s, v.network),
                  allow_http=bridge().settings.allow_insecure_platforms, **_helpers())
    return page, status


@bp.get("/networks/<int:network_id>")
def targets(network_id: int) -> Any:
    v = sync_viewer(network_id)
    return _targets_page(v)


@bp.post("/networks/<int:network_id>/targets")
def target_add(network_id: int) -> Any:
    post_guard()
    v = sync_viewer(network_id)
    s = db_session()
    b = bridge()
    form = request.form
    values = {k: form.get(k, "") for k in ("name", "site_url", "user_auth", "scope", "school_id")}
    try:
        target = add_target(s, b.box, v.network, name=form.get("name", ""), site_url=form.get("site_url", ""),
                            token=form.get("token", ""), user_auth=form.get("user_auth", "nologin"),
                            created_by=v.person.id, allow_http=b.settings.allow_insecure_platforms,
                            scope=form.get("scope", "network"), school_id=form.get("school_id"))
    except SyncRefused as exc:
        s.rollback()
        return _targets_page(v, error=_refused(exc), values=values, status=400)
    activity.record(network_id, v.person.id, "sync.target", target.name, f"/sync/networks/{network_id}",
                    audience="roles:manager")
    s.commit()  # before talking to the site: no transaction stays open while it answers
    run_preflight(s, b.box, target)
    s.commit()
    return redirect(web.lurl("sync.target", network_id=network_id, target_id=target.id), code=303)


def _target_page(v: Viewer, target: SyncTarget, *, error: str | None = None, status: int = 200) -> Any:
    s = db_session()
    runs = runs_of(s, target, 10)
    states = {r.id: state_of(s, r) for r in runs}
    busy = any(st in ACTIVE for st in states.values())
    warning = site_warning(s, target)
    school = s.get(MemberSchool, target.school_id) if target.school_id is not None else None
    page = render("sync/target.html", v, target=target, runs=runs, states=states, busy=busy, error=error,
                  site_warning=_refused(warning) if warning else None,
                  school=school,
                  mappings=mapping_count(s, target), preflight=target.last_preflight, **_helpers())
    return page, status


@bp.get("/networks/<int:network_id>/targets/<int:target_id>")
def target(network_id: int, target_id: int) -> Any:
    v = sync_viewer(network_id)
    return _target_page(v, target_of(v, target_id))


@bp.post("/networks/<int:network_id>/targets/<int:target_id>/check")
def target_check(network_id: int, target_id: int) -> Any:
    post_guard()
    v = sync_viewer(network_id)
    t = target_of(v, target_id)
    s = db_session()
    try:
        run_preflight(s, bridge().box, t)
    except SyncRefused as exc:
        return _target_page(v, t, error=_refused(exc), status=400)
    s.commit()
    return redirect(web.lurl("sync.target", network_id=network_id, target_id=t.id) + "#preflight", code=303)


@bp.post("/networks/<int:network_id>/targets/<int:target_id>/token")
def target_token(network_id: int, target_id: int) -> Any:
    post_guard()
    v = sync_viewer(network_id)
    t = target_of(v, target_id)
    s = db_session()
    b = bridge()
    try:
        set_token(t, b.box, request.form.get("token", ""))
    except SyncRefused as exc:
        s.rollback()
        return _target_page(v, t, error=_refused(exc), status=400)
    run_preflight(s, b.box, t)
    s.commit()
    return redirect(web.lurl("sync.target", network_id=network_id, target_id=t.id) + "#preflight", code=303)


@bp.post("/networks/<int:network_id>/targets/<int:target_id>/delete")
def target_delete(network_id: int, target_id: int) -> Any:
    post_guard()
    v = sync_viewer(network_id)
    t = target_of(v, target_id)
    s = db_session()
    if request.form.get("confirm") != "yes":
        return _target_page(v, t, error=_("Tick the box to confirm that the target and what the tool remembers "
                                          "about it are deleted."), status=400)
    lock = _lock()
    holder = "delete-" + str(t.id)
    if not lock.acquire(t.id, holder, ttl=60):
        return _target_page(v, t, error=_("A plan or sync of this target is running. Wait until it has finished."),
                            status=409)
    name = t.name
    s.delete(t)  # cascades to mappings, runs and the lock row
    activity.record(network_id, v.person.id, "sync.target_removed", name, f"/sync/networks/{network_id}",
                    audience="roles:manager")
    s.commit()
    return redirect(web.lurl("sync.targets", network_id=network_id), code=303)


# -- runs -------------------------------------------------------------------------------------------------


@bp.post("/networks/<int:network_id>/targets/<int:target_id>/runs")
def run_start(network_id: int, target_id: int) -> Any:
    post_guard()
    v = sync_viewer(network_id)
    t = target_of(v, target_id)
    s = db_session()
    form = request.form
    mode = form.get("mode", "")
    if mode not in ("plan", "apply"):
        return _target_page(v, t, error=_("Choose whether to plan or to apply."), status=400)
    prune = form.get("prune") == "yes"
    if mode == "apply" and form.get("confirm") != "yes":
        return _target_page(v, t, error=_("Tick the box to confirm that the sync may change the LMS site."),
                            status=400)
    app = jobs.current()
    try:
        run = start_run(s, _lock(), t, mode=mode, prune=prune, requested_by=v.person.id,
                        backend=jobs.backend_for(app))
    except SyncRefused as exc:
        return _target_page(v, t, error=_refused(exc), status=exc.status)
    jobs.dispatch(app, run.id)
    return redirect(web.lurl("sync.run", network_id=network_id, run_id=run.id), code=303)


@bp.get("/networks/<int:network_id>/runs/<int:run_id>")
def run(network_id: int, run_id: int) -> Any:
    v = sync_viewer(network_id)
    r, t = run_of(v, run_id)
    s = db_session()
    state = state_of(s, r)
    current = active_run(s, t)
    return render("sync/run.html", v, run=r, target=t, state=state, refresh=state in ACTIVE,
                  newer_active=current is not None and current.id != r.id and is_active(s, current),
                  counts=report_counts(r.report), **_helpers())
