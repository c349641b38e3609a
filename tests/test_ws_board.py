"""Zukunftswerkstatt board: who may see and change what, validation, sanitising, progress, export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from lti_tool.bridge import bridge
from lti_tool.db import Base
from lti_tool.workspaces.board.models import BoardGoal, BoardIndicator, BoardMeasure, BoardNote
from lti_tool.workspaces.models import Activity
from tests.world import NETWORK_ROLES, PERSONAS

BOARD_TABLES = ("ws_board_note", "ws_board_goal", "ws_board_indicator", "ws_board_measure")


# -- a board with something on it ------------------------------------------------------------------


@dataclass
class Seed:
    note_a: int          # Bestandsaufnahme, school A, by teacher_a
    note_internal: int   # school-internal, school A, by media_a
    note_internal_b: int  # school-internal, school B, by leader_b
    vision: int          # Utopiephase, by leader_b
    goal_a: int          # school A, Medienkonzept
    goal_net: int        # whole network, Fortbildung
    indicator: int       # of goal_a
    m_teacher: int       # of goal_a, owned by teacher_a, open
    m_done: int          # of goal_a, owned by media_a, done
    m_net: int           # of goal_net, owned by leader_b, in progress


def pid(world, persona: str) -> int:
    return world.as_(persona).person_id


def seed(world) -> Seed:
    A, B = world.schools["A"], world.schools["B"]
    with bridge(world.app).db.sessions() as s:
        note_a = BoardNote(network_id=world.network_id, phase="bestand", title="WLAN in allen Räumen", body="<p>läuft</p>",
                           handlungsfeld="nutzung", school_id=A, author_id=pid(world, "teacher_a"))
        internal = BoardNote(network_id=world.network_id, phase="bestand", title="Interne Hürde A", body="<p>nur A</p>",
                             school_id=A, internal=True, author_id=pid(world, "media_a"))
        internal_b = BoardNote(network_id=world.network_id, phase="bestand", title="Interne Hürde B",
                               school_id=B, internal=True, author_id=pid(world, "leader_b"))
        vision = BoardNote(network_id=world.network_id, phase="utopie", title="Lernen überall",
                           handlungsfeld="unterrichtsentwicklung", author_id=pid(world, "leader_b"))
        goal_a = BoardGoal(network_id=world.network_id, title="Medienkonzept fortschreiben", handlungsfeld="medienkonzept",
                           school_id=A, created_by=pid(world, "leader_a"))
        goal_a.indicators = [BoardIndicator(text="Konzept in der Schulkonferenz beschlossen")]
        goal_a.measures = [
            BoardMeasure(title="Bestand erheben", owner_id=pid(world, "teacher_a"), due=date(2027, 3, 31)),
            BoardMeasure(title="Entwurf schreiben", owner_id=pid(world, "media_a"), status="done"),
        ]
        goal_net = BoardGoal(network_id=world.network_id, title="Kollegiale Fortbildung", handlungsfeld="fortbildung",
                             created_by=pid(world, "manager"))
        goal_net.measures = [BoardMeasure(title="Barcamp planen", owner_id=pid(world, "leader_b"), status="in_progress")]
        s.add_all([note_a, internal, internal_b, vision, goal_a, goal_net])
        s.commit()
        return Seed(note_a.id, internal.id, internal_b.id, vision.id, goal_a.id, goal_net.id, goal_a.indicators[0].id,
                    goal_a.measures[0].id, goal_a.measures[1].id, goal_net.measures[0].id)


@pytest.fixture
def board_items_only(monkeypatch):
    """The overview with only this part's "open tasks" provider (other parts are tested on their own)."""
    from lti_tool.workspaces import views
    from lti_tool.workspaces.board.views import open_measures

    monkeypatch.setattr(views, "OPEN_ITEMS", [open_measures])


def snapshot(world) -> dict[str, list[tuple]]:
    """Every row of the board tables plus the activity count: "nothing was written"."""
    with bridge(world.app).db.sessions() as s:
        rows = {}
        for model in (BoardNote, BoardGoal, BoardIndicator, BoardMeasure):
            cols = [c.key for c in inspect(model).columns]
            rows[model.__tablename__] = sorted(tuple(str(getattr(r, c)) for c in cols) for r in s.scalars(select(model)))
        rows["activity"] = [(s.scalar(select(func.count()).select_from(Activity)),)]
        return rows


def get_row(world, model: Any, row_id: int) -> Any:
    with bridge(world.app).db.sessions() as s:
        row = s.get(model, row_id)
        if row is not None:
            s.expunge(row)
        return row


def count(world, model: Any, *where: Any) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def page(resp) -> str:
    return resp.get_data(as_text=True)


def alert_shown(html: str) -> bool:
    m = re.search(r'<div class="notice error" role="alert">\s*<p>(.*?)</p>', html, re.S)
    return bool(m and m.group(1).strip())


# -- the access matrix: every route × every persona -----------------------------------------------

MEMBERS = set(NETWORK_ROLES)
WRITERS = {"manager", "leader_a", "media_a", "teacher_a", "leader_b", "teacher_b"}
SCHOOL_A_WRITERS = {"manager", "leader_a", "media_a", "teacher_a"}
SCHOOL_A_PLANNERS = {"manager", "leader_a", "media_a"}
PLANNERS = {"manager", "leader_a", "media_a", "leader_b"}
NOTE_A_EDITORS = {"manager", "teacher_a"}  # author and managers
EXPORTERS = {"manager", "leader_a", "leader_b"}


