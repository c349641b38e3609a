"""Pages of the Zukunftswerkstatt board: Bestandsaufnahme, Utopiephase, Umsetzungsphase.

Permissions (``roles.PERMISSIONS`` plus the object rules below):

- ``board.view``  – see the board and goal pages (school-internal notes only
  with ``Viewer.sees_school``).
- ``board.write`` – add notes; update the status of measures one owns; the
  route permission of the measure routes.
- ``board.goals`` – create goals; edit/delete goals, indicators and measures
  (see ``may_edit_goal``).

Object rules the matrix lacks (kept here, see ``may_*``):

- a note is edited or deleted by its author or a network manager;
- a school-bound note or goal is created (or moved to a school) only by that
  school's members or the network managers;
- a goal (its indicators and measures) is edited by ``board.goals`` holders of
  its school, or by any ``board.goals`` holder when it is network-wide, and by
  the managers;
- a measure's status is set by its owner or by whoever may edit its goal;
- measure owners are members whose role has ``board.write`` and, for a
  school-bound goal, who belong to that school (or manage the network);
- the CSV export is for ``board.export`` (managers and school leaders).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, NoReturn

from flask import Response, abort, redirect, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lti_tool import web
from lti_tool.db import db_session
from lti_tool.workspaces import activity, bp
from lti_tool.workspaces.access import Viewer, school_of, viewer
from lti_tool.workspaces.board.models import (
    MEASURE_STATUSES,
    PHASE_BESTAND,
    PHASE_UTOPIE,
    SOURCE_MANUAL,
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_OPEN,
    BoardGoal,
    BoardIndicator,
    BoardMeasure,
    BoardNote,
)
from lti_tool.workspaces.models import MemberSchool, NetworkMember, Person
from lti_tool.workspaces.roles import HANDLUNGSFELD_KEYS, HANDLUNGSFELDER, LABELS, MANAGER, PERMISSIONS
from lti_tool.workspaces.text import TextError, clean_html, plain, rich
from lti_tool.workspaces.views import OPEN_ITEMS, post_guard, render

#: Who may download the goals as CSV (proposed matrix entry "board.export").
#: Roles that may own a measure: those who can update it themselves.
OWNER_ROLES = PERMISSIONS["board.write"]

HF_LABELS = dict(HANDLUNGSFELDER)
STATUS_LABELS = {
    STATUS_OPEN: _l("open"),
    STATUS_IN_PROGRESS: _l("in progress"),
    STATUS_DONE: _l("done"),
}
PHASE_LABELS = {PHASE_BESTAND: _l("Bestandsaufnahme"), PHASE_UTOPIE: _l("Utopiephase")}
SOURCE_LABELS = {SOURCE_MANUAL: _l("entered by hand")}
MAX_BODY = 20000
#: text that looks like markup ("<p>", "</b>", "<!--"); anything else is typed text
MARKUP = re.compile(r"<[A-Za-z/!]")
MAX_INDICATORS = 20
MAX_MEASURES = 50


class BoardError(ValueError):
    """Invalid form input; the message is for the user (answered with 400)."""


# -- rules ------------------------------------------------------------------------------


def may_use_school(v: Viewer, school_id: int | None) -> bool:
    """School-bound items are created by that school's members or the managers."""
    return school_id is None or v.is_manager or v.school_id == school_id


def may_see_note(v: Viewer, note: BoardNote) -> bool:
    return not note.internal or v.sees_school(note.school_id)


def may_edit_note(v: Viewer, note: BoardNote) -> bool:
    return v.can("board.write") and (v.is_manager or note.author_id == v.person.id)


def may_edit_goal(v: Viewer, goal: BoardGoal) -> bool:
    return v.can("board.goals") and may_use_school(v, goal.school_id)


def may_set_status(v: Viewer, measure: BoardMeasure) -> bool:
    return v.can("board.write") and (measure.owner_id == v.person.id or may_edit_goal(v, measure.goal))


def may_export(v: Viewer) -> bool:
    return v.can("board.export")


