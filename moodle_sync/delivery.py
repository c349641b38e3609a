"""Deliver a Common Cartridge into a Moodle / LOGINEO NRW LMS course through the companion plugin.

:func:`deliver_cartridge` runs the whole path the restore UI would take, as
web-service calls of one token::

    preflight   core_webservice_get_site_info lists local_lmsbridge_* and "Can upload files"
                (otherwise FallbackNeeded naming what is missing: Deep Linking + the CC 1.1 file)
    upload      /webservice/upload.php puts the .imscc into the token user's draft area
    restore     local_lmsbridge_restore_cartridge queues an ad-hoc task (a new course is created
                at once, empty and hidden, like the restore UI does)
    poll        local_lmsbridge_get_restore_status until done or failed (bounded by ``timeout``:
                a restore still queued or running is reported as such – cron runs it later)
    name        local_lmsbridge_set_section_names: Moodle makes every top-level module of the
                cartridge a section numbered from 0 and carries its title only as the section
                summary; the sections get the module titles as names, and a summary that only
                repeated the title is cleared
    report      course id and URL, sections (number, name) and activities (modname, name) as
                Moodle reports them after naming, warnings

No Flask, no database: the caller passes a :class:`~moodle_sync.client.MoodleClient`.

Writes are never repeated blindly:

* ``upload.php`` only fills a draft area (Moodle empties draft areas by itself), so an upload
  whose answer was lost is sent once more into a fresh draft area.
* ``restore_cartridge`` creates a course and queues a task. When its answer is lost the
  delivery does **not** send it again: for a new course it looks the course up by its short
  name (when the token may call ``core_course_get_courses_by_field``) and reports what it
  found; for an existing course it reports that the restore may have been queued. Moodle's
  unique short names are a second guard: a second ``restore_cartridge`` with the same short
  name is refused with ``shortnametaken`` instead of creating a duplicate.
* ``set_section_names`` is idempotent; after a lost answer the status is read again and only
  the sections whose names are still missing are sent once more.

Repeated deliveries of the same collection (decision): the first delivery goes into a **new
course** (mode ``new``) under a short name the tool derives from the collection. Every later
delivery goes into that course with mode **``replace``** – the course content is replaced,
enrolments and groups stay – so delivering again gives the same course instead of a second
copy. ``merge`` adds the cartridge next to what is there; the lab Moodle showed that merging
the same cartridge twice gives every activity twice, so merge is only used when asked for and
the report warns about it. A second ``new`` delivery with a short name already taken fails
with :class:`~moodle_sync.errors.AlreadyExists` whose hint names the existing course.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from moodle_sync.client import MoodleClient
from moodle_sync.errors import AccessDenied, AlreadyExists, MoodleError, SyncError, TransportError
from moodle_sync.preflight import (
    PLUGIN_RESTORE,
    PLUGIN_SECTION_NAMES,
    PLUGIN_STATUS,
    Feature,
    preflight,
)
from moodle_sync.records import RestoreStatus

log = logging.getLogger(__name__)

NEW, MERGE, REPLACE = "new", "merge", "replace"
MODES = (NEW, MERGE, REPLACE)
#: Read only to find a new course again after a lost answer (optional in the service).
COURSE_LOOKUP = "core_course_get_courses_by_field"
#: Moodle's section names are at most 255 characters (course_sections.name).
MAX_SECTION_NAME = 255

#: progress(step, fraction): step is one of STEPS, fraction 0.0 … 1.0
Progress = Callable[[str, float], None]
STEPS = ("preflight", "upload", "restore", "poll", "names", "report")


class DeliveryState(StrEnum):
    DONE = "done"  # restored, sections named (warnings may say what could not be done)
    FAILED = "failed"  # Moodle's task reported failure; message says why
    RUNNING = "running"  # still queued or running in Moodle when the delivery stopped waiting
    UNKNOWN = "unknown"  # the answer to restore_cartridge was lost; see the warnings


class FallbackNeeded(SyncError):
    """The site cannot take a cartridge through web services; use Deep Linking and the CC 1.1 file."""

    def __init__(self, reason: str, *, missing: Sequence[str] = (), site_url: str = "", notes: Sequence[str] = ()):
        super().__init__(reason)
        self.reason = reason
        self.missing = tuple(missing)
        self.site_url = site_url
        self.notes = tuple(notes)


@dataclass(frozen=True)
class NewCourse:
    """Where and under which names a new course is created for the cartridge."""

    categoryid: int
    fullname: str
    shortname: str


@dataclass(frozen=True)
class DeliveredSection:
    number: int
    name: str
    summary: str = ""


@dataclass(frozen=True)
class DeliveredActivity:
    cmid: int
    modname: str
    name: str
    section: int


@dataclass
class DeliveryReport:
    """What happened, as Moodle reported it. ``to_dict``/``from_dict`` keep it as JSON."""

    state: DeliveryState
    site_url: str
    mode: str
    course_id: int = 0
    taskid: int = 0
    message: str = ""
    sections: list[DeliveredSection] = field(default_factory=list)
    activities: list[DeliveredActivity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    named: list[int] = field(default_factory=list)
    shortname: str = ""
    draftitemid: int = 0
    release: str = ""
    #: the course's full name as given (new course) or as it was before the restore (existing course)
    fullname: str = ""
    #: "full name (short name)" when Moodle's restore renamed the course (seen only with a course lookup)
    renamed_to: str = ""

    @property
    def ok(self) -> bool:
        return self.state is DeliveryState.DONE

    @property
    def course_url(self) -> str:
        return course_url(self.site_url, self.course_id) if self.course_id else ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["course_url"] = self.course_url
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryReport:
        return cls(
            state=DeliveryState(str(data.get("state", DeliveryState.UNKNOWN.value))),
            site_url=str(data.get("site_url", "")),
            mode=str(data.get("mode", "")),
            course_id=int(data.get("course_id") or 0),
            taskid=int(data.get("taskid") or 0),
            message=str(data.get("message", "")),
            sections=[DeliveredSection(**s) for s in data.get("sections") or []],
            activities=[DeliveredActivity(**a) for a in data.get("activities") or []],
            warnings=[str(w) for w in data.get("warnings") or []],
            named=[int(n) for n in data.get("named") or []],
            shortname=str(data.get("shortname", "")),
            draftitemid=int(data.get("draftitemid") or 0),
            release=str(data.get("release", "")),
            fullname=str(data.get("fullname", "")),
            renamed_to=str(data.get("renamed_to", "")),
        )

    def render(self) -> str:
        """The report as plain text (CLI, logs)."""
        lines = [f"delivery into {self.site_url}: {self.state.value} (mode {self.mode})"]
        if self.course_id:
            lines.append(f"  course {self.course_id}: {self.course_url}")
        if self.taskid:
            lines.append(f"  restore task {self.taskid}")
        if self.message:
            lines.append(f"  Moodle: {self.message}")
        for section in self.sections:
            lines.append(f"  section {section.number}: {section.name or '(default name)'}")
            for activity in self.activities:
                if activity.section == section.number:
                    lines.append(f"    {activity.modname}: {activity.name}")
        for warning in self.warnings:
            lines.append(f"  warning: {warning}")
        return "\n".join(lines)


def course_url(site_url: str, course_id: int) -> str:
    return f"{site_url.rstrip('/')}/course/view.php?id={course_id}"


def default_mode(course_id: int | None) -> str:
    """``new`` for a new course, ``replace`` for an existing one (see the module docstring)."""
    return REPLACE if course_id else NEW


# -- the delivery ---------------------------------------------------------------------------------------


def check_site(client: MoodleClient) -> None:
    """Raise :class:`FallbackNeeded` unless the token can upload, restore, poll and name sections.

    A site that cannot be used at all (wrong URL, invalid token) raises its typed error.
    """
    report = preflight(client, [Feature.CARTRIDGE_DELIVERY])
    if report.error is not None:
        raise report.error
    check = report.checks[Feature.CARTRIDGE_DELIVERY]
    if not check.available:
        plugin = [n for n in check.missing if n.startswith("local_lmsbridge_")]
        if plugin:
            reason = f"the token's service lacks the companion plugin's functions: {', '.join(check.missing)}"
        else:
            reason = f"the token's service is missing: {', '.join(check.missing)}"
        raise FallbackNeeded(reason, missing=check.missing, site_url=client.site_url, notes=check.notes)


def deliver_cartridge(
    client: MoodleClient,
    cartridge_path: str | Path,
    *,
    course_id: int | None = None,
    new_course: NewCourse | None = None,
    mode: str | None = None,
    section_titles: Sequence[str] = (),
    progress: Progress | None = None,
    poll_interval: float = 5.0,
    timeout: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    filename: str | None = None,
) -> DeliveryReport:
    """Upload, restore, poll, name the sections, report. See the module docstring.

    Exactly one of ``course_id`` (existing course; ``mode`` merge or replace, default replace)
    and ``new_course`` (``mode`` new). ``section_titles`` are the cartridge's top-level module
    titles in order (section 0 first). Raises :class:`FallbackNeeded` when the plugin is not
    usable and the typed :mod:`moodle_sync.errors` for refusals (token, capabilities, short
    name taken, …); returns a report for everything after the restore was queued.
    """
    mode = _check_target(course_id, new_course, mode)
    path = Path(cartridge_path)
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"no cartridge at {path}")
    notify = _notifier(progress)

    notify("preflight", 0.0)
    check_site(client)
    info = client.site_info()
    report = DeliveryReport(
        state=DeliveryState.UNKNOWN,
        site_url=client.site_url,
        mode=mode,
        course_id=course_id or 0,
        shortname=new_course.shortname if new_course else "",
        fullname=new_course.fullname if new_course else "",
        release=info.release,
    )
    if course_id and COURSE_LOOKUP in info.functions:
        before = _course(client, course_id)
        if before is not None:
            report.fullname, report.shortname = before.fullname, before.shortname
    if mode == MERGE:
        report.warnings.append(
            "merge adds the cartridge next to the course content: delivering the same cartridge again "
            "duplicates every activity (use replace for repeated deliveries)"
        )

    notify("upload", 0.1)
    report.draftitemid = _upload(client, path, filename or path.name)

    notify("restore", 0.25)
    try:
        taskid, target = client.restore_cartridge(
            report.draftitemid,
            courseid=course_id or 0,
            categoryid=new_course.categoryid if new_course else 0,
            fullname=new_course.fullname if new_course else "",
            shortname=new_course.shortname if new_course else "",
            mode="" if mode == NEW else mode,
        )
    except AlreadyExists as exc:
        if new_course is not None:
            existing = _lookup_course(client, new_course.shortname)
            where = f" (course {existing}, {course_url(client.site_url, existing)})" if existing else ""
            exc.hint = (
                f"a course with the short name {new_course.shortname!r} exists{where}: the collection was probably "
                "delivered before – deliver into that course with mode replace, or choose another short name"
            )
        raise
    except TransportError as exc:
        if not exc.maybe_applied:
            raise
        return _restore_answer_lost(client, report, new_course, exc)
    report.taskid, report.course_id = taskid, target or report.course_id
    return follow_up(
        client,
        report,
        section_titles=section_titles,
        notify=notify,
        poll_interval=poll_interval,
        timeout=timeout,
        sleep=sleep,
        clock=clock,
    )


def follow_up(
    client: MoodleClient,
    report: DeliveryReport,
    *,
    section_titles: Sequence[str] = (),
    notify: Progress | None = None,
    poll_interval: float = 5.0,
    timeout: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Poll a queued restore (``report.taskid``) to its end, name the sections, fill the report.

    Also the way to pick up a delivery that was reported ``running``: it asks Moodle for the
    task's status and never queues a restore.
    """
    step = _notifier(notify)
    step("poll", 0.3)
    status = _poll(client, report, poll_interval=poll_interval, timeout=timeout, sleep=sleep, clock=clock, notify=step)
    if status is None:
        return report
    report.message = status.message
    if status.courseid:
        report.course_id = status.courseid
    if status.status == "failed":
        report.state = DeliveryState.FAILED
        report.course_id = status.courseid
        _fill(report, status)
        step("report", 1.0)
        return report
    step("names", 0.9)
    final = _name_sections(client, report, status, section_titles)
    _fill(report, final)
    report.state = DeliveryState.DONE
    _check_names(client, report)
    step("report", 1.0)
    return report


