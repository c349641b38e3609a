"""Barcamp planner: who may do what, validation, sanitising, the grid, the automatic schedule, the projector."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, time, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.workspaces.barcamp.models import (
    Barcamp,
    BarcampHost,
    BarcampInterest,
    BarcampRoom,
    BarcampSession,
    BarcampSlot,
)
from lti_tool.workspaces.models import Activity
from tests.world import NETWORK_ROLES, PERSONAS

TABLES = (Barcamp, BarcampRoom, BarcampSlot, BarcampSession, BarcampHost, BarcampInterest)
PROPOSERS = {"manager", "leader_a", "media_a", "teacher_a", "leader_b", "teacher_b", "guest"}
OWNERS = {"manager", "teacher_a"}  # teacher_a proposed and hosts the placed session; managers moderate


# -- building blocks -------------------------------------------------------------------------


def make_camp(world, network_id: int | None = None, *, day: date | None = None) -> dict[str, Any]:
    """A barcamp with two rooms, two slots, a placed session (teacher_a) and an open one (leader_b)."""
    teacher, leader = world.as_("teacher_a").person_id, world.as_("leader_b").person_id
    with bridge(world.app).db.sessions() as s:
        camp = Barcamp(network_id=network_id or world.network_id, title="Barcamp Frühjahr",
                       day=day or date.today() + timedelta(days=30), location="Gesamtschule Musterstadt")
        s.add(camp)
        s.flush()
        rooms = [BarcampRoom(barcamp_id=camp.id, name="Aula", capacity=60),
                 BarcampRoom(barcamp_id=camp.id, name="Raum 101", capacity=20)]
        slots = [BarcampSlot(barcamp_id=camp.id, starts=time(10, 0), ends=time(10, 45), label="Session 1"),
                 BarcampSlot(barcamp_id=camp.id, starts=time(11, 0), ends=time(11, 45), label="Session 2")]
        s.add_all(rooms + slots)
        s.flush()
        placed = BarcampSession(barcamp_id=camp.id, title="iPad als Tafel", proposed_by=teacher,
                                slot_id=slots[0].id, room_id=rooms[0].id, description="<p>Tafelbilder</p>")
        open_ = BarcampSession(barcamp_id=camp.id, title="LearningApps", proposed_by=leader,
                               handlungsfeld="unterrichtsentwicklung")
        s.add_all([placed, open_])
        s.flush()
        s.add_all([BarcampHost(session_id=placed.id, person_id=teacher),
                   BarcampHost(session_id=open_.id, person_id=leader)])
        s.commit()
        return {"b": camp.id, "r0": rooms[0].id, "r1": rooms[1].id, "s0": slots[0].id, "s1": slots[1].id,
                "placed": placed.id, "open": open_.id, "teacher": teacher, "leader": leader}


def add_session(world, camp_id: int, title: str, hosts: list[int], *, cell: tuple[int, int] | None = None,
                locked: bool = False, interest: list[int] | None = None, notes: str = "") -> int:
    with bridge(world.app).db.sessions() as s:
        row = BarcampSession(barcamp_id=camp_id, title=title, proposed_by=hosts[0] if hosts else None,
                             slot_id=cell[0] if cell else None, room_id=cell[1] if cell else None,
                             locked=locked, notes=notes)
        s.add(row)
        s.flush()
        s.add_all([BarcampHost(session_id=row.id, person_id=pid) for pid in hosts])
        s.add_all([BarcampInterest(session_id=row.id, person_id=pid) for pid in interest or []])
        s.commit()
        return row.id


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of the barcamp tables, to prove that refused requests write nothing."""
    with bridge(app).db.sessions() as s:
        return {m.__tablename__: [tuple(getattr(r, c.key) for c in m.__table__.columns)
                                  for r in s.scalars(select(m).order_by(m.id))] for m in TABLES}


def get_row(app, model, row_id):
    with bridge(app).db.sessions() as s:
        return s.get(model, row_id)


def sessions_of(app, camp_id: int) -> dict[int, BarcampSession]:
    with bridge(app).db.sessions() as s:
        return {r.id: r for r in s.scalars(select(BarcampSession).where(BarcampSession.barcamp_id == camp_id))}


def hosts_of(app, session_id: int) -> set[int]:
    with bridge(app).db.sessions() as s:
        return set(s.scalars(select(BarcampHost.person_id).where(BarcampHost.session_id == session_id)))


def base(world, ids, n=None) -> str:
    return f"/w/{n or world.network_id}/barcamp/{ids['b']}"


# -- every route × every persona ------------------------------------------------------------------

