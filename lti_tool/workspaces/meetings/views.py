"""The network year: meetings of the network's bodies, minutes, decisions, tasks, iCalendar.

Every member sees that a meeting exists (title, body, time, place); agenda,
video link, minutes, decisions and tasks only those whose role belongs to the
body (``roles.may_see_body``), e.g. Schulleitungsrunde minutes only for school
leaders and the network managers. Managers (``meetings.manage``) plan meetings
and write minutes; a task's assignee may mark it done.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_skeleton
from flask import Response, abort, redirect, request
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, utcnow
from lti_tool.workspaces import activity, bp
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.meetings.forms import (
    F_DUE,
    F_TASK,
    as_utc,
    html_to_text,
    local,
    parse_day,
    read_meeting,
    read_minutes,
    school_year_of,
)
from lti_tool.workspaces.meetings.models import Meeting, MeetingDecision, MeetingTask
from lti_tool.workspaces.models import NetworkMember, Person
from lti_tool.workspaces.roles import BODY_LABELS, LABELS, MEETING_BODIES, ROLES, may_see_body
from lti_tool.workspaces.text import TextError, plain, rich
from lti_tool.workspaces.views import OPEN_ITEMS, post_guard, render

VIEW, MANAGE = "meetings.view", "meetings.manage"


# -- helpers ----------------------------------------------------------------------------


def load_meeting(v: Viewer, meeting_id: int) -> Meeting:
    meeting = db_session().get(Meeting, meeting_id)
    if meeting is None or meeting.network_id != v.network.id:
        abort(404, description=_("This meeting does not exist in this network."))
    return meeting


def load_task(meeting: Meeting, task_id: int) -> MeetingTask:
    task = db_session().get(MeetingTask, task_id)
    if task is None or task.meeting_id != meeting.id:
        abort(404, description=_("This task does not exist in this meeting."))
    return task


def sees_details(v: Viewer, meeting: Meeting) -> bool:
    return may_see_body(v.role, meeting.body)


def body_audience(body: str) -> list[str]:
    """The role labels that see a body's details, in role order."""
    return [str(LABELS[r]) for r in ROLES if r in MEETING_BODIES.get(body, frozenset())]


def _locale() -> str:
    loc = get_locale()
    return str(loc) if loc else "de"


def fmt_day(d: date) -> str:
    return format_skeleton("yMMMEd", d, locale=_locale())


def fmt_clock(dt: datetime) -> str:
    return local(dt).strftime("%H:%M")


def when(m: Meeting) -> str:
    start, end = local(m.starts_at), local(m.ends_at)
    if start.date() == end.date():
        return f"{fmt_day(start.date())}, {start:%H:%M}–{end:%H:%M}"
    return f"{fmt_day(start.date())}, {start:%H:%M} – {fmt_day(end.date())}, {end:%H:%M}"


def group_choices(network_id: int) -> list[Any]:
    from lti_tool.workspaces.groups.models import Group

    return list(db_session().scalars(select(Group).where(Group.network_id == network_id).order_by(Group.title)))


def group_title(group_id: int | None) -> tuple[int, str] | None:
    if group_id is None:
        return None
    from lti_tool.workspaces.groups.models import Group

    group = db_session().get(Group, group_id)
    return (group.id, group.title) if group is not None else None


def members_with_names(network_id: int) -> list[tuple[NetworkMember, Person]]:
    return list(
        db_session().execute(
            select(NetworkMember, Person).join(Person, Person.id == NetworkMember.person_id)
            .where(NetworkMember.network_id == network_id).order_by(Person.display_name, NetworkMember.id)
        ).all()
    )


def assignable(network_id: int, body: str) -> list[tuple[NetworkMember, Person]]:
    """Members who may see the body's details, so they can see their task."""
    return [(m, p) for m, p in members_with_names(network_id) if may_see_body(m.role, body)]


def meeting_path(network_id: int, meeting_id: int) -> str:
    return f"/w/{network_id}/meetings/{meeting_id}"


def form_values(m: Meeting | None) -> dict[str, str]:
    if m is None:
        return {"body": "netzwerktreffen", "start": "15:00", "end": "17:00"}
    start, end = local(m.starts_at), local(m.ends_at)
    return {
        "title": m.title, "body": m.body, "date": start.date().isoformat(),
        "end_date": end.date().isoformat() if end.date() != start.date() else "",
        "start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "place": m.place, "video_url": m.video_url,
        "agenda": m.agenda, "group_id": str(m.group_id or ""),
    }


def helpers() -> dict[str, Any]:
    return {"body_labels": BODY_LABELS, "when": when, "rich": rich, "fmt_day": fmt_day, "as_utc": as_utc,
            "body_audience": body_audience}


# -- the list -----------------------------------------------------------------------------


