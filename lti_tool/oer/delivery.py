"""Deliver a collection of the OER library into an LMS course – or show how a person does it.

Pages (under ``/oer/networks/<network_id>/collections/<collection_id>/``):

* ``deliver`` (network managers, :data:`OER_DELIVER`): pick a sync target of the
  network, see whether its token can use the companion plugin (the stored preflight,
  "check now"), choose a new course (short name and full name prefilled) or an existing
  course and a mode, and start the delivery as a background run.
* ``deliveries/<run_id>``: progress and result – sections and activities as Moodle
  reports them, the course link, warnings; "ask Moodle again" for a restore still
  running in Moodle.
* ``get-into-lms`` (every member, like the cartridge download): without the plugin –
  the CC 1.1 download and step-by-step instructions for Moodle / LOGINEO NRW LMS,
  itslearning's Course Importer and Deep Linking (:mod:`moodle_sync.instructions`).

A delivery run is a ``sync_run`` row of the target with ``mode = "deliver"``: it holds the
target's lock like a sync (one run per target at a time, a crashed worker's lock lapses),
and keeps progress and report where the sync keeps them. The work is
:func:`moodle_sync.delivery.deliver_cartridge` on a CC 1.1 cartridge built from the
collection; runs go to RQ when ``LMS_BRIDGE_REDIS_URL`` is set (``lms-bridge worker``
picks them up from the same queue as sync runs) and to a thread of the web process
otherwise.

Repeated deliveries (see :mod:`moodle_sync.delivery`): the form proposes a new course the
first time and *replace into the course delivered last time* afterwards, so delivering
the same collection again gives the same course instead of a copy.
"""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, get_database, utcnow
from lti_tool.oer import blobs, bp, media
from lti_tool.oer.access import VIEW, collection_of, oer_viewer
from lti_tool.oer.checks import blocking, problems
from lti_tool.oer.models import OerCollection
from lti_tool.oer.store import nodes_of, to_model
from lti_tool.sync import jobs
from lti_tool.sync.access import target_of
from lti_tool.sync.models import ACTIVE, DONE, FAILED, QUEUED, RUNNING, SyncMapping, SyncRun, SyncTarget
from lti_tool.sync.service import SyncRefused, client_for, released_on_error, run_preflight, scrub, token_of
from lti_tool.sync.store import LOCK_TTL, QUEUED_TTL, DbTargetLock
from lti_tool.workspaces import activity
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.roles import allowed
from lti_tool.workspaces.views import post_guard, render
from moodle_sync.delivery import (
    MERGE,
    NEW,
    REPLACE,
    DeliveryReport,
    DeliveryState,
    FallbackNeeded,
    NewCourse,
    deliver_cartridge,
    follow_up,
)
from moodle_sync.errors import AlreadyExists, SyncError
from moodle_sync.instructions import fallback_routes

log = logging.getLogger("lms_bridge.oer.delivery")

#: Who may deliver collections into LMS courses (network managers, see roles.PERMISSIONS).
OER_DELIVER = "oer.deliver"
#: ``sync_run.mode`` of a delivery run
DELIVER_MODE = "deliver"
#: How often and how long a run asks Moodle about the restore task (tests make these short).
POLL_INTERVAL = 5.0
TIMEOUT = 900.0
CC_VERSION = "1.1"
MAX_SHORTNAME = 100
MAX_FULLNAME = 254

STATE_LABELS = {
    "queued": _l("waiting to start"),
    "running": _l("running"),
    "done": _l("delivered"),
    "failed": _l("failed"),
    "moodle_running": _l("still running in Moodle"),
    "unknown": _l("outcome unknown – look in Moodle"),
    "fallback": _l("the site cannot take it through web services"),
}
STEP_LABELS = {
    "build": _l("building the cartridge"),
    "preflight": _l("checking what the token may do"),
    "upload": _l("uploading the cartridge"),
    "restore": _l("asking Moodle to restore it"),
    "poll": _l("Moodle is restoring the cartridge"),
    "names": _l("naming the sections"),
    "report": _l("reading what arrived"),
}
LMS_LABELS = {"moodle": _l("Moodle"), "logineo": _l("LOGINEO NRW LMS"), "itslearning": _l("itslearning")}

