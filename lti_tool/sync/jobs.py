"""Running a sync run: in the foreground, on an RQ worker, or in a thread of the web process.

``execute(run_id)`` does the work for every path, inside an app context:
re-take the target's lock (the run's holder took it when the run was
requested), build the desired state, plan, apply unless it is a plan or a dry
run, and store plan, report and status. A heartbeat thread renews the lock
while the run works; if the process dies, the lock lapses after
``store.LOCK_TTL`` and the next run resumes where this one stopped (the engine
finds every object by its key again).

``dispatch(app, run_id)`` hands a queued run over:

* ``LMS_BRIDGE_REDIS_URL`` set: RQ queue ``lms-bridge``; ``lms-bridge worker``
  runs :func:`run_job`, which builds its own app with ``create_app()``.
* otherwise: a daemon thread of this process (see :func:`_start_thread`).

Other kinds of run kept in ``sync_run`` (OER deliveries) go the same ways
through :func:`dispatch_run`, :func:`enqueue_job` and :func:`run_in_worker`
with their own work function; :func:`wait` joins the thread of any of them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from lti_tool.bridge import bridge
from lti_tool.db import db_session, get_database, utcnow
from lti_tool.sync.desired import build
from lti_tool.sync.models import DONE, FAILED, MODES, QUEUED, RUNNING, SyncRun, SyncTarget
from lti_tool.sync.service import SyncRefused, client_for, plan_dict, scrub, token_of
from lti_tool.sync.store import HEARTBEAT, LOCK_TTL, DbMappingStore, DbTargetLock
from lti_tool.workspaces import activity
from moodle_sync.engine import sync
from moodle_sync.errors import SyncConflict, SyncError

log = logging.getLogger("lms_bridge.sync")

QUEUE = "lms-bridge"
#: An RQ job may work this long (a large network on a slow site); the run's lock is renewed meanwhile.
JOB_TIMEOUT = 4 * 3600
#: Progress is written to the run row at most this often (seconds), and always at the end.
PROGRESS_EVERY = 0.5

Progress = Callable[[int, int, str], None]
_threads: dict[int, threading.Thread] = {}


# -- doing the work -------------------------------------------------------------------------------------


class _Heartbeat:
    """Renews the run's lock every HEARTBEAT seconds until stopped; notes when it lost the lock."""

    def __init__(self, lock: DbTargetLock, target_id: int, holder: str) -> None:
        self.lock, self.target_id, self.holder = lock, target_id, holder
        self.stop_event = threading.Event()
        self.lost = False
        self.thread = threading.Thread(target=self._beat, name=f"sync-heartbeat-{target_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        while not self.stop_event.wait(HEARTBEAT):
            try:
                if not self.lock.renew(self.target_id, self.holder):
                    self.lost = True
            except Exception:  # the database hiccuped: try again at the next beat
                log.warning("sync: could not renew the lock of target %s", self.target_id)


def readable(error: BaseException) -> str:
    """One line for the run page and the CLI: what went wrong, never a stack trace."""
    if isinstance(error, SyncConflict):
        return "another sync of this target is running; try again when it has finished"
    if isinstance(error, SyncRefused):
        return error.message
    if isinstance(error, SyncError | LookupError):
        return str(error)
    return f"unexpected error ({type(error).__name__}); the tool's log has the details"


def execute(run_id: int, *, on_progress: Progress | None = None) -> SyncRun | None:
    """Carry out a queued run (needs an app context); return it finished, or None if it was not queued."""
    s = db_session()
    b = bridge()
    run = s.get(SyncRun, run_id)
    if run is None or run.mode not in MODES:  # other features' runs (e.g. OER delivery) have their own job
        return None
    if run.status != QUEUED:
        return run
    target = s.get(SyncTarget, run.target_id)
    assert target is not None  # the run cascades with its target
    sessions = get_database().sessions
    lock = DbTargetLock(sessions)
    if not lock.acquire(target.id, run.lock_holder, ttl=LOCK_TTL):
        finish(s, run, FAILED, "another sync took this target over before this run could start; run it again")
        return run
    run.status, run.started_at, run.message = RUNNING, utcnow(), "reading the site"
    s.commit()
    token: str | None = None
    last_write = 0.0

    current: SyncRun = run

    def progress(done: int, total: int, message: str) -> None:
        nonlocal last_write
        if on_progress is not None:
            on_progress(done, total, message)
        now = time.monotonic()
        if done >= total or now - last_write >= PROGRESS_EVERY:
            last_write = now
            current.progress_done, current.progress_total, current.message = done, total, message[:500]
            s.commit()

    try:
        with _Heartbeat(lock, target.id, run.lock_holder) as heartbeat:
            token = token_of(b.box, target)
            built = build(s, b.box, target)
            store = DbMappingStore(sessions, target.id)
            with client_for(b.box, target) as client:
                result = sync(client, built.desired, store, prune=run.prune, dry_run=run.dry_run,
                              progress=progress, target=target.site_url, holder=run.lock_holder)
            run.plan_text = scrub(result.plan.render(), token)
            run.plan = plan_dict(result.plan, built)
            report = result.report
            if report is None:
                changes = len(result.plan.changes)
                run.progress_done = run.progress_total = 0
                finish(s, run, DONE, f"plan ready: {changes} change(s)" if changes else
                       "nothing to do: Moodle matches the network")
            else:
                run.report = report.to_dict()
                run.report_text = scrub(report.render(), token)
                run.progress_total = max(run.progress_total, len(result.plan.changes))
                if report.complete:
                    run.progress_done = run.progress_total
                    problems = len(report.failed) + len(report.skipped)
                    status, message = DONE, "complete" if report.ok else f"complete with {problems} problem(s)"
                    if heartbeat.lost:
                        message += "; the target's lock lapsed during the run"
                else:
                    status, message = FAILED, scrub(f"stopped: {report.aborted}", token)
                # the managers' news on the overview: committed together with the run's result
                activity.record(target.network_id, run.requested_by, "sync.applied", target.name,
                                f"/sync/networks/{target.network_id}/runs/{run.id}", audience="roles:manager")
                finish(s, run, status, message)
    except Exception as error:  # every failure ends as a readable run, never as a stack trace on the page
        s.rollback()
        if not isinstance(error, SyncError | SyncRefused | LookupError):
            log.error("sync run %s failed unexpectedly: %s", run_id, type(error).__name__, exc_info=error)
        else:
            log.info("sync run %s failed: %s", run_id, type(error).__name__)
        finish(s, current, FAILED, scrub(readable(error), token))
    finally:
        lock.release(target.id, current.lock_holder)
    return current


def finish(s: Any, run: SyncRun, status: str, message: str) -> None:
    """End a run with a status and a one-line message (cut to the column's length)."""
    run.status, run.message, run.finished_at = status, message[:2000], utcnow()
    s.commit()


# -- handing runs over ----------------------------------------------------------------------------------


def backend_for(app: Flask) -> str:
    return "rq" if bridge(app).settings.redis_url else "thread"


def dispatch(app: Flask, run_id: int) -> str:
    """Start a queued (committed) run in the background; return the backend used."""
    return dispatch_run(app, run_id, execute, enqueue=enqueue, logger=log, what="sync run",
                        thread_name=f"sync-run-{run_id}")


def dispatch_run(app: Flask, run_id: int, work: Callable[[int], object], *, enqueue: Callable[[Flask, int], object],
                 logger: logging.Logger, what: str, thread_name: str) -> str:
    """Start a queued run of any kind: ``enqueue`` hands it to RQ, else ``work(run_id)`` runs in a thread.

    ``work`` carries out the run inside an app context and records its own
    failures; ``what`` ("sync run") names the run in ``logger``'s lines.
    """
    if backend_for(app) == "rq":
        try:
            enqueue(app, run_id)
        except Exception as error:  # Redis down: the run fails visibly instead of waiting forever
            logger.warning("%s %s could not be queued: %s", what, run_id, type(error).__name__)
            _fail_unqueued(app, run_id)
        return "rq"
    _start_thread(app, run_id, work, logger=logger, what=what, name=thread_name)
    return "thread"


def _fail_unqueued(app: Flask, run_id: int) -> None:
    """End a run that RQ did not take, and free its target."""
    with app.app_context():
        s = db_session()
        run = s.get(SyncRun, run_id)
        if run is not None and run.status == QUEUED:
            target = s.get(SyncTarget, run.target_id)
            finish(s, run, FAILED, "could not queue the run: Redis (LMS_BRIDGE_REDIS_URL) does not answer")
            if target is not None:
                DbTargetLock(get_database().sessions).release(target.id, run.lock_holder)


def redis_connection(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def queue(connection: Any, name: str = QUEUE) -> Any:
    from rq import Queue

    return Queue(name, connection=connection)


def enqueue(app: Flask, run_id: int) -> str:
    return enqueue_job(app, "lti_tool.sync.jobs.run_job", run_id,
                       job_id=f"lms-bridge-sync-run-{run_id}-{secrets.token_hex(4)}",
                       timeout=JOB_TIMEOUT, description=f"LMS sync run {run_id}")


def enqueue_job(app: Flask, entry: str, run_id: int, *, job_id: str, timeout: int, description: str) -> str:
    """Put ``entry(run_id)`` (a dotted path) on the ``lms-bridge`` queue; return the job's id."""
    connection = redis_connection(bridge(app).settings.redis_url)
    try:
        job = queue(connection).enqueue(
            entry, run_id, job_id=job_id, job_timeout=timeout, result_ttl=7 * 86400, failure_ttl=30 * 86400,
            description=description,
        )
        return str(job.id)
    finally:
        connection.close()


def run_job(run_id: int) -> str:
    """RQ entry point: a worker process builds its own app from the environment (``LMS_BRIDGE_*``)."""
    return run_in_worker(execute, run_id)


def run_in_worker(work: Callable[[int], SyncRun | None], run_id: int) -> str:
    """Carry out a run in a fresh app built with ``create_app()``; return its status for RQ."""
    from lti_tool import create_app

    app = create_app()
    try:
        with app.app_context():
            run = work(run_id)
            return run.status if run is not None else "not queued"
    finally:
        bridge(app).db.engine.dispose()


def _start_thread(app: Flask, run_id: int, work: Callable[[int], object], *, logger: logging.Logger, what: str,
                  name: str) -> None:
    """Run in a daemon thread of this process.

    Without Redis there is no worker process to hand the run to, and a page
    must not wait for a run that may take minutes: the thread lets the request
    answer at once while the run page shows its progress. The thread gets its
    own app context (and so its own database session). It is a daemon so that
    it never holds up a shutdown; a run cut off that way leaves its lock to
    lapse, and the next run resumes where it stopped.
    """

    def main() -> None:
        with app.app_context():
            try:
                work(run_id)
            except Exception:  # the work records failures itself; this is the database itself failing
                logger.exception("%s %s could not be carried out", what, run_id)

    thread = threading.Thread(target=main, name=name, daemon=True)
    _threads[run_id] = thread
    thread.start()


def wait(run_id: int, timeout: float = 120.0) -> bool:
    """Join the thread of an in-process run of any kind (tests, the CLI if it ever starts one); True when it ended."""
    thread = _threads.get(run_id)
    if thread is None:
        return True
    thread.join(timeout)
    if not thread.is_alive():
        _threads.pop(run_id, None)
        return True
    return False


def current() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]
