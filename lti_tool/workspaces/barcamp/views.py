"""Pages of the barcamp planner: barcamps, rooms and slots, proposals, interest, the grid.

Permissions (see ``roles.PERMISSIONS``): everybody in the network sees the
barcamps, the grid and the documentation (``barcamp.view``) and marks interest
(``barcamp.interest``); ``barcamp.propose`` proposes sessions and edits or
withdraws one's own (proposer or host); ``barcamp.moderate`` creates barcamps,
manages rooms and slots, places sessions, runs the automatic schedule and
publishes it, and edits any session. Hosts and moderators document a session.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, current_app, jsonify, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from lti_tool import web
from lti_tool.db import db_session, utcnow
from lti_tool.workspaces import activity, bp
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.barcamp import scheduling
from lti_tool.workspaces.barcamp.models import (
    Barcamp,
    BarcampHost,
    BarcampInterest,
    BarcampRoom,
    BarcampSession,
    BarcampSlot,
)
from lti_tool.workspaces.models import MemberSchool, NetworkMember, Person
from lti_tool.workspaces.roles import HANDLUNGSFELD_KEYS, HANDLUNGSFELDER
from lti_tool.workspaces.text import TextError, clean_html, plain, rich
from lti_tool.workspaces.views import OPEN_ITEMS, post_guard, render

VIEW, PROPOSE, INTEREST, MODERATE = "barcamp.view", "barcamp.propose", "barcamp.interest", "barcamp.moderate"
try:
    LOCAL_TZ: tzinfo = ZoneInfo("Europe/Berlin")
except ZoneInfoNotFoundError:  # a system without time zone data: show UTC rather than fail
    LOCAL_TZ = UTC
MAX_CAPACITY = 10000
FIELD_LABELS = dict(HANDLUNGSFELDER)
REASONS = {
    scheduling.NO_CELL: _l("all cells in the slots where its hosts are free are taken"),
    scheduling.HOST_CLASH: _l("a host already has a session in every slot"),
}


class BarcampError(ValueError):
    """A request the barcamp cannot take; the message is for the user."""


# -- small helpers ---------------------------------------------------------------------


def local(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:  # SQLite hands back naive UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(LOCAL_TZ).strftime("%d.%m.%Y %H:%M")


def rich_input(raw: str | None, *, max_length: int = 20000) -> str:
    """Rich text from a textarea: simple HTML is kept (sanitised); plain text keeps its paragraphs."""
    value = (raw or "").strip()
    if value and "<" not in value:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value.replace("\r\n", "\n")) if p.strip()]
        value = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return clean_html(value, max_length=max_length)


def _digits(raw: str) -> bool:
    return re.fullmatch(r"[0-9]{1,12}", raw) is not None


def _int(raw: str | None, what: str) -> int:
    value = (raw or "").strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", value):
        raise BarcampError(_("Please enter a whole number: %(field)s.", field=what))
    return int(value)


def _barcamp(v: Viewer, barcamp_id: int) -> Barcamp:
    camp = db_session().get(Barcamp, barcamp_id)
    if camp is None or camp.network_id != v.network.id:
        abort(404, description=_("This barcamp does not exist in this network."))
    return camp


def _session(camp: Barcamp, session_id: int) -> BarcampSession:
    row = db_session().get(BarcampSession, session_id)
    if row is None or row.barcamp_id != camp.id:
        abort(404, description=_("This session does not exist in this barcamp."))
    return row


def _room(camp: Barcamp, room_id: int) -> BarcampRoom:
    row = db_session().get(BarcampRoom, room_id)
    if row is None or row.barcamp_id != camp.id:
        abort(404, description=_("This room does not exist in this barcamp."))
    return row


def _slot(camp: Barcamp, slot_id: int) -> BarcampSlot:
    row = db_session().get(BarcampSlot, slot_id)
    if row is None or row.barcamp_id != camp.id:
        abort(404, description=_("This time slot does not exist in this barcamp."))
    return row


def _rooms(s: DbSession, camp: Barcamp) -> list[BarcampRoom]:
    return list(s.scalars(select(BarcampRoom).where(BarcampRoom.barcamp_id == camp.id).order_by(BarcampRoom.id)))


def _slots(s: DbSession, camp: Barcamp) -> list[BarcampSlot]:
    return list(s.scalars(select(BarcampSlot).where(BarcampSlot.barcamp_id == camp.id)
                          .order_by(BarcampSlot.starts, BarcampSlot.id)))


def _sessions(s: DbSession, camp: Barcamp) -> list[BarcampSession]:
    return list(s.scalars(select(BarcampSession).where(BarcampSession.barcamp_id == camp.id)
                          .order_by(BarcampSession.id)))


def _hosts(s: DbSession, session_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {sid: [] for sid in session_ids}
    if session_ids:
        for sid, pid in s.execute(select(BarcampHost.session_id, BarcampHost.person_id)
                                  .where(BarcampHost.session_id.in_(session_ids)).order_by(BarcampHost.id)):
            out[sid].append(pid)
    return out


def _interest(s: DbSession, session_ids: list[int]) -> dict[int, int]:
    out = dict.fromkeys(session_ids, 0)
    if session_ids:
        for sid, n in s.execute(select(BarcampInterest.session_id, func.count()).where(
                BarcampInterest.session_id.in_(session_ids)).group_by(BarcampInterest.session_id)):
            out[sid] = n
    return out


def _mine(s: DbSession, person_id: int, session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(s.scalars(select(BarcampInterest.session_id).where(
        BarcampInterest.person_id == person_id, BarcampInterest.session_id.in_(session_ids))))


def _members(s: DbSession, v: Viewer) -> list[dict[str, Any]]:
    """Network members who can host a session: id, name, school."""
    rows = s.execute(
        select(Person.id, Person.display_name, MemberSchool.name)
        .join(NetworkMember, NetworkMember.person_id == Person.id)
        .outerjoin(MemberSchool, MemberSchool.id == NetworkMember.school_id)
        .where(NetworkMember.network_id == v.network.id).order_by(Person.display_name, Person.id)
    ).all()
    return [{"id": pid, "name": name or "–", "school": school or ""} for pid, name, school in rows]


def _is_own(s: DbSession, v: Viewer, row: BarcampSession) -> bool:
    return row.proposed_by == v.person.id or v.person.id in _hosts(s, [row.id])[row.id]


def _may_edit(s: DbSession, v: Viewer, row: BarcampSession) -> bool:
    return v.can(MODERATE) or (v.can(PROPOSE) and _is_own(s, v, row))


def _may_document(s: DbSession, v: Viewer, row: BarcampSession) -> bool:
    return v.can(MODERATE) or v.person.id in _hosts(s, [row.id])[row.id]


def _cell_label(slot: BarcampSlot, room: BarcampRoom) -> str:
    when = f"{slot.starts:%H:%M}–{slot.ends:%H:%M}"
    return f"{when}{' ' + slot.label if slot.label else ''} · {room.name}"


def _meeting_url(camp: Barcamp) -> str | None:
    """Link to the network meeting, if the meetings part offers a page for it."""
    if camp.meeting_id is None:
        return None
    funcs = current_app.view_functions
    for endpoint in ("workspaces.meeting", "workspaces.meeting_detail"):
        if endpoint in funcs:
            return web.lurl(endpoint, network_id=camp.network_id, meeting_id=camp.meeting_id)
    if "workspaces.meetings" in funcs:
        return web.lurl("workspaces.meetings", network_id=camp.network_id, meeting_id=camp.meeting_id)
    return None


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json" \
        and not request.accept_mimetypes.accept_html


# -- the grid as pages see it ------------------------------------------------------------


def _board(s: DbSession, v: Viewer, camp: Barcamp) -> dict[str, Any]:
    """Everything a barcamp page shows: rooms, slots, sessions with hosts and interest, the grid."""
    rooms, slots, sessions = _rooms(s, camp), _slots(s, camp), _sessions(s, camp)
    ids = [row.id for row in sessions]
    hosts = _hosts(s, ids)
    interest = _interest(s, ids)
    people = {m["id"]: m for m in _members(s, v)}
    host_ids = {pid for pids in hosts.values() for pid in pids}
    # hosts who have left the network keep their name on their sessions
    for pid, name in s.execute(select(Person.id, Person.display_name).where(Person.id.in_(host_ids - set(people)))):
        people[pid] = {"id": pid, "name": name or "–", "school": ""}
    grid = {(row.slot_id, row.room_id): row for row in sessions if row.slot_id and row.room_id}
    room_by_id = {r.id: r for r in rooms}
    slot_by_id = {sl.id: sl for sl in slots}
    ranked = sorted(sessions, key=lambda row: (-interest[row.id], row.id))
    return {
        "camp": camp, "rooms": rooms, "slots": slots, "sessions": ranked, "placed_at": grid,
        "hosts": hosts, "interest": interest, "people": people, "mine": _mine(s, v.person.id, ids),
        "room_by_id": room_by_id, "slot_by_id": slot_by_id,
        "placed": sum(1 for row in sessions if (row.slot_id, row.room_id) in grid),
        "fields": HANDLUNGSFELDER, "field_labels": FIELD_LABELS, "local": local, "rich": rich,
        "meeting_url": _meeting_url(camp),
        "can_moderate": v.can(MODERATE), "can_propose": v.can(PROPOSE), "can_interest": v.can(INTEREST),
    }


def _host_names(board: dict[str, Any], row: BarcampSession) -> str:
    names = [board["people"][pid]["name"] for pid in board["hosts"][row.id] if pid in board["people"]]
    if row.co_hosts:
        names.append(row.co_hosts)
    return ", ".join(names)


def _form_hosts(form: Any, default: list[int]) -> list[int]:
    """Host ids to show as chosen: what was sent (after an error), else ``default``."""
    if form is None or not hasattr(form, "getlist"):
        return default
    return [int(x) for x in form.getlist("hosts") if _digits(x)]


def _render_detail(v: Viewer, camp: Barcamp, *, error: str | None = None, form: Any = None, status: int = 200) -> Any:
    s = db_session()
    board = _board(s, v, camp)
    return render("workspaces/barcamp/detail.html", v, error=error, form=form or {}, members=_members(s, v),
                  form_hosts=_form_hosts(form, [v.person.id]),
                  host_names=lambda row: _host_names(board, row), **board), status


def _render_plan(v: Viewer, camp: Barcamp, *, error: str | None = None, status: int = 200) -> Any:
    s = db_session()
    board = _board(s, v, camp)
    ids = {row.id for row in board["sessions"]}

    def _ids(name: str) -> list[int]:
        raw = request.args.get(name, "")
        return [int(x) for x in raw.split(",") if _digits(x) and int(x) in ids]

    report = None
    if "placed" in request.args:
        placed = request.args.get("placed", "0")
        report = {"placed": placed if _digits(placed) else "0",
                  "left": [(i, REASONS[scheduling.HOST_CLASH]) for i in _ids("clash")]
                  + [(i, REASONS[scheduling.NO_CELL]) for i in _ids("full")]}
    by_id = {row.id: row for row in board["sessions"]}
    return render("workspaces/barcamp/plan.html", v, error=error, report=report, by_id=by_id,
                  host_names=lambda row: _host_names(board, row), **board), status


def _render_session(v: Viewer, camp: Barcamp, row: BarcampSession, *, error: str | None = None,
                    form: Any = None, status: int = 200) -> Any:
    s = db_session()
    board = _board(s, v, camp)
    slot = board["slot_by_id"].get(row.slot_id) if row.slot_id else None
    room = board["room_by_id"].get(row.room_id) if row.room_id else None
    values = form if form is not None and "title" in form else {
        "title": row.title, "description": row.description, "co_hosts": row.co_hosts,
        "handlungsfeld": row.handlungsfeld or ""}
    notes_form = form if form is not None and "notes" in form else {}
    return render("workspaces/barcamp/session.html", v, row=row, error=error, form=notes_form, values=values,
                  form_hosts=_form_hosts(values if values is form else None, board["hosts"][row.id]),
                  members=_members(s, v), cell_label=_cell_label(slot, room) if slot and room else None,
                  may_edit=_may_edit(s, v, row), may_document=_may_document(s, v, row),
                  host_names=lambda r: _host_names(board, r), **board), status


# -- validation --------------------------------------------------------------------------


def _camp_fields(form: Any, network_id: int) -> dict[str, Any]:
    title = plain(form.get("title"), field=_("Title"), max_length=200)
    location = plain(form.get("location"), field=_("Place"), max_length=255, required=False)
    try:
        day = date.fromisoformat((form.get("day") or "").strip())
    except ValueError:
        raise BarcampError(_("Please enter the date of the barcamp (YYYY-MM-DD).")) from None
    raw_meeting = (form.get("meeting_id") or "").strip()
    meeting_id = None
    if raw_meeting:
        meeting_id = _int(raw_meeting, _("Network meeting number"))
        if meeting_id <= 0:
            raise BarcampError(_("The network meeting number must be positive."))
        from lti_tool.workspaces.meetings.models import Meeting

        meeting = db_session().get(Meeting, meeting_id)
        if meeting is None or meeting.network_id != network_id:
            raise BarcampError(_("There is no such meeting in this network."))
    return {"title": title, "location": location, "day": day, "meeting_id": meeting_id}


def _room_fields(s: DbSession, camp: Barcamp, form: Any, room_id: int | None = None) -> tuple[str, int]:
    name = plain(form.get("name"), field=_("Room"), max_length=120)
    capacity = _int(form.get("capacity"), _("Capacity"))
    if not 1 <= capacity <= MAX_CAPACITY:
        raise BarcampError(_("The capacity must be between 1 and %(n)d.", n=MAX_CAPACITY))
    clash = s.scalar(select(BarcampRoom.id).where(BarcampRoom.barcamp_id == camp.id, BarcampRoom.name == name,
                                                  BarcampRoom.id != (room_id or 0)))
    if clash is not None:
        raise BarcampError(_("There is already a room with this name."))
    return name, capacity


def _slot_fields(s: DbSession, camp: Barcamp, form: Any, slot_id: int | None = None) -> tuple[time, time, str]:
    try:
        starts = time.fromisoformat((form.get("starts") or "").strip())
        ends = time.fromisoformat((form.get("ends") or "").strip())
    except ValueError:
        raise BarcampError(_("Please enter start and end as times (HH:MM).")) from None
    if ends <= starts:
        raise BarcampError(_("A time slot must end after it starts."))
    label = plain(form.get("label"), field=_("Label"), max_length=120, required=False)
    for other in _slots(s, camp):
        if other.id != slot_id and other.starts < ends and starts < other.ends:
            raise BarcampError(_("This time slot overlaps with %(other)s.",
                                 other=f"{other.starts:%H:%M}–{other.ends:%H:%M}"))
    return starts, ends, label


def _session_fields(s: DbSession, v: Viewer, form: Any) -> dict[str, Any]:
    title = plain(form.get("title"), field=_("Title"), max_length=200)
    description = rich_input(form.get("description"))
    co_hosts = plain(form.get("co_hosts"), field=_("Further hosts"), max_length=255, required=False)
    feld = (form.get("handlungsfeld") or "").strip() or None
    if feld is not None and feld not in HANDLUNGSFELD_KEYS:
        raise BarcampError(_("Please choose a Handlungsfeld from the list."))
    member_ids = {m["id"] for m in _members(s, v)}
    hosts: list[int] = []
    for raw in form.getlist("hosts"):
        pid = _int(raw, _("Hosts"))
        if pid not in member_ids:
            raise BarcampError(_("Hosts must be members of the network."))
        if pid not in hosts:
            hosts.append(pid)
    if not hosts:
        raise BarcampError(_("Please choose at least one host from the network."))
    if not v.can(MODERATE) and v.person.id not in hosts:
        raise BarcampError(_("You remain a host of your own proposal; a moderator can hand it over."))
    return {"title": title, "description": description, "co_hosts": co_hosts, "handlungsfeld": feld,
            "hosts": hosts}


def _check_cell(s: DbSession, camp: Barcamp, row: BarcampSession, slot_id: int, room_id: int,
                hosts: list[int] | None = None) -> None:
    """A placement is valid: cell of this barcamp, free, and no host twice in the slot."""
    slot, room = s.get(BarcampSlot, slot_id), s.get(BarcampRoom, room_id)
    if slot is None or room is None or slot.barcamp_id != camp.id or room.barcamp_id != camp.id:
        raise BarcampError(_("This room or time slot does not belong to this barcamp."))
    occupant = s.scalar(select(BarcampSession).where(BarcampSession.slot_id == slot_id,
                                                     BarcampSession.room_id == room_id,
                                                     BarcampSession.id != row.id))
    if occupant is not None:
        raise BarcampError(_("%(room)s is already taken at this time by \"%(title)s\".",
                             room=room.name, title=occupant.title))
    mine = set(hosts if hosts is not None else _hosts(s, [row.id])[row.id])
    others = s.execute(
        select(BarcampSession.title, BarcampHost.person_id, Person.display_name)
        .join(BarcampHost, BarcampHost.session_id == BarcampSession.id)
        .join(Person, Person.id == BarcampHost.person_id)
        .where(BarcampSession.slot_id == slot_id, BarcampSession.room_id.is_not(None),
               BarcampSession.id != row.id, BarcampHost.person_id.in_(mine or {0}))
        .order_by(BarcampSession.id)
    ).first()
    if others is not None:
        raise BarcampError(_("%(name)s already hosts \"%(title)s\" in this time slot.",
                             name=others.display_name or "–", title=others.title))


def _set_hosts(s: DbSession, row: BarcampSession, hosts: list[int]) -> None:
    s.execute(delete(BarcampHost).where(BarcampHost.session_id == row.id, BarcampHost.person_id.not_in(hosts)))
    present = set(s.scalars(select(BarcampHost.person_id).where(BarcampHost.session_id == row.id)))
    for pid in hosts:
        if pid not in present:
            s.add(BarcampHost(session_id=row.id, person_id=pid))


def _unplace(s: DbSession, where: Any) -> None:
    s.execute(update(BarcampSession).where(where).values(slot_id=None, room_id=None, locked=False))
    s.flush()


def _url(camp: Barcamp, row: BarcampSession | None = None) -> str:
    base = f"/w/{camp.network_id}/barcamp/{camp.id}"
    return f"{base}/sessions/{row.id}" if row is not None else base


# -- barcamps ------------------------------------------------------------------------------


@bp.get("/<int:network_id>/barcamp")
def barcamp(network_id: int) -> Any:
    v = viewer(network_id, VIEW)
    return _render_list(v)


def _render_list(v: Viewer, *, error: str | None = None, form: Any = None, status: int = 200) -> Any:
    s = db_session()
    camps = list(s.scalars(select(Barcamp).where(Barcamp.network_id == v.network.id)
                           .order_by(Barcamp.day.desc(), Barcamp.id.desc())))
    counts = dict(s.execute(select(BarcampSession.barcamp_id, func.count()).where(
        BarcampSession.barcamp_id.in_([c.id for c in camps] or [0])).group_by(BarcampSession.barcamp_id)).all())
    return render("workspaces/barcamp/list.html", v, camps=camps, counts=counts, today=date.today(),
                  can_moderate=v.can(MODERATE), error=error, form=form or {}, local=local), status


@bp.post("/<int:network_id>/barcamp")
def barcamp_create(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MODERATE)
    s = db_session()
    try:
        fields = _camp_fields(request.form, network_id)
    except (TextError, BarcampError) as exc:
        return _render_list(v, error=str(exc), form=request.form, status=400)
    camp = Barcamp(network_id=network_id, created_by=v.person.id, **fields)
    s.add(camp)
    s.flush()
    activity.record(network_id, v.person.id, "barcamp.created", camp.title, _url(camp))
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_plan", network_id=network_id, barcamp_id=camp.id), code=303)


@bp.get("/<int:network_id>/barcamp/<int:barcamp_id>")
def barcamp_detail(network_id: int, barcamp_id: int) -> Any:
    v = viewer(network_id, VIEW)
    return _render_detail(v, _barcamp(v, barcamp_id))


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/settings")
def barcamp_update(network_id: int, barcamp_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    try:
        fields = _camp_fields(request.form, network_id)
    except (TextError, BarcampError) as exc:
        return _render_plan(v, camp, error=str(exc), status=400)
    for key, value in fields.items():
        setattr(camp, key, value)
    db_session().commit()
    return redirect(web.lurl("workspaces.barcamp_plan", network_id=network_id, barcamp_id=camp.id), code=303)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/delete")
def barcamp_delete(network_id: int, barcamp_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    if request.form.get("confirm") != "yes":
        return _render_plan(v, camp, error=_("Please confirm that the barcamp and all its sessions are deleted."),
                            status=400)
    s = db_session()
    ids = select(BarcampSession.id).where(BarcampSession.barcamp_id == camp.id)
    s.execute(delete(BarcampInterest).where(BarcampInterest.session_id.in_(ids)))
    s.execute(delete(BarcampHost).where(BarcampHost.session_id.in_(ids)))
    s.execute(delete(BarcampSession).where(BarcampSession.barcamp_id == camp.id))
    s.execute(delete(BarcampSlot).where(BarcampSlot.barcamp_id == camp.id))
    s.execute(delete(BarcampRoom).where(BarcampRoom.barcamp_id == camp.id))
    s.delete(camp)
    s.commit()
    return redirect(web.lurl("workspaces.barcamp", network_id=network_id), code=303)


# -- rooms and slots (moderators) ------------------------------------------------------------


@bp.get("/<int:network_id>/barcamp/<int:barcamp_id>/plan")
def barcamp_plan(network_id: int, barcamp_id: int) -> Any:
    v = viewer(network_id, MODERATE)
    return _render_plan(v, _barcamp(v, barcamp_id))


def _back_to_plan(camp: Barcamp, anchor: str = "") -> Any:
    return redirect(web.lurl("workspaces.barcamp_plan", network_id=camp.network_id, barcamp_id=camp.id,
                             _anchor=anchor or None), code=303)


def _add_grid_part(network_id: int, barcamp_id: int, model: Any, read: Any, names: tuple[str, ...],
                   anchor: str) -> Any:
    """Add a room or a time slot to a barcamp's grid (moderators)."""
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    s = db_session()
    try:
        values = read(s, camp, request.form)
    except (TextError, BarcampError) as exc:
        return _render_plan(v, camp, error=str(exc), status=400)
    s.add(model(barcamp_id=camp.id, **dict(zip(names, values, strict=True))))
    s.commit()
    return _back_to_plan(camp, anchor)