# -- steps ------------------------------------------------------------------------------------------------


def _check_target(course_id: int | None, new_course: NewCourse | None, mode: str | None) -> str:
    if (course_id is None) == (new_course is None):
        raise ValueError("give either course_id (an existing course) or new_course")
    if course_id is not None and course_id <= 0:
        raise ValueError("course_id must be a positive Moodle course id")
    if new_course is not None:
        if not (new_course.categoryid > 0 and new_course.fullname.strip() and new_course.shortname.strip()):
            raise ValueError("a new course needs a category id, a full name and a short name")
        if mode not in (None, NEW):
            raise ValueError(f"mode {mode!r} needs an existing course; a new course uses mode new")
        return NEW
    chosen = mode or default_mode(course_id)
    if chosen not in (MERGE, REPLACE):
        raise ValueError(f"mode {chosen!r} cannot be used with an existing course: use replace or merge")
    return chosen


def _notifier(progress: Progress | None) -> Progress:
    def notify(step: str, fraction: float) -> None:
        if progress is not None:
            try:
                progress(step, max(0.0, min(1.0, fraction)))
            except Exception:  # a progress display must never break a delivery
                log.exception("delivery progress callback failed")

    return notify


def _upload(client: MoodleClient, path: Path, name: str) -> int:
    content = path.read_bytes()
    try:
        return client.upload(name, content).itemid
    except TransportError:
        # Only the token user's draft area is touched and Moodle cleans draft areas up by
        # itself: sending the file once more into a fresh draft area is safe.
        log.warning("upload of %s to %s lost its answer; uploading once more", name, client.site_url)
        return client.upload(name, content).itemid


