"""The same behaviour on every database and store backend the tool supports.

Lanes (each test runs once per configured lane):

* ``sqlite``   – SQLite file, shared store in the ``kv_entry`` table. Always runs.
* ``postgres`` – PostgreSQL from ``LMS_BRIDGE_TEST_POSTGRES_URL``
  (``postgresql+psycopg://user:pw@127.0.0.1:5432/db``); every test gets a
  fresh schema (``search_path``), dropped afterwards.
* ``redis``    – shared store on Redis from ``LMS_BRIDGE_TEST_REDIS_URL``
  (``redis://127.0.0.1:6379/0``), database on SQLite.

A lane whose variable is missing is skipped, unless
``LMS_BRIDGE_TEST_REQUIRE_SERVICES=1`` (CI: ``.ci/run``), which makes it fail.
A variable that is set but points at a server that does not answer always
fails: a configured lane never silently turns into a skip.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

import lti_tool
import lti_tool.store
from lti_tool import create_app
from lti_tool.bridge import bridge
from lti_tool.db import Base, alembic_config, make_engine, upgrade
from lti_tool.models import KVEntry, LtiContext, LtiUser, Membership, ResourceLink
from lti_tool.store import RedisStore, SqlStore
from tests.conftest import LAUNCH_URL, Launcher, count_rows

POSTGRES_VAR = "LMS_BRIDGE_TEST_POSTGRES_URL"
REDIS_VAR = "LMS_BRIDGE_TEST_REDIS_URL"
REQUIRE_VAR = "LMS_BRIDGE_TEST_REQUIRE_SERVICES"


# -- lanes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    name: str
    database: str  # "sqlite" | "postgres"
    redis: bool = False


SQLITE = Lane("sqlite", "sqlite")
POSTGRES = Lane("postgres", "postgres")
REDIS = Lane("redis", "sqlite", redis=True)

_SQLITE_P = pytest.param(SQLITE, id="sqlite")
_POSTGRES_P = pytest.param(POSTGRES, id="postgres", marks=pytest.mark.postgres)
_REDIS_P = pytest.param(REDIS, id="redis", marks=pytest.mark.redis)

ALL_LANES = [_SQLITE_P, _POSTGRES_P, _REDIS_P]
DB_LANES = [_SQLITE_P, _POSTGRES_P]


def _service_url(var: str, what: str, example: str) -> str:
    value = os.environ.get(var, "").strip()
    if value:
        return value
    reason = f"{what} lane not configured: set {var} (e.g. {example}) to run it"
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{reason}; {REQUIRE_VAR}=1 requires every service lane", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = _service_url(POSTGRES_VAR, "PostgreSQL", "postgresql+psycopg://user:pw@127.0.0.1:5432/db")
    if make_url(url).get_backend_name() != "postgresql":
        pytest.fail(f"{POSTGRES_VAR} is not a postgresql URL", pytrace=False)
    return url


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[Engine]:
    """Creates and drops the per-test schemas."""
    engine = create_engine(postgres_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # configured but not answering: never a skip
        engine.dispose()
        pytest.fail(f"{POSTGRES_VAR} is set but PostgreSQL does not answer: {exc}", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = _service_url(REDIS_VAR, "Redis", "redis://127.0.0.1:6379/0")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"{REDIS_VAR} is set but Redis does not answer: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture(params=ALL_LANES)
def lane(request: pytest.FixtureRequest) -> Lane:
    chosen: Lane = request.param
    if chosen.database == "postgres":
        request.getfixturevalue("postgres_admin")
    if chosen.redis:
        request.getfixturevalue("redis_url")
    return chosen


def _with_search_path(url: str, schema: str) -> str:
    u = make_url(url)
    options = u.query.get("options")
    options = " ".join(x for x in (options if isinstance(options, str) else None, f"-csearch_path={schema}") if x)
    return u.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture
def empty_db_url(lane: Lane, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of the lane: a new SQLite file or a new PostgreSQL schema."""
    if lane.database == "sqlite":
        yield f"sqlite:///{tmp_path / 'lanes.sqlite3'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = "lmsb_test_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(request.getfixturevalue("postgres_url"), schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def migrated_db_url(empty_db_url: str) -> str:
    upgrade(empty_db_url)
    return empty_db_url


# conftest's ``app`` is built from these two: the launch tests run on the lane.
@pytest.fixture
def database_url(migrated_db_url: str) -> str:
    return migrated_db_url


@pytest.fixture
def settings_overrides(lane: Lane, request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"redis_url": request.getfixturevalue("redis_url")} if lane.redis else {}


@pytest.fixture
def app(app: Flask) -> Iterator[Flask]:
    yield app
    store = bridge(app).store
    if isinstance(store, RedisStore):
        store.redis.close()


# -- schema: Alembic migrations against the models ----------------------------------


def _target_metadata() -> MetaData:
    """Base.metadata with every ``models`` module of the package imported, so the
    comparison does not depend on what other tests happened to import."""
    root = Path(lti_tool.__file__).parent
    for path in sorted(root.rglob("models.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        importlib.import_module(".".join(rel.parts))
    return Base.metadata


def _schema_diffs(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(ctx, _target_metadata())
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize("lane", DB_LANES, indirect=True)
def test_migrations_take_an_empty_database_to_head_matching_the_models(empty_db_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(empty_db_url)).get_current_head()
    assert _revision(empty_db_url) is None

    upgrade(empty_db_url)

    assert _revision(empty_db_url) == head
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(_target_metadata().tables) | {"alembic_version"} == tables
    # `alembic check`: autogenerate would have nothing to write.
    assert _schema_diffs(empty_db_url) == []


@pytest.mark.parametrize("lane", DB_LANES, indirect=True)
def test_migrations_downgrade_to_base_and_back(migrated_db_url: str) -> None:
    command.downgrade(alembic_config(migrated_db_url), "base")
    engine = make_engine(migrated_db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(migrated_db_url)
    assert _schema_diffs(migrated_db_url) == []


# -- the shared store ---------------------------------------------------------------


class Clock:
    """A controllable ``time.time`` for the SQL store."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class StoreUnderTest:
    lane: Lane
    store: SqlStore | RedisStore
    #: The SQL store's fake clock; None for Redis, which expires keys on its own.
    clock: Clock | None

    @property
    def short_ttl(self) -> float:
        """A TTL that ``let_expire`` outlives: 1 ms on Redis (px=1), 10 fake seconds on SQL."""
        return 0.001 if isinstance(self.store, RedisStore) else 10.0

    def let_expire(self) -> None:
        """Make everything stored with ``short_ttl`` expire."""
        if self.clock is not None:
            self.clock.advance(10.001)
        else:
            time.sleep(0.01)  # ten times the 1 ms px TTL


@pytest.fixture
def sut(lane: Lane, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreUnderTest]:
    if lane.redis:
        store = RedisStore(request.getfixturevalue("redis_url"), namespace=f"lmsb-test-{uuid.uuid4().hex}:")
        try:
            yield StoreUnderTest(lane, store, None)
        finally:
            keys = list(store.redis.scan_iter(match=store.ns + "*"))
            if keys:
                store.redis.delete(*keys)
            store.redis.close()
        return
    url: str = request.getfixturevalue("migrated_db_url")
    clock = Clock()
    # Only the store module sees the fake clock (drivers and pools keep real time).
    monkeypatch.setattr(lti_tool.store, "time", SimpleNamespace(time=clock))
    engine = make_engine(url)
    try:
        yield StoreUnderTest(lane, SqlStore(engine), clock)
    finally:
        engine.dispose()


def test_store_put_get_overwrite_delete(sut: StoreUnderTest) -> None:
    s = sut.store
    value = {"iss": "https://moodle.example", "n": 3, "roles": ["a", "b"], "ok": True}
    s.put("state:abc", value, 60)
    assert s.get("state:abc") == value
    s.put("state:abc", [1, 2], 60)  # put replaces
    assert s.get("state:abc") == [1, 2]
    assert s.get("state:other") is None
    s.delete("state:abc")
    assert s.get("state:abc") is None
    s.delete("state:abc")  # deleting a missing key is fine


def test_store_ttl_expiry(sut: StoreUnderTest) -> None:
    s = sut.store
    s.put("short", "v", sut.short_ttl)
    s.put("long", "w", 3600)
    if sut.clock is not None:
        sut.clock.advance(9.99)
        assert s.get("short") == "v"  # not yet
    else:
        assert isinstance(s, RedisStore)
        assert 0 < s.redis.pttl(s.ns + "long") <= 3_600_000
    sut.let_expire()
    assert s.get("short") is None
    assert s.pop("short") is None
    assert s.get("long") == "w"
    if isinstance(s, RedisStore):
        assert s.redis.pttl(s.ns + "short") == -2  # gone, not merely hidden
    else:
        assert s.purge_expired() == 1
        assert s.get("long") == "w"
    # An expired key is free again for add.
    s.put("nonce:x", 1, sut.short_ttl)
    sut.let_expire()
    assert s.add("nonce:x", 2, 60) is True
    assert s.get("nonce:x") == 2


def test_store_add_is_set_if_absent(sut: StoreUnderTest) -> None:
    s = sut.store
    assert s.add("nonce:iss:n1", {"first": 1}, 60) is True
    assert s.add("nonce:iss:n1", {"second": 2}, 60) is False
    assert s.get("nonce:iss:n1") == {"first": 1}  # the loser did not overwrite
    if isinstance(s, RedisStore):
        assert 0 < s.redis.pttl(s.ns + "nonce:iss:n1") <= 60_000


def test_store_pop_returns_once(sut: StoreUnderTest) -> None:
    s = sut.store
    s.put("state:s1", {"nonce": "n"}, 60)
    assert s.pop("state:s1") == {"nonce": "n"}
    assert s.pop("state:s1") is None
    assert s.get("state:s1") is None
    assert s.pop("never-stored") is None


THREADS = 8


def _race(fn: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run ``fn(i)`` in ``threads`` threads released at the same instant."""
    barrier = threading.Barrier(threads)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return fn(i)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def test_store_add_race_has_exactly_one_winner(sut: StoreUnderTest) -> None:
    """Replay protection: of 8 workers seeing the same nonce, exactly one may accept it."""
    s = sut.store
    for round_ in range(5):
        key = f"nonce:https://lms.example:race-{round_}"
        results = _race(lambda i: s.add(key, i, 60))
        assert results.count(True) == 1, results
        assert s.get(key) == results.index(True)
    # The same over an expired entry (the SQL store's delete-and-retry path).
    key = "nonce:https://lms.example:expired"
    s.put(key, "old", sut.short_ttl)
    sut.let_expire()
    results = _race(lambda i: s.add(key, i, 60))
    assert results.count(True) == 1, results
    assert s.get(key) == results.index(True)


def test_store_pop_race_has_exactly_one_winner(sut: StoreUnderTest) -> None:
    """A login state is consumed by exactly one of concurrent launches."""
    s = sut.store
    for round_ in range(3):
        key = f"state:race-{round_}"
        s.put(key, {"round": round_}, 60)
        results = _race(lambda i: s.pop(key))
        assert [r for r in results if r is not None] == [{"round": round_}]


def test_store_concurrent_put_of_one_key(sut: StoreUnderTest, request: pytest.FixtureRequest) -> None:
    """Workers refreshing the same cached token or launch session must not crash."""
    s = sut.store
    for round_ in range(10):
        key = f"ags-token:round-{round_}"
        if round_ % 2:
            s.put(key, "existing", 60)
        _race(lambda i: s.put(key, i, 60))
        assert s.get(key) in range(THREADS)


# -- a real launch on each lane ------------------------------------------------------


def test_valid_launch_end_to_end_then_replay_refused(lane: Lane, app: Flask, launcher: Launcher) -> None:
    store = bridge(app).store
    assert isinstance(store, RedisStore if lane.redis else SqlStore)
    assert bridge(app).db.engine.dialect.name == ("postgresql" if lane.database == "postgres" else "sqlite")

    auth = launcher.login()
    token = launcher.platform.sign(launcher.platform.claims(auth["nonce"], LAUNCH_URL))
    resp = launcher.launch(token, auth["state"])

    assert resp.status_code == 303, resp.data
    assert "/lti/home" in resp.headers["Location"]
    rows = {"lti_user": 1, "lti_context": 1, "resource_link": 1, "membership": 1}
    assert count_rows(app, LtiUser, LtiContext, ResourceLink, Membership) == rows
    page = launcher.client.get(resp.headers["Location"])  # launch session read back from the store
    assert page.status_code == 200
    assert b"Lab Course 101" in page.data
    kv_rows = count_rows(app, KVEntry)["kv_entry"]
    assert (kv_rows == 0) if lane.redis else (kv_rows > 0)

    replay = launcher.launch(token, auth["state"])
    assert replay.status_code == 400
    assert replay.headers["X-LTI-Error"] == "launch_replayed"

    # Another worker (a second app on the same database and store) refuses it too.
    other = create_app(app.config["LMS_BRIDGE"])
    other.config["TESTING"] = True
    try:
        client = other.test_client()
        again = client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
        assert again.status_code == 400
        assert again.headers["X-LTI-Error"] == "launch_replayed"
    finally:
        other_store = bridge(other).store
        if isinstance(other_store, RedisStore):
            other_store.redis.close()
        bridge(other).db.engine.dispose()
    assert count_rows(app, LtiUser, LtiContext, ResourceLink, Membership) == rows


def test_concurrent_first_launches_of_one_user(
    lane: Lane, app: Flask, school_lms: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs (or two workers) launching the same new user at the same time.

    Both launches are made to look the user up before either writes it, which is
    what happens under load (seen as a 500 in bench/launches.py).
    """
    import lti_tool.lti.launches as launches

    original = launches._upsert_user
    barrier = threading.Barrier(2)
    seen = threading.local()

    def looked_up_together(s: Any, launch: Any) -> Any:
        user = original(s, launch)
        if not getattr(seen, "waited", False):  # a retry must not wait again
            seen.waited = True
            barrier.wait(timeout=10)
        return user

    monkeypatch.setattr(launches, "_upsert_user", looked_up_together)
    prepared = []
    for _ in range(2):
        launcher = Launcher(app.test_client(), school_lms)
        auth = launcher.login()
        body = school_lms.claims(auth["nonce"], LAUNCH_URL, sub="first-timer")
        prepared.append((launcher, school_lms.sign(body), auth["state"]))

    responses = _race(lambda i: prepared[i][0].launch(prepared[i][1], prepared[i][2]), threads=2)

    assert [r.status_code for r in responses] == [303, 303]
    assert count_rows(app, LtiUser, Membership) == {"lti_user": 1, "membership": 1}