def _change_grid_part(network_id: int, barcamp_id: int, load: Any, read: Any, names: tuple[str, ...],
                      column: Any, anchor: str, part_id: int) -> Any:
    """Save or delete a room or a time slot; deleting takes its sessions back out of the grid."""
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    row = load(camp, part_id)
    s = db_session()
    if request.form.get("action") == "delete":
        _unplace(s, column == row.id)  # its sessions go back to the unplaced ones
        s.delete(row)
    else:
        try:
            values = read(s, camp, request.form, row.id)
        except (TextError, BarcampError) as exc:
            s.rollback()
            return _render_plan(v, camp, error=str(exc), status=400)
        for name, value in zip(names, values, strict=True):
            setattr(row, name, value)
    s.commit()
    return _back_to_plan(camp, anchor)


ROOM_FIELDS = ("name", "capacity")
SLOT_FIELDS = ("starts", "ends", "label")


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/rooms")
def barcamp_room_add(network_id: int, barcamp_id: int) -> Any:
    return _add_grid_part(network_id, barcamp_id, BarcampRoom, _room_fields, ROOM_FIELDS, "rooms-h")


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/rooms/<int:room_id>")
def barcamp_room_update(network_id: int, barcamp_id: int, room_id: int) -> Any:
    return _change_grid_part(network_id, barcamp_id, _room, _room_fields, ROOM_FIELDS,
                             BarcampSession.room_id, "rooms-h", room_id)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/slots")
