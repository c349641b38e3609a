"""Shared short-lived key/value store for launch state, nonces and caches.

All gunicorn workers (and hosts) must see the same state and nonces, or a
login handled by one worker cannot be completed by another and a replayed
nonce may slip through on a worker that never saw it. Redis when
``LMS_BRIDGE_REDIS_URL`` is set, otherwise a table in the main database.
Both give the two atomic operations replay protection needs: ``add`` (set if
absent) and ``pop`` (get and delete).
"""

from __future__ import annotations

import json
import random
import time
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lti_tool.models import KVEntry


class Store(Protocol):
    def put(self, key: str, value: Any, ttl: float) -> None: ...
    def get(self, key: str) -> Any | None: ...
    def pop(self, key: str) -> Any | None: ...
    def add(self, key: str, value: Any, ttl: float) -> bool: ...
    def delete(self, key: str) -> None: ...


class SqlStore:
    """Store on the ``kv_entry`` table; each call commits on its own.

    Expired rows are ignored by reads and swept now and then by writes
    (about one write in ``PURGE_EVERY``), so the table stays small without
    a separate cron job.
    """

    PURGE_EVERY = 200

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        from sqlalchemy.dialects import postgresql, sqlite

        inserts: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
        if engine.dialect.name not in inserts:  # pragma: no cover - the tool supports SQLite and PostgreSQL
            raise ValueError(f"unsupported database for the shared store: {engine.dialect.name}")
        self._insert = inserts[engine.dialect.name]

    def put(self, key: str, value: Any, ttl: float) -> None:
        data = json.dumps(value)
        if random.randrange(self.PURGE_EVERY) == 0:
            self.purge_expired()
        values = {"key": key, "value": data, "expires_at": time.time() + ttl}
        # One atomic upsert: delete-then-insert races between workers on PostgreSQL.
        stmt = self._insert(KVEntry).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[KVEntry.key], set_={"value": values["value"], "expires_at": values["expires_at"]}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def get(self, key: str) -> Any | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(KVEntry.value).where(KVEntry.key == key, KVEntry.expires_at > time.time())
            ).first()
        return json.loads(row[0]) if row else None

    def pop(self, key: str) -> Any | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                delete(KVEntry)
                .where(KVEntry.key == key, KVEntry.expires_at > time.time())
                .returning(KVEntry.value)
            ).first()
        return json.loads(row[0]) if row else None

    def add(self, key: str, value: Any, ttl: float) -> bool:
        data = json.dumps(value)
        now = time.time()
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(KVEntry).values(key=key, value=data, expires_at=now + ttl))
                return True
            except IntegrityError:
                with self.engine.begin() as conn:
                    gone = conn.execute(
                        delete(KVEntry).where(KVEntry.key == key, KVEntry.expires_at <= now)
                    ).rowcount
                if not gone:
                    return False
        return False

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(KVEntry).where(KVEntry.key == key))

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(KVEntry).where(KVEntry.expires_at <= time.time())).rowcount


class RedisStore:
    """Store on Redis; keys are namespaced so one Redis can serve several tools."""

    def __init__(self, url: str, namespace: str = "lms-bridge:") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.ns = namespace

    def put(self, key: str, value: Any, ttl: float) -> None:
        self.redis.set(self.ns + key, json.dumps(value), px=max(1, int(ttl * 1000)))

    def get(self, key: str) -> Any | None:
        raw = self.redis.get(self.ns + key)
        return json.loads(raw) if raw is not None else None

    def pop(self, key: str) -> Any | None:
        raw = self.redis.getdel(self.ns + key)
        return json.loads(raw) if raw is not None else None

    def add(self, key: str, value: Any, ttl: float) -> bool:
        return bool(
            self.redis.set(self.ns + key, json.dumps(value), px=max(1, int(ttl * 1000)), nx=True)
        )

    def delete(self, key: str) -> None:
        self.redis.delete(self.ns + key)

    def purge_expired(self) -> int:
        return 0  # Redis expires keys itself.


def make_store(redis_url: str, engine: Engine) -> SqlStore | RedisStore:
    return RedisStore(redis_url) if redis_url else SqlStore(engine)