# -- loading (always within the viewer's network) ------------------------------------------


def _note(v: Viewer, note_id: int) -> BoardNote:
    note = db_session().get(BoardNote, note_id)
    if note is None or note.network_id != v.network.id or not may_see_note(v, note):
        abort(404, description=_("This note does not exist."))
    return note


def _goal(v: Viewer, goal_id: int) -> BoardGoal:
    goal = db_session().get(BoardGoal, goal_id)
    if goal is None or goal.network_id != v.network.id:
        abort(404, description=_("This goal does not exist."))
    return goal


def _measure(v: Viewer, measure_id: int) -> BoardMeasure:
    measure = db_session().get(BoardMeasure, measure_id)
    if measure is None or measure.goal.network_id != v.network.id:
        abort(404, description=_("This measure does not exist."))
    return measure


def _indicator(v: Viewer, indicator_id: int) -> BoardIndicator:
    ind = db_session().get(BoardIndicator, indicator_id)
    if ind is None or ind.goal.network_id != v.network.id:
        abort(404, description=_("This indicator does not exist."))
    return ind


def _deny(message: str) -> NoReturn:
    abort(403, description=message)


# -- form input ---------------------------------------------------------------------------


def _text(raw: str | None, field: str, *, max_length: int = 255, required: bool = True) -> str:
    try:
        return plain(raw, field=field, max_length=max_length, required=required)
    except TextError as exc:
        raise BoardError(str(exc)) from exc


def _rich(raw: str | None) -> str:
    """Sanitised rich text; text typed without any markup keeps its paragraphs and line breaks."""
    value = (raw or "").strip().replace("\r\n", "\n")
    if len(value) > MAX_BODY:
        raise BoardError(_("The text is too long (at most %(n)d characters).", n=MAX_BODY))
    if value and not MARKUP.search(value):
        paragraphs = [p.strip() for p in value.split("\n\n") if p.strip()]
        value = "".join(str(escape(p)).replace("\n", "<br>").join(("<p>", "</p>")) for p in paragraphs)
    try:
        return clean_html(value, max_length=3 * MAX_BODY)
    except TextError as exc:
        raise BoardError(str(exc)) from exc


def as_input(stored: str | None) -> str:
    """Stored rich text for a textarea: plain paragraphs go back to plain text."""
    value = stored or ""
    if not re.fullmatch(r"(<p>(?:(?!</?p>).)*</p>)*", value, flags=re.S) or re.search(r"<(?!/?p>|br>)", value):
        return value
    paragraphs = re.findall(r"<p>(.*?)</p>", value, flags=re.S)
    return "\n\n".join(html.unescape(p.replace("<br>", "\n")) for p in paragraphs)


def _handlungsfeld(raw: str | None, *, required: bool) -> str | None:
    value = (raw or "").strip()
    if not value:
        if required:
            raise BoardError(_("Please choose a Handlungsfeld."))
        return None
    if value not in HANDLUNGSFELD_KEYS:
        raise BoardError(_("Unknown Handlungsfeld."))
    return value


def _school_id(v: Viewer, raw: str | None, *, required: bool) -> int | None:
    value = (raw or "").strip()
    if not value:
        if required:
            raise BoardError(_("Please choose the school."))
        return None
    if not value.isdigit():
        raise BoardError(_("Unknown school."))
    return school_of(v, int(value)).id  # 404 for a school of another network


def _due(raw: str | None) -> date | None:
    value = (raw or "").strip()
    if not value:
        return None
    parsed: date | None = None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parts = value.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                parsed = date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                parsed = None
    if parsed is None or not 2000 <= parsed.year <= 2100:
        raise BoardError(_("Please enter the due date as a date, e.g. 2027-03-31."))
    return parsed


def _owner(v: Viewer, raw: str | None, goal: BoardGoal) -> int:
    value = (raw or "").strip()
    if not value.isdigit():
        raise BoardError(_("Please choose who owns the measure."))
    if int(value) not in {p.id for p, _m in owner_choices(v, goal)}:
        raise BoardError(_("The owner must be a member of the network who may work on this goal."))
    return int(value)