def barcamp_slot_add(network_id: int, barcamp_id: int) -> Any:
    return _add_grid_part(network_id, barcamp_id, BarcampSlot, _slot_fields, SLOT_FIELDS, "slots-h")


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/slots/<int:slot_id>")
def barcamp_slot_update(network_id: int, barcamp_id: int, slot_id: int) -> Any:
    return _change_grid_part(network_id, barcamp_id, _slot, _slot_fields, SLOT_FIELDS,
                             BarcampSession.slot_id, "slots-h", slot_id)


# -- proposals -------------------------------------------------------------------------------


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions")
def barcamp_propose(network_id: int, barcamp_id: int) -> Any:
    post_guard()
    v = viewer(network_id, PROPOSE)
    camp = _barcamp(v, barcamp_id)
    s = db_session()
    try:
        fields = _session_fields(s, v, request.form)
    except (TextError, BarcampError) as exc:
        return _render_detail(v, camp, error=str(exc), form=request.form, status=400)
    hosts = fields.pop("hosts")
    row = BarcampSession(barcamp_id=camp.id, proposed_by=v.person.id, **fields)
    s.add(row)
    s.flush()
    _set_hosts(s, row, hosts)
    activity.record(network_id, v.person.id, "barcamp.session", row.title, _url(camp, row))
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_detail", network_id=network_id, barcamp_id=camp.id,
                             _anchor=f"session-{row.id}"), code=303)