@dataclass
class Route:
    name: str
    method: str
    path: str  # formatted with n=network id and the Seed's fields
    allowed: set[str]
    ok: int
    data: Callable[[Any, Seed], dict[str, Any]] | None = None
    #: (world, seed, persona) -> None; asserts the effect after a successful call
    effect: Callable[[Any, Seed, str], None] | None = None


def _note_created(title: str, phase: str) -> Callable[[Any, Seed, str], None]:
    def check(world, sd, persona):
        assert count(world, BoardNote, BoardNote.title == title, BoardNote.phase == phase,
                     BoardNote.author_id == pid(world, persona)) == 1
    return check


def _goal_created(title: str, school: str | None) -> Callable[[Any, Seed, str], None]:
    def check(world, sd, persona):
        school_id = world.schools[school] if school else None
        with bridge(world.app).db.sessions() as s:
            goal = s.scalars(select(BoardGoal).where(BoardGoal.title == title)).one()
            assert goal.school_id == school_id and goal.handlungsfeld == "kommunikation"
            assert [i.text for i in goal.indicators] == ["Newsletter erscheint", "Eltern informiert"]
    return check


ROUTES = [
    Route("board", "GET", "/w/{n}/board", MEMBERS, 200),
    Route("board_csv", "GET", "/w/{n}/board.csv", EXPORTERS, 200),
    Route("note_create_bestand", "POST", "/w/{n}/board/notes", SCHOOL_A_WRITERS, 303,
          lambda w, sd: {"phase": "bestand", "title": "Tablets fehlen", "school_id": w.schools["A"],
                         "handlungsfeld": "nutzung", "body": "Zu wenige Geräte"},
          _note_created("Tablets fehlen", "bestand")),
    Route("note_create_utopie", "POST", "/w/{n}/board/notes", WRITERS, 303,
          lambda w, sd: {"phase": "utopie", "title": "Offene Lernräume", "body": "<p>überall lernen</p>"},
          _note_created("Offene Lernräume", "utopie")),
    Route("note_edit", "GET", "/w/{n}/board/notes/{note_a}/edit", NOTE_A_EDITORS, 200),
    Route("note_update", "POST", "/w/{n}/board/notes/{note_a}/edit", NOTE_A_EDITORS, 303,
          lambda w, sd: {"title": "WLAN fast überall", "school_id": w.schools["A"], "handlungsfeld": "nutzung",
                         "body": "besser"},
          lambda w, sd, p: (get_row(w, BoardNote, sd.note_a).title == "WLAN fast überall") or pytest.fail("not saved")),
    Route("note_delete", "POST", "/w/{n}/board/notes/{note_a}/delete", NOTE_A_EDITORS, 303, None,
          lambda w, sd, p: get_row(w, BoardNote, sd.note_a) is None or pytest.fail("not deleted")),
    Route("goal_create_school", "POST", "/w/{n}/board/goals", SCHOOL_A_PLANNERS, 303,
          lambda w, sd: {"title": "Elternkommunikation digital", "handlungsfeld": "kommunikation",
                         "school_id": w.schools["A"], "indicators": "Newsletter erscheint\n\nEltern informiert\n"},
          _goal_created("Elternkommunikation digital", "A")),
    Route("goal_create_network", "POST", "/w/{n}/board/goals", PLANNERS, 303,
          lambda w, sd: {"title": "Netzwerk-Newsletter", "handlungsfeld": "kommunikation", "school_id": "",
                         "indicators": "Newsletter erscheint\nEltern informiert"},
          _goal_created("Netzwerk-Newsletter", None)),
    Route("goal", "GET", "/w/{n}/board/goals/{goal_a}", MEMBERS, 200),
    Route("goal_edit", "GET", "/w/{n}/board/goals/{goal_a}/edit", SCHOOL_A_PLANNERS, 200),
    Route("goal_update", "POST", "/w/{n}/board/goals/{goal_a}/edit", SCHOOL_A_PLANNERS, 303,
          lambda w, sd: {"title": "Medienkonzept 2027", "handlungsfeld": "medienkonzept", "school_id": w.schools["A"],
                         "description": "neu"},
          lambda w, sd, p: (get_row(w, BoardGoal, sd.goal_a).title == "Medienkonzept 2027") or pytest.fail("not saved")),
    Route("goal_delete", "POST", "/w/{n}/board/goals/{goal_a}/delete", SCHOOL_A_PLANNERS, 303, None,
          lambda w, sd, p: (get_row(w, BoardGoal, sd.goal_a) is None
                            and count(w, BoardMeasure, BoardMeasure.goal_id == sd.goal_a) == 0) or pytest.fail("kept")),
    Route("indicator_add", "POST", "/w/{n}/board/goals/{goal_a}/indicators", SCHOOL_A_PLANNERS, 303,
          lambda w, sd: {"text": "Fortbildungsplan liegt vor"},
          lambda w, sd, p: count(w, BoardIndicator, BoardIndicator.goal_id == sd.goal_a) == 2 or pytest.fail("missing")),
    Route("indicator_delete", "POST", "/w/{n}/board/indicators/{indicator}/delete", SCHOOL_A_PLANNERS, 303, None,
          lambda w, sd, p: get_row(w, BoardIndicator, sd.indicator) is None or pytest.fail("kept")),
    Route("measure_add", "POST", "/w/{n}/board/goals/{goal_a}/measures", SCHOOL_A_PLANNERS, 303,
          lambda w, sd: {"title": "Pädagogischer Tag", "owner_id": pid(w, "teacher_a"), "due": "2027-05-12"},
          lambda w, sd, p: count(w, BoardMeasure, BoardMeasure.title == "Pädagogischer Tag",
                                 BoardMeasure.due == date(2027, 5, 12),
                                 BoardMeasure.owner_id == pid(w, "teacher_a")) == 1 or pytest.fail("missing")),
    Route("measure_status", "POST", "/w/{n}/board/measures/{m_teacher}/status", SCHOOL_A_WRITERS, 303,
          lambda w, sd: {"status": "in_progress"},
          lambda w, sd, p: get_row(w, BoardMeasure, sd.m_teacher).status == "in_progress" or pytest.fail("unchanged")),
    Route("measure_delete", "POST", "/w/{n}/board/measures/{m_teacher}/delete", SCHOOL_A_PLANNERS, 303, None,
          lambda w, sd, p: get_row(w, BoardMeasure, sd.m_teacher) is None or pytest.fail("kept")),
]