@bp.get("/<int:network_id>/meetings")
def meetings(network_id: int) -> str:
    v = viewer(network_id, VIEW)
    rows = list(db_session().scalars(select(Meeting).where(Meeting.network_id == network_id)
                                     .order_by(Meeting.starts_at, Meeting.id)))
    now = utcnow()
    upcoming: OrderedDict[str, list[Meeting]] = OrderedDict()
    past: OrderedDict[str, list[Meeting]] = OrderedDict()
    for m in rows:
        if as_utc(m.ends_at) >= now:
            upcoming.setdefault(school_year_of(local(m.starts_at).date()), []).append(m)
    for m in reversed(rows):
        if as_utc(m.ends_at) < now:
            past.setdefault(school_year_of(local(m.starts_at).date()), []).append(m)
    return render("workspaces/meetings/list.html", v, upcoming=upcoming, past=past,
                  sees=lambda m: sees_details(v, m), can_manage=v.can(MANAGE), **helpers())


# -- create / edit / delete -------------------------------------------------------------


def _form_page(v: Viewer, meeting: Meeting | None, values: dict[str, str], error: str | None = None) -> str:
    return render("workspaces/meetings/form.html", v, meeting=meeting, values=values, bodies=MEETING_BODIES,
                  groups=group_choices(v.network.id), error=error, **helpers())


@bp.get("/<int:network_id>/meetings/new")
def meeting_new(network_id: int) -> str:
    v = viewer(network_id, MANAGE)
    return _form_page(v, None, form_values(None))


@bp.post("/<int:network_id>/meetings")
def meeting_create(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    s = db_session()
    try:
        data = read_meeting(request.form, {g.id for g in group_choices(network_id)})
    except TextError as exc:
        return _form_page(v, None, dict(request.form.items()), str(exc)), 400
    meeting = Meeting(network_id=network_id, created_by=v.person.id, **vars(data))
    s.add(meeting)
    s.flush()
    activity.record(network_id, v.person.id, "meeting.created", meeting.title, meeting_path(network_id, meeting.id),
                    "network")
    s.commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id), code=303)


@bp.get("/<int:network_id>/meetings/<int:meeting_id>/edit")
def meeting_edit(network_id: int, meeting_id: int) -> str:
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    return _form_page(v, meeting, form_values(meeting))


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/edit")
def meeting_update(network_id: int, meeting_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    s = db_session()
    try:
        data = read_meeting(request.form, {g.id for g in group_choices(network_id)})
    except TextError as exc:
        return _form_page(v, meeting, dict(request.form.items()), str(exc)), 400
    for key, value in vars(data).items():
        setattr(meeting, key, value)
    meeting.updated_at = utcnow()
    # a task assignee who may no longer see the details loses the task
    for task in meeting.tasks:
        member = s.get(NetworkMember, task.assignee_member_id) if task.assignee_member_id else None
        if member is not None and not may_see_body(member.role, meeting.body):
            task.assignee_member_id = None
    s.commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id), code=303)


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/delete")
def meeting_delete(network_id: int, meeting_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    s = db_session()
    s.delete(meeting)
    s.commit()
    return redirect(web.lurl("workspaces.meetings", network_id=network_id), code=303)


# -- one meeting ----------------------------------------------------------------------------


def _detail_page(v: Viewer, meeting: Meeting, error: str | None = None, task_form: dict[str, str] | None = None) -> str:
    names = {m.id: p.display_name for m, p in members_with_names(v.network.id)}
    details = sees_details(v, meeting)
    return render("workspaces/meetings/detail.html", v, m=meeting, details=details, names=names,
                  can_manage=v.can(MANAGE), group=group_title(meeting.group_id),
                  assignees=assignable(v.network.id, meeting.body) if v.can(MANAGE) else [],
                  task_form=task_form or {}, error=error, **helpers())


@bp.get("/<int:network_id>/meetings/<int:meeting_id>")
def meeting(network_id: int, meeting_id: int) -> str:
    v = viewer(network_id, VIEW)
    return _detail_page(v, load_meeting(v, meeting_id))


@bp.get("/<int:network_id>/meetings/<int:meeting_id>/minutes")
def meeting_minutes(network_id: int, meeting_id: int) -> str:
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    return render("workspaces/meetings/minutes.html", v, m=meeting,
                  values={"minutes": meeting.minutes, "decisions": "\n".join(d.text for d in meeting.decisions)},
                  **helpers())


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/minutes")
def meeting_minutes_save(network_id: int, meeting_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    s = db_session()
    try:
        data = read_minutes(request.form)
    except TextError as exc:
        return render("workspaces/meetings/minutes.html", v, m=meeting, values=dict(request.form.items()),
                      error=str(exc), **helpers()), 400
    meeting.minutes = data.minutes
    meeting.decisions.clear()
    s.flush()
    for i, text in enumerate(data.decisions):
        meeting.decisions.append(MeetingDecision(position=i, text=text))
    meeting.updated_at = utcnow()
    if meeting.minutes_published_at is None and (data.minutes or data.decisions):
        meeting.minutes_published_at = utcnow()
        audience = "roles:" + ",".join(r for r in ROLES if r in MEETING_BODIES[meeting.body])
        activity.record(network_id, v.person.id, "meeting.minutes", meeting.title,
                        meeting_path(network_id, meeting.id), audience)
    s.commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id) + "#minutes",
                    code=303)