@bp.get("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>")
def barcamp_session(network_id: int, barcamp_id: int, session_id: int) -> Any:
    v = viewer(network_id, VIEW)
    camp = _barcamp(v, barcamp_id)
    return _render_session(v, camp, _session(camp, session_id))


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>")
def barcamp_session_update(network_id: int, barcamp_id: int, session_id: int) -> Any:
    post_guard()
    v = viewer(network_id, PROPOSE)
    camp = _barcamp(v, barcamp_id)
    row = _session(camp, session_id)
    s = db_session()
    if not _may_edit(s, v, row):
        abort(403, description=_("Only the hosts of this session and the moderators may change it."))
    try:
        fields = _session_fields(s, v, request.form)
        if row.slot_id and row.room_id:
            _check_cell(s, camp, row, row.slot_id, row.room_id, hosts=fields["hosts"])
    except (TextError, BarcampError) as exc:
        return _render_session(v, camp, row, error=str(exc), form=request.form, status=400)
    _set_hosts(s, row, fields.pop("hosts"))
    for key, value in fields.items():
        setattr(row, key, value)
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_session", network_id=network_id, barcamp_id=camp.id,
                             session_id=row.id), code=303)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>/withdraw")
def barcamp_session_withdraw(network_id: int, barcamp_id: int, session_id: int) -> Any:
    post_guard()
    v = viewer(network_id, PROPOSE)
    camp = _barcamp(v, barcamp_id)
    row = _session(camp, session_id)
    s = db_session()
    if not _may_edit(s, v, row):
        abort(403, description=_("Only the hosts of this session and the moderators may withdraw it."))
    if request.form.get("confirm") != "yes":
        return _render_session(v, camp, row, error=_("Please confirm that you want to withdraw the session."),
                               status=400)
    s.execute(delete(BarcampInterest).where(BarcampInterest.session_id == row.id))
    s.execute(delete(BarcampHost).where(BarcampHost.session_id == row.id))
    s.delete(row)
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_detail", network_id=network_id, barcamp_id=camp.id), code=303)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>/interest")
def barcamp_interest(network_id: int, barcamp_id: int, session_id: int) -> Any:
    post_guard()
    v = viewer(network_id, INTEREST)
    camp = _barcamp(v, barcamp_id)
    row = _session(camp, session_id)
    s = db_session()
    mark = s.scalar(select(BarcampInterest).where(BarcampInterest.session_id == row.id,
                                                  BarcampInterest.person_id == v.person.id))
    wanted = request.form.get("interested")
    if wanted not in ("0", "1"):  # a plain toggle unless the form says which state it wants
        wanted = "0" if mark is not None else "1"
    if wanted == "1" and mark is None:
        s.add(BarcampInterest(session_id=row.id, person_id=v.person.id))
    elif wanted == "0" and mark is not None:
        s.delete(mark)
    try:
        s.commit()
    except IntegrityError:  # a double click raced us: the mark exists, which is what was asked
        s.rollback()
    if request.form.get("back") == "session":
        return redirect(web.lurl("workspaces.barcamp_session", network_id=network_id, barcamp_id=camp.id,
                                 session_id=row.id), code=303)
    return redirect(web.lurl("workspaces.barcamp_detail", network_id=network_id, barcamp_id=camp.id,
                             _anchor=f"session-{row.id}"), code=303)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>/notes")
