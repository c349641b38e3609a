"""The engine's ports on the tool's database: ``DbMappingStore`` and ``DbTargetLock``.

Both work with short transactions of their own (a ``sessionmaker``), apart
from the caller's session: a mapping is committed right after Moodle confirmed
the object, so a run that stops anywhere resumes where it stopped.

The lock is one ``sync_lock`` row per target, taken atomically on SQLite and
PostgreSQL alike:

1. ``UPDATE sync_lock SET holder=… WHERE target_id=… AND (expires_at < now OR holder = me)``
   – takes over a lapsed lock, or renews one's own (re-entrant);
2. if no row changed, ``INSERT`` – the primary key on ``target_id`` lets only
   one of two racing inserts through; the other gets an IntegrityError: taken.

PostgreSQL re-checks the UPDATE's condition after waiting for a concurrent
writer (READ COMMITTED), SQLite serialises writers; either way exactly one
caller wins. A holder renews the lock while it works (``renew``); when the
process dies the row simply lapses after its ``ttl``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.db import utcnow
from lti_tool.sync.models import SyncLock, SyncMapping
from moodle_sync.mapping import Mapped

#: Seconds a lock lives without renewal; a running sync renews it every HEARTBEAT seconds.
LOCK_TTL = 120.0
HEARTBEAT = 30.0
#: Seconds a queued run keeps the target before a worker must have picked it up.
QUEUED_TTL = 1800.0


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult's rowcount; both SQLite and PostgreSQL report it)."""
    return int(result.rowcount)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the tool stores is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DbMappingStore:
    """``moodle_sync.mapping.MappingStore`` for one ``sync_target`` row.

    The engine passes a target label (the site URL) with every call; the
    store is bound to its target row and ignores the label. All mappings of the
    target are read once and kept (write-through): while a run holds the
    target's lock nobody else writes them.
    """

    def __init__(self, sessions: sessionmaker[Session], target_id: int) -> None:
        self.sessions = sessions
        self.target_id = target_id
        self._cache: dict[tuple[str, str], Mapped] | None = None

    def _all(self) -> dict[tuple[str, str], Mapped]:
        if self._cache is None:
            with self.sessions() as s:
                rows = s.execute(
                    select(SyncMapping.kind, SyncMapping.key, SyncMapping.moodle_id, SyncMapping.content_hash,
                           SyncMapping.created).where(SyncMapping.target_id == self.target_id)
                ).all()
            self._cache = {(kind, key): Mapped(moodle_id, digest, bool(made)) for kind, key, moodle_id, digest, made
                           in rows}
        return self._cache

    def get(self, target: str, kind: str, key: str) -> Mapped | None:
        return self._all().get((kind, key))

    def keys(self, target: str, kind: str) -> list[str]:
        return sorted(k for kd, k in self._all() if kd == kind)

    def put(self, target: str, kind: str, key: str, mapping: Mapped) -> None:
        cache = self._all()
        values = {"moodle_id": mapping.moodle_id, "content_hash": mapping.content_hash,
                  "created": mapping.created, "updated_at": utcnow()}
        where = and_(SyncMapping.target_id == self.target_id, SyncMapping.kind == kind, SyncMapping.key == key)
        with self.sessions() as s:
            changed = _rowcount(s.execute(update(SyncMapping).where(where).values(**values)))
            if not changed:
                try:
                    s.execute(insert(SyncMapping).values(target_id=self.target_id, kind=kind, key=key, **values))
                    s.commit()
                except IntegrityError:  # written meanwhile: then it exists
                    s.rollback()
                    s.execute(update(SyncMapping).where(where).values(**values))
                    s.commit()
            else:
                s.commit()
        cache[(kind, key)] = mapping

    def delete(self, target: str, kind: str, key: str) -> None:
        with self.sessions() as s:
            s.execute(delete(SyncMapping).where(SyncMapping.target_id == self.target_id, SyncMapping.kind == kind,
                                                SyncMapping.key == key))
            s.commit()
        self._all().pop((kind, key), None)

    def count(self) -> int:
        return len(self._all())


class DbTargetLock:
    """``moodle_sync.mapping.TargetLock`` on the ``sync_lock`` table; targets are ``sync_target`` ids."""

    def __init__(self, sessions: sessionmaker[Session], *, ttl: float = LOCK_TTL,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.now = now

    def acquire(self, target: str | int, holder: str, *, ttl: float | None = None) -> bool:
        """Take the target for ``holder`` (or renew it if ``holder`` has it); False while somebody else does."""
        tid, now = int(target), self.now()
        until = now + timedelta(seconds=self.ttl if ttl is None else ttl)
        table = cast(Table, SyncLock.__table__)
        with self.sessions() as s:
            taken_over = _rowcount(s.execute(
                update(table)
                .where(table.c.target_id == tid, or_(table.c.expires_at < now, table.c.holder == holder))
                .values(holder=holder, expires_at=until,
                        acquired_at=case((table.c.holder == holder, table.c.acquired_at), else_=now))
            ))
            if taken_over:
                s.commit()
                return True
            try:
                s.execute(insert(table).values(target_id=tid, holder=holder, acquired_at=now, expires_at=until))
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
            return True

    def renew(self, target: str | int, holder: str, *, ttl: float | None = None) -> bool:
        """Push the expiry on; False when ``holder`` no longer has the lock."""
        until = self.now() + timedelta(seconds=self.ttl if ttl is None else ttl)
        with self.sessions() as s:
            changed = _rowcount(s.execute(update(SyncLock).where(SyncLock.target_id == int(target),
                                                                 SyncLock.holder == holder).values(expires_at=until)))
            s.commit()
        return bool(changed)

    def release(self, target: str | int, holder: str) -> None:
        with self.sessions() as s:
            s.execute(delete(SyncLock).where(SyncLock.target_id == int(target), SyncLock.holder == holder))
            s.commit()

    def holder(self, target: str | int) -> str | None:
        """The holder of a lock that has not lapsed, or None."""
        with self.sessions() as s:
            row = s.get(SyncLock, int(target))
            if row is None:
                return None
            expires = aware(row.expires_at)
            assert expires is not None
            return row.holder if expires >= self.now() else None