#: (name, method, path, form data, permission kind)
ROUTES: list[tuple[str, str, str, Any, str]] = [
    ("list", "GET", "/w/{n}/barcamp", None, "view"),
    ("detail", "GET", "/w/{n}/barcamp/{b}", None, "view"),
    ("session", "GET", "/w/{n}/barcamp/{b}/sessions/{placed}", None, "view"),
    ("projector", "GET", "/w/{n}/barcamp/{b}/projector", None, "view"),
    ("plan", "GET", "/w/{n}/barcamp/{b}/plan", None, "moderate"),
    ("create", "POST", "/w/{n}/barcamp", {"title": "Barcamp Herbst", "day": "2027-09-20"}, "moderate"),
    ("settings", "POST", "/w/{n}/barcamp/{b}/settings", {"title": "Barcamp Mai", "day": "2027-05-03"}, "moderate"),
    ("delete", "POST", "/w/{n}/barcamp/{b}/delete", {"confirm": "yes"}, "moderate"),
    ("room_add", "POST", "/w/{n}/barcamp/{b}/rooms", {"name": "Raum 102", "capacity": "15"}, "moderate"),
    ("room_update", "POST", "/w/{n}/barcamp/{b}/rooms/{r0}", {"name": "Aula", "capacity": "80"}, "moderate"),
    ("room_delete", "POST", "/w/{n}/barcamp/{b}/rooms/{r1}", {"action": "delete"}, "moderate"),
    ("slot_add", "POST", "/w/{n}/barcamp/{b}/slots", {"starts": "12:00", "ends": "12:45"}, "moderate"),
    ("slot_update", "POST", "/w/{n}/barcamp/{b}/slots/{s0}", {"starts": "09:30", "ends": "10:30"}, "moderate"),
    ("slot_delete", "POST", "/w/{n}/barcamp/{b}/slots/{s1}", {"action": "delete"}, "moderate"),
    ("propose", "POST", "/w/{n}/barcamp/{b}/sessions",
     lambda actor, ids: {"title": "Kollegiale Fortbildung", "hosts": [str(actor.person_id)]}, "propose"),
    ("update", "POST", "/w/{n}/barcamp/{b}/sessions/{placed}",
     lambda actor, ids: {"title": "iPad als Tafel (Teil 2)", "hosts": [str(ids["teacher"])]}, "own"),
    ("withdraw", "POST", "/w/{n}/barcamp/{b}/sessions/{placed}/withdraw", {"confirm": "yes"}, "own"),
    ("interest", "POST", "/w/{n}/barcamp/{b}/sessions/{placed}/interest", {}, "interest"),
    ("notes", "POST", "/w/{n}/barcamp/{b}/sessions/{placed}/notes", {"notes": "Ergebnisse"}, "own"),
    ("place", "POST", "/w/{n}/barcamp/{b}/sessions/{open}/place", lambda actor, ids: {"cell": f"{ids['s1']}-{ids['r1']}"},
     "moderate"),
    ("auto", "POST", "/w/{n}/barcamp/{b}/schedule/auto", {}, "moderate"),
    ("publish", "POST", "/w/{n}/barcamp/{b}/schedule/publish", {}, "moderate"),
]
ID_ROUTES = [r for r in ROUTES if "{b}" in r[2]]


def expected(kind: str, persona: str, method: str) -> int:
    if persona not in NETWORK_ROLES:
        return 404
    allowed = {"view": True, "interest": True, "moderate": persona == "manager",
               "propose": persona in PROPOSERS, "own": persona in OWNERS}[kind]
    return (200 if method == "GET" else 303) if allowed else 403


def call(actor, route, ids, n):
    name, method, path, data, _kind = route
    url = path.format(n=n, **ids)
    if method == "GET":
        return actor.get(url)
    return actor.post(url, data(actor, ids) if callable(data) else data)


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_route_for_every_persona(world, persona):
    actor = world.as_(persona)
    problems = []
    for route in ROUTES:
        name, method, _path, _data, kind = route
        ids = make_camp(world)
        before = snapshot(world.app)
        resp = call(actor, route, ids, world.network_id)
        want = expected(kind, persona, method)
        changed = snapshot(world.app) != before
        if resp.status_code != want:
            problems.append((name, resp.status_code, want))
        if method == "POST" and want == 303 and not changed:
            problems.append((name, "nothing written"))
        if want != 303 and changed:
            problems.append((name, "written although refused or read-only"))
    assert problems == []


def test_outsider_guessing_ids_gets_404_through_either_network(world):
    ids = make_camp(world)
    outsider = world.as_("outsider")
    before = snapshot(world.app)
    answers = {(route[0], n): call(outsider, route, ids, n).status_code
               for route in ID_ROUTES
               for n in (world.network_id, world.other_network_id)}  # not a member / manager of the other network
    assert {key: code for key, code in answers.items() if code != 404} == {}
    assert snapshot(world.app) == before


def test_objects_of_another_network_are_404_for_a_manager_here(world):
    foreign = make_camp(world, world.other_network_id)
    before = snapshot(world.app)
    answers = {route[0]: call(world.as_("manager"), route, foreign, world.network_id).status_code
               for route in ID_ROUTES}
    assert {name: code for name, code in answers.items() if code != 404} == {}
    assert snapshot(world.app) == before


def test_sessions_rooms_and_slots_of_another_barcamp_are_404(world):
    here, there = make_camp(world), make_camp(world)
    mixed = {**there, "b": here["b"]}  # a barcamp of this network with the ids of the other one
    before = snapshot(world.app)
    routes = [r for r in ID_ROUTES if re.search(r"\{(placed|open|r0|r1|s0|s1)\}", r[2])]
    assert len(routes) == 10
    answers = {route[0]: call(world.as_("manager"), route, mixed, world.network_id).status_code for route in routes}
    assert {name: code for name, code in answers.items() if code != 404} == {}
    assert snapshot(world.app) == before


def test_learner_and_outsider_do_not_see_the_list(world):
    for persona in ("learner", "outsider"):
        assert world.as_(persona).get(f"/w/{world.network_id}/barcamp").status_code == 404
    own = world.as_("outsider").get(f"/w/{world.other_network_id}/barcamp")
    assert own.status_code == 200 and "Barcamp Frühjahr" not in own.get_data(as_text=True)