def barcamp_notes(network_id: int, barcamp_id: int, session_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    camp = _barcamp(v, barcamp_id)
    row = _session(camp, session_id)
    s = db_session()
    if not _may_document(s, v, row):
        abort(403, description=_("Only the hosts of this session and the moderators document it."))
    try:
        notes = rich_input(request.form.get("notes"), max_length=50000)
        link = (request.form.get("material_url") or "").strip()
        if link:
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 2048 or " " in link:
                raise BarcampError(_("The material link must be a web address starting with https:// or http://."))
    except (TextError, BarcampError) as exc:
        return _render_session(v, camp, row, error=str(exc), form=request.form, status=400)
    first = not row.notes and bool(notes)
    row.notes, row.material_url = notes, link
    if first:
        activity.record(network_id, v.person.id, "barcamp.notes", row.title, _url(camp, row))
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_session", network_id=network_id, barcamp_id=camp.id,
                             session_id=row.id, _anchor="notes-h"), code=303)


# -- the grid (moderators) -----------------------------------------------------------------


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/sessions/<int:session_id>/place")
def barcamp_place(network_id: int, barcamp_id: int, session_id: int) -> Any:
    """Place a session in a cell ("<slot id>-<room id>") or take it out of the grid ("")."""
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    row = _session(camp, session_id)
    s = db_session()
    cell = (request.form.get("cell") or "").strip()
    locked = request.form.get("locked") in ("1", "on", "yes")
    try:
        if cell:
            match = re.fullmatch(r"(\d{1,12})-(\d{1,12})", cell)
            if match is None:
                raise BarcampError(_("Please choose a cell from the list."))
            slot_id, room_id = int(match.group(1)), int(match.group(2))
            _check_cell(s, camp, row, slot_id, room_id)
            row.slot_id, row.room_id, row.locked = slot_id, room_id, locked
        else:
            row.slot_id, row.room_id, row.locked = None, None, False
        s.commit()
    except IntegrityError:  # another moderator took the cell a moment ago
        s.rollback()
        exc: Exception = BarcampError(_("This cell was taken a moment ago. Please choose another one."))
    except BarcampError as err:
        s.rollback()
        exc = err
    else:
        if _wants_json():
            return jsonify(ok=True, session=row.id, cell=cell, locked=row.locked)
        return _back_to_plan(camp, f"place-{row.id}")
    if _wants_json():
        return jsonify(ok=False, session=row.id, error=str(exc)), 400
    return _render_plan(v, camp, error=str(exc), status=400)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/schedule/auto")