def _lookup_course(client: MoodleClient, shortname: str) -> int:
    """The id of the course with ``shortname`` if the token may look it up, else 0."""
    if COURSE_LOOKUP not in client.site_info().functions:
        return 0
    try:
        found = client.course_by_shortname(shortname)
    except SyncError:
        return 0
    return found.id if found else 0


def _course(client: MoodleClient, course_id: int) -> Any:
    try:
        found = client.courses_by_field("id", course_id)
    except SyncError:
        return None
    return found[0] if found else None


def _check_names(client: MoodleClient, report: DeliveryReport) -> None:
    """Warn when the new course does not carry the names asked for.

    Moodle's restore gives a new course unique names (``restore_dbops::calculate_course_names``:
    " copy 1" / "_1" when another course has the same full or short name); the companion
    plugin writes the requested names back since 0.1.1, so this fires only with 0.1.0.
    Seen only when the token may call ``core_course_get_courses_by_field``.
    """
    if not (report.fullname and report.shortname and report.course_id):
        return
    if COURSE_LOOKUP not in client.site_info().functions:
        return
    after = _course(client, report.course_id)
    if after is None or (after.fullname, after.shortname) == (report.fullname, report.shortname):
        return
    report.renamed_to = f"{after.fullname} ({after.shortname})"
    report.warnings.append(
        f"Moodle's restore renamed the course from {report.fullname!r} ({report.shortname}) to {after.fullname!r} "
        f"({after.shortname}) because another course of the site has the same full or short name; update the "
        "companion plugin to 0.1.1 or later, or rename the course in its settings"
    )