def _checked(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "on", "yes", "true")


# -- shared page data ------------------------------------------------------------------------


def _people(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db_session().execute(select(Person.id, Person.display_name).where(Person.id.in_(wanted))).all()
    return {pid: name or "–" for pid, name in rows}


def owner_choices(v: Viewer, goal: BoardGoal) -> list[tuple[Person, NetworkMember]]:
    """Members who may own a measure of ``goal``."""
    rows = db_session().execute(
        select(Person, NetworkMember).join(NetworkMember, NetworkMember.person_id == Person.id)
        .where(NetworkMember.network_id == v.network.id, NetworkMember.role.in_(OWNER_ROLES))
        .order_by(Person.display_name, Person.id)
    ).all()
    return [(p, m) for p, m in rows
            if goal.school_id is None or m.role == MANAGER or m.school_id == goal.school_id]


def _fdate(d: date | None) -> str:
    return format_date(d) if d else ""


def _filters(v: Viewer) -> dict[str, Any]:
    """``?school=<id>|network`` and ``?hf=<key>``; unknown values are refused."""
    school_raw = (request.args.get("school") or "").strip()
    hf = (request.args.get("hf") or "").strip() or None
    if hf is not None and hf not in HANDLUNGSFELD_KEYS:
        abort(400, description=_("Unknown Handlungsfeld."))
    school: int | str | None = None
    if school_raw == "network":
        school = "network"
    elif school_raw:
        if not school_raw.isdigit():
            abort(400, description=_("Unknown school."))
        school = school_of(v, int(school_raw)).id
    return {"school": school, "hf": hf}


def _goals_query(v: Viewer, flt: dict[str, Any]) -> list[BoardGoal]:
    q = (select(BoardGoal).where(BoardGoal.network_id == v.network.id)
         .options(selectinload(BoardGoal.indicators), selectinload(BoardGoal.measures))
         .order_by(BoardGoal.created_at, BoardGoal.id))
    if flt["school"] == "network":
        q = q.where(BoardGoal.school_id.is_(None))
    elif flt["school"] is not None:
        q = q.where(BoardGoal.school_id == flt["school"])
    if flt["hf"]:
        q = q.where(BoardGoal.handlungsfeld == flt["hf"])
    return list(db_session().scalars(q))


def _board_page(v: Viewer, *, error: str | None = None, form: dict[str, str] | None = None,
                form_kind: str | None = None, status: int = 200) -> Any:
    s = db_session()
    flt = _filters(v) if request.method == "GET" else {"school": None, "hf": None}
    schools: list[MemberSchool] = list(v.network.schools)
    school_names = {sc.id: sc.name for sc in schools}

    notes = list(s.scalars(select(BoardNote).where(BoardNote.network_id == v.network.id)
                           .order_by(BoardNote.created_at, BoardNote.id)))
    notes = [n for n in notes if may_see_note(v, n)]
    if flt["hf"]:
        notes = [n for n in notes if n.handlungsfeld == flt["hf"]]
    bestand = [n for n in notes if n.phase == PHASE_BESTAND]
    if flt["school"] == "network":
        bestand = []
    elif flt["school"] is not None:
        bestand = [n for n in bestand if n.school_id == flt["school"]]
    bestand_by_school = [(sc, [n for n in bestand if n.school_id == sc.id]) for sc in schools]
    bestand_by_school = [(sc, ns) for sc, ns in bestand_by_school if ns]
    utopie = [n for n in notes if n.phase == PHASE_UTOPIE]

    goals = _goals_query(v, flt)
    goals_by_hf = [(key, label, [g for g in goals if g.handlungsfeld == key]) for key, label in HANDLUNGSFELDER]
    goals_by_hf = [row for row in goals_by_hf if row[2]]

    people = _people([n.author_id for n in notes] + [m.owner_id for g in goals for m in g.measures])
    note_schools = schools if v.is_manager else [sc for sc in schools if sc.id == v.school_id]
    return render(
        "workspaces/board/board.html", v,
        flt=flt, schools=schools, school_names=school_names, note_schools=note_schools,
        bestand_by_school=bestand_by_school, bestand_count=len(bestand), utopie=utopie,
        goals_by_hf=goals_by_hf, goal_count=len(goals), people=people,
        handlungsfelder=HANDLUNGSFELDER, hf_labels=HF_LABELS, status_labels=STATUS_LABELS,
        source_labels=SOURCE_LABELS, may_edit_note=lambda n: may_edit_note(v, n),
        may_edit_goal=lambda g: may_edit_goal(v, g), can_export=may_export(v),
        error=error, form=form or {}, form_kind=form_kind, fdate=_fdate, today=date.today(), rich=rich,
    ), status


def _goal_page(v: Viewer, goal: BoardGoal, *, error: str | None = None, form: dict[str, str] | None = None,
               form_kind: str | None = None, status: int = 200) -> Any:
    school_names = {sc.id: sc.name for sc in v.network.schools}
    editable = may_edit_goal(v, goal)
    owners = owner_choices(v, goal) if editable else []
    people = _people([m.owner_id for m in goal.measures] + [goal.created_by])
    return render(
        "workspaces/board/goal.html", v,
        goal=goal, school_names=school_names, editable=editable, owners=owners, people=people,
        hf_labels=HF_LABELS, status_labels=STATUS_LABELS, statuses=MEASURE_STATUSES,
        may_set_status=lambda m: may_set_status(v, m), role_of=_role_line(v, owners),
        error=error, form=form or {}, form_kind=form_kind, fdate=_fdate, today=date.today(), rich=rich,
        max_indicators=MAX_INDICATORS,
    ), status


def _role_line(v: Viewer, owners: list[tuple[Person, NetworkMember]]) -> dict[int, str]:
    names = {sc.id: sc.name for sc in v.network.schools}
    return {p.id: ", ".join(str(x) for x in (LABELS.get(m.role, m.role), names.get(m.school_id or 0)) if x)
            for p, m in owners}


# -- the board --------------------------------------------------------------------------------


@bp.get("/<int:network_id>/board")
def board(network_id: int) -> Any:
    v = viewer(network_id, "board.view")
    return _board_page(v)


@bp.post("/<int:network_id>/board/notes")
def board_note_create(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    s = db_session()
    phase = request.form.get("phase", "")
    if phase not in (PHASE_BESTAND, PHASE_UTOPIE):
        return _board_page(v, error=_("Unknown phase of the Zukunftswerkstatt."), status=400)
    try:
        title = _text(request.form.get("title"), _("Title"))
        body = _rich(request.form.get("body"))
        hf = _handlungsfeld(request.form.get("handlungsfeld"), required=False)
        school_id = _school_id(v, request.form.get("school_id"), required=True) if phase == PHASE_BESTAND else None
    except BoardError as exc:
        return _board_page(v, error=str(exc), form=dict(request.form), form_kind=phase, status=400)
    if not may_use_school(v, school_id):
        _deny(_("Only members of this school and the network managers can add notes for it."))
    internal = phase == PHASE_BESTAND and _checked(request.form.get("internal"))
    note = BoardNote(network_id=network_id, phase=phase, title=title, body=body, handlungsfeld=hf,
                     school_id=school_id, internal=internal, source=SOURCE_MANUAL, author_id=v.person.id)
    s.add(note)
    s.flush()
    activity.record(network_id, v.person.id, "board.note", title, f"/w/{network_id}/board#note-{note.id}",
                    audience=f"school:{school_id}" if internal else "network")
    s.commit()
    return redirect(web.lurl("workspaces.board", network_id=network_id, _anchor=f"note-{note.id}"), code=303)


def _note_editable(v: Viewer, note_id: int) -> BoardNote:
    note = _note(v, note_id)
    if not may_edit_note(v, note):
        _deny(_("Only the author of a note and the network managers can change it."))
    return note


def _note_form_page(v: Viewer, note: BoardNote, *, error: str | None = None,
                    form: dict[str, str] | None = None, status: int = 200) -> Any:
    schools = [sc for sc in v.network.schools if v.is_manager or sc.id == v.school_id or sc.id == note.school_id]
    return render("workspaces/board/note_edit.html", v, note=note, as_input=as_input, schools=schools, handlungsfelder=HANDLUNGSFELDER,
                  phase_labels=PHASE_LABELS, error=error, form=form), status


@bp.get("/<int:network_id>/board/notes/<int:note_id>/edit")
def board_note_edit(network_id: int, note_id: int) -> Any:
    v = viewer(network_id, "board.write")
    note = _note_editable(v, note_id)
    return _note_form_page(v, note)


@bp.post("/<int:network_id>/board/notes/<int:note_id>/edit")
def board_note_update(network_id: int, note_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    note = _note_editable(v, note_id)
    try:
        title = _text(request.form.get("title"), _("Title"))
        body = _rich(request.form.get("body"))
        hf = _handlungsfeld(request.form.get("handlungsfeld"), required=False)
        school_id = (_school_id(v, request.form.get("school_id"), required=True)
                     if note.phase == PHASE_BESTAND else None)
    except BoardError as exc:
        return _note_form_page(v, note, error=str(exc), form=dict(request.form), status=400)
    if school_id != note.school_id and not may_use_school(v, school_id):
        _deny(_("Only members of this school and the network managers can add notes for it."))
    note.title, note.body, note.handlungsfeld, note.school_id = title, body, hf, school_id
    note.internal = note.phase == PHASE_BESTAND and _checked(request.form.get("internal"))
    db_session().commit()
    return redirect(web.lurl("workspaces.board", network_id=network_id, _anchor=f"note-{note.id}"), code=303)


@bp.post("/<int:network_id>/board/notes/<int:note_id>/delete")
def board_note_delete(network_id: int, note_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    note = _note_editable(v, note_id)
    s = db_session()
    s.delete(note)
    s.commit()
    return redirect(web.lurl("workspaces.board", network_id=network_id), code=303)


# -- goals ------------------------------------------------------------------------------------


def _goal_fields(v: Viewer) -> tuple[str, str, str, int | None]:
    title = _text(request.form.get("title"), _("Title"))
    description = _rich(request.form.get("description"))
    hf = _handlungsfeld(request.form.get("handlungsfeld"), required=True)
    school_id = _school_id(v, request.form.get("school_id"), required=False)
    assert hf is not None
    return title, description, hf, school_id


@bp.post("/<int:network_id>/board/goals")
def board_goal_create(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.goals")
    s = db_session()
    try:
        title, description, hf, school_id = _goal_fields(v)
        indicators = [_text(t, _("Indicator")) for t in request.form.get("indicators", "").splitlines() if t.strip()]
        if len(indicators) > MAX_INDICATORS:
            raise BoardError(_("A goal can have at most %(n)d indicators.", n=MAX_INDICATORS))
    except BoardError as exc:
        return _board_page(v, error=str(exc), form=dict(request.form), form_kind="goal", status=400)
    if not may_use_school(v, school_id):
        _deny(_("Only members of this school and the network managers can set goals for it."))
    goal = BoardGoal(network_id=network_id, title=title, description=description, handlungsfeld=hf,
                     school_id=school_id, created_by=v.person.id)
    goal.indicators = [BoardIndicator(text=t) for t in indicators]
    s.add(goal)
    s.flush()
    activity.record(network_id, v.person.id, "board.goal", title, f"/w/{network_id}/board/goals/{goal.id}")
    s.commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id), code=303)


@bp.get("/<int:network_id>/board/goals/<int:goal_id>")
def board_goal(network_id: int, goal_id: int) -> Any:
    v = viewer(network_id, "board.view")
    return _goal_page(v, _goal(v, goal_id))


def _goal_editable(v: Viewer, goal_id: int) -> BoardGoal:
    goal = _goal(v, goal_id)
    if not may_edit_goal(v, goal):
        _deny(_("Only this school's leaders and media coordinators and the network managers can change this goal."))
    return goal


def _goal_form_page(v: Viewer, goal: BoardGoal, *, error: str | None = None,
                    form: dict[str, str] | None = None, status: int = 200) -> Any:
    schools = [sc for sc in v.network.schools if v.is_manager or sc.id == v.school_id or sc.id == goal.school_id]
    return render("workspaces/board/goal_edit.html", v, goal=goal, as_input=as_input, schools=schools, handlungsfelder=HANDLUNGSFELDER,
                  error=error, form=form), status


@bp.get("/<int:network_id>/board/goals/<int:goal_id>/edit")
def board_goal_edit(network_id: int, goal_id: int) -> Any:
    v = viewer(network_id, "board.goals")
    return _goal_form_page(v, _goal_editable(v, goal_id))


@bp.post("/<int:network_id>/board/goals/<int:goal_id>/edit")
def board_goal_update(network_id: int, goal_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.goals")
    goal = _goal_editable(v, goal_id)
    try:
        title, description, hf, school_id = _goal_fields(v)
    except BoardError as exc:
        return _goal_form_page(v, goal, error=str(exc), form=dict(request.form), status=400)
    if school_id != goal.school_id and not may_use_school(v, school_id):
        _deny(_("Only members of this school and the network managers can set goals for it."))
    goal.title, goal.description, goal.handlungsfeld, goal.school_id = title, description, hf, school_id
    db_session().commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id), code=303)


@bp.post("/<int:network_id>/board/goals/<int:goal_id>/delete")
def board_goal_delete(network_id: int, goal_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.goals")
    goal = _goal_editable(v, goal_id)
    s = db_session()
    s.delete(goal)
    s.commit()
    return redirect(web.lurl("workspaces.board", network_id=network_id, _anchor="umsetzung-h"), code=303)


@bp.post("/<int:network_id>/board/goals/<int:goal_id>/indicators")
def board_indicator_add(network_id: int, goal_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.goals")
    goal = _goal_editable(v, goal_id)
    try:
        text = _text(request.form.get("text"), _("Indicator"))
        if len(goal.indicators) >= MAX_INDICATORS:
            raise BoardError(_("A goal can have at most %(n)d indicators.", n=MAX_INDICATORS))
    except BoardError as exc:
        return _goal_page(v, goal, error=str(exc), form=dict(request.form), form_kind="indicator", status=400)
    goal.indicators.append(BoardIndicator(text=text))
    db_session().commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id,
                             _anchor="indicators-h"), code=303)


@bp.post("/<int:network_id>/board/indicators/<int:indicator_id>/delete")
def board_indicator_delete(network_id: int, indicator_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.goals")
    ind = _indicator(v, indicator_id)
    goal = _goal_editable(v, ind.goal_id)
    s = db_session()
    s.delete(ind)
    s.commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id,
                             _anchor="indicators-h"), code=303)


# -- measures ----------------------------------------------------------------------------------


@bp.post("/<int:network_id>/board/goals/<int:goal_id>/measures")
def board_measure_add(network_id: int, goal_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    goal = _goal(v, goal_id)
    if not may_edit_goal(v, goal):
        _deny(_("Only this school's leaders and media coordinators and the network managers can plan measures for this goal."))
    try:
        title = _text(request.form.get("title"), _("Measure"))
        owner_id = _owner(v, request.form.get("owner_id"), goal)
        due = _due(request.form.get("due"))
        if len(goal.measures) >= MAX_MEASURES:
            raise BoardError(_("A goal can have at most %(n)d measures.", n=MAX_MEASURES))
    except BoardError as exc:
        return _goal_page(v, goal, error=str(exc), form=dict(request.form), form_kind="measure", status=400)
    measure = BoardMeasure(title=title, owner_id=owner_id, due=due, status=STATUS_OPEN)
    goal.measures.append(measure)
    s = db_session()
    s.flush()
    s.commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id,
                             _anchor=f"measure-{measure.id}"), code=303)


