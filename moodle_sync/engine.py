"""``apply`` a plan to Moodle – batched, idempotent, resumable – and ``sync`` = lock + plan + apply.

Order: category, course (with all its sections), section titles, groups,
accounts, enrolments, group memberships; removals (``prune``) with their kind.
An existing course (a school's own, ``DesiredNetwork.existing_course_id``) is
only used: the plan adopts it, so the course step writes nothing for it.
Each object's mapping is stored right after Moodle confirmed it, so a run that
stops anywhere resumes where it stopped.

Failure handling, per batch:

* Connection lost / timeout / 5xx on a **create** (``maybe_applied``): look the
  objects up by key, keep what arrived, create only the rest – once; if that
  fails too, stop with a report. Never a blind second create, never a duplicate.
* **Updates**, titles, enrolments and memberships set a state; sending one of
  them again has the same effect, so after a transport failure it is sent once more.
* Moodle refused a batch (``invalidparameter``: rolled back as a whole): look
  the objects up (a duplicate username is reported without detail), adopt what
  exists, split the rest in halves until the refused object is isolated and
  reported; the others go through. A refusal of a large request may be PHP's
  ``max_input_vars`` cutting it: batches shrink from then on.
* Token, service or permission problems stop the run: nothing else could work.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.client import CallStats, MoodleClient, section_ids_from_updates
from moodle_sync.desired import DesiredNetwork
from moodle_sync.errors import (
    InvalidParameter,
    MoodleError,
    NotFound,
    PlanError,
    SiteBusy,
    SyncError,
    TransportError,
    TruncatedRequest,
)
from moodle_sync.mapping import Mapped, MappingStore, TargetLock, holding
from moodle_sync.plan import CREATE, LEAVE, REMOVE, UNTITLED, UPDATE, Action, Plan, fingerprint, plan
from moodle_sync.records import Section

Progress = Callable[[int, int, str], None]
Batch = list[tuple[Action, dict[str, Any]]]
#: send(batch) -> {action key: moodle id} for creates, {action key: problem} for updates/removals
Send = Callable[[Batch], Mapping[str, Any]]
Lookup = Callable[[list[Action]], Mapping[str, int]]

UNASSIGN = "core_role_unassign_roles"


@dataclass(frozen=True)
class Failure:
    kind: str
    key: str
    message: str
    errorcode: str | None = None

    def __str__(self) -> str:
        code = f" [{self.errorcode}]" if self.errorcode else ""
        return f"{self.kind} {self.key}: {self.message}{code}"


@dataclass
class ApplyReport:
    """What an apply did; readable (``render``) and storable (``to_dict``)."""

    target: str
    network: str
    done: list[tuple[Action, str]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    aborted: str | None = None
    error: SyncError | None = None
    pending: int = 0
    calls: CallStats = field(default_factory=CallStats)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """True when the run was not stopped (objects may still have failed or been skipped)."""
        return self.aborted is None

    @property
    def ok(self) -> bool:
        """True when everything the plan asked for was done."""
        return self.complete and not self.failed and not self.skipped

    def count(self, result: str) -> Counter[str]:
        """Return per kind how many objects ended with ``result`` (created, updated, mapped, removed)."""
        return Counter(a.kind for a, r in self.done if r == result)

    def render(self) -> str:
        state = "complete" if self.ok else "complete with problems" if self.complete else f"STOPPED: {self.aborted}"
        lines = [f"Sync of network {self.network!r} to {self.target}: {state}"]
        for result in ("created", "updated", "mapped", "removed", "forgotten"):
            counts = self.count(result)
            if counts:
                lines.append(f"  {result}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        for title, items in (
            ("recovered", self.recovered),
            ("failed", [str(f) for f in self.failed]),
            ("skipped", [f"{a.kind} {a.key}: {why}" for a, why in self.skipped]),
            ("warnings", self.warnings),
        ):
            if items:
                lines.append(f"  {title}:")
                lines.extend(f"    - {item}" for item in items)
        calls = self.calls
        lines.append(
            f"  calls: {calls.reads} reads, {calls.writes} writes ({calls.retries} retries) in {self.seconds:.2f} s"
        )
        if not self.complete:
            lines.append(f"  {self.pending} changes not reached; run the sync again: it resumes where it stopped.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "network": self.network,
            "ok": self.ok,
            "complete": self.complete,
            "aborted": self.aborted,
            "done": [{"op": a.op, "kind": a.kind, "key": a.key, "result": r} for a, r in self.done],
            "failed": [
                {"kind": f.kind, "key": f.key, "message": f.message, "errorcode": f.errorcode} for f in self.failed
            ],
            "skipped": [{"kind": a.kind, "key": a.key, "why": why} for a, why in self.skipped],
            "recovered": list(self.recovered),
            "warnings": list(self.warnings),
            "pending": self.pending,
            "calls": {"reads": self.calls.reads, "writes": self.calls.writes, "retries": self.calls.retries},
            "seconds": round(self.seconds, 3),
        }


@dataclass
class SyncResult:
    plan: Plan
    report: ApplyReport | None


def default_holder() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{threading.get_ident()}"


def apply(
    plan: Plan,
    client: MoodleClient,
    store: MappingStore,
    progress: Progress | None = None,
    *,
    lock: TargetLock | None = None,
    holder: str | None = None,
) -> ApplyReport:
    """Carry out ``plan``; refuse a plan whose mappings changed since it was made (PlanError)."""
    with holding(lock, plan.target, holder or default_holder()):
        if fingerprint(store, plan.target, [(a.kind, a.key) for a in plan.actions]) != plan.fingerprint:
            raise PlanError("the mappings changed since this plan was made (did another sync run?): plan again")
        return _Applier(plan, client, store, progress).run()


def sync(
    client: MoodleClient,
    desired: DesiredNetwork,
    store: MappingStore,
    *,
    lock: TargetLock | None = None,
    prune: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    holder: str | None = None,
    target: str | None = None,
    role_ids: Mapping[str, int] | None = None,
) -> SyncResult:
    """Plan and (unless ``dry_run``) apply, holding the target's lock for both."""
    target = target or client.site_url
    with holding(lock, target, holder or default_holder()):
        the_plan = plan(client, desired, store, target=target, prune=prune, role_ids=role_ids)
        if dry_run:
            return SyncResult(the_plan, None)
        return SyncResult(the_plan, apply(the_plan, client, store, progress))