def _restore_answer_lost(
    client: MoodleClient, report: DeliveryReport, new_course: NewCourse | None, exc: TransportError
) -> DeliveryReport:
    """``restore_cartridge`` may have been carried out: look, report, never send it again."""
    report.state = DeliveryState.UNKNOWN
    report.warnings.append(f"the answer to {PLUGIN_RESTORE} was lost ({exc}); the restore was not sent again")
    if new_course is None:
        report.warnings.append(
            f"Moodle may have queued the restore into course {report.course_id}: look at the course in a few "
            "minutes before delivering again (delivering again with mode replace gives the same content)"
        )
        return report
    if COURSE_LOOKUP not in client.site_info().functions:
        report.warnings.append(
            f"the token may not call {COURSE_LOOKUP}, so the tool cannot tell whether Moodle created the course: "
            f"look for a course with the short name {new_course.shortname!r} before delivering again"
        )
        return report
    try:
        found = client.course_by_shortname(new_course.shortname)
    except SyncError as lookup:
        report.warnings.append(f"looking the course up failed too ({lookup}): check Moodle before delivering again")
        return report
    if found is None:
        raise TransportError(
            f"{exc}; Moodle has no course with the short name {new_course.shortname!r}, so the restore was not "
            "queued – it is safe to deliver again",
            wsfunction=PLUGIN_RESTORE,
            status=exc.status,
            maybe_applied=False,
            attempts=exc.attempts,
        ) from exc
    report.course_id = found.id
    report.warnings.append(
        f"Moodle created course {found.id} ({found.shortname}), so the restore was queued; it runs with cron – "
        "look at the course in a few minutes; deliver again into it with mode replace if it stays empty"
    )
    return report