@bp.post("/<int:network_id>/board/measures/<int:measure_id>/status")
def board_measure_status(network_id: int, measure_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    measure = _measure(v, measure_id)
    goal = measure.goal
    if not may_set_status(v, measure):
        _deny(_("Only the owner of a measure and those who plan its goal can update it."))
    status = request.form.get("status", "")
    if status not in MEASURE_STATUSES:
        return _goal_page(v, goal, error=_("Unknown status."), status=400)
    if status != measure.status:
        measure.status = status
        activity.record(network_id, v.person.id, "board.measure",
                        f"{measure.title}: {STATUS_LABELS[status]}",
                        f"/w/{network_id}/board/goals/{goal.id}#measure-{measure.id}")
    db_session().commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id,
                             _anchor=f"measure-{measure.id}"), code=303)


@bp.post("/<int:network_id>/board/measures/<int:measure_id>/delete")
def board_measure_delete(network_id: int, measure_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "board.write")
    measure = _measure(v, measure_id)
    goal = measure.goal
    if not may_edit_goal(v, goal):
        _deny(_("Only this school's leaders and media coordinators and the network managers can plan measures for this goal."))
    s = db_session()
    s.delete(measure)
    s.commit()
    return redirect(web.lurl("workspaces.board_goal", network_id=network_id, goal_id=goal.id,
                             _anchor="measures-h"), code=303)