def call(world, persona: str, route: Route, sd: Seed, network_id: int | None = None) -> Any:
    path = route.path.format(n=network_id or world.network_id, **sd.__dict__)
    actor = world.as_(persona)
    if route.method == "GET":
        return actor.get(path)
    return actor.post(path, route.data(world, sd) if route.data else {})


def expected_code(route: Route, persona: str) -> int:
    if persona not in MEMBERS:
        return 404  # the network's existence is not confirmed to outsiders
    return route.ok if persona in route.allowed else 403


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_access_matrix(world, persona):
    """Every route for this persona, each on freshly seeded objects; all mismatches are reported together."""
    problems = []
    for route in ROUTES:
        sd = seed(world)
        before = snapshot(world)
        resp = call(world, persona, route, sd)
        expected = expected_code(route, persona)
        if resp.status_code != expected:
            problems.append(f"{route.name}: {resp.status_code} instead of {expected}")
            continue
        if route.method != "POST":
            continue
        if expected == route.ok:
            location = resp.headers["Location"]
            if not (location.startswith("/w/") and "launch=" in location):
                problems.append(f"{route.name}: redirect {location}")
            route.effect(world, sd, persona)
        elif snapshot(world) != before:
            problems.append(f"{route.name}: refused with {expected} but wrote to the database")
    assert not problems, problems


def test_access_matrix_covers_every_board_route(app):
    """No board route escapes the matrix above."""
    rules = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("workspaces.board")}
    covered = set()
    for route in ROUTES:
        path = route.path.format(n=1, **{f: 1 for f in Seed.__dataclass_fields__})
        adapter = app.url_map.bind("localhost")
        endpoint, _args = adapter.match(path, method=route.method)
        covered.add(endpoint)
    assert covered == rules