# -- tasks -----------------------------------------------------------------------------------


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/tasks")
def meeting_task_add(network_id: int, meeting_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    s = db_session()
    try:
        title = plain(request.form.get("title"), field=str(F_TASK), max_length=255)
        raw = (request.form.get("assignee") or "").strip()
        allowed_ids = {m.id for m, _p in assignable(network_id, meeting.body)}
        if not raw.isdigit() or int(raw) not in allowed_ids:
            raise TextError(_("Please choose a network member who takes part in this body."))
        due = parse_day(request.form.get("due"), field=str(F_DUE), required=False)
    except TextError as exc:
        return _detail_page(v, meeting, str(exc), dict(request.form.items())), 400
    s.add(MeetingTask(meeting_id=meeting.id, title=title, assignee_member_id=int(raw), due=due))
    s.commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id) + "#tasks",
                    code=303)


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/tasks/<int:task_id>/done")
def meeting_task_done(network_id: int, meeting_id: int, task_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    meeting = load_meeting(v, meeting_id)
    task = load_task(meeting, task_id)
    if not sees_details(v, meeting):
        abort(404, description=_("This task does not exist in this meeting."))
    if not (v.can(MANAGE) or task.assignee_member_id == v.member.id):
        abort(403, description=_("Only the person responsible for this task and the network managers can change it."))
    done = request.form.get("done", "1") == "1"
    task.done = done
    task.done_at = utcnow() if done else None
    db_session().commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id) + f"#task-{task.id}",
                    code=303)


@bp.post("/<int:network_id>/meetings/<int:meeting_id>/tasks/<int:task_id>/delete")
def meeting_task_delete(network_id: int, meeting_id: int, task_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MANAGE)
    meeting = load_meeting(v, meeting_id)
    task = load_task(meeting, task_id)
    s = db_session()
    s.delete(task)
    s.commit()
    return redirect(web.lurl("workspaces.meeting", network_id=network_id, meeting_id=meeting.id) + "#tasks",
                    code=303)


def open_tasks(v: Viewer) -> list[dict[str, Any]]:
    """OPEN_ITEMS provider: the viewer's open meeting tasks in this network."""
    rows = db_session().execute(
        select(MeetingTask, Meeting).join(Meeting, Meeting.id == MeetingTask.meeting_id)
        .where(Meeting.network_id == v.network.id, MeetingTask.assignee_member_id == v.member.id,
               MeetingTask.done.is_(False))
    ).all()
    items = []
    for task, m in sorted(rows, key=lambda r: (r[0].due is None, r[0].due or date.max, r[0].id)):
        if not sees_details(v, m):
            continue
        items.append({
            "title": f"{task.title} ({m.title})",
            "url": web.lurl("workspaces.meeting", network_id=v.network.id, meeting_id=m.id) + f"#task-{task.id}",
            "due": fmt_day(task.due) if task.due else None,
        })
    return items


if open_tasks.__qualname__ not in {getattr(f, "__qualname__", "") for f in OPEN_ITEMS}:
    OPEN_ITEMS.append(open_tasks)


# -- iCalendar --------------------------------------------------------------------------------


@bp.get("/<int:network_id>/meetings.ics")
def meetings_ics(network_id: int) -> Response:
    v = viewer(network_id, VIEW)
    rows = db_session().scalars(select(Meeting).where(Meeting.network_id == network_id).order_by(Meeting.starts_at))
    host = urlsplit(bridge().settings.base_url).hostname or "lms-bridge"
    cal = Calendar()
    cal.add("prodid", "-//LMS Bridge//Network year//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{v.network.name} – {_('Network year')}")
    for m in rows:
        details = sees_details(v, m)
        ev = Event()
        ev.add("uid", f"ws-meeting-{m.id}@{host}")
        ev.add("dtstamp", as_utc(m.updated_at or m.created_at))
        ev.add("dtstart", as_utc(m.starts_at))
        ev.add("dtend", as_utc(m.ends_at))
        ev.add("summary", m.title)
        if m.body in BODY_LABELS:
            ev.add("categories", [str(BODY_LABELS[m.body])])
        if m.place:
            ev.add("location", m.place)
        elif m.video_url:
            ev.add("location", _("Online"))
        if m.video_url and details:
            ev.add("url", m.video_url)
        if details and m.agenda:
            ev.add("description", html_to_text(m.agenda))
        cal.add_component(ev)
    resp = Response(cal.to_ical(), mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="network-{network_id}.ics"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