class DeliveryRefused(Exception):
    """A delivery request is refused (400 unless ``status`` says otherwise); ``message`` is for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# -- access -----------------------------------------------------------------------------------------------


def may_deliver(role: str | None) -> bool:
    return allowed(role, OER_DELIVER)


def deliver_viewer(network_id: int) -> Viewer:
    """A member of the network (404 for everybody else) who may deliver (403 otherwise)."""
    v = viewer(network_id, "network.view")
    if not may_deliver(v.role):
        abort(403, description=_("Only the network managers can deliver collections into LMS courses."))
    return v


def run_of(v: Viewer, coll: OerCollection, run_id: int) -> tuple[SyncRun, SyncTarget]:
    """A delivery run of this collection in this network, or 404."""
    s = db_session()
    run = s.get(SyncRun, run_id)
    target = s.get(SyncTarget, run.target_id) if run is not None else None
    if (
        run is None
        or target is None
        or run.mode != DELIVER_MODE
        or target.network_id != v.network.id
        or (run.report or {}).get("collection_id") != coll.id
    ):
        abort(404, description=_("This delivery does not exist for this collection."))
    return run, target


# -- what a delivery needs ------------------------------------------------------------------------------


def section_titles(model: Any) -> list[str]:
    """The course's section names: the cartridge's "about" module first, then the top-level modules."""
    from oer_packager.pages import TEXTS, text_lang

    about = TEXTS[text_lang(model.language or "de")]["about"]
    return [about, *(" ".join(str(m.title).split()) or "-" for m in model.modules)]


def default_shortname(coll: OerCollection) -> str:
    """A Moodle short name derived from the collection: unique per tool, readable in Moodle."""
    slug = re.sub(r"[^a-z0-9]+", "-", media.safe_filename(coll.title).lower()).strip("-")[:60] or "sammlung"
    return f"oer{coll.id}-{slug}"[:MAX_SHORTNAME]


def cartridge_name(coll: OerCollection) -> str:
    return f"{media.safe_filename(coll.title)}-cc{CC_VERSION.replace('.', '')}.imscc"


def network_category(s: Session, target: SyncTarget) -> int:
    """The Moodle category the network sync made on this site, else 1 (Moodle's first category)."""
    found = s.scalar(
        select(SyncMapping.moodle_id).where(SyncMapping.target_id == target.id, SyncMapping.kind == "category").limit(1)
    )
    return int(found) if found else 1


def deliveries(s: Session, coll: OerCollection, target: SyncTarget | None = None, limit: int = 20) -> list[SyncRun]:
    """The latest delivery runs of the collection (of one target, or of all targets of its network)."""
    query = (
        select(SyncRun)
        .join(SyncTarget, SyncTarget.id == SyncRun.target_id)
        .where(SyncRun.mode == DELIVER_MODE, SyncTarget.network_id == coll.network_id)
        .order_by(SyncRun.id.desc())
    )
    if target is not None:
        query = query.where(SyncRun.target_id == target.id)
    runs = [r for r in s.scalars(query.limit(500)) if (r.report or {}).get("collection_id") == coll.id]
    return runs[:limit]


def delivered_course(s: Session, coll: OerCollection, target: SyncTarget) -> int:
    """The course the collection went into last time on this target (0: none yet)."""
    for run in deliveries(s, coll, target, limit=50):
        report = (run.report or {}).get("delivery") or {}
        if report.get("course_id") and report.get("state") in ("done", "running", "unknown"):
            return int(report["course_id"])
    return 0


def delivery_state(run: SyncRun) -> str:
    """queued, running, done, failed, moodle_running, unknown, fallback – for page, CLI and tests."""
    report = run.report or {}
    if report.get("fallback"):
        return "fallback"
    if run.status in ACTIVE:
        return run.status
    state = (report.get("delivery") or {}).get("state")
    if state == "running":
        return "moodle_running"
    if state == "unknown":
        return "unknown"
    return run.status


def plugin_check(target: SyncTarget) -> dict[str, Any] | None:
    """The stored preflight's verdict on cartridge delivery (None: never checked)."""
    checks = (target.last_preflight or {}).get("checks") or {}
    return checks.get("cartridge_delivery")


# -- starting and carrying out runs ----------------------------------------------------------------------


def start_delivery(
    s: Session,
    coll: OerCollection,
    target: SyncTarget,
    *,
    course_id: int | None = None,
    new_course: NewCourse | None = None,
    mode: str | None = None,
    requested_by: int | None = None,
    backend: str = "",
    follow_up_of: SyncRun | None = None,
) -> SyncRun:
    """Take the target's lock and record a queued delivery run (committed); 409 while another run holds it."""
    if target.kind != "moodle":
        raise DeliveryRefused(_("Only Moodle and LOGINEO NRW LMS sites can take cartridges through web services."))
    lock = DbTargetLock(get_database().sessions)
    holder = "deliver-" + secrets.token_hex(8)
    if not lock.acquire(target.id, holder, ttl=QUEUED_TTL):
        raise DeliveryRefused(
            _("Another run of this target (a sync or a delivery) is in progress. Wait until it has finished."), 409
        )
    request_data: dict[str, Any] = {
        "course_id": course_id,
        "new_course": vars(new_course) if new_course else None,
        "mode": mode or (NEW if new_course else REPLACE),
    }
    report: dict[str, Any] = {
        "kind": "oer_delivery",
        "collection_id": coll.id,
        "collection_title": coll.title,
        "request": request_data,
        "delivery": None,
        # keys the sync's run page reads, so that a delivery run shows there too
        "done": [],
        "failed": [],
        "skipped": [],
        "recovered": [],
        "warnings": [],
        "calls": {"reads": 0, "writes": 0},
    }
    if follow_up_of is not None:
        report["follow_up_of"] = follow_up_of.id
        report["delivery"] = (follow_up_of.report or {}).get("delivery")
        report["request"] = (follow_up_of.report or {}).get("request") or request_data
    with released_on_error(s, lock, target.id, holder):
        run = SyncRun(
            target_id=target.id,
            mode=DELIVER_MODE,
            status=QUEUED,
            backend=backend,
            lock_holder=holder,
            requested_by=requested_by,
            message="waiting to start",
            report=report,
        )
        s.add(run)
        s.commit()
    return run


def execute_delivery(
    run_id: int,
    *,
    echo: Any = None,
    sleep: Any = time.sleep,
    clock: Any = time.monotonic,
    poll_interval: float | None = None,
    timeout: float | None = None,
) -> SyncRun | None:
    """Carry out a queued delivery run (needs an app context); None if it was not queued."""
    poll_interval = POLL_INTERVAL if poll_interval is None else poll_interval
    timeout = TIMEOUT if timeout is None else timeout
    s = db_session()
    b = bridge()
    run = s.get(SyncRun, run_id)
    if run is None or run.mode != DELIVER_MODE or run.status != QUEUED:
        return None
    target = s.get(SyncTarget, run.target_id)
    assert target is not None
    report = dict(run.report or {})
    lock = DbTargetLock(get_database().sessions)
    if not lock.acquire(target.id, run.lock_holder, ttl=LOCK_TTL):
        jobs.finish(s, run, FAILED, "another run took this target over before the delivery could start; start it again")
        return run
    run.status, run.started_at, run.progress_done, run.progress_total = RUNNING, utcnow(), 0, 100
    run.message = "building the cartridge"
    s.commit()
    token: str | None = None
    path: Path | None = None
    last_write = 0.0

    def progress(step: str, fraction: float) -> None:
        nonlocal last_write
        if echo is not None:
            echo(step, fraction)
        now = time.monotonic()
        if step == "report" or now - last_write >= 0.5:
            last_write = now
            run.progress_done, run.message = int(fraction * 100), step
            s.commit()
            lock.renew(target.id, run.lock_holder, ttl=LOCK_TTL)

    try:
        token = token_of(b.box, target)
        coll = s.get(OerCollection, int(report.get("collection_id") or 0))
        if coll is None or coll.network_id != target.network_id:
            raise DeliveryRefused("the collection was deleted")
        model, source = to_model(s, coll)
        titles = section_titles(model)
        path = _build(model, source)
        progress("build", 0.05)
        req = report.get("request") or {}
        with client_for(b.box, target) as client:
            if report.get("follow_up_of"):
                previous = DeliveryReport.from_dict(report.get("delivery") or {})
                result = follow_up(
                    client,
                    previous,
                    section_titles=titles,
                    notify=progress,
                    poll_interval=poll_interval,
                    timeout=timeout,
                    sleep=sleep,
                    clock=clock,
                )
            else:
                new = req.get("new_course")
                result = deliver_cartridge(
                    client,
                    path,
                    course_id=req.get("course_id"),
                    new_course=NewCourse(**new) if new else None,
                    mode=req.get("mode"),
                    section_titles=titles,
                    progress=progress,
                    poll_interval=poll_interval,
                    timeout=timeout,
                    sleep=sleep,
                    clock=clock,
                    filename=cartridge_name(coll),
                )
            report["calls"] = {"reads": client.stats.reads, "writes": client.stats.writes}
        data = result.to_dict()
        data["message"] = scrub(data["message"], token)
        data["warnings"] = [scrub(w, token) for w in data["warnings"]]
        report["delivery"] = data
        report["warnings"] = data["warnings"]
        run.report = report
        run.report_text = scrub(result.render(), token)
        run.progress_done = 100
        status, message = _outcome(result)
        jobs.finish(s, run, status, message)
        if result.state is DeliveryState.DONE:
            activity.record(
                target.network_id,
                run.requested_by,
                "oer.delivered",
                f"{coll.title} → {target.name}",
                f"/oer/networks/{target.network_id}/collections/{coll.id}/deliveries/{run.id}",
                audience="roles:manager",
            )
            s.commit()
    except Exception as error:  # every failure ends as a readable run, never as a stack trace on the page
        s.rollback()
        run = s.get(SyncRun, run_id)
        assert run is not None
        report = dict(run.report or {})
        if isinstance(error, FallbackNeeded):
            report["fallback"] = {"reason": scrub(error.reason, token), "missing": list(error.missing)}
        elif not isinstance(error, SyncError | SyncRefused | DeliveryRefused):
            log.error("delivery run %s failed unexpectedly: %s", run_id, type(error).__name__, exc_info=error)
        run.report = report
        jobs.finish(s, run, FAILED, scrub(_readable(error), token))
    finally:
        lock.release(target.id, run.lock_holder)
        if path is not None:
            path.unlink(missing_ok=True)
    return run


def _build(model: Any, source: Any) -> Path:
    from oer_packager import builder

    handle = tempfile.NamedTemporaryFile(dir=blobs.tmp_dir(), suffix=".imscc", delete=False)
    handle.close()
    path = Path(handle.name)
    try:
        builder.build(model, source, path, cc_version=CC_VERSION, allow_non_oer=False)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _outcome(result: DeliveryReport) -> tuple[str, str]:
    if result.state is DeliveryState.DONE:
        extra = f" with {len(result.warnings)} warning(s)" if result.warnings else ""
        return DONE, f"delivered into course {result.course_id}{extra}"
    if result.state is DeliveryState.FAILED:
        return FAILED, f"Moodle could not restore the cartridge: {result.message}"
    if result.state is DeliveryState.RUNNING:
        return DONE, f"the restore is still running in Moodle (task {result.taskid}); ask again later"
    return DONE, "the answer to the restore was lost; see the warnings before delivering again"


def _readable(error: BaseException) -> str:
    if isinstance(error, FallbackNeeded):
        return f"the site cannot take the cartridge through web services: {error.reason}"
    if isinstance(error, AlreadyExists):
        return f"{error.message}" + (f" – {error.hint}" if error.hint else "")
    if isinstance(error, DeliveryRefused | SyncRefused):
        return str(error.message)
    if isinstance(error, SyncError | LookupError):
        return str(error)
    from oer_packager.errors import PackagingError

    if isinstance(error, PackagingError):
        return f"the cartridge could not be built: {error.message}"
    return f"unexpected error ({type(error).__name__}); the tool's log has the details"


def dispatch(app: Flask, run_id: int) -> str:
    """Start a queued delivery in the background: RQ with LMS_BRIDGE_REDIS_URL, else a thread."""
    return jobs.dispatch_run(app, run_id, execute_delivery, enqueue=_enqueue, logger=log, what="delivery run",
                             thread_name=f"oer-delivery-{run_id}")


def _enqueue(app: Flask, run_id: int) -> str:
    return jobs.enqueue_job(app, "lti_tool.oer.delivery.run_job", run_id, job_id=f"lms-bridge-oer-delivery-{run_id}",
                            timeout=int(TIMEOUT) + 600, description=f"OER delivery run {run_id}")


def run_job(run_id: int) -> str:
    """RQ entry point (``lms-bridge worker``): builds its own app from the environment."""
    return jobs.run_in_worker(execute_delivery, run_id)


#: Joins the thread of an in-process delivery (tests): deliveries are ``sync_run`` rows, one registry serves both.
wait = jobs.wait


# -- pages ----------------------------------------------------------------------------------------------


def _targets(v: Viewer) -> list[SyncTarget]:
    return list(
        db_session().scalars(
            select(SyncTarget).where(SyncTarget.network_id == v.network.id).order_by(SyncTarget.name, SyncTarget.id)
        )
    )


def _defaults(s: Session, coll: OerCollection, target: SyncTarget | None) -> dict[str, str]:
    course = delivered_course(s, coll, target) if target is not None else 0
    return {
        "target_id": str(target.id) if target else "",
        "destination": "existing" if course else "new",
        "shortname": default_shortname(coll),
        "fullname": coll.title[:MAX_FULLNAME],
        "category_id": str(network_category(s, target)) if target else "1",
        "course_id": str(course) if course else "",
        "mode": REPLACE,
    }


def _deliver_page(
    v: Viewer,
    coll: OerCollection,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    s = db_session()
    targets = _targets(v)
    chosen = request.args.get("target", "") if values is None else values.get("target_id", "")
    target = next((t for t in targets if str(t.id) == chosen), targets[0] if targets else None)
    vals = values or _defaults(s, coll, target)
    runs = deliveries(s, coll)
    names = {t.id: t.name for t in targets}
    page = render(
        "oer/deliver.html",
        v,
        coll=coll,
        targets=targets,
        target=target,
        values=vals,
        error=error,
        checks={t.id: plugin_check(t) for t in targets},
        delivered={t.id: delivered_course(s, coll, t) for t in targets},
        runs=runs,
        target_names=names,
        states={r.id: delivery_state(r) for r in runs},
        state_labels=STATE_LABELS,
        blocked=blocking(problems(coll, nodes_of(s, coll.id))),
    )
    return page, status


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/deliver")
def deliver(network_id: int, collection_id: int) -> Any:
    v = deliver_viewer(network_id)
    coll = collection_of(v, collection_id)
    return _deliver_page(v, coll)


def _target_from_form(v: Viewer) -> SyncTarget:
    raw = (request.form.get("target_id") or "").strip()
    if not raw.isdigit():
        raise DeliveryRefused(_("Please choose an LMS site (sync target)."))
    return target_of(v, int(raw))  # 404 for targets of other networks


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/deliver/check")
def deliver_check(network_id: int, collection_id: int) -> Any:
    post_guard()
    v = deliver_viewer(network_id)
    coll = collection_of(v, collection_id)
    s = db_session()
    try:
        target = _target_from_form(v)
        run_preflight(s, bridge().box, target)
    except DeliveryRefused as exc:
        return _deliver_page(v, coll, error=exc.message, status=exc.status)
    except SyncRefused as exc:
        return _deliver_page(v, coll, error=_(exc.template, **exc.params), status=400)
    s.commit()
    return redirect(web.lurl("oer.deliver", network_id=network_id, collection_id=coll.id, target=target.id), code=303)


def _positive(raw: str | None) -> int:
    """The positive integer in ``raw``, or 0."""
    value = (raw or "").strip()
    if not value.isdigit() or len(value) > 12:
        return 0
    return int(value)


def parse_destination(form: Any) -> tuple[int | None, NewCourse | None, str]:
    """(course id, new course, mode) from the form, or DeliveryRefused with what to fix."""
    destination = form.get("destination", "")
    if destination == "new":
        shortname = " ".join((form.get("shortname") or "").split())
        fullname = " ".join((form.get("fullname") or "").split())
        if not shortname or len(shortname) > MAX_SHORTNAME:
            raise DeliveryRefused(_("Give the new course a short name of at most %(n)d characters.", n=MAX_SHORTNAME))
        if not fullname or len(fullname) > MAX_FULLNAME:
            raise DeliveryRefused(_("Give the new course a full name of at most %(n)d characters.", n=MAX_FULLNAME))
        category = _positive(form.get("category_id"))
        if not category:
            raise DeliveryRefused(_("Give the id of the Moodle category for the new course."))
        return None, NewCourse(category, fullname, shortname), NEW
    if destination == "existing":
        course = _positive(form.get("course_id"))
        if not course:
            raise DeliveryRefused(_("Give the id of the Moodle course (a number, e.g. 15)."))
        mode = form.get("mode", REPLACE)
        if mode not in (REPLACE, MERGE):
            raise DeliveryRefused(_("Choose whether to replace the course content or to add to it."))
        return course, None, mode
    raise DeliveryRefused(_("Choose a new course or an existing one."))


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/deliver")
def deliver_start(network_id: int, collection_id: int) -> Any:
    post_guard()
    v = deliver_viewer(network_id)
    coll = collection_of(v, collection_id)
    s = db_session()
    values = {
        k: request.form.get(k, "")
        for k in ("target_id", "destination", "shortname", "fullname", "category_id", "course_id", "mode")
    }
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        target = _target_from_form(v)
        course_id, new_course, mode = parse_destination(request.form)
        if blocking(problems(coll, nodes_of(s, coll.id))):
            raise DeliveryRefused(_("The collection cannot be delivered while the licence panel lists errors."))
        if target.kind != "moodle":
            raise DeliveryRefused(_("Only Moodle and LOGINEO NRW LMS sites can take cartridges through web services."))
        check = plugin_check(target)
        if check is None:
            try:
                run_preflight(s, bridge().box, target)
                s.commit()
            except SyncRefused as exc:
                raise DeliveryRefused(_(exc.template, **exc.params)) from exc
            check = plugin_check(target)
        if check is not None and not check.get("available"):
            return _fallback_page(v, coll, target=target, missing=list(check.get("missing") or []))
        run = start_delivery(
            s,
            coll,
            target,
            course_id=course_id,
            new_course=new_course,
            mode=mode,
            requested_by=v.person.id,
            backend=jobs.backend_for(app),
        )
    except DeliveryRefused as exc:
        s.rollback()
        return _deliver_page(v, coll, values=values, error=exc.message, status=exc.status)
    dispatch(app, run.id)
    return redirect(web.lurl("oer.delivery", network_id=network_id, collection_id=coll.id, run_id=run.id), code=303)


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/deliveries/<int:run_id>")
def delivery(network_id: int, collection_id: int, run_id: int) -> Any:
    v = deliver_viewer(network_id)
    coll = collection_of(v, collection_id)
    run, target = run_of(v, coll, run_id)
    state = delivery_state(run)
    report = (run.report or {}).get("delivery") or {}
    return render(
        "oer/deliver_run.html",
        v,
        coll=coll,
        run=run,
        target=target,
        state=state,
        report=report,
        fallback=(run.report or {}).get("fallback"),
        state_labels=STATE_LABELS,
        step_labels=STEP_LABELS,
        refresh=state in ACTIVE,
        can_follow_up=state in ("moodle_running",) and bool(report.get("taskid")),
    )


@bp.post("/networks/<int:network_id>/collections/<int:collection_id>/deliveries/<int:run_id>/again")
def delivery_again(network_id: int, collection_id: int, run_id: int) -> Any:
    """Ask Moodle again about a restore that was still running: a follow-up run, never a second restore."""
    post_guard()
    v = deliver_viewer(network_id)
    coll = collection_of(v, collection_id)
    run, target = run_of(v, coll, run_id)
    report = (run.report or {}).get("delivery") or {}
    if delivery_state(run) != "moodle_running" or not report.get("taskid"):
        return _deliver_page(v, coll, error=_("This delivery is not waiting for Moodle."), status=400)
    s = db_session()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        again = start_delivery(
            s, coll, target, requested_by=v.person.id, backend=jobs.backend_for(app), follow_up_of=run
        )
    except DeliveryRefused as exc:
        return _deliver_page(v, coll, error=exc.message, status=exc.status)
    dispatch(app, again.id)
    return redirect(web.lurl("oer.delivery", network_id=network_id, collection_id=coll.id, run_id=again.id), code=303)


def _fallback_page(
    v: Viewer,
    coll: OerCollection,
    *,
    target: SyncTarget | None = None,
    missing: list[str] | None = None,
    status: int = 200,
) -> Any:
    s = db_session()
    lang = (v.launch.locale or "de")[:2]
    model, _source = to_model(s, coll)
    titles = section_titles(model)
    filename = cartridge_name(coll)
    wanted = request.args.get("lms", "")
    kinds = [wanted] if wanted in LMS_LABELS else list(LMS_LABELS)
    routes = {kind: fallback_routes(kind, lang, filename=filename, section_titles=titles) for kind in kinds}
    page = render(
        "oer/deliver_fallback.html",
        v,
        coll=coll,
        target=target,
        missing=missing or [],
        routes=routes,
        lms_labels=LMS_LABELS,
        filename=filename,
        titles=titles,
        can_deliver=may_deliver(v.role),
        blocked=blocking(problems(coll, nodes_of(s, coll.id))),
    )
    return page, status


@bp.get("/networks/<int:network_id>/collections/<int:collection_id>/get-into-lms")
def deliver_fallback(network_id: int, collection_id: int) -> Any:
    v = oer_viewer(network_id, VIEW)
    coll = collection_of(v, collection_id)
    return _fallback_page(v, coll)


__all__ = [
    "DELIVER_MODE",
    "OER_DELIVER",
    "DeliveryRefused",
    "default_shortname",
    "deliver_viewer",
    "delivered_course",
    "deliveries",
    "delivery_state",
    "dispatch",
    "execute_delivery",
    "parse_destination",
    "section_titles",
    "start_delivery",
    "wait",
]