def test_the_board_endpoint_has_the_agreed_name(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("workspaces.board", network_id=7) == "/w/7/board"


# -- ids guessed across networks --------------------------------------------------------------------


OBJECT_ROUTES = [r for r in ROUTES if "{" in r.path.replace("{n}", "")]


def test_outsider_guessing_ids_gets_404_through_both_networks(world):
    sd = seed(world)
    before = snapshot(world)
    for route in OBJECT_ROUTES:
        # through network 1's id: not a member
        assert call(world, "outsider", route, sd).status_code == 404, route.name
        # through their own network's id: a manager there, but the object belongs to network 1
        assert call(world, "outsider", route, sd, network_id=world.other_network_id).status_code == 404, route.name
    assert snapshot(world) == before
    # their own (empty) board works
    assert world.as_("outsider").get(f"/w/{world.other_network_id}/board").status_code == 200


def test_objects_of_another_network_are_404_through_this_network(world):
    """A manager of network 1 cannot reach network 2's goal, note, measure or indicator by id."""
    with bridge(world.app).db.sessions() as s:
        goal = BoardGoal(network_id=world.other_network_id, title="Fremdes Ziel", handlungsfeld="nutzung")
        goal.indicators = [BoardIndicator(text="fremd")]
        goal.measures = [BoardMeasure(title="fremde Maßnahme", owner_id=pid(world, "outsider"))]
        note = BoardNote(network_id=world.other_network_id, phase="utopie", title="Fremde Vision",
                         author_id=pid(world, "outsider"))
        s.add_all([goal, note])
        s.commit()
        foreign = Seed(note.id, note.id, note.id, note.id, goal.id, goal.id, goal.indicators[0].id,
                       goal.measures[0].id, goal.measures[0].id, goal.measures[0].id)
    before = snapshot(world)
    for route in OBJECT_ROUTES:
        resp = call(world, "manager", route, foreign)
        assert resp.status_code == 404, route.name
    assert snapshot(world) == before
    assert "Fremdes Ziel" not in page(world.as_("manager").get(f"/w/{world.network_id}/board"))


def test_a_school_of_another_network_cannot_be_chosen(world):
    with world.app.test_request_context():
        from lti_tool.db import db_session
        from lti_tool.workspaces.models import Network
        from lti_tool.workspaces.services import add_school

        s = db_session()
        foreign = add_school(s, s.get(Network, world.other_network_id), name="Fremde Schule", school_number="900001").school
        s.commit()
        foreign_id = foreign.id
    before = snapshot(world)
    manager = world.as_("manager")
    n = world.network_id
    assert manager.post(f"/w/{n}/board/notes", {"phase": "bestand", "title": "x", "school_id": foreign_id}).status_code == 404
    assert manager.post(f"/w/{n}/board/goals", {"title": "x", "handlungsfeld": "nutzung",
                                                "school_id": foreign_id}).status_code == 404
    assert manager.get(f"/w/{n}/board?school={foreign_id}").status_code == 404
    assert snapshot(world) == before


# -- school-internal notes --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", NETWORK_ROLES)
def test_school_internal_notes_only_for_that_school_and_managers(world, persona):
    sd = seed(world)
    html = page(world.as_(persona).get(f"/w/{world.network_id}/board"))
    sees_a = persona in {"manager", "leader_a", "media_a", "teacher_a"}
    sees_b = persona in {"manager", "leader_b", "teacher_b"}
    assert (f'data-note="{sd.note_internal}"' in html) == sees_a
    assert ("Interne Hürde A" in html) == sees_a
    assert (f'data-note="{sd.note_internal_b}"' in html) == sees_b
    assert ("Interne Hürde B" in html) == sees_b
    # the shared notes are there for everybody
    assert f'data-note="{sd.note_a}"' in html and f'data-note="{sd.vision}"' in html


def test_an_internal_note_of_another_school_is_404_not_403(world):
    sd = seed(world)
    n = world.network_id
    before = snapshot(world)
    for persona in ("leader_b", "teacher_b"):
        actor = world.as_(persona)
        assert actor.get(f"/w/{n}/board/notes/{sd.note_internal}/edit").status_code == 404
        assert actor.post(f"/w/{n}/board/notes/{sd.note_internal}/delete").status_code == 404
    assert world.as_("leader_a").get(f"/w/{n}/board/notes/{sd.note_internal}/edit").status_code == 403  # sees, not author
    assert world.as_("media_a").get(f"/w/{n}/board/notes/{sd.note_internal}/edit").status_code == 200  # author
    assert world.as_("manager").get(f"/w/{n}/board/notes/{sd.note_internal}/edit").status_code == 200
    assert snapshot(world) == before


def test_new_internal_note_is_announced_to_its_school_only(world, board_items_only):
    n = world.network_id
    teacher = world.as_("teacher_a")
    resp = teacher.post(f"/w/{n}/board/notes", {"phase": "bestand", "title": "Beamer defekt", "internal": "1",
                                                "school_id": world.schools["A"]})
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        note = s.scalars(select(BoardNote).where(BoardNote.title == "Beamer defekt")).one()
        assert note.internal and note.source == "manual" and note.school_id == world.schools["A"]
        act = s.scalars(select(Activity).where(Activity.kind == "board.note")).one()
        assert act.audience == f"school:{world.schools['A']}" and act.url.endswith(f"#note-{note.id}")
    assert "Beamer defekt" in page(world.as_("leader_a").get(f"/w/{n}/"))
    assert "Beamer defekt" in page(world.as_("manager").get(f"/w/{n}/"))
    for persona in ("leader_b", "authority", "guest"):
        assert "Beamer defekt" not in page(world.as_(persona).get(f"/w/{n}/")), persona


def test_shared_note_and_goal_are_announced_to_the_network(world, board_items_only):
    n = world.network_id
    world.as_("teacher_b").post(f"/w/{n}/board/notes", {"phase": "utopie", "title": "Schule ohne Kreidestaub"})
    world.as_("leader_b").post(f"/w/{n}/board/goals", {"title": "Gemeinsamer Materialpool", "handlungsfeld": "nutzung"})
    with bridge(world.app).db.sessions() as s:
        acts = {a.kind: a for a in s.scalars(select(Activity).where(Activity.kind.like("board.%")))}
    assert acts["board.note"].audience == "network" and acts["board.goal"].audience == "network"
    overview = page(world.as_("authority").get(f"/w/{n}/"))
    assert "Schule ohne Kreidestaub" in overview and "Gemeinsamer Materialpool" in overview


def test_utopia_notes_are_never_internal_nor_school_bound(world):
    n = world.network_id
    resp = world.as_("teacher_a").post(f"/w/{n}/board/notes", {"phase": "utopie", "title": "Vision", "internal": "1",
                                                               "school_id": world.schools["A"]})
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        note = s.scalars(select(BoardNote).where(BoardNote.title == "Vision")).one()
    assert note.internal is False and note.school_id is None


# -- object rules beyond the matrix ------------------------------------------------------------------


def test_authors_cannot_move_notes_to_another_school_but_managers_can(world):
    sd = seed(world)
    n = world.network_id
    data = {"title": "WLAN", "school_id": world.schools["B"]}
    before = snapshot(world)
    assert world.as_("teacher_a").post(f"/w/{n}/board/notes/{sd.note_a}/edit", data).status_code == 403
    assert snapshot(world) == before
    assert world.as_("manager").post(f"/w/{n}/board/notes/{sd.note_a}/edit", data).status_code == 303
    assert get_row(world, BoardNote, sd.note_a).school_id == world.schools["B"]


def test_author_may_mark_own_note_internal(world):
    sd = seed(world)
    n = world.network_id
    resp = world.as_("teacher_a").post(f"/w/{n}/board/notes/{sd.note_a}/edit",
                                       {"title": "WLAN", "school_id": world.schools["A"], "internal": "1"})
    assert resp.status_code == 303
    assert get_row(world, BoardNote, sd.note_a).internal is True
    assert f'data-note="{sd.note_a}"' not in page(world.as_("leader_b").get(f"/w/{n}/board"))


def test_network_wide_goals_are_planned_by_all_planners_school_goals_by_their_school(world):
    sd = seed(world)
    n = world.network_id
    leader_b = world.as_("leader_b")
    assert leader_b.get(f"/w/{n}/board/goals/{sd.goal_net}/edit").status_code == 200
    assert leader_b.post(f"/w/{n}/board/goals/{sd.goal_net}/indicators", {"text": "Alle Schulen dabei"}).status_code == 303
    assert leader_b.get(f"/w/{n}/board/goals/{sd.goal_a}/edit").status_code == 403
    # a school leader cannot move a goal to another school, a manager can
    before = snapshot(world)
    move = {"title": "Medienkonzept", "handlungsfeld": "medienkonzept", "school_id": world.schools["B"]}
    assert world.as_("leader_a").post(f"/w/{n}/board/goals/{sd.goal_a}/edit", move).status_code == 403
    assert snapshot(world) == before
    assert world.as_("manager").post(f"/w/{n}/board/goals/{sd.goal_a}/edit", move).status_code == 303
    assert get_row(world, BoardGoal, sd.goal_a).school_id == world.schools["B"]


def test_owner_updates_own_measure_but_not_others(world):
    sd = seed(world)
    n = world.network_id
    teacher = world.as_("teacher_a")
    assert teacher.post(f"/w/{n}/board/measures/{sd.m_teacher}/status", {"status": "done"}).status_code == 303
    before = snapshot(world)
    assert teacher.post(f"/w/{n}/board/measures/{sd.m_done}/status", {"status": "open"}).status_code == 403
    assert teacher.post(f"/w/{n}/board/measures/{sd.m_net}/status", {"status": "done"}).status_code == 403
    assert snapshot(world) == before
    # leader_b owns a measure of a network-wide goal
    assert world.as_("leader_b").post(f"/w/{n}/board/measures/{sd.m_net}/status", {"status": "done"}).status_code == 303
    assert get_row(world, BoardMeasure, sd.m_net).status == "done"


def test_teacher_sees_status_form_only_for_own_measures(world):
    sd = seed(world)
    html = page(world.as_("teacher_a").get(f"/w/{world.network_id}/board/goals/{sd.goal_a}"))
    assert f'id="status-{sd.m_teacher}"' in html
    assert f'id="status-{sd.m_done}"' not in html
    assert "/measures\"" not in html and f"/board/goals/{sd.goal_a}/measures" not in html  # no planning form
    planner = page(world.as_("leader_a").get(f"/w/{world.network_id}/board/goals/{sd.goal_a}"))
    assert f'id="status-{sd.m_done}"' in planner and f"/board/goals/{sd.goal_a}/measures" in planner


@pytest.mark.parametrize("owner,ok", [("teacher_a", True), ("manager", True), ("leader_a", True),
                                      ("teacher_b", False), ("authority", False), ("guest", False),
                                      ("outsider", False), ("learner", False)])
def test_measure_owners_are_members_who_may_work_on_the_goal(world, owner, ok):
    sd = seed(world)
    before = snapshot(world)
    resp = world.as_("leader_a").post(f"/w/{world.network_id}/board/goals/{sd.goal_a}/measures",
                                      {"title": "Umfrage", "owner_id": pid(world, owner)})
    if ok:
        assert resp.status_code == 303
        assert count(world, BoardMeasure, BoardMeasure.title == "Umfrage") == 1
    else:
        assert resp.status_code == 400 and alert_shown(page(resp))
        assert snapshot(world) == before


def test_teacher_b_may_own_measures_of_network_wide_goals(world):
    sd = seed(world)
    resp = world.as_("manager").post(f"/w/{world.network_id}/board/goals/{sd.goal_net}/measures",
                                     {"title": "Hospitation", "owner_id": pid(world, "teacher_b"), "due": "01.02.2027"})
    assert resp.status_code == 303
    assert count(world, BoardMeasure, BoardMeasure.owner_id == pid(world, "teacher_b"),
                 BoardMeasure.due == date(2027, 2, 1)) == 1


# -- input validation: clear 400s, nothing written ------------------------------------------------------


def _bad_note(w):
    A = w.schools["A"]
    return [
        {"phase": "bestand", "title": "", "school_id": A},
        {"phase": "bestand", "title": "   ", "school_id": A},
        {"phase": "bestand", "title": "x" * 256, "school_id": A},
        {"phase": "bestand", "title": "ok", "school_id": ""},
        {"phase": "bestand", "title": "ok", "school_id": "abc"},
        {"phase": "bestand", "title": "ok", "school_id": A, "handlungsfeld": "astrologie"},
        {"phase": "bestand", "title": "ok", "school_id": A, "body": "x" * 20001},
        {"phase": "zukunft", "title": "ok"},
        {"title": "ok"},
        {"phase": "utopie", "title": "ok", "handlungsfeld": "Nutzung"},
    ]


@pytest.mark.parametrize("case", range(10))
def test_invalid_notes_are_refused(world, case):
    data = _bad_note(world)[case]
    before = snapshot(world)
    resp = world.as_("leader_a").post(f"/w/{world.network_id}/board/notes", data)
    assert resp.status_code == 400
    assert alert_shown(page(resp))
    assert snapshot(world) == before


def test_refused_note_keeps_what_was_typed(world):
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/board/notes",
                                       {"phase": "bestand", "title": "Mein Titel", "school_id": world.schools["A"],
                                        "handlungsfeld": "xx", "body": "Mein Text"})
    html = page(resp)
    assert resp.status_code == 400
    assert 'value="Mein Titel"' in html and "Mein Text</textarea>" in html
    assert '<details class="ws-board-add" open>' in html