def one_time_password() -> str:
    """A password nobody is told: Moodle requires one for internal auth methods (it satisfies the default policy)."""
    return secrets.token_urlsafe(24) + "aA1!"


class _Abort(Exception):
    def __init__(self, error: SyncError, doing: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.doing = doing


class _Applier:
    def __init__(self, plan: Plan, client: MoodleClient, store: MappingStore, progress: Progress | None) -> None:
        self.plan = plan
        self.client = client
        self.store = store
        self.target = plan.target
        self.progress = progress
        self.network = plan.network
        self.report = ApplyReport(target=plan.target, network=plan.network.key)
        self.todo = [a for a in plan.actions if a.does_something]
        self.total = len(self.todo)
        self.handled: set[tuple[str, str]] = set()
        self.unavailable: set[tuple[str, str]] = set()
        self.ids: dict[tuple[str, str], int] = {(a.kind, a.key): a.moodle_id for a in plan.actions if a.moodle_id}
        self.shrunk = False
        self.section_ids: list[int] = []

    # -- bookkeeping -------------------------------------------------------------------------------

    def tick(self, action: Action, message: str) -> None:
        self.handled.add((action.kind, action.key))
        if self.progress is not None:
            self.progress(len(self.handled), self.total, message)

    def record(
        self,
        action: Action,
        moodle_id: int,
        result: str,
        *,
        created: bool | None = None,
        note: str | None = None,
        digest: str | None = None,
    ) -> None:
        mapped = Mapped(moodle_id, digest or action.content_hash, action.created if created is None else created)
        self.store.put(self.target, action.kind, action.key, mapped)
        self.ids[(action.kind, action.key)] = moodle_id
        self.report.done.append((action, result))
        if note:
            self.report.recovered.append(f"{action.kind} {action.key}: {note}")
        self.tick(action, f"{result} {action.kind} {action.key}")

    def forget(self, action: Action) -> None:
        self.store.delete(self.target, action.kind, action.key)
        self.report.done.append((action, "forgotten"))
        self.tick(action, f"forgot {action.kind} {action.key}")

    def fail(self, action: Action, error: SyncError | str) -> None:
        code = error.errorcode if isinstance(error, MoodleError) else None
        message = error.message if isinstance(error, MoodleError) else str(error)
        if isinstance(error, MoodleError) and error.debuginfo:
            message += f" ({error.debuginfo})"
        self.report.failed.append(Failure(action.kind, action.key, message, code))
        self.unavailable.add((action.kind, action.key))
        self.tick(action, f"failed {action.kind} {action.key}")

    def skip(self, action: Action, why: str) -> None:
        self.report.skipped.append((action, why))
        self.unavailable.add((action.kind, action.key))
        self.tick(action, f"skipped {action.kind} {action.key}")

    def id_of(self, kind: str, key: str) -> int | None:
        return None if (kind, key) in self.unavailable else self.ids.get((kind, key))

    def read(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except SyncError as error:
            raise _Abort(error, what) from error

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> ApplyReport:
        started = time.monotonic()
        before = self.client.stats.copy()
        warnings_before = len(self.client.warnings)
        try:
            for step in (
                self.category,
                self.course,
                self.sections,
                self.groups,
                self.users,
                self.enrolments,
                self.memberships,
            ):
                step()
        except _Abort as abort:
            self.report.aborted = f"{abort.doing}: {abort.error}"
            self.report.error = abort.error
        self.report.pending = sum(1 for a in self.todo if (a.kind, a.key) not in self.handled and not a.blocked)
        self.report.warnings.extend(str(w) for w in self.client.warnings[warnings_before:])
        self.report.calls = self.client.stats.since(before)
        self.report.seconds = time.monotonic() - started
        return self.report

    def common(self, kind: str) -> dict[str, list[Action]]:
        """Split a kind's actions: adoptions are recorded here, blocked ones skipped; return the rest by op."""
        work: dict[str, list[Action]] = {CREATE: [], UPDATE: [], REMOVE: []}
        for action in self.plan.by_kind(kind):
            if not action.does_something:
                continue
            if action.blocked and not action.details.get("with_course"):
                self.skip(action, action.blocked)
            elif action.op == LEAVE:
                self.record(action, action.moodle_id or 0, "mapped")
            elif action.op == REMOVE and action.details.get("forget_only"):
                self.forget(action)
            else:
                work[action.op].append(action)
        return work

    # -- generic batch handling --------------------------------------------------------------------

    def batches(
        self, wsfunction: str, list_key: str, todo: Batch, fixed: Mapping[str, Any] | None = None
    ) -> list[Batch]:
        sizes = self.client.batches(wsfunction, list_key, [p for _, p in todo], fixed)
        result, start = [], 0
        for chunk in sizes:
            result.append(todo[start : start + len(chunk)])
            start += len(chunk)
        return result

    def prepare(
        self,
        actions: Sequence[Action],
        payload: Callable[[Action], dict[str, Any] | None],
        wsfunction: str,
        list_key: str,
        fixed: Mapping[str, Any] | None = None,
    ) -> list[Batch]:
        todo: Batch = []
        for action in actions:
            body = payload(action)
            if body is not None:
                todo.append((action, body))
        if not todo:
            return []
        try:
            return self.batches(wsfunction, list_key, todo, fixed)
        except TruncatedRequest as error:
            for action, _ in todo:
                self.fail(action, error)
            return []

    def shrink(self, error: SyncError) -> None:
        """After a refusal that may be PHP cutting the request, send smaller requests from now on."""
        nvars = error.nvars if isinstance(error, InvalidParameter | TruncatedRequest) else None
        suspicious = (isinstance(error, TruncatedRequest) and error.detected) or (
            isinstance(error, InvalidParameter) and error.possibly_truncated
        )
        if not suspicious or not nvars:
            return
        limit = max(50, nvars // 2)
        if limit < self.client.max_input_vars:
            self.client.max_input_vars = limit
            if not self.shrunk:
                self.report.warnings.append(
                    f"Moodle refused a request of {nvars} input variables as a whole; requests are now kept under "
                    f"{self.client.budget} (is the site's PHP max_input_vars below 5000?)"
                )
            self.shrunk = True

    def create(self, kind: str, batch: Batch, send: Send, lookup: Lookup, *, retried: bool = False) -> None:
        actions = [a for a, _ in batch]
        try:
            ids = send(batch)
        except (TransportError, SiteBusy) as error:
            if retried:
                raise _Abort(error, f"creating {kind}s") from error
            found = self.read(f"looking up {kind}s after a failed create", lambda: lookup(actions))
            rest = [(a, p) for a, p in batch if a.key not in found]
            for action in actions:
                if action.key in found:
                    self.record(
                        action,
                        found[action.key],
                        "created",
                        created=True,
                        note=f"the answer was lost ({_short(error)}); found by its key afterwards, no duplicate",
                    )
            if rest:
                self.report.recovered.append(
                    f"{len(rest)} {kind}(s) not created by the lost request ({_short(error)}); "
                    "created after looking them up"
                )
                self.create(kind, rest, send, lookup, retried=True)
            return
        except (InvalidParameter, TruncatedRequest) as error:
            if _not_sent(error):
                self.split_create(kind, batch, send, lookup, retried, error)
                return
            self.shrink(error)
            found = self.read(f"looking up {kind}s after a refused create", lambda: lookup(actions))
            for action in actions:
                if action.key in found:
                    self.record(
                        action,
                        found[action.key],
                        "mapped",
                        created=False,
                        note="already in Moodle (made elsewhere); adopted instead of created",
                    )
            rest = [(a, p) for a, p in batch if a.key not in found]
            if not rest:
                return
            if len(rest) < len(batch):
                self.create(kind, rest, send, lookup, retried=retried)
            else:
                self.split_create(kind, rest, send, lookup, retried, error)
            return
        except MoodleError as error:
            raise _Abort(error, f"creating {kind}s") from error
        for action in actions:
            self.record(action, int(ids[action.key]), "created", created=True)

    def split_create(
        self, kind: str, batch: Batch, send: Send, lookup: Lookup, retried: bool, error: SyncError
    ) -> None:
        """Halve a refused batch until the refused object is alone (and fails) or the halves go through."""
        if len(batch) == 1:
            self.fail(batch[0][0], error)
            return
        middle = len(batch) // 2
        self.create(kind, batch[:middle], send, lookup, retried=retried)
        self.create(kind, batch[middle:], send, lookup, retried=retried)

    def change(self, kind: str, batch: Batch, send: Send, result: str, *, retried: bool = False) -> None:
        """Updates and removals: idempotent, so re-sent once after a transport failure."""
        doing = f"{'removing' if result == 'removed' else 'updating'} {kind}s"
        try:
            problems = send(batch)
        except (TransportError, SiteBusy) as error:
            if retried:
                raise _Abort(error, doing) from error
            self.report.recovered.append(
                f"{len(batch)} {kind} change(s) sent once more after {_short(error)} "
                "(setting a value twice is harmless)"
            )
            self.change(kind, batch, send, result, retried=True)
            return
        except NotFound as error:
            # Moodle rolls a batch back as a whole: only a single object can be known to be gone
            if result == "removed" and len(batch) == 1:
                problems = {}
            elif len(batch) == 1:
                self.fail(batch[0][0], error)
                return
            else:
                self.split_change(kind, batch, send, result, retried)
                return
        except (InvalidParameter, TruncatedRequest) as error:
            if not _not_sent(error):
                self.shrink(error)
            if len(batch) == 1:
                self.fail(batch[0][0], error)
            else:
                self.split_change(kind, batch, send, result, retried)
            return
        except MoodleError as error:
            raise _Abort(error, doing) from error
        for action, _ in batch:
            problem = problems.get(action.key)
            if problem:
                self.fail(action, str(problem))
            elif result == "removed":
                self.store.delete(self.target, action.kind, action.key)
                self.report.done.append((action, "removed"))
                self.tick(action, f"removed {action.kind} {action.key}")
            else:
                self.record(action, int(action.moodle_id or self.ids.get((action.kind, action.key), 0)), result)

    def split_change(self, kind: str, batch: Batch, send: Send, result: str, retried: bool) -> None:
        middle = len(batch) // 2
        self.change(kind, batch[:middle], send, result, retried=retried)
        self.change(kind, batch[middle:], send, result, retried=retried)

    # -- steps -------------------------------------------------------------------------------------

    def category(self) -> None:
        client = self.client
        work = self.common("category")
        for batch in self.prepare(
            work[CREATE],
            lambda a: {"name": a.fields["name"], "idnumber": a.key, "parent": a.fields["parent"]},
            "core_course_create_categories",
            "categories",
        ):
            self.create(
                "category",
                batch,
                lambda b: dict(zip([a.key for a, _ in b], client.create_categories([p for _, p in b]), strict=True)),
                lambda actions: {c.idnumber: c.id for a in actions if (c := client.category_by_idnumber(a.key))},
            )
        for batch in self.prepare(
            work[UPDATE],
            lambda a: {"id": a.moodle_id, "name": a.fields["name"], "idnumber": a.key, "parent": a.fields["parent"]},
            "core_course_update_categories",
            "categories",
        ):
            self.change("category", batch, lambda b: _void(client.update_categories, [p for _, p in b]), "updated")

    def course(self) -> None:
        client = self.client
        network = self.network
        category_id = self.id_of("category", network.category_idnumber)
        work = self.common("course")

        def creating(action: Action) -> dict[str, Any] | None:
            if category_id is None:
                self.skip(action, "its category is missing")
                return None
            course = network.course
            assert course is not None  # an existing course is never created or updated
            return {
                "fullname": course.fullname,
                "shortname": course.shortname,
                "categoryid": category_id,
                "idnumber": course.idnumber,
                "summary": course.summary,
                "format": course.format,
                "numsections": len(network.sections),
            }

        for batch in self.prepare(work[CREATE], creating, "core_course_create_courses", "courses"):
            self.create(
                "course",
                batch,
                lambda b: dict(zip([a.key for a, _ in b], client.create_courses([p for _, p in b]), strict=True)),
                lambda actions: {c.idnumber: c.id for a in actions if (c := client.course_by_idnumber(a.key))},
            )

        def updating(action: Action) -> dict[str, Any]:
            course = network.course
            assert course is not None  # an existing course is never created or updated
            body: dict[str, Any] = {
                "id": action.moodle_id,
                "fullname": course.fullname,
                "shortname": course.shortname,
                "summary": course.summary,
            }
            if category_id is not None:
                body["categoryid"] = category_id
            return body

        def send_update(batch: Batch) -> dict[str, Any]:
            warnings = client.update_courses([p for _, p in batch])
            by_id = {w.itemid: str(w) for w in warnings}
            return {a.key: by_id[int(a.moodle_id or 0)] for a, _ in batch if int(a.moodle_id or 0) in by_id}

        for batch in self.prepare(work[UPDATE], updating, "core_course_update_courses", "courses"):
            self.change("course", batch, send_update, "updated")

    def sections(self) -> None:
        course_key = self.network.course_key
        course_id = self.id_of("course", course_key)
        work = self.common("section")
        actions = [*work[CREATE], *work[UPDATE]]
        if not actions:
            return
        if course_id is None:
            for action in actions:
                self.skip(action, "the course is missing")
            return
        targets: list[tuple[Action, int, int]] = []
        needs_contents = any(a.op == CREATE for a in actions)
        contents: list[Section] = []
        if needs_contents:
            contents = self.read("reading the course's sections", lambda: self.contents(course_id))
        by_number = {s.number: s for s in contents}
        self.section_ids = [s.id for s in contents]
        for action in actions:
            if action.op == CREATE and action.details.get("with_course"):
                section = by_number.get(int(action.details["number"]))
                if section is None:
                    self.fail(action, f"the new course has no section {action.details['number']}")
                else:
                    targets.append((action, section.id, section.number))
            elif action.op == CREATE:
                added = self.add_section(course_id)
                if added is not None:
                    targets.append((action, *added))
            else:
                targets.append((action, int(action.moodle_id or 0), int(action.details.get("number") or 0)))
        self.title(course_id, targets)

    def contents(self, course_id: int) -> list[Section]:
        return [s for s in self.client.course_contents(course_id) if s.component is None]

    def add_section(self, course_id: int) -> tuple[int, int] | None:
        """Add a section at the end; return (section id, number). A lost answer is checked by reading the course."""
        before = list(self.section_ids)
        try:
            updates = self.client.add_section(course_id)
        except (TransportError, SiteBusy) as error:
            after = self.read("reading the course's sections", lambda: self.contents(course_id))
            new = [s for s in after if s.id not in before]
            if new:
                self.report.recovered.append(f"section added although the answer was lost ({_short(error)})")
                self.section_ids = [s.id for s in after]
                return new[-1].id, new[-1].number
            try:
                updates = self.client.add_section(course_id)
            except SyncError as again:
                raise _Abort(again, "adding a section") from again
        except MoodleError as error:
            raise _Abort(error, "adding a section") from error
        order = section_ids_from_updates(updates)
        new_ids = [i for i in order if i not in before]
        if not new_ids:
            after = self.read("reading the course's sections", lambda: self.contents(course_id))
            order = [s.id for s in after]
            new_ids = [i for i in order if i not in before]
            if not new_ids:
                raise _Abort(
                    MoodleError("Moodle added no section", wsfunction="core_courseformat_update_course"),
                    "adding a section",
                )
        self.section_ids = order
        return new_ids[-1], order.index(new_ids[-1])

    def title(self, course_id: int, targets: list[tuple[Action, int, int]]) -> None:
        via = self.plan.section_titles_via
        if via is None:
            for action, section_id, _ in targets:
                if action.op == CREATE:
                    self.record(action, section_id, "created", digest=UNTITLED)
                    self.report.warnings.append(f"section {action.key} left untitled: {action.blocked}")
                else:
                    self.skip(action, action.blocked or "titles cannot be set on this site")
            return
        if via == "plugin":
            names = {number: str(action.fields["title"]) for action, _, number in targets}
            try:
                updated, warnings = self.client.set_section_names(course_id, names)
            except (TransportError, SiteBusy):
                try:
                    updated, warnings = self.client.set_section_names(course_id, names)
                except SyncError as error:
                    raise _Abort(error, "titling sections") from error
            except MoodleError as error:
                raise _Abort(error, "titling sections") from error
            self.report.warnings.extend(str(w) for w in warnings)
            for action, section_id, number in targets:
                if number in updated:
                    self.record(action, section_id, "created" if action.op == CREATE else "updated")
                else:
                    self.fail(action, f"section {number} was not renamed")
            return
        for action, section_id, _ in targets:
            for attempt in (1, 2):
                try:
                    self.client.set_section_title(
                        section_id, str(action.fields["title"]), component=self.plan.section_component
                    )
                except (TransportError, SiteBusy) as error:
                    if attempt == 2:
                        raise _Abort(error, "titling sections") from error
                    continue
                except (InvalidParameter, NotFound) as error:
                    self.fail(action, error)
                except MoodleError as error:
                    raise _Abort(error, "titling sections") from error
                else:
                    self.record(action, section_id, "created" if action.op == CREATE else "updated")
                break

    def groups(self) -> None:
        client = self.client
        course_id = self.id_of("course", self.network.course_key)
        work = self.common("group")
        if course_id is None:
            for action in [*work[CREATE], *work[UPDATE], *work[REMOVE]]:
                self.skip(action, "the course is missing")
            return

        def send_create(batch: Batch) -> dict[str, int]:
            return {g.idnumber: g.id for g in client.create_groups([p for _, p in batch])}

        def lookup(actions: list[Action]) -> dict[str, int]:
            keys = {a.key for a in actions}
            return {g.idnumber: g.id for g in client.course_groups(course_id) if g.idnumber in keys}

        for batch in self.prepare(
            work[CREATE],
            lambda a: {
                "courseid": course_id,
                "name": a.fields["name"],
                "description": a.fields["description"],
                "idnumber": a.key,
            },
            "core_group_create_groups",
            "groups",
        ):
            self.create("group", batch, send_create, lookup)
        for batch in self.prepare(
            work[UPDATE],
            lambda a: {
                "id": a.moodle_id,
                "name": a.fields["name"],
                "description": a.fields["description"],
                "idnumber": a.key,
            },
            "core_group_update_groups",
            "groups",
        ):
            self.change("group", batch, lambda b: _void(client.update_groups, [p for _, p in b]), "updated")
        for batch in self.prepare(work[REMOVE], lambda a: {"id": a.moodle_id}, "core_group_delete_groups", "groupids"):
            self.change("group", batch, lambda b: _void(client.delete_groups, [int(p["id"]) for _, p in b]), "removed")

    def users(self) -> None:
        client = self.client
        work = self.common("user")

        def creating(action: Action) -> dict[str, Any]:
            fields = action.fields
            return {
                "username": action.key,
                "password": one_time_password(),
                "firstname": fields["firstname"],
                "lastname": fields["lastname"],
                "email": fields["email"],
                "auth": fields["auth"],
            }

        for batch in self.prepare(work[CREATE], creating, "core_user_create_users", "users"):
            self.create(
                "user",
                batch,
                lambda b: client.create_users([p for _, p in b]),
                lambda actions: {u.username: u.id for u in client.users_by_username([a.key for a in actions]).values()},
            )

        def send_update(batch: Batch) -> dict[str, Any]:
            warnings = client.update_users([p for _, p in batch])
            by_id = {w.itemid: str(w) for w in warnings}
            return {a.key: by_id[int(a.moodle_id or 0)] for a, _ in batch if int(a.moodle_id or 0) in by_id}

        for batch in self.prepare(
            work[UPDATE],
            lambda a: {
                "id": a.moodle_id,
                "firstname": a.fields["firstname"],
                "lastname": a.fields["lastname"],
                "email": a.fields["email"],
                "auth": a.fields["auth"],
            },
            "core_user_update_users",
            "users",
        ):
            self.change("user", batch, send_update, "updated")

    def enrolments(self) -> None:
        client = self.client
        plan = self.plan
        course_id = self.id_of("course", self.network.course_key)
        work = self.common("enrolment")
        if course_id is None:
            for action in [*work[CREATE], *work[UPDATE], *work[REMOVE]]:
                self.skip(action, "the course is missing")
            return

        def enrolling(action: Action) -> dict[str, Any] | None:
            user_id = self.id_of("user", str(action.details["username"]))
            if user_id is None:
                self.skip(action, "the account is missing")
                return None
            return {"roleid": plan.role_ids[str(action.fields["role"])], "userid": user_id, "courseid": course_id}

        def send_enrol(batch: Batch) -> dict[str, int]:
            client.enrol([p for _, p in batch])
            return {a.key: int(p["userid"]) for a, p in batch}

        def lookup(actions: list[Action]) -> dict[str, int]:
            enrolled = {u.username: u for u in client.enrolled_users(course_id)}
            found = {}
            for action in actions:
                user = enrolled.get(str(action.details["username"]))
                if user is not None and action.fields["role"] in user.role_names:
                    found[action.key] = user.id
            return found

        for batch in self.prepare(work[CREATE], enrolling, "enrol_manual_enrol_users", "enrolments"):
            self.create("enrolment", batch, send_enrol, lookup)

        def send_role_change(batch: Batch) -> dict[str, Any]:
            client.enrol([p for _, p in batch])
            unassign = [
                {
                    "roleid": plan.role_ids[role],
                    "userid": p["userid"],
                    "contextlevel": "course",
                    "instanceid": course_id,
                }
                for a, p in batch
                for role in a.details.get("unassign", ())
                if role in plan.role_ids
            ]
            if unassign and UNASSIGN in plan.siteinfo.functions:
                client.unassign_roles(unassign)
            elif unassign:
                self.report.warnings.append(
                    f"{len(unassign)} old role(s) kept: add {UNASSIGN} to the service to take them back"
                )
            return {}

        for batch in self.prepare(work[UPDATE], enrolling, "enrol_manual_enrol_users", "enrolments"):
            self.change("enrolment", batch, send_role_change, "updated")
        for batch in self.prepare(
            work[REMOVE],
            lambda a: {"userid": a.moodle_id, "courseid": course_id},
            "enrol_manual_unenrol_users",
            "enrolments",
        ):
            self.change("enrolment", batch, lambda b: _void(client.unenrol, [p for _, p in b]), "removed")

    def memberships(self) -> None:
        client = self.client
        course_key = self.network.course_key
        work = self.common("membership")

        def adding(action: Action) -> dict[str, Any] | None:
            username = str(action.details["username"])
            group_id = self.id_of("group", str(action.details["group"]))
            user_id = self.id_of("user", username)
            if group_id is None or user_id is None:
                self.skip(action, "the group or the account is missing")
                return None
            if ("enrolment", f"{course_key}/{username}") in self.unavailable:
                self.skip(action, "the person is not enrolled (Moodle takes only participants into groups)")
                return None
            return {"groupid": group_id, "userid": user_id}

        def send_add(batch: Batch) -> dict[str, int]:
            client.add_group_members([p for _, p in batch])
            return {a.key: int(p["userid"]) for a, p in batch}

        def lookup(actions: list[Action]) -> dict[str, int]:
            wanted = {
                a.key: (self.id_of("group", str(a.details["group"])), self.id_of("user", str(a.details["username"])))
                for a in actions
            }
            members = client.group_members(sorted({g for g, _ in wanted.values() if g}))
            return {key: u for key, (g, u) in wanted.items() if g and u and u in members.get(g, frozenset())}

        for batch in self.prepare(work[CREATE], adding, "core_group_add_group_members", "members"):
            self.create("membership", batch, send_add, lookup)
        for batch in self.prepare(
            work[REMOVE],
            lambda a: {"groupid": a.details.get("groupid"), "userid": a.moodle_id},
            "core_group_delete_group_members",
            "members",
        ):
            self.change("membership", batch, lambda b: _void(client.delete_group_members, [p for _, p in b]), "removed")


def _not_sent(error: SyncError) -> bool:
    """True for the client's own refusal of a request that no longer fits: nothing reached Moodle."""
    return isinstance(error, TruncatedRequest) and not error.detected


def _void(call: Callable[[Any], None], argument: Any) -> dict[str, Any]:
    """Call a function Moodle answers with ``null``; no per-object problems to report."""
    call(argument)
    return {}


def _short(error: SyncError) -> str:
    text = str(error)
    return text if len(text) < 90 else text[:87] + "…"
