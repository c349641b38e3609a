"""Ports the caller provides: where Moodle ids are remembered, and who may sync a target now.

``MappingStore`` keeps, per target site, kind and stable key, the Moodle id and
a hash of what the tool last sent; the tool implements it on its database,
:class:`InMemoryMappingStore` serves tests. A mapping with ``created=True``
marks an object the tool made itself – the only kind ``prune`` may remove.

``TargetLock`` lets one sync per target run at a time (the tool: a database
row or a Redis key with expiry; tests: :class:`InMemoryTargetLock`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from moodle_sync.errors import SyncConflict

#: Kinds of mapped objects, in the order the engine applies them.
KINDS = ("category", "course", "section", "group", "user", "enrolment", "membership")


@dataclass(frozen=True)
class Mapped:
    """What the store keeps for one object: its Moodle id, the hash of what was sent, who made it."""

    moodle_id: int
    content_hash: str
    created: bool = True


class MappingStore(Protocol):
    def get(self, target: str, kind: str, key: str) -> Mapped | None: ...

    def put(self, target: str, kind: str, key: str, mapping: Mapped) -> None: ...

    def delete(self, target: str, kind: str, key: str) -> None: ...

    def keys(self, target: str, kind: str) -> list[str]: ...


class InMemoryMappingStore:
    """A MappingStore in a dict, for tests and dry runs."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str, str], Mapped] = {}
        self._lock = threading.Lock()

    def get(self, target: str, kind: str, key: str) -> Mapped | None:
        with self._lock:
            return self._data.get((target, kind, key))

    def put(self, target: str, kind: str, key: str, mapping: Mapped) -> None:
        with self._lock:
            self._data[(target, kind, key)] = mapping

    def delete(self, target: str, kind: str, key: str) -> None:
        with self._lock:
            self._data.pop((target, kind, key), None)

    def keys(self, target: str, kind: str) -> list[str]:
        with self._lock:
            return sorted(k for t, kd, k in self._data if t == target and kd == kind)

    def __len__(self) -> int:
        return len(self._data)


class TargetLock(Protocol):
    def acquire(self, target: str, holder: str) -> bool:
        """Take the target for ``holder``; False if somebody else holds it."""
        ...

    def release(self, target: str, holder: str) -> None: ...


class InMemoryTargetLock:
    """A TargetLock for one process."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}
        self._lock = threading.Lock()

    def acquire(self, target: str, holder: str) -> bool:
        with self._lock:
            if target in self._holders and self._holders[target] != holder:
                return False
            self._holders[target] = holder
            return True

    def release(self, target: str, holder: str) -> None:
        with self._lock:
            if self._holders.get(target) == holder:
                del self._holders[target]

    def holder(self, target: str) -> str | None:
        with self._lock:
            return self._holders.get(target)


@contextmanager
def holding(lock: TargetLock | None, target: str, holder: str) -> Iterator[None]:
    """Hold ``target`` for the block; raise SyncConflict when another sync has it."""
    if lock is None:
        yield
        return
    if not lock.acquire(target, holder):
        current = getattr(lock, "holder", None)
        raise SyncConflict(target, current(target) if callable(current) else None)
    try:
        yield
    finally:
        lock.release(target, holder)


def content_hash(fields: Mapping[str, Any]) -> str:
    """Return a stable hash of the fields the tool sends for an object."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