BAD_GOALS = [
    {"title": "Ziel", "handlungsfeld": ""},
    {"title": "Ziel"},
    {"title": "Ziel", "handlungsfeld": "irgendwas"},
    {"title": "", "handlungsfeld": "nutzung"},
    {"title": "Ziel", "handlungsfeld": "nutzung", "school_id": "eins"},
    {"title": "Ziel", "handlungsfeld": "nutzung", "indicators": "y" * 300},
    {"title": "Ziel", "handlungsfeld": "nutzung", "indicators": "\n".join(f"i{k}" for k in range(21))},
    {"title": "Ziel", "handlungsfeld": "nutzung", "description": "d" * 20001},
]


@pytest.mark.parametrize("data", BAD_GOALS)
def test_invalid_goals_are_refused(world, data):
    before = snapshot(world)
    resp = world.as_("manager").post(f"/w/{world.network_id}/board/goals", data)
    assert resp.status_code == 400 and alert_shown(page(resp))
    assert snapshot(world) == before


def test_invalid_goal_edit_is_refused(world):
    sd = seed(world)
    before = snapshot(world)
    resp = world.as_("leader_a").post(f"/w/{world.network_id}/board/goals/{sd.goal_a}/edit",
                                      {"title": "Neu", "handlungsfeld": "bogus"})
    assert resp.status_code == 400 and alert_shown(page(resp)) and 'value="Neu"' in page(resp)
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/board/notes/{sd.note_a}/edit",
                                       {"title": "", "school_id": world.schools["A"]})
    assert resp.status_code == 400 and alert_shown(page(resp))
    assert snapshot(world) == before


