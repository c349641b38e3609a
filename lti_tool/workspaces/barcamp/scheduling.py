"""Automatic barcamp schedule: sessions into (slot, room) cells.

A pure function (no Flask, no database): the views translate rows into the
small value types below and write the answer back.

Rules, in order of importance:

1. Hard: a cell holds at most one session; no host is in two sessions of the
   same slot; sessions that stay where they are (locked ones always, already
   placed ones unless ``replace``) are respected.
2. When there are more sessions than cells, the most popular sessions (most
   interest marks; ties: lower id, i.e. proposed earlier) are placed first, and
   a session is never left out while a less popular one sits in a slot where
   it could simply take that one's place.
3. Within each slot, a more popular session never gets a smaller room than a
   less popular one that the scheduler placed in the same slot.
4. Popular sessions are spread across slots (each slot's biggest room goes to
   one of the most popular sessions), sessions with hosts in common land in
   different, preferably non-adjacent, slots, and interest is balanced
   between slots.

The result is deterministic: it depends only on the input values, not on the
order in which sessions or rooms are given (slots are given in time order).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

Cell = tuple[int, int]  #: (slot id, room id)

NO_CELL = "no_cell"  #: the slots where its hosts are free are full (with more popular sessions)
HOST_CLASH = "host_clash"  #: in every slot one of its hosts already has a session


@dataclass(frozen=True)
class Room:
    id: int
    capacity: int


@dataclass(frozen=True)
class Session:
    id: int
    hosts: frozenset[Hashable] = frozenset()
    interest: int = 0
    #: where the session is now (None: not placed)
    cell: Cell | None = None
    #: a moderator fixed the placement; kept even with ``replace``
    locked: bool = False


@dataclass(frozen=True)
class Unplaced:
    session_id: int
    reason: str  # NO_CELL or HOST_CLASH


@dataclass(frozen=True)
class Schedule:
    #: every placed session (kept ones included): session id -> (slot id, room id)
    cells: dict[int, Cell]
    #: sessions without a cell, most popular first
    unplaced: tuple[Unplaced, ...]
    #: sessions that stayed in the cell they had
    kept: frozenset[int] = field(default_factory=frozenset)


def _priority(s: Session) -> tuple[int, int]:
    return (-s.interest, s.id)


class _Plan:
    """Slot assignment in progress: which sessions go into which slot."""

    def __init__(self, slots: Sequence[int], rooms: Sequence[Room]) -> None:
        self.slots = list(dict.fromkeys(slots))
        self.index = {slot: i for i, slot in enumerate(self.slots)}
        self.rooms = sorted(rooms, key=lambda r: (-r.capacity, r.id))
        self.room_ids = {r.id for r in self.rooms}
        self.taken: dict[int, set[int]] = {slot: set() for slot in self.slots}  # rooms of kept sessions
        self.kept_hosts: dict[int, set[Hashable]] = {slot: set() for slot in self.slots}
        self.assigned: dict[int, list[Session]] = {slot: [] for slot in self.slots}  # scheduler's sessions

    # -- kept sessions ------------------------------------------------------------------
    def keep(self, s: Session) -> bool:
        if s.cell is None:
            return False
        slot, room = s.cell
        if slot not in self.index or room not in self.room_ids or room in self.taken[slot]:
            return False
        if s.hosts & self.kept_hosts[slot]:
            return False
        self.taken[slot].add(room)
        self.kept_hosts[slot] |= s.hosts
        return True

    # -- questions about a slot -------------------------------------------------------------
    def free_rooms(self, slot: int) -> list[Room]:
        return [r for r in self.rooms if r.id not in self.taken[slot]]

    def remaining(self, slot: int) -> int:
        return len(self.rooms) - len(self.taken[slot]) - len(self.assigned[slot])

    def hosts_in(self, slot: int, without: Session | None = None) -> set[Hashable]:
        hosts = set(self.kept_hosts[slot])
        for other in self.assigned[slot]:
            if other is not without:
                hosts |= other.hosts
        return hosts

    def fits(self, s: Session, slot: int) -> bool:
        return self.remaining(slot) > 0 and not (s.hosts & self.hosts_in(slot))

    def score(self, s: Session, slot: int) -> tuple[int, int, int, int]:
        """Smaller is better: big room for s, hosts get a break, interest balanced, earlier slot."""
        free = self.free_rooms(slot)
        k = sum(1 for other in self.assigned[slot] if _priority(other) < _priority(s))
        capacity = free[k].capacity if k < len(free) else 0
        i = self.index[slot]
        neighbours: set[Hashable] = set()
        for j in (i - 1, i + 1):
            if 0 <= j < len(self.slots):
                neighbours |= self.hosts_in(self.slots[j])
        load = sum(o.interest for o in self.assigned[slot])
        return (-capacity, len(s.hosts & neighbours), load, i)

    # -- changes ---------------------------------------------------------------------------
    def place(self, s: Session) -> bool:
        candidates = [slot for slot in self.slots if self.fits(s, slot)]
        if candidates:
            self.assigned[min(candidates, key=lambda slot: self.score(s, slot))].append(s)
            return True
        return self._repair(s)

    def _move_out(self, t: Session, source: int) -> bool:
        """Move t (placed by the scheduler in ``source``) to another slot where it fits."""
        self.assigned[source].remove(t)
        targets = [slot for slot in self.slots if slot != source and self.fits(t, slot)]
        if not targets:
            self.assigned[source].append(t)
            return False
        self.assigned[min(targets, key=lambda slot: self.score(t, slot))].append(t)
        return True

    def _repair(self, s: Session) -> bool:
        """One step of an ejection chain: make room for s by moving one session to another slot."""
        for slot in self.slots:
            if s.hosts & self.kept_hosts[slot]:
                continue
            blockers = [o for o in self.assigned[slot] if o.hosts & s.hosts]
            if len(blockers) > 1:
                continue
            if blockers:
                movable = blockers
            elif self.remaining(slot) == 0:
                movable = sorted(self.assigned[slot], key=_priority, reverse=True)  # least popular first
            else:
                continue  # s would fit directly; place() already tried
            for t in movable:
                if self._move_out(t, slot):
                    self.assigned[slot].append(s)
                    return True
        return False

    def swap_in(self, u: Session) -> Session | None:
        """Put u in place of a less popular session that it does not clash with; return that one."""
        for slot in self.slots:
            if u.hosts & self.kept_hosts[slot]:
                continue
            for p in sorted(self.assigned[slot], key=_priority, reverse=True):  # least popular first
                if _priority(p) <= _priority(u):
                    break
                if not (u.hosts & self.hosts_in(slot, without=p)):
                    self.assigned[slot].remove(p)
                    self.assigned[slot].append(u)
                    return p
        return None

    def reason(self, s: Session) -> str:
        clash_free = [slot for slot in self.slots if not (s.hosts & self.hosts_in(slot))]
        return NO_CELL if clash_free or not self.slots else HOST_CLASH

    def rooms_for(self, slot: int) -> dict[int, Cell]:
        """Final rooms in a slot: the most popular session gets the biggest free room."""
        ordered = sorted(self.assigned[slot], key=_priority)
        return {s.id: (slot, room.id) for s, room in zip(ordered, self.free_rooms(slot), strict=False)}


def schedule(slots: Sequence[int], rooms: Iterable[Room], sessions: Iterable[Session], *,
             replace: bool = False) -> Schedule:
    """Assign sessions to cells.

    ``slots``: slot ids in time order (adjacent slots are neighbours).
    ``replace``: re-plan every session that is not locked; otherwise only the
    unplaced ones are placed and placed sessions stay where they are.
    Sessions whose current cell is invalid (unknown slot or room, a cell
    already taken, a host clash with a session kept before it) are planned
    like unplaced ones.
    """
    plan = _Plan(slots, list(rooms))
    sessions = sorted(sessions, key=lambda s: s.id)
    if len({s.id for s in sessions}) != len(sessions):
        raise ValueError("session ids must be unique")

    kept: dict[int, Cell] = {}
    stays = sorted((s for s in sessions if s.cell is not None and (s.locked or not replace)),
                   key=lambda s: (not s.locked, s.id))
    for s in stays:
        if plan.keep(s):
            assert s.cell is not None
            kept[s.id] = s.cell
    pool = sorted((s for s in sessions if s.id not in kept), key=_priority)

    left: list[Session] = [s for s in pool if not plan.place(s)]
    while left:
        # A repair can free a slot for a session refused earlier: retry until nothing changes.
        changed = True
        while left and changed:
            changed = False
            for s in list(left):
                if plan.place(s):
                    left.remove(s)
                    changed = True
        # Never leave a session out for a less popular one it could simply replace.
        for u in sorted(left, key=_priority):
            out = plan.swap_in(u)
            if out is not None:
                left.remove(u)
                left.append(out)
                break
        else:
            break
    left.sort(key=_priority)

    cells = dict(kept)
    for slot in plan.slots:
        cells.update(plan.rooms_for(slot))
    return Schedule(cells=cells, unplaced=tuple(Unplaced(s.id, plan.reason(s)) for s in left), kept=frozenset(kept))