# -- export --------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """Spreadsheet-safe text: a leading = + - @ would start a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/<int:network_id>/board.csv")
def board_csv(network_id: int) -> Any:
    v = viewer(network_id, "board.view")
    if not may_export(v):
        _deny(_("Only the network managers and school leaders can export the goals."))
    flt = _filters(v)
    goals = _goals_query(v, flt)
    school_names = {sc.id: sc.name for sc in v.network.schools}
    people = _people(m.owner_id for g in goals for m in g.measures)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs then read UTF-8
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([_("Goal"), _("Handlungsfeld"), _("School"), _("Indicators"), _("Measures done"),
                _("Measures"), _("Progress (%)"), _("Measures (owner, due, status)")])
    for g in goals:
        measures = " | ".join(
            f"{m.title} ({people.get(m.owner_id or 0, '–')}, {m.due.isoformat() if m.due else '–'}, "
            f"{STATUS_LABELS[m.status]})" for m in g.measures
        )
        w.writerow([_cell(x) for x in (
            g.title, HF_LABELS[g.handlungsfeld],
            school_names.get(g.school_id, "") if g.school_id else _("whole network"),
            " | ".join(i.text for i in g.indicators), g.done_count, len(g.measures), g.progress, measures,
        )])
    filename = f"zukunftswerkstatt-{network_id}-{date.today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- "my open tasks" on the overview ----------------------------------------------------------------


def open_measures(v: Viewer) -> list[dict[str, Any]]:
    """Measures the viewer owns that are not done yet, soonest due first."""
    if not v.can("board.view"):
        return []
    rows = db_session().execute(
        select(BoardMeasure, BoardGoal).join(BoardGoal, BoardGoal.id == BoardMeasure.goal_id)
        .where(BoardGoal.network_id == v.network.id, BoardMeasure.owner_id == v.person.id,
               BoardMeasure.status != STATUS_DONE)
        .order_by(BoardMeasure.due.is_(None), BoardMeasure.due, BoardMeasure.id)
    ).all()
    return [{"title": f"{m.title} ({g.title})",
             "url": web.lurl("workspaces.board_goal", network_id=v.network.id, goal_id=g.id, _anchor=f"measure-{m.id}"),
             "due": _fdate(m.due) or None}
            for m, g in rows]


if open_measures not in OPEN_ITEMS:
    OPEN_ITEMS.append(open_measures)