@pytest.mark.parametrize("data", [
    {"title": "", "owner_id": "TEACHER"},
    {"title": "M", "owner_id": ""},
    {"title": "M", "owner_id": "abc"},
    {"title": "M", "owner_id": "999999"},
    {"title": "M", "owner_id": "TEACHER", "due": "nächste Woche"},
    {"title": "M", "owner_id": "TEACHER", "due": "2027-02-30"},
    {"title": "M", "owner_id": "TEACHER", "due": "31.02.2027"},
    {"title": "M", "owner_id": "TEACHER", "due": "1999-12-31"},
    {"title": "M" * 256, "owner_id": "TEACHER"},
])
def test_invalid_measures_are_refused(world, data):
    sd = seed(world)
    data = {k: (str(pid(world, "teacher_a")) if v == "TEACHER" else v) for k, v in data.items()}
    before = snapshot(world)
    resp = world.as_("media_a").post(f"/w/{world.network_id}/board/goals/{sd.goal_a}/measures", data)
    assert resp.status_code == 400 and alert_shown(page(resp))
    assert snapshot(world) == before


@pytest.mark.parametrize("status", ["", "erledigt", "DONE", "closed"])
def test_unknown_status_is_refused(world, status):
    sd = seed(world)
    before = snapshot(world)
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/board/measures/{sd.m_teacher}/status", {"status": status})
    assert resp.status_code == 400 and alert_shown(page(resp))
    assert snapshot(world) == before


def test_empty_or_long_indicator_is_refused(world):
    sd = seed(world)
    before = snapshot(world)
    for text in ("", "  ", "z" * 256):
        resp = world.as_("leader_a").post(f"/w/{world.network_id}/board/goals/{sd.goal_a}/indicators", {"text": text})
        assert resp.status_code == 400 and alert_shown(page(resp))
    assert snapshot(world) == before


@pytest.mark.parametrize("query,code", [("hf=astrologie", 400), ("school=abc", 400), ("school=999999", 404),
                                        ("hf=nutzung", 200), ("school=network", 200)])
def test_filter_values_are_checked(world, query, code):
    assert world.as_("guest").get(f"/w/{world.network_id}/board?{query}").status_code == code
    assert world.as_("manager").get(f"/w/{world.network_id}/board.csv?{query}").status_code == code


def test_posts_without_csrf_token_are_refused(world):
    sd = seed(world)
    actor = world.as_("manager")
    before = snapshot(world)
    resp = actor.client.post(f"/w/{world.network_id}/board/goals/{sd.goal_a}/delete",
                             data={"launch": actor.launch_id, "csrf": "forged"})
    assert resp.status_code == 400
    assert snapshot(world) == before


# -- sanitising ------------------------------------------------------------------------------------------