def _poll(
    client: MoodleClient,
    report: DeliveryReport,
    *,
    poll_interval: float,
    timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    notify: Progress,
) -> RestoreStatus | None:
    """The finished status, or None when the task is still queued/running (report says so)."""
    started = clock()
    polls = 0
    while True:
        try:
            status = client.restore_status(report.taskid)
        except TransportError as exc:  # reads were retried already; the task keeps its course
            report.state = DeliveryState.RUNNING
            report.warnings.append(
                f"Moodle could not be asked for restore task {report.taskid} ({exc}); the restore goes on in "
                "Moodle – ask again later"
            )
            return None
        polls += 1
        if status.courseid:
            report.course_id = status.courseid
        if status.finished:
            return status
        elapsed = clock() - started
        if elapsed >= timeout:
            report.state = DeliveryState.RUNNING
            report.message = status.message
            report.warnings.append(
                f"restore task {report.taskid} is still {status.status} in Moodle after {int(elapsed)} s; "
                "Moodle runs it with cron – this is not a failure, ask again later"
            )
            return None
        notify("poll", 0.3 + 0.55 * min(1.0, elapsed / timeout if timeout else 1.0))
        sleep(min(poll_interval, max(0.0, timeout - elapsed)) if timeout else poll_interval)


def wanted_names(
    sections: Sequence[Mapping[str, Any]], titles: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``sections`` argument of set_section_names still needed, and warnings.

    A section gets its module title as name; its summary is cleared when it only repeats the
    title (what Moodle's Common Cartridge converter puts there), and kept otherwise. Sections
    that already carry the name and no such summary are left out: naming is idempotent.
    """
    existing = {int(s.get("section", -1)): s for s in sections}
    wanted: list[dict[str, Any]] = []
    warnings: list[str] = []
    for number, raw in enumerate(titles):
        title = " ".join(str(raw).split())[:MAX_SECTION_NAME]
        if not title:
            continue
        section = existing.get(number)
        if section is None:
            warnings.append(f"Moodle made no section {number} for the module {title!r}")
            continue
        name = str(section.get("name") or "")
        summary = " ".join(str(section.get("summary") or "").split())
        clear = summary == title
        if name == title and not clear:
            continue
        entry: dict[str, Any] = {"section": number, "name": title}
        if clear:
            entry["summary"] = ""
        wanted.append(entry)
    return wanted, warnings


def _name_sections(
    client: MoodleClient, report: DeliveryReport, status: RestoreStatus, titles: Sequence[str]
) -> RestoreStatus:
    """Set the section names; return the status Moodle reports afterwards."""
    wanted, warnings = wanted_names(status.sections, titles)
    report.warnings.extend(warnings)
    if not titles:
        report.warnings.append("no module titles were given: the sections keep Moodle's names")
    if not wanted:
        return status
    try:
        _send_names(client, report, wanted)
    except TransportError:
        # Naming is idempotent: look at what Moodle has now and send only what is still missing.
        status = client.restore_status(report.taskid)
        wanted, _ = wanted_names(status.sections, titles)
        if wanted:
            try:
                _send_names(client, report, wanted)
            except TransportError as again:
                report.warnings.append(f"the sections could not be named ({again}); they keep their summaries")
                return status
    except (AccessDenied, MoodleError) as exc:
        report.warnings.append(
            f"the sections could not be named ({exc}); the content arrived, the chapter titles stay section summaries"
        )
        return status
    return client.restore_status(report.taskid)


def _send_names(client: MoodleClient, report: DeliveryReport, wanted: list[dict[str, Any]]) -> None:
    for batch in client.batches(PLUGIN_SECTION_NAMES, "sections", wanted, {"courseid": report.course_id}):
        answer = client.call(PLUGIN_SECTION_NAMES, {"courseid": report.course_id, "sections": batch}) or {}
        report.named.extend(int(n) for n in answer.get("sections", []))
        for warning in answer.get("warnings", []):
            report.warnings.append(str(warning.get("message") or warning))


def _fill(report: DeliveryReport, status: RestoreStatus) -> None:
    report.sections = [
        DeliveredSection(int(s.get("section", 0)), str(s.get("name") or ""), str(s.get("summary") or ""))
        for s in status.sections
    ]
    report.activities = [
        DeliveredActivity(
            int(a.get("cmid", 0)), str(a.get("modname", "")), str(a.get("name", "")), int(a.get("section", 0))
        )
        for a in status.activities
    ]


__all__ = [
    "MODES",
    "NEW",
    "MERGE",
    "REPLACE",
    "PLUGIN_RESTORE",
    "PLUGIN_STATUS",
    "PLUGIN_SECTION_NAMES",
    "DeliveredActivity",
    "DeliveredSection",
    "DeliveryReport",
    "DeliveryState",
    "FallbackNeeded",
    "NewCourse",
    "check_site",
    "course_url",
    "default_mode",
    "deliver_cartridge",
    "follow_up",
    "wanted_names",
]
