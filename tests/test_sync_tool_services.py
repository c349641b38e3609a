"""The sync on its service lanes: runs through RQ on a real Redis, the target lock on PostgreSQL.

Lanes as in ``tests/test_databases.py``: ``redis`` needs ``LMS_BRIDGE_TEST_REDIS_URL``,
``postgres`` needs ``LMS_BRIDGE_TEST_POSTGRES_URL``; a missing variable skips the
test unless ``LMS_BRIDGE_TEST_REQUIRE_SERVICES=1`` (CI), which makes it fail.
The races and the dispatch failure run on SQLite always.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from lti_tool.bridge import bridge
from lti_tool.db import make_engine, upgrade, utcnow
from lti_tool.store import RedisStore
from lti_tool.sync import jobs
from lti_tool.sync.models import SyncLock, SyncRun, SyncTarget
from lti_tool.sync.store import DbMappingStore, DbTargetLock
from lti_tool.workspaces.models import Network
from moodle_sync.mapping import Mapped
from tests.sync.fakemoodle import FakeMoodle
from tests.test_databases import _with_search_path, postgres_admin, postgres_url, redis_url  # noqa: F401


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.node.get_closest_marker("redis"):
        return {"redis_url": request.getfixturevalue("redis_url")}
    return {}


@pytest.fixture
def app(app):
    yield app
    store = bridge(app).store
    if isinstance(store, RedisStore):
        store.redis.close()


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


def add_target(world: Any, fake: FakeMoodle) -> int:
    resp = world.as_("manager").post(f"/sync/networks/{world.network_id}/targets",
                                     {"name": "Moodle", "site_url": fake.url, "token": fake.token})
    assert resp.status_code == 303
    return int(re.search(r"/targets/(\d+)", resp.headers["Location"]).group(1))


def request_run(world: Any, target_id: int, mode: str = "apply") -> int:
    resp = world.as_("manager").post(f"/sync/networks/{world.network_id}/targets/{target_id}/runs",
                                     {"mode": mode, "confirm": "yes"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return int(re.search(r"/runs/(\d+)", resp.headers["Location"]).group(1))


def run_row(world: Any, run_id: int) -> SyncRun:
    with bridge(world.app).db.sessions() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


# -- RQ on Redis -------------------------------------------------------------------------------------------


@pytest.mark.redis
def test_a_run_goes_through_rq_and_a_worker_carries_it_out(world, fake, monkeypatch, redis_url):  # noqa: F811
    from rq import SimpleWorker

    settings = bridge(world.app).settings
    assert settings.redis_url == redis_url
    # the worker builds its own app from the environment, as `lms-bridge worker` does
    for name, value in {"DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
                        "INSTANCE_DIR": settings.instance_dir, "REDIS_URL": redis_url,
                        "BASE_URL": settings.base_url, "ALLOW_INSECURE_PLATFORMS": "1"}.items():
        monkeypatch.setenv("LMS_BRIDGE_" + name, value)
    connection = jobs.redis_connection(redis_url)
    queue = jobs.queue(connection)
    queue.empty()
    try:
        target_id = add_target(world, fake)
        run_id = request_run(world, target_id)
        run = run_row(world, run_id)
        assert (run.status, run.backend) == ("queued", "rq")
        assert len(queue) == 1
        page = world.as_("manager").get(f"/sync/networks/{world.network_id}/runs/{run_id}").get_data(as_text=True)
        assert 'data-state="queued"' in page and "lms-bridge worker" in page and 'http-equiv="refresh"' in page
        busy = world.as_("manager").post(f"/sync/networks/{world.network_id}/targets/{target_id}/runs",
                                         {"mode": "plan"})
        assert busy.status_code == 409  # queued runs hold the target too

        assert SimpleWorker([queue], connection=connection).work(burst=True)
        run = run_row(world, run_id)
        assert run.status == "done", run.message
        assert run.report["ok"] is True and run.progress_done == run.progress_total == 34
        assert fake.course_by_idnumber(f"lmsb-net-{world.network_id}-ws") is not None
        job = queue.fetch_job(queue.finished_job_registry.get_job_ids()[0])
        assert job is not None and job.return_value() == "done"

        fake.clear_log()
        again = request_run(world, target_id)
        assert SimpleWorker([queue], connection=connection).work(burst=True)
        assert run_row(world, again).status == "done" and fake.writes() == []
        with bridge(world.app).db.sessions() as s:
            assert s.scalar(select(func.count()).select_from(SyncLock)) == 0
    finally:
        queue.empty()
        for registry in (queue.finished_job_registry, queue.failed_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
        connection.close()


def test_a_run_that_cannot_be_queued_fails_visibly(world, fake, monkeypatch):
    """The configured Redis stops answering: the run fails with a message and frees the target."""
    target_id = add_target(world, fake)
    b = bridge(world.app)
    monkeypatch.setattr(b, "settings", b.settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    run = run_row(world, request_run(world, target_id))
    assert (run.status, run.backend) == ("failed", "rq")
    assert "could not queue the run" in run.message
    monkeypatch.setattr(b, "settings", b.settings.with_overrides(redis_url=""))
    second = request_run(world, target_id, "plan")  # the target is free again
    assert jobs.wait(second)
    assert run_row(world, second).status == "done"


# -- the lock under contention, on SQLite and PostgreSQL ------------------------------------------------------------


def _race(sessions: sessionmaker, target_id: int, contenders: int = 8) -> list[str]:
    """``contenders`` threads try to take the target at the same moment; return who got it."""
    barrier = threading.Barrier(contenders)
    winners: list[str] = []
    errors: list[BaseException] = []

    def contend(name: str) -> None:
        lock = DbTargetLock(sessions, ttl=60)
        barrier.wait()
        try:
            if lock.acquire(target_id, name):
                winners.append(name)
        except BaseException as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"worker-{i}",)) for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return winners


def _exercise_lock_and_store(sessions: sessionmaker, target_id: int) -> None:
    winners = _race(sessions, target_id)
    assert len(winners) == 1
    now = [utcnow()]
    lock = DbTargetLock(sessions, ttl=60, now=lambda: now[0])
    assert lock.holder(target_id) == winners[0]
    assert not lock.acquire(target_id, "late")
    now[0] += timedelta(seconds=61)  # the winner crashed and stopped renewing
    assert lock.holder(target_id) is None
    assert lock.acquire(target_id, "late")
    assert not lock.renew(target_id, winners[0])
    lock.release(target_id, "late")
    assert len(_race(sessions, target_id)) == 1  # free again: exactly one of the next racers

    store = DbMappingStore(sessions, target_id)
    store.put("site", "user", "lmsb-abc", Mapped(7, "h1", True))
    store.put("site", "user", "lmsb-abc", Mapped(7, "h2", True))
    store.put("site", "group", "g-1", Mapped(3, "h3", False))
    fresh = DbMappingStore(sessions, target_id)
    assert fresh.get("site", "user", "lmsb-abc") == Mapped(7, "h2", True)
    assert fresh.keys("site", "group") == ["g-1"] and fresh.count() == 2
    fresh.delete("site", "group", "g-1")
    assert DbMappingStore(sessions, target_id).keys("site", "group") == []


def _target_row(sessions: sessionmaker) -> int:
    with sessions() as s:
        net = Network(name="Lernen 25", region="Musterstadt")
        s.add(net)
        s.flush()
        target = SyncTarget(network_id=net.id, name="Moodle", site_url="https://moodle.example.org",
                            token_enc="x", token_hint="abcd")
        s.add(target)
        s.commit()
        return target.id


def test_the_lock_under_contention_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        _exercise_lock_and_store(sessions, _target_row(sessions))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_lock_under_contention_on_postgresql(postgres_admin, postgres_url):  # noqa: F811
    schema = "lmsb_sync_" + uuid.uuid4().hex[:12]
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(postgres_url, schema)
    engine = None
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = sessionmaker(engine, expire_on_commit=False)
        _exercise_lock_and_store(sessions, _target_row(sessions))
    finally:
        if engine is not None:
            engine.dispose()
        with postgres_admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