EVIL = '<p>fine <strong>bold</strong></p><script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">link</a>'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _no_active_content(html: str) -> None:
    """No script element, no on…= event attribute, no javascript: link – as the browser parses the page."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    assert parser.tags, "not a page"
    for tag, attrs in parser.tags:
        assert tag != "script", "a script element came back"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler attribute {name} on <{tag}>"
            assert not (value or "").strip().lower().startswith("javascript:"), f"{name} on <{tag}>"
    assert "<script>alert" not in html


def test_rich_text_is_sanitised_everywhere(world, board_items_only):
    n = world.network_id
    leader = world.as_("leader_a")
    assert leader.post(f"/w/{n}/board/notes", {"phase": "bestand", "title": "<script>alert(3)</script>Notiz",
                                               "school_id": world.schools["A"], "body": EVIL}).status_code == 303
    assert leader.post(f"/w/{n}/board/notes", {"phase": "utopie", "title": "Vision", "body": EVIL}).status_code == 303
    resp = leader.post(f"/w/{n}/board/goals", {"title": "Ziel <img src=x onerror=alert(4)>", "handlungsfeld": "nutzung",
                                               "school_id": world.schools["A"], "description": EVIL,
                                               "indicators": "<script>alert(5)</script>"})
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        goal = s.scalars(select(BoardGoal)).one()
        notes = s.scalars(select(BoardNote)).all()
        for stored in [goal.description] + [x.body for x in notes]:
            assert "<strong>bold</strong>" in stored
            assert "script" not in stored and "onerror" not in stored and "javascript:" not in stored
        goal_id, note_id = goal.id, notes[0].id
    assert leader.post(f"/w/{n}/board/goals/{goal_id}/measures",
                       {"title": "<script>alert(6)</script>", "owner_id": pid(world, "teacher_a")}).status_code == 303
    assert leader.post(f"/w/{n}/board/goals/{goal_id}/indicators",
                       {"text": '<img src=x onerror="alert(7)">'}).status_code == 303
    pages = [
        f"/w/{n}/board", f"/w/{n}/board/goals/{goal_id}", f"/w/{n}/board/goals/{goal_id}/edit",
        f"/w/{n}/board/notes/{note_id}/edit", f"/w/{n}/",
    ]
    for path in pages:
        resp = leader.get(path)
        assert resp.status_code == 200, path
        html = page(resp)
        _no_active_content(html)
    board = page(leader.get(f"/w/{n}/board"))
    assert "<strong>bold</strong>" in board  # formatting survives
    assert "&lt;script&gt;alert(3)&lt;/script&gt;Notiz" in board  # plain fields are escaped text
    teacher_overview = page(world.as_("teacher_a").get(f"/w/{n}/"))
    _no_active_content(teacher_overview)


def test_plain_typed_text_keeps_its_paragraphs(world):
    n = world.network_id
    body = "Erste Zeile\nzweite Zeile\n\nNeuer Absatz mit 3 < 5 & mehr"
    world.as_("teacher_a").post(f"/w/{n}/board/notes", {"phase": "utopie", "title": "Absätze", "body": body})
    with bridge(world.app).db.sessions() as s:
        note = s.scalars(select(BoardNote)).one()
    assert note.body == "<p>Erste Zeile<br>zweite Zeile</p><p>Neuer Absatz mit 3 &lt; 5 &amp; mehr</p>"
    edit = page(world.as_("teacher_a").get(f"/w/{n}/board/notes/{note.id}/edit"))
    assert "Erste Zeile\nzweite Zeile\n\nNeuer Absatz mit 3 &lt; 5 &amp; mehr</textarea>" in edit


# -- progress, filters, open items, export ------------------------------------------------------------------


def _progress(html: str, goal_id: int) -> tuple[str, str, str]:
    article = re.search(rf'data-goal="{goal_id}" data-progress="(\d+)"', html)
    bar = re.search(rf'<progress id="progress-{goal_id}" max="(\d+)" value="(\d+)"', html)
    assert article and bar
    return article.group(1), bar.group(1), bar.group(2)


def test_progress_is_done_over_all_measures(world):
    sd = seed(world)
    n = world.network_id
    manager = world.as_("manager")
    assert _progress(page(manager.get(f"/w/{n}/board")), sd.goal_a) == ("50", "2", "1")
    assert manager.post(f"/w/{n}/board/goals/{sd.goal_a}/measures",
                        {"title": "Dritte", "owner_id": pid(world, "leader_a")}).status_code == 303
    assert _progress(page(manager.get(f"/w/{n}/board/goals/{sd.goal_a}")), sd.goal_a) == ("33", "3", "1")
    assert world.as_("teacher_a").post(f"/w/{n}/board/measures/{sd.m_teacher}/status",
                                       {"status": "done"}).status_code == 303
    assert _progress(page(manager.get(f"/w/{n}/board")), sd.goal_a) == ("67", "3", "2")
    # a goal without measures: 0 %, the bar still has a valid maximum
    assert _progress(page(manager.get(f"/w/{n}/board")), sd.goal_net) == ("0", "1", "0")


def test_status_change_is_recorded_once(world):
    sd = seed(world)
    n = world.network_id
    teacher = world.as_("teacher_a")
    assert teacher.post(f"/w/{n}/board/measures/{sd.m_teacher}/status", {"status": "done"}).status_code == 303
    assert teacher.post(f"/w/{n}/board/measures/{sd.m_teacher}/status", {"status": "done"}).status_code == 303
    with bridge(world.app).db.sessions() as s:
        acts = s.scalars(select(Activity).where(Activity.kind == "board.measure")).all()
    assert len(acts) == 1
    assert acts[0].person_id == pid(world, "teacher_a")
    assert acts[0].url == f"/w/{n}/board/goals/{sd.goal_a}#measure-{sd.m_teacher}"


def test_filters_by_school_and_handlungsfeld(world):
    sd = seed(world)
    n = world.network_id
    guest = world.as_("guest")
    A = world.schools["A"]
    html = page(guest.get(f"/w/{n}/board?school={A}"))
    assert f'data-goal="{sd.goal_a}"' in html and f'data-goal="{sd.goal_net}"' not in html
    assert f'data-note="{sd.note_a}"' in html and f'data-note="{sd.vision}"' in html  # visions are network-wide
    html = page(guest.get(f"/w/{n}/board?school=network"))
    assert f'data-goal="{sd.goal_a}"' not in html and f'data-goal="{sd.goal_net}"' in html
    assert f'data-note="{sd.note_a}"' not in html
    html = page(guest.get(f"/w/{n}/board?hf=medienkonzept"))
    assert f'data-goal="{sd.goal_a}"' in html and f'data-goal="{sd.goal_net}"' not in html
    assert f'data-note="{sd.note_a}"' not in html and f'data-note="{sd.vision}"' not in html
    html = page(guest.get(f"/w/{n}/board?hf=nutzung&school={A}"))
    assert f'data-note="{sd.note_a}"' in html and 'data-goal=' not in html
    # the filter form keeps the launch id (no cookies in the iframe)
    assert re.search(r'<form method="get"[^>]*>\s*<input type="hidden" name="launch" value="[\w-]+">', html)


def test_open_measures_appear_on_the_owners_overview(world, board_items_only):
    sd = seed(world)
    n = world.network_id
    link = f"/w/{n}/board/goals/{sd.goal_a}?launch={world.as_('teacher_a').launch_id}#measure-{sd.m_teacher}"
    overview = page(world.as_("teacher_a").get(f"/w/{n}/"))
    assert link.replace("&", "&amp;") in overview or link in overview
    assert "Bestand erheben" in overview
    assert "Entwurf schreiben" not in overview  # media_a's, and done
    assert "Bestand erheben" not in page(world.as_("leader_b").get(f"/w/{n}/"))
    assert "Barcamp planen" in page(world.as_("leader_b").get(f"/w/{n}/"))
    world.as_("teacher_a").post(f"/w/{n}/board/measures/{sd.m_teacher}/status", {"status": "done"})
    assert "Bestand erheben (" not in page(world.as_("teacher_a").get(f"/w/{n}/"))


def test_open_items_provider_is_registered_once(app):
    from lti_tool.workspaces.board.views import open_measures
    from lti_tool.workspaces.views import OPEN_ITEMS

    assert OPEN_ITEMS.count(open_measures) == 1


def _csv_rows(resp) -> list[list[str]]:
    text = page(resp)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_export_lists_goals_with_progress_and_measures(world):
    seed(world)
    n = world.network_id
    resp = world.as_("leader_b").get(f"/w/{n}/board.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = _csv_rows(resp)
    assert len(rows) == 3 and len(rows[0]) == 8
    by_title = {r[0]: r for r in rows[1:]}
    a = by_title["Medienkonzept fortschreiben"]
    assert a[2] == "Gesamtschule Musterstadt" and a[4:7] == ["1", "2", "50"]
    assert "Konzept in der Schulkonferenz beschlossen" in a[3]
    assert "Bestand erheben" in a[7] and "2027-03-31" in a[7] and "Teacher A" in a[7]
    net = by_title["Kollegiale Fortbildung"]
    assert net[4:7] == ["0", "1", "0"] and "Leader B" in net[7]
    # internal notes never travel with the export
    assert "Interne Hürde" not in page(resp)
    only_a = _csv_rows(world.as_("manager").get(f"/w/{n}/board.csv?school={world.schools['A']}"))
    assert [r[0] for r in only_a[1:]] == ["Medienkonzept fortschreiben"]


def test_csv_export_defuses_spreadsheet_formulas(world):
    n = world.network_id
    world.as_("manager").post(f"/w/{n}/board/goals", {"title": "=HYPERLINK(\"http://x\")", "handlungsfeld": "nutzung",
                                                      "indicators": "+1\n@SUM(A1)"})
    rows = _csv_rows(world.as_("manager").get(f"/w/{n}/board.csv"))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][3] == "'+1 | @SUM(A1)"


# -- pages: accessibility basics and no cookies ------------------------------------------------------------


def _headings(html: str) -> list[int]:
    return [int(h) for h in re.findall(r"<h([1-6])[\s>]", html)]


@pytest.mark.parametrize("path", ["/w/{n}/board", "/w/{n}/board/goals/{goal_a}", "/w/{n}/board/goals/{goal_a}/edit",
                                  "/w/{n}/board/notes/{note_a}/edit"])
def test_pages_are_accessible_and_cookie_free(world, path):
    sd = seed(world)
    resp = world.as_("manager").get(path.format(n=world.network_id, **sd.__dict__))
    html = page(resp)
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    levels = _headings(html)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    # every input, select and textarea (except hidden ones) has a label
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    controls = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*>', html)
    assert len(ids) == len(controls)
    for control_id in ids:
        assert f'for="{control_id}"' in html, control_id
    # every POST form carries the launch id and CSRF token; every link keeps the launch id
    for form in re.findall(r'<form method="post".*?</form>', html, re.S):
        assert 'name="launch"' in form and 'name="csrf"' in form
    for href in re.findall(r'href="(/w/[^"]*)"', html):
        assert "launch=" in href, href
    # tables have captions and header scopes; buttons have text
    for table in re.findall(r"<table.*?</table>", html, re.S):
        assert "<caption" in table and 'scope="col"' in table
    for button in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S):
        assert re.sub(r"<[^>]+>", "", button).strip()


# -- schema ----------------------------------------------------------------------------------------------------


def test_migration_matches_the_models(app):
    engine = bridge(app).db.engine
    insp = inspect(engine)
    for table in BOARD_TABLES:
        model_cols = {c.name: c for c in Base.metadata.tables[table].columns}
        db_cols = {c["name"]: c for c in insp.get_columns(table)}
        assert set(db_cols) == set(model_cols), table
        for name, col in model_cols.items():
            assert db_cols[name]["nullable"] == col.nullable, (table, name)
        db_fks = {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in insp.get_foreign_keys(table)}
        model_fks = {((fk.parent.name,), fk.column.table.name) for fk in Base.metadata.tables[table].foreign_keys}
        assert db_fks == model_fks, table


def test_deleting_a_school_removes_its_board_items(world):
    sd = seed(world)
    with bridge(world.app).db.sessions() as s:
        from lti_tool.workspaces.models import MemberSchool

        s.delete(s.get(MemberSchool, world.schools["A"]))
        s.commit()
    assert get_row(world, BoardNote, sd.note_a) is None
    assert get_row(world, BoardGoal, sd.goal_a) is None
    assert count(world, BoardMeasure, BoardMeasure.id == sd.m_teacher) == 0
    assert get_row(world, BoardGoal, sd.goal_net) is not None