def barcamp_schedule_auto(network_id: int, barcamp_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    s = db_session()
    replace = request.form.get("replace") in ("1", "on", "yes")
    rooms, slots, sessions = _rooms(s, camp), _slots(s, camp), _sessions(s, camp)
    if not rooms or not slots:
        return _render_plan(v, camp, error=_("Add at least one room and one time slot first."), status=400)
    ids = [row.id for row in sessions]
    hosts, interest = _hosts(s, ids), _interest(s, ids)
    result = scheduling.schedule(
        [sl.id for sl in slots],
        [scheduling.Room(r.id, r.capacity) for r in rooms],
        [scheduling.Session(row.id, frozenset(hosts[row.id]), interest[row.id],
                            (row.slot_id, row.room_id) if row.slot_id and row.room_id else None, row.locked)
         for row in sessions],
        replace=replace,
    )
    changed = [row for row in sessions if result.cells.get(row.id) != (
        (row.slot_id, row.room_id) if row.slot_id and row.room_id else None)]
    for row in changed:  # clear first, so no cell is held twice between statements
        row.slot_id, row.room_id = None, None
    s.flush()
    for row in changed:
        cell = result.cells.get(row.id)
        row.slot_id, row.room_id = cell if cell else (None, None)
        if cell is None:
            row.locked = False
    s.commit()
    clash = ",".join(str(u.session_id) for u in result.unplaced if u.reason == scheduling.HOST_CLASH)
    full = ",".join(str(u.session_id) for u in result.unplaced if u.reason == scheduling.NO_CELL)
    return redirect(web.lurl("workspaces.barcamp_plan", network_id=network_id, barcamp_id=camp.id,
                             placed=len(result.cells), clash=clash or None, full=full or None,
                             _anchor="auto-h"), code=303)


@bp.post("/<int:network_id>/barcamp/<int:barcamp_id>/schedule/publish")
def barcamp_publish(network_id: int, barcamp_id: int) -> Any:
    post_guard()
    v = viewer(network_id, MODERATE)
    camp = _barcamp(v, barcamp_id)
    s = db_session()
    placed = s.scalar(select(func.count()).select_from(BarcampSession).where(
        BarcampSession.barcamp_id == camp.id, BarcampSession.slot_id.is_not(None),
        BarcampSession.room_id.is_not(None)))
    if not placed:
        return _render_plan(v, camp, error=_("Place at least one session before publishing the schedule."),
                            status=400)
    camp.published_at = utcnow()
    activity.record(network_id, v.person.id, "barcamp.schedule", camp.title, _url(camp))
    s.commit()
    return redirect(web.lurl("workspaces.barcamp_detail", network_id=network_id, barcamp_id=camp.id,
                             _anchor="grid-h"), code=303)


@bp.get("/<int:network_id>/barcamp/<int:barcamp_id>/projector")
def barcamp_projector(network_id: int, barcamp_id: int) -> Any:
    v = viewer(network_id, VIEW)
    camp = _barcamp(v, barcamp_id)
    s = db_session()
    board = _board(s, v, camp)
    still = request.args.get("still") == "1"
    return render("workspaces/barcamp/projector.html", v, refresh=not still, still=still, now=local(utcnow()),
                  host_names=lambda row: _host_names(board, row), **board)


# -- "my open tasks" on the overview ------------------------------------------------------


def open_items(v: Viewer) -> list[dict[str, Any]]:
    """Sessions the person hosted at a past barcamp and has not documented yet."""
    s = db_session()
    rows = s.execute(
        select(BarcampSession, Barcamp).join(Barcamp, Barcamp.id == BarcampSession.barcamp_id)
        .join(BarcampHost, BarcampHost.session_id == BarcampSession.id)
        .where(Barcamp.network_id == v.network.id, BarcampHost.person_id == v.person.id,
               Barcamp.day < date.today(), BarcampSession.notes == "",
               BarcampSession.slot_id.is_not(None), BarcampSession.room_id.is_not(None))
        .order_by(Barcamp.day, BarcampSession.id)
    ).all()
    return [{"title": _("Document your barcamp session: %(title)s", title=row.title),
             "url": web.lurl("workspaces.barcamp_session", network_id=v.network.id, barcamp_id=camp.id,
                             session_id=row.id, _anchor="notes-h"), "due": None}
            for row, camp in rows]


OPEN_ITEMS.append(open_items)