def test_posts_need_the_csrf_token(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    before = snapshot(world.app)
    resp = manager.client.post(f"{base(world, ids)}/rooms",
                               data={"launch": manager.launch_id, "csrf": "forged", "name": "X", "capacity": "3"})
    assert resp.status_code == 400 and snapshot(world.app) == before


def refused(world, actor, path_of, cases) -> list:
    """Post each invalid case against a fresh barcamp; return the cases not refused with a message, or that wrote."""
    problems = []
    for name, data in cases:
        ids = make_camp(world)
        before = snapshot(world.app)
        resp = actor.post(path_of(ids), data)
        if resp.status_code != 400 or 'role="alert"' not in resp.get_data(as_text=True):
            problems.append((name, resp.status_code))
        if snapshot(world.app) != before:
            problems.append((name, "written"))
    return problems


# -- barcamps, rooms, slots -----------------------------------------------------------------------


def test_manager_creates_a_barcamp_linked_to_a_meeting(world):
    from datetime import datetime

    from lti_tool.workspaces.meetings.models import Meeting

    start = datetime(2027, 2, 14, 9, tzinfo=UTC)
    with bridge(world.app).db.sessions() as s:
        meeting = Meeting(network_id=world.network_id, title="Netzwerktreffen", body="netzwerktreffen",
                          starts_at=start, ends_at=start, place="Aula")
        s.add(meeting)
        s.commit()
        meeting_id = meeting.id
    resp = world.as_("manager").post(f"/w/{world.network_id}/barcamp",
                                     {"title": "Barcamp Netzwerktreffen", "day": "2027-02-14",
                                      "location": "Aula", "meeting_id": str(meeting_id)})
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        camp = s.scalars(select(Barcamp)).one()
        kinds = s.scalars(select(Activity.kind)).all()
    assert (camp.title, camp.day, camp.meeting_id, camp.network_id) == (
        "Barcamp Netzwerktreffen", date(2027, 2, 14), meeting_id, world.network_id)
    assert f"/barcamp/{camp.id}/plan" in resp.headers["Location"]
    assert "barcamp.created" in kinds
    listing = world.as_("teacher_b").get(f"/w/{world.network_id}/barcamp").get_data(as_text=True)
    assert f'data-barcamp-id="{camp.id}"' in listing and "14.02.2027" in listing


def test_invalid_barcamps_are_refused_with_a_message(world):
    cases = [
        ("empty", {"title": "", "day": "2027-02-14"}),
        ("blank", {"title": "   ", "day": "2027-02-14"}),
        ("bad-date", {"title": "Barcamp", "day": "morgen"}),
        ("no-date", {"title": "Barcamp", "day": ""}),
        ("meeting-text", {"title": "Barcamp", "day": "2027-02-14", "meeting_id": "zwölf"}),
        ("meeting-negative", {"title": "Barcamp", "day": "2027-02-14", "meeting_id": "-3"}),
        ("too-long", {"title": "B" * 201, "day": "2027-02-14"}),
    ]
    assert refused(world, world.as_("manager"), lambda ids: f"/w/{world.network_id}/barcamp", cases) == []
    resp = world.as_("manager").post(f"/w/{world.network_id}/barcamp", {"title": "Barcamp Mai", "day": "2027-13-01"})
    assert 'value="Barcamp Mai"' in resp.get_data(as_text=True)  # what was typed is still there


def test_settings_change_and_invalid_settings_are_refused(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    assert manager.post(f"{base(world, ids)}/settings", {"title": "Neu", "day": "2027-13-01"}).status_code == 400
    assert get_row(world.app, Barcamp, ids["b"]).title == "Barcamp Frühjahr"
    assert manager.post(f"{base(world, ids)}/settings",
                        {"title": "Barcamp Juni", "day": "2027-06-01", "location": ""}).status_code == 303
    camp = get_row(world.app, Barcamp, ids["b"])
    assert (camp.title, camp.day, camp.meeting_id, camp.location) == ("Barcamp Juni", date(2027, 6, 1), None, "")


def test_deleting_needs_confirmation_and_removes_everything(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    add_session(world, ids["b"], "Datenschutz", [ids["teacher"]], interest=[ids["leader"]])
    before = snapshot(world.app)
    assert manager.post(f"{base(world, ids)}/delete", {}).status_code == 400
    assert snapshot(world.app) == before
    assert manager.post(f"{base(world, ids)}/delete", {"confirm": "yes"}).status_code == 303
    assert all(rows == [] for rows in snapshot(world.app).values())


def test_invalid_rooms_are_refused(world):
    cases = [
        ("no-name", {"name": "", "capacity": "20"}),
        ("zero", {"name": "Raum 9", "capacity": "0"}),
        ("text", {"name": "Raum 9", "capacity": "zwanzig"}),
        ("huge", {"name": "Raum 9", "capacity": "10001"}),
        ("underscore", {"name": "Raum 9", "capacity": "1_0"}),
        ("no-capacity", {"name": "Raum 9", "capacity": ""}),
        ("duplicate", {"name": "Aula", "capacity": "20"}),
        ("too-long", {"name": "R" * 121, "capacity": "20"}),
    ]
    manager = world.as_("manager")
    assert refused(world, manager, lambda ids: f"{base(world, ids)}/rooms", cases) == []
    # renaming a room to a taken name, or to nothing
    assert refused(world, manager, lambda ids: f"{base(world, ids)}/rooms/{ids['r1']}",
                   [("rename-taken", {"name": "Aula", "capacity": "20"}),
                    ("rename-empty", {"name": "", "capacity": "20"})]) == []


def test_invalid_slots_are_refused(world):
    cases = [
        ("reversed", {"starts": "11:00", "ends": "10:00"}),
        ("no-length", {"starts": "10:00", "ends": "10:00"}),
        ("bad-time", {"starts": "25:00", "ends": "26:00"}),
        ("no-start", {"starts": "", "ends": "12:00"}),
        ("overlap", {"starts": "10:30", "ends": "11:15"}),
        ("long-label", {"starts": "09:00", "ends": "09:45", "label": "L" * 121}),
    ]
    manager = world.as_("manager")
    assert refused(world, manager, lambda ids: f"{base(world, ids)}/slots", cases) == []
    assert refused(world, manager, lambda ids: f"{base(world, ids)}/slots/{ids['s0']}",
                   [("move-onto-other", {"starts": "11:15", "ends": "12:00"})]) == []


def test_deleting_a_room_or_slot_unplaces_its_sessions(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    other = add_session(world, ids["b"], "Datenschutz", [ids["leader"]], cell=(ids["s1"], ids["r1"]), locked=True)
    assert manager.post(f"{base(world, ids)}/rooms/{ids['r0']}", {"action": "delete"}).status_code == 303
    rows = sessions_of(world.app, ids["b"])
    assert (rows[ids["placed"]].slot_id, rows[ids["placed"]].room_id) == (None, None)
    assert (rows[other].slot_id, rows[other].room_id) == (ids["s1"], ids["r1"])
    assert manager.post(f"{base(world, ids)}/slots/{ids['s1']}", {"action": "delete"}).status_code == 303
    rows = sessions_of(world.app, ids["b"])
    assert (rows[other].slot_id, rows[other].room_id, rows[other].locked) == (None, None, False)
    assert get_row(world.app, BarcampSlot, ids["s1"]) is None


# -- proposals ------------------------------------------------------------------------------------


def test_a_teacher_proposes_a_session_with_a_colleague(world):
    ids = make_camp(world)
    teacher, colleague = world.as_("teacher_b"), world.as_("leader_b")
    resp = teacher.post(f"{base(world, ids)}/sessions", {
        "title": "Kollegiale Fortbildung", "description": "Wie wir uns gegenseitig fortbilden.",
        "hosts": [str(teacher.person_id), str(colleague.person_id)], "co_hosts": "Frau Roth (Medienzentrum)",
        "handlungsfeld": "fortbildung"})
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        row = s.scalars(select(BarcampSession).where(BarcampSession.title == "Kollegiale Fortbildung")).one()
        activity = s.scalars(select(Activity).where(Activity.kind == "barcamp.session")).one()
    assert row.proposed_by == teacher.person_id and row.handlungsfeld == "fortbildung"
    assert row.description == "<p>Wie wir uns gegenseitig fortbilden.</p>"
    assert hosts_of(world.app, row.id) == {teacher.person_id, colleague.person_id}
    assert (row.slot_id, row.room_id) == (None, None)
    assert activity.url == f"/w/{world.network_id}/barcamp/{ids['b']}/sessions/{row.id}"
    assert activity.network_id == world.network_id and activity.audience == "network"
    page = world.as_("guest").get(base(world, ids)).get_data(as_text=True)
    assert f'id="session-{row.id}"' in page and "Frau Roth (Medienzentrum)" in page


def test_the_proposal_form_preselects_the_proposer(world):
    ids = make_camp(world)
    teacher = world.as_("teacher_b")
    page = teacher.get(base(world, ids)).get_data(as_text=True)
    assert re.search(rf'id="p-host-{teacher.person_id}" name="hosts" value="{teacher.person_id}" checked', page)
    assert 'id="p-host-' in page and page.count(" checked>") == 1


def proposal_cases(world) -> list[tuple[str, dict]]:
    me, leader = world.as_("teacher_b").person_id, world.as_("leader_b").person_id
    outsider = world.as_("outsider").person_id
    ok = {"title": "Datenschutz", "hosts": [str(me)]}
    return [
        ("no-title", {**ok, "title": ""}),
        ("long-title", {**ok, "title": "D" * 201}),
        ("unknown-field", {**ok, "handlungsfeld": "astrologie"}),
        ("outsider-host", {**ok, "hosts": [str(me), str(outsider)]}),
        ("no-hosts", {"title": "Datenschutz"}),
        ("not-a-number", {**ok, "hosts": ["x"]}),
        ("not-myself", {**ok, "hosts": [str(leader)]}),
        ("long-cohosts", {**ok, "co_hosts": "C" * 256}),
        ("long-description", {**ok, "description": "d" * 20001}),
    ]


def test_invalid_proposals_are_refused_and_the_form_is_kept(world):
    teacher = world.as_("teacher_b")
    assert refused(world, teacher, lambda ids: f"{base(world, ids)}/sessions", proposal_cases(world)) == []
    ids = make_camp(world)
    body = teacher.post(f"{base(world, ids)}/sessions", {"title": "Datenschutz", "description": "Worum es geht",
                                                         "handlungsfeld": "astrologie",
                                                         "hosts": [str(teacher.person_id)]}).get_data(as_text=True)
    assert 'value="Datenschutz"' in body and "Worum es geht</textarea>" in body  # what was typed is still there
    assert re.search(rf'id="p-host-{teacher.person_id}" name="hosts" value="{teacher.person_id}" checked', body)


def test_authority_cannot_propose(world):
    ids = make_camp(world)
    authority = world.as_("authority")
    page = authority.get(base(world, ids)).get_data(as_text=True)
    assert 'id="propose-h"' not in page
    assert authority.post(f"{base(world, ids)}/sessions",
                          {"title": "X", "hosts": [str(authority.person_id)]}).status_code == 403


def test_hosts_edit_their_session_others_cannot(world):
    ids = make_camp(world)
    co_host = world.as_("teacher_b")
    url = f"{base(world, ids)}/sessions/{ids['open']}"
    # leader_b adds teacher_b as co-host; then teacher_b may edit, but must stay a host
    assert world.as_("leader_b").post(url, {"title": "LearningApps", "hosts": [str(ids["leader"]),
                                                                               str(co_host.person_id)]}).status_code == 303
    assert co_host.post(url, {"title": "LearningApps im Unterricht",
                              "hosts": [str(ids["leader"]), str(co_host.person_id)]}).status_code == 303
    assert sessions_of(world.app, ids["b"])[ids["open"]].title == "LearningApps im Unterricht"
    before = snapshot(world.app)
    assert co_host.post(url, {"title": "Weg", "hosts": [str(ids["leader"])]}).status_code == 400  # would drop herself
    assert world.as_("media_a").post(url, {"title": "Gekapert", "hosts": [str(world.as_("media_a").person_id)]}
                                     ).status_code == 403
    assert world.as_("media_a").post(f"{url}/withdraw", {"confirm": "yes"}).status_code == 403
    assert snapshot(world.app) == before
    # a moderator may hand a session over to other hosts
    assert world.as_("manager").post(url, {"title": "LearningApps", "hosts": [str(ids["teacher"])]}).status_code == 303
    assert hosts_of(world.app, ids["open"]) == {ids["teacher"]}


def test_changing_hosts_of_a_placed_session_checks_the_slot(world):
    ids = make_camp(world)
    other = add_session(world, ids["b"], "Datenschutz", [ids["leader"]], cell=(ids["s0"], ids["r1"]))
    before = snapshot(world.app)
    resp = world.as_("manager").post(f"{base(world, ids)}/sessions/{ids['placed']}",
                                     {"title": "iPad als Tafel", "hosts": [str(ids["teacher"]), str(ids["leader"])]})
    assert resp.status_code == 400 and snapshot(world.app) == before
    assert other in sessions_of(world.app, ids["b"])


def test_withdrawing_needs_confirmation_and_removes_marks(world):
    ids = make_camp(world)
    teacher = world.as_("teacher_a")
    url = f"{base(world, ids)}/sessions/{ids['placed']}"
    assert world.as_("guest").post(f"{url}/interest", {}).status_code == 303
    before = snapshot(world.app)
    assert teacher.post(f"{url}/withdraw", {}).status_code == 400
    assert snapshot(world.app) == before
    assert teacher.post(f"{url}/withdraw", {"confirm": "yes"}).status_code == 303
    after = snapshot(world.app)
    assert ids["placed"] not in sessions_of(world.app, ids["b"])
    assert after["ws_barcamp_interest"] == [] and len(after["ws_barcamp_host"]) == 1
    assert teacher.get(url).status_code == 404


# -- sanitising -----------------------------------------------------------------------------------

EVIL = ('<p>Gut</p><script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">klick</a><a href="https://example.org/a" onclick="alert(4)">ok</a>')


def assert_clean(body: str) -> None:
    lowered = body.lower()
    assert "<script>alert" not in lowered and "onerror" not in lowered and "javascript:" not in lowered
    assert "onclick" not in lowered and "<img" not in lowered


def test_rich_text_is_sanitised_everywhere(world):
    ids = make_camp(world)
    teacher = world.as_("teacher_a")
    resp = teacher.post(f"{base(world, ids)}/sessions", {
        "title": '<script>alert("t")</script>Tafel', "description": EVIL, "hosts": [str(teacher.person_id)],
        "co_hosts": '<b onmouseover="alert(5)">Gast</b>'})
    assert resp.status_code == 303
    sid = max(sessions_of(world.app, ids["b"]))
    assert teacher.post(f"{base(world, ids)}/sessions/{sid}/notes",
                        {"notes": EVIL, "material_url": "https://example.org/folien.pdf"}).status_code == 303
    stored = sessions_of(world.app, ids["b"])[sid]
    for html in (stored.description, stored.notes):
        assert_clean(html)
        assert "<p>Gut</p>" in html and 'href="https://example.org/a"' in html
    assert world.as_("manager").post(f"{base(world, ids)}/sessions/{sid}/place",
                                     {"cell": f"{ids['s1']}-{ids['r0']}"}).status_code == 303
    for path in ("", f"/sessions/{sid}", "/projector", "/plan"):
        body = world.as_("manager").get(base(world, ids) + path).get_data(as_text=True)
        assert_clean(body)
        assert "<b onmouseover" not in body.lower() and "&lt;b onmouseover=" in body  # co-hosts: plain text
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;Tafel" in body  # the title is shown as text


def test_plain_text_keeps_its_paragraphs(world):
    ids = make_camp(world)
    teacher = world.as_("teacher_a")
    teacher.post(f"{base(world, ids)}/sessions", {"title": "Absätze", "hosts": [str(teacher.person_id)],
                                                  "description": "Erste Zeile\nzweite Zeile\n\nNeuer Absatz & mehr"})
    row = [r for r in sessions_of(world.app, ids["b"]).values() if r.title == "Absätze"][0]
    assert row.description == "<p>Erste Zeile<br>zweite Zeile</p><p>Neuer Absatz &amp; mehr</p>"


# -- interest ---------------------------------------------------------------------------------------


def test_interest_is_one_mark_per_person_and_toggles(world):
    ids = make_camp(world)
    url = f"{base(world, ids)}/sessions/{ids['open']}/interest"

    def count() -> int:
        with bridge(world.app).db.sessions() as s:
            return s.scalar(select(func.count()).select_from(BarcampInterest).where(
                BarcampInterest.session_id == ids["open"]))

    authority = world.as_("authority")
    assert authority.post(url, {"interested": "1"}).status_code == 303
    assert authority.post(url, {"interested": "1"}).status_code == 303  # a second click does not count twice
    assert count() == 1
    assert world.as_("guest").post(url, {}).status_code == 303  # plain toggle
    assert count() == 2
    page = world.as_("teacher_b").get(base(world, ids)).get_data(as_text=True)
    assert f'id="session-{ids["open"]}" data-session-id="{ids["open"]}" data-interest="2"' in page
    assert world.as_("guest").post(url, {}).status_code == 303
    assert authority.post(url, {"interested": "0"}).status_code == 303
    assert count() == 0
    # the pressed state is shown to the one who marked, and the session page can be the way back
    resp = world.as_("teacher_b").post(url, {"interested": "1", "back": "session"})
    assert f"/sessions/{ids['open']}" in resp.headers["Location"]
    page = world.as_("teacher_b").get(base(world, ids)).get_data(as_text=True)
    assert 'aria-pressed="true"' in page


def test_proposals_are_listed_by_interest(world):
    ids = make_camp(world)
    b, c = world.as_("leader_a").person_id, world.as_("guest").person_id
    add_session(world, ids["b"], "Sehr gefragt", [ids["leader"]], interest=[b, c])
    page = world.as_("teacher_a").get(base(world, ids)).get_data(as_text=True)
    section = page.split('id="sessions-h"')[1]
    assert section.index("Sehr gefragt") < section.index("LearningApps")


# -- the grid ----------------------------------------------------------------------------------------


def test_placing_without_javascript(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    url = f"{base(world, ids)}/sessions/{ids['open']}/place"
    resp = manager.post(url, {"cell": f"{ids['s1']}-{ids['r1']}", "locked": "1"})
    assert resp.status_code == 303 and f"#place-{ids['open']}" in resp.headers["Location"]
    row = sessions_of(world.app, ids["b"])[ids["open"]]
    assert (row.slot_id, row.room_id, row.locked) == (ids["s1"], ids["r1"], True)
    assert manager.post(url, {"cell": ""}).status_code == 303
    row = sessions_of(world.app, ids["b"])[ids["open"]]
    assert (row.slot_id, row.room_id, row.locked) == (None, None, False)


def test_placing_by_drag_and_drop_answers_json(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    url = f"{base(world, ids)}/sessions/{ids['open']}/place"
    ok = manager.post(url, {"cell": f"{ids['s0']}-{ids['r1']}"}, headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.get_json() == {"ok": True, "session": ids["open"],
                                                       "cell": f"{ids['s0']}-{ids['r1']}", "locked": False}
    taken = manager.post(url, {"cell": f"{ids['s0']}-{ids['r0']}"}, headers={"Accept": "application/json"})
    assert taken.status_code == 400 and taken.get_json()["ok"] is False and taken.get_json()["error"]
    row = sessions_of(world.app, ids["b"])[ids["open"]]
    assert (row.slot_id, row.room_id) == (ids["s0"], ids["r1"])


def test_invalid_placements_are_refused(world):
    ids, foreign = make_camp(world), make_camp(world)
    cases = [
        ("malformed", "zwei-drei"),
        ("half", f"{ids['s1']}-"),
        ("occupied", f"{ids['s0']}-{ids['r0']}"),
        ("foreign-slot", f"{foreign['s1']}-{ids['r1']}"),
        ("foreign-room", f"{ids['s1']}-{foreign['r1']}"),
        ("unknown", "999999-999999"),
    ]
    problems = []
    for name, cell in cases:
        before = snapshot(world.app)
        resp = world.as_("manager").post(f"{base(world, ids)}/sessions/{ids['open']}/place", {"cell": cell})
        if resp.status_code != 400 or 'role="alert"' not in resp.get_data(as_text=True):
            problems.append((name, resp.status_code))
        if snapshot(world.app) != before:
            problems.append((name, "written"))
    assert problems == []


def test_a_host_cannot_be_in_two_sessions_of_one_slot(world):
    ids = make_camp(world)
    second = add_session(world, ids["b"], "Datenschutz", [ids["teacher"], ids["leader"]])
    before = snapshot(world.app)
    resp = world.as_("manager").post(f"{base(world, ids)}/sessions/{second}/place",
                                     {"cell": f"{ids['s0']}-{ids['r1']}"})
    assert resp.status_code == 400 and snapshot(world.app) == before
    assert world.as_("manager").post(f"{base(world, ids)}/sessions/{second}/place",
                                     {"cell": f"{ids['s1']}-{ids['r1']}"}).status_code == 303


def test_plan_page_offers_drag_and_drop_over_plain_forms(world):
    ids = make_camp(world)
    page = world.as_("manager").get(f"{base(world, ids)}/plan").get_data(as_text=True)
    assert 'src="/static/barcamp.js"' in page
    assert f'data-cell="{ids["s1"]}-{ids["r1"]}"' in page and 'data-cell=""' in page
    assert re.search(rf'id="card-{ids["open"]}" data-session-id="{ids["open"]}"[^>]*draggable="true"', page)
    assert f'<select id="cell-{ids["open"]}" name="cell">' in page
    assert f'<label class="visually-hidden" for="cell-{ids["open"]}">' in page
    # the grid everybody sees has no drag handles
    assert 'draggable="true"' not in world.as_("teacher_a").get(base(world, ids)).get_data(as_text=True)


# -- automatic schedule and publishing -------------------------------------------------------------------


def test_automatic_schedule_places_by_popularity_and_reports_clashes(world):
    ids = make_camp(world)
    t, people = ids["teacher"], [world.as_(p).person_id for p in ("leader_a", "media_a", "guest", "authority")]
    popular = add_session(world, ids["b"], "Datenschutz", [ids["leader"]], interest=people)
    clash = add_session(world, ids["b"], "Noch eine von Kim", [t])
    third = add_session(world, ids["b"], "Und noch eine von Kim", [t], interest=people[:1])
    resp = world.as_("manager").post(f"{base(world, ids)}/schedule/auto", {})
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert f"clash={clash}" in location and "placed=4" in location
    rows = sessions_of(world.app, ids["b"])
    assert (rows[ids["placed"]].slot_id, rows[ids["placed"]].room_id) == (ids["s0"], ids["r0"])  # stays
    assert rows[popular].room_id == ids["r0"] and rows[popular].slot_id == ids["s1"]  # biggest free room
    assert rows[third].slot_id == ids["s1"] and rows[clash].slot_id is None
    report = world.as_("manager").get(location.replace("http://localhost", "")).get_data(as_text=True)
    assert 'data-placed="4" data-left="1"' in report and f'data-unplaced="{clash}"' in report


def test_replace_plans_anew_but_keeps_locked_sessions(world):
    ids = make_camp(world)
    fans = [world.as_(p).person_id for p in ("leader_a", "media_a", "guest")]
    locked = add_session(world, ids["b"], "Fest", [world.as_("media_a").person_id], cell=(ids["s1"], ids["r1"]),
                         locked=True)
    star = add_session(world, ids["b"], "Publikumsliebling", [world.as_("guest").person_id], interest=fans)
    assert world.as_("manager").post(f"{base(world, ids)}/schedule/auto", {"replace": "1"}).status_code == 303
    rows = sessions_of(world.app, ids["b"])
    assert (rows[locked].slot_id, rows[locked].room_id, rows[locked].locked) == (ids["s1"], ids["r1"], True)
    assert rows[star].room_id == ids["r0"]  # the most popular session took the big room
    cells = [(r.slot_id, r.room_id) for r in rows.values() if r.slot_id]
    assert len(cells) == len(set(cells)) == 4


def test_automatic_schedule_needs_rooms_and_slots(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    for room in ("r0", "r1"):
        manager.post(f"{base(world, ids)}/rooms/{ids[room]}", {"action": "delete"})
    before = snapshot(world.app)
    resp = manager.post(f"{base(world, ids)}/schedule/auto", {})
    assert resp.status_code == 400 and snapshot(world.app) == before


def test_publishing_tells_the_network(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    assert manager.post(f"{base(world, ids)}/schedule/publish", {}).status_code == 303
    assert get_row(world.app, Barcamp, ids["b"]).published_at is not None
    with bridge(world.app).db.sessions() as s:
        entry = s.scalars(select(Activity).where(Activity.kind == "barcamp.schedule")).one()
    assert entry.url == base(world, ids) and entry.title == "Barcamp Frühjahr"
    overview = world.as_("teacher_b").get(f"/w/{world.network_id}/").get_data(as_text=True)
    assert f'href="{base(world, ids)}?launch=' in overview
    detail = world.as_("teacher_b").get(base(world, ids)).get_data(as_text=True)
    assert 'data-published="yes"' in detail


def test_publishing_an_empty_grid_is_refused(world):
    ids = make_camp(world)
    manager = world.as_("manager")
    manager.post(f"{base(world, ids)}/sessions/{ids['placed']}/place", {"cell": ""})
    before = snapshot(world.app)
    resp = manager.post(f"{base(world, ids)}/schedule/publish", {})
    assert resp.status_code == 400 and snapshot(world.app) == before


# -- projector ----------------------------------------------------------------------------------------


def test_projector_refreshes_itself_and_only_it(world):
    ids = make_camp(world)
    guest = world.as_("guest")
    page = guest.get(f"{base(world, ids)}/projector").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="30">' in page
    assert 'class="bc-projector"' in page and "iPad als Tafel" in page and "Aula" in page
    assert "?launch=" in page and "still=1" in page
    still = guest.get(f"{base(world, ids)}/projector?still=1").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in still
    for path in ("", "/plan", f"/sessions/{ids['placed']}"):
        assert 'http-equiv="refresh"' not in world.as_("manager").get(base(world, ids) + path).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in guest.get(f"/w/{world.network_id}/barcamp").get_data(as_text=True)


# -- documentation ---------------------------------------------------------------------------------------


def test_hosts_document_and_everybody_reads(world):
    ids = make_camp(world)
    teacher = world.as_("teacher_a")
    url = f"{base(world, ids)}/sessions/{ids['placed']}"
    assert teacher.post(f"{url}/notes", {"notes": "Ergebnisse:\n- Tafelbild", "material_url": "https://example.org/m"}
                        ).status_code == 303
    row = sessions_of(world.app, ids["b"])[ids["placed"]]
    assert row.notes == "<p>Ergebnisse:<br>- Tafelbild</p>" and row.material_url == "https://example.org/m"
    for persona in NETWORK_ROLES:
        page = world.as_(persona).get(url).get_data(as_text=True)
        assert 'id="session-notes"' in page and 'href="https://example.org/m"' in page
        assert ('id="n-notes"' in page) == (persona in OWNERS)
    with bridge(world.app).db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "barcamp.notes")) == 1


def test_a_member_added_as_host_documents_without_proposing_rights(world):
    ids = make_camp(world)
    authority = world.as_("authority")
    url = f"{base(world, ids)}/sessions/{ids['open']}"
    assert world.as_("manager").post(url, {"title": "LearningApps", "hosts": [str(ids["leader"]),
                                                                            str(authority.person_id)]}).status_code == 303
    assert authority.post(f"{url}/notes", {"notes": "Protokoll"}).status_code == 303
    assert authority.post(url, {"title": "Umbenannt", "hosts": [str(authority.person_id)]}).status_code == 403


def test_material_links_must_be_web_addresses(world):
    links = ["javascript:alert(1)", "ftp://example.org/x", "example.org", "https://",
             "https://example.org/" + "x" * 2048, "https://exa mple.org"]
    cases = [(link[:30], {"notes": "x", "material_url": link}) for link in links]
    cases.append(("notes-too-long", {"notes": "n" * 50001}))
    assert refused(world, world.as_("teacher_a"),
                   lambda ids: f"{base(world, ids)}/sessions/{ids['placed']}/notes", cases) == []


def test_undocumented_sessions_of_past_barcamps_are_open_tasks(world):
    ids = make_camp(world, day=date.today() - timedelta(days=3))
    teacher = world.as_("teacher_a")
    overview = teacher.get(f"/w/{world.network_id}/").get_data(as_text=True)
    link = f"/w/{world.network_id}/barcamp/{ids['b']}/sessions/{ids['placed']}?launch={teacher.launch_id}#notes-h"
    assert link in overview
    assert link.replace(teacher.launch_id, world.as_("leader_b").launch_id) not in \
        world.as_("leader_b").get(f"/w/{world.network_id}/").get_data(as_text=True)  # unplaced: no task
    teacher.post(f"/w/{world.network_id}/barcamp/{ids['b']}/sessions/{ids['placed']}/notes", {"notes": "Fertig"})
    assert link not in teacher.get(f"/w/{world.network_id}/").get_data(as_text=True)


# -- accessibility of the pages --------------------------------------------------------------------------


class A11y(HTMLParser):
    """Finds form controls without a label, skipped heading levels, tables without caption, empty buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labels: set[str] = set()
        self.headings: list[int] = []
        self.tables = 0
        self.captions = 0
        self.th_without_scope = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a.get("id") or "<no id>")
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        elif tag == "button":
            self._button = []

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def problems(self) -> list[str]:
        out = [f"unlabelled {c}" for c in self.controls if c not in self.labels]
        out += [f"heading h{b} after h{a}" for a, b in zip(self.headings, self.headings[1:]) if b > a + 1]
        if self.headings[:1] != [1]:
            out.append("first heading is not h1")
        if self.tables != self.captions:
            out.append("table without caption")
        if self.th_without_scope:
            out.append("th without scope")
        out += ["button without text" for b in self.buttons if not b]
        return out


@pytest.mark.parametrize("path", ["/w/{n}/barcamp", "/w/{n}/barcamp/{b}", "/w/{n}/barcamp/{b}/plan",
                                  "/w/{n}/barcamp/{b}/sessions/{placed}", "/w/{n}/barcamp/{b}/projector"])
def test_pages_are_labelled_and_structured(world, path):
    ids = make_camp(world)
    add_session(world, ids["b"], "Datenschutz", [ids["leader"]], cell=(ids["s1"], ids["r1"]), locked=True)
    body = world.as_("manager").get(path.format(n=world.network_id, **ids)).get_data(as_text=True)
    checker = A11y()
    checker.feed(body)
    assert checker.problems() == []
    # every link keeps the launch (cookies are blocked in the LMS iframe)
    for href in re.findall(r'href="(/w/[^"]*)"', body):
        assert "launch=" in href, href


# -- in a real browser: drag and drop, WCAG rules, 360 px -------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("LMS_BRIDGE_TEST_REQUIRE_SERVICES") != "1",
                    reason="needs Debian chromium at /usr/bin/chromium")
def test_drag_and_drop_and_accessibility_in_a_browser(world):
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tests.test_demo_browser import wcag_violations

    ids = make_camp(world)
    fans = [world.as_(p).person_id for p in ("leader_a", "media_a", "guest")]
    add_session(world, ids["b"], "Datenschutz im Unterricht", [ids["leader"]], interest=fans, cell=(ids["s1"], ids["r0"]))
    manager = world.as_("manager")
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}{base(world, ids)}"
    q = f"?launch={manager.launch_id}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="de-DE", viewport={"width": 360, "height": 800})
            page.set_default_timeout(15_000)
            overflow = "document.documentElement.scrollWidth > window.innerWidth"
            for path in ("", "/plan", f"/sessions/{ids['placed']}"):
                page.goto(url + path + q)
                assert wcag_violations(page) == [], path
                assert page.evaluate(overflow) is False, path  # works at 360 px (the grid scrolls in its region)
            page.set_viewport_size({"width": 1280, "height": 720})
            page.goto(url + "/projector" + q)
            assert [v for v in wcag_violations(page) if not v.startswith("meta-refresh")] == []  # refresh: on purpose
            assert page.evaluate(overflow) is False
            assert page.evaluate("document.documentElement.scrollHeight") <= 720  # the grid fits the beamer

            page.goto(url + "/plan" + q)
            free, taken = f"td[data-cell='{ids['s0']}-{ids['r1']}']", f"td[data-cell='{ids['s0']}-{ids['r0']}']"
            page.drag_and_drop(f"#card-{ids['open']}", free)
            page.wait_for_selector(f"{free} #card-{ids['open']}")
            assert page.input_value(f"#cell-{ids['open']}") == f"{ids['s0']}-{ids['r1']}"
            page.drag_and_drop(f"#card-{ids['open']}", taken)  # occupied: refused, nothing moves
            page.wait_for_selector("#bc-status.error")
            page.drag_and_drop(f"#card-{ids['open']}", ".bc-pool")
            page.wait_for_selector(f".bc-pool #card-{ids['open']}")
            page.drag_and_drop(f"#card-{ids['open']}", free)
            page.wait_for_selector(f"{free} #card-{ids['open']}")
            browser.close()
    finally:
        server.shutdown()
        thread.join()
    row = sessions_of(world.app, ids["b"])[ids["open"]]
    assert (row.slot_id, row.room_id) == (ids["s0"], ids["r1"])


def test_barcamp_meeting_must_belong_to_the_network(world, app):
    """A barcamp may point to a Netzwerktreffen of its own network only."""
    from datetime import datetime

    from lti_tool.db import db_session
    from lti_tool.workspaces.barcamp.models import Barcamp
    from lti_tool.workspaces.meetings.models import Meeting

    with app.test_request_context():
        s = db_session()
        start = datetime(2027, 3, 1, 9, tzinfo=UTC)
        own = Meeting(network_id=world.network_id, title="Netzwerktreffen", body="netzwerktreffen",
                      starts_at=start, ends_at=start, place="Aula")
        foreign = Meeting(network_id=world.other_network_id, title="Fremd", body="netzwerktreffen",
                          starts_at=start, ends_at=start, place="Aula")
        s.add_all([own, foreign])
        s.commit()
        own_id, foreign_id = own.id, foreign.id
    manager = world.as_("manager")
    path = f"/w/{world.network_id}/barcamp"
    bad = manager.post(path, {"title": "Camp", "day": "2027-03-01", "meeting_id": str(foreign_id)})
    assert bad.status_code == 400
    good = manager.post(path, {"title": "Camp", "day": "2027-03-01", "meeting_id": str(own_id)})
    assert good.status_code == 303
    with app.test_request_context():
        camps = db_session().query(Barcamp).all()
    assert [(c.title, c.meeting_id) for c in camps] == [("Camp", own_id)]
