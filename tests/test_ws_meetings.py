"""The network year: meetings of the bodies, who sees their details, minutes, tasks, iCalendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.workspaces.activity import visible
from lti_tool.workspaces.meetings.models import Meeting, MeetingDecision, MeetingTask
from lti_tool.workspaces.models import Activity, NetworkMember
from lti_tool.workspaces.roles import MEETING_BODIES, may_see_body
from tests.world import NETWORK_ROLES, PERSONAS

ALL_PERSONAS = list(PERSONAS)
XSS = '<p>Plan<script>alert("xss")</script><img src="x" onerror="alert(1)"> <strong>fett</strong></p>'


# -- helpers ---------------------------------------------------------------------------------


def role_of(persona: str) -> str | None:
    return PERSONAS[persona][3]


def member_id(world, persona: str, network_id: int | None = None) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(NetworkMember.id).where(
            NetworkMember.network_id == (network_id or world.network_id),
            NetworkMember.person_id == world.as_(persona).person_id))


def add_meeting(world, *, network_id: int | None = None, body: str = "netzwerktreffen", title: str = "Netzwerktreffen Herbst",
                starts: datetime | None = None, hours: int = 2, place: str = "Gesamtschule Musterstadt, Aula",
                video_url: str = "", agenda: str = "<p>AGENDA-MARKER</p>", minutes: str = "",
                decisions: tuple[str, ...] = (), group_id: int | None = None) -> int:
    starts = starts or datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
    with bridge(world.app).db.sessions() as s:
        m = Meeting(network_id=network_id or world.network_id, title=title, body=body, starts_at=starts,
                    ends_at=starts + timedelta(hours=hours), place=place, video_url=video_url, agenda=agenda,
                    minutes=minutes, group_id=group_id)
        m.decisions = [MeetingDecision(position=i, text=t) for i, t in enumerate(decisions)]
        s.add(m)
        s.commit()
        return m.id


def add_task(world, meeting_id: int, assignee_member_id: int | None, title: str = "Raum buchen",
             due: date | None = date(2026, 11, 1)) -> int:
    with bridge(world.app).db.sessions() as s:
        t = MeetingTask(meeting_id=meeting_id, title=title, assignee_member_id=assignee_member_id, due=due)
        s.add(t)
        s.commit()
        return t.id


def count(world, model, *where) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def get_meeting(world, meeting_id: int) -> Meeting | None:
    with bridge(world.app).db.sessions() as s:
        return s.get(Meeting, meeting_id)


def valid_form(**overrides: str) -> dict[str, str]:
    form = {"title": "Lenkungsrunde Januar", "body": "lenkungsrunde", "date": "2027-01-14", "start": "16:00",
            "end": "18:00", "place": "Rathaus, Raum 3", "video_url": "", "agenda": "<p>Themen</p>"}
    form.update(overrides)
    return form


def expect(persona: str, allowed: bool, resp, ok: int = 303) -> None:
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404, (persona, resp.status_code)
    elif allowed:
        assert resp.status_code == ok, (persona, resp.status_code, resp.get_data(as_text=True)[:500])
    else:
        assert resp.status_code == 403, (persona, resp.status_code)


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


# -- access: every route x every persona --------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_read_routes_for_every_member_only(world, persona):
    mid = add_meeting(world)
    n = world.network_id
    for path in (f"/w/{n}/meetings", f"/w/{n}/meetings/{mid}", f"/w/{n}/meetings.ics"):
        resp = world.as_(persona).get(path)
        expect(persona, True, resp, ok=200)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_manage_pages_only_for_managers(world, persona):
    mid = add_meeting(world)
    n = world.network_id
    for path in (f"/w/{n}/meetings/new", f"/w/{n}/meetings/{mid}/edit", f"/w/{n}/meetings/{mid}/minutes"):
        resp = world.as_(persona).get(path)
        expect(persona, role_of(persona) == "manager", resp, ok=200)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_create_meeting(world, persona):
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings", valid_form())
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    assert count(world, Meeting) == (1 if allowed else 0)
    if allowed:
        with bridge(world.app).db.sessions() as s:
            m = s.scalars(select(Meeting)).one()
            assert m.network_id == world.network_id and m.body == "lenkungsrunde"
            assert f"meeting_id={m.id}" in resp.headers["Location"] or f"/meetings/{m.id}" in resp.headers["Location"]
            act = s.scalars(select(Activity).where(Activity.kind == "meeting.created")).one()
            assert act.audience == "network" and act.url == f"/w/{world.network_id}/meetings/{m.id}"


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_update_meeting(world, persona):
    mid = add_meeting(world)
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/edit", valid_form(title="Geändert"))
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    assert (get_meeting(world, mid).title == "Geändert") == allowed


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_meeting(world, persona):
    mid = add_meeting(world, decisions=("Beschluss 1",))
    tid = add_task(world, mid, member_id(world, "teacher_a"))
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/delete")
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    assert (get_meeting(world, mid) is None) == allowed
    # decisions and tasks go with the meeting
    assert count(world, MeetingTask, MeetingTask.id == tid) == (0 if allowed else 1)
    assert count(world, MeetingDecision) == (0 if allowed else 1)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_write_minutes_and_decisions(world, persona):
    mid = add_meeting(world, body="schulleitungsrunde")
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/minutes",
                                   {"minutes": "<p>MINUTES-MARKER</p>", "decisions": "Beschluss A\n\n  Beschluss B  \n"})
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    m = get_meeting(world, mid)
    with bridge(world.app).db.sessions() as s:
        decisions = s.scalars(select(MeetingDecision.text).where(MeetingDecision.meeting_id == mid)
                              .order_by(MeetingDecision.position)).all()
        acts = s.scalars(select(Activity).where(Activity.kind == "meeting.minutes")).all()
    if allowed:
        assert "MINUTES-MARKER" in m.minutes and decisions == ["Beschluss A", "Beschluss B"]
        assert m.minutes_published_at is not None
        # published minutes reach exactly the roles of the body
        assert len(acts) == 1 and acts[0].url == f"/w/{world.network_id}/meetings/{mid}"
        for role in ("manager", "authority", "leader", "media", "teacher", "guest"):
            assert visible(acts[0].audience, role, None, role == "manager") == (role in MEETING_BODIES["schulleitungsrunde"])
    else:
        assert m.minutes == "" and decisions == [] and acts == []


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_task(world, persona):
    mid = add_meeting(world)
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/tasks",
                                   {"title": "Protokoll verschicken", "assignee": str(member_id(world, "media_a")),
                                    "due": "2026-11-20"})
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    assert count(world, MeetingTask, MeetingTask.meeting_id == mid) == (1 if allowed else 0)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_task(world, persona):
    mid = add_meeting(world)
    tid = add_task(world, mid, member_id(world, "teacher_a"))
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/tasks/{tid}/delete")
    allowed = role_of(persona) == "manager"
    expect(persona, allowed, resp)
    assert count(world, MeetingTask, MeetingTask.id == tid) == (0 if allowed else 1)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_assignee_and_managers_mark_tasks_done(world, persona):
    mid = add_meeting(world)
    tid = add_task(world, mid, member_id(world, "teacher_a"))
    resp = world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/tasks/{tid}/done", {"done": "1"})
    allowed = persona in ("teacher_a", "manager")
    expect(persona, allowed, resp)
    with bridge(world.app).db.sessions() as s:
        task = s.get(MeetingTask, tid)
        assert task.done == allowed and (task.done_at is not None) == allowed
    if allowed:  # and reopen
        assert world.as_(persona).post(f"/w/{world.network_id}/meetings/{mid}/tasks/{tid}/done",
                                       {"done": "0"}).status_code == 303
        with bridge(world.app).db.sessions() as s:
            assert s.get(MeetingTask, tid).done is False


# -- visibility follows the body ------------------------------------------------------------------


@pytest.mark.parametrize("body", list(MEETING_BODIES))
@pytest.mark.parametrize("persona", NETWORK_ROLES)
def test_details_only_for_the_body(world, persona, body):
    mid = add_meeting(world, body=body, title=f"TITLE-{body}", video_url="https://video.example.org/room-42",
                      minutes="<p>MINUTES-MARKER</p>", decisions=("DECISION-MARKER",))
    add_task(world, mid, member_id(world, "manager"), title="TASK-MARKER")
    n = world.network_id
    sees = may_see_body(role_of(persona), body)
    page = world.as_(persona).get(f"/w/{n}/meetings/{mid}").get_data(as_text=True)
    listing = world.as_(persona).get(f"/w/{n}/meetings").get_data(as_text=True)
    # everybody sees that the meeting exists, with title, time and place
    for html in (page, listing):
        assert f"TITLE-{body}" in html and "Gesamtschule Musterstadt, Aula" in html
    assert f'data-meeting-id="{mid}"' in listing
    for marker in ("AGENDA-MARKER", "MINUTES-MARKER", "DECISION-MARKER", "TASK-MARKER", "video.example.org/room-42"):
        assert (marker in page) == sees, (persona, body, marker)
    assert ('data-details="shown"' in page) == sees
    assert ('data-details="hidden"' in page) != sees


def test_schulleitungsrunde_minutes_only_for_leaders_and_managers(world):
    mid = add_meeting(world, body="schulleitungsrunde", minutes="<p>MINUTES-MARKER</p>")
    seen = {p for p in NETWORK_ROLES
            if "MINUTES-MARKER" in world.as_(p).get(f"/w/{world.network_id}/meetings/{mid}").get_data(as_text=True)}
    assert seen == {"manager", "leader_a", "leader_b"}


def test_tasks_of_a_hidden_body_cannot_be_changed_by_guessing(world):
    mid = add_meeting(world, body="schulleitungsrunde")
    tid = add_task(world, mid, member_id(world, "leader_a"))
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/meetings/{mid}/tasks/{tid}/done", {"done": "1"})
    assert resp.status_code == 404
    with bridge(world.app).db.sessions() as s:
        assert s.get(MeetingTask, tid).done is False


# -- times, school years, grouping ----------------------------------------------------------------------


@pytest.mark.parametrize(("day", "clock", "utc_hour"), [("2026-11-05", "17:30", 16), ("2026-06-10", "17:30", 15)])
def test_times_are_berlin_wall_clock_stored_in_utc(world, day, clock, utc_hour):
    manager = world.as_("manager")
    assert manager.post(f"/w/{world.network_id}/meetings",
                        valid_form(date=day, start=clock, end="19:00")).status_code == 303
    with bridge(world.app).db.sessions() as s:
        m = s.scalars(select(Meeting)).one()
    starts = m.starts_at.replace(tzinfo=UTC) if m.starts_at.tzinfo is None else m.starts_at
    assert (starts.hour, starts.minute) == (utc_hour, 30) and starts.date().isoformat() == day
    # the edit form shows the Berlin time again
    form = manager.get(f"/w/{world.network_id}/meetings/{m.id}/edit").get_data(as_text=True)
    assert 'value="17:30"' in form and f'value="{day}"' in form


def test_multi_day_meeting_with_end_date(world):
    resp = world.as_("manager").post(f"/w/{world.network_id}/meetings",
                                     valid_form(body="zwischenbilanztagung", date="2027-03-04", end_date="2027-03-05",
                                                start="09:00", end="15:00"))
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        m = s.scalars(select(Meeting)).one()
    assert (m.ends_at - m.starts_at) == timedelta(hours=30)


def test_list_has_upcoming_and_past_grouped_by_school_year(world):
    now = datetime.now(UTC).replace(microsecond=0)
    future = add_meeting(world, title="FUTURE", starts=now + timedelta(days=400))
    past_recent = add_meeting(world, title="PAST-RECENT", starts=now - timedelta(days=30))
    past_old = add_meeting(world, title="PAST-OLD", starts=now - timedelta(days=800))
    html = world.as_("teacher_b").get(f"/w/{world.network_id}/meetings").get_data(as_text=True)
    upcoming, past = section(html, "mt-upcoming"), section(html, "mt-past")
    assert f'data-meeting-id="{future}"' in upcoming and f'data-meeting-id="{future}"' not in past
    assert f'data-meeting-id="{past_recent}"' in past and f'data-meeting-id="{past_old}"' in past
    # past meetings: newest first, under their school-year heading
    assert past.index(f'data-meeting-id="{past_recent}"') < past.index(f'data-meeting-id="{past_old}"')
    years = re.findall(r"<h3 id=\"mt-past-\d+\">[^<]*?(\d{4}/\d{2})</h3>", past)
    assert len(years) >= 2 and years == sorted(years, reverse=True)


def test_school_year_boundary():
    from lti_tool.workspaces.meetings.forms import school_year_of

    assert school_year_of(date(2026, 7, 31)) == "2025/26"
    assert school_year_of(date(2026, 8, 1)) == "2026/27"
    assert school_year_of(date(2099, 12, 1)) == "2099/00"


# -- input validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"title": ""},
    {"title": "x" * 201},
    {"body": "kaffeekranz"},
    {"date": ""},
    {"date": "05.11.2026"},
    {"start": "25:00"},
    {"end": "15:00"},  # ends before it starts
    {"end_date": "2027-01-13"},  # ends the day before
    {"end_date": "2027-02-14"},  # longer than 14 days
    {"place": "", "video_url": ""},
    {"place": "", "video_url": "javascript:alert(1)"},
    {"video_url": "ftp://files.example.org/x"},
    {"video_url": "https://"},
    {"video_url": "https://exa mple.org"},
    {"place": "p" * 256},
    {"agenda": "a" * 20001},
    {"body": "arbeitsgruppe", "group_id": "999999"},
])
def test_invalid_meeting_input_is_refused(world, bad):
    resp = world.as_("manager").post(f"/w/{world.network_id}/meetings", valid_form(**bad))
    assert resp.status_code == 400
    assert 'role="alert"' in resp.get_data(as_text=True)  # the message is shown with the form
    assert count(world, Meeting) == 0 and count(world, Activity, Activity.kind == "meeting.created") == 0


def test_invalid_edit_changes_nothing(world):
    mid = add_meeting(world, title="Original")
    resp = world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/edit", valid_form(title="Neu", end="10:00"))
    assert resp.status_code == 400 and get_meeting(world, mid).title == "Original"


def test_invalid_minutes_change_nothing(world):
    mid = add_meeting(world)
    too_many = "\n".join(f"Beschluss {i}" for i in range(51))
    for form in ({"minutes": "m" * 50001, "decisions": ""}, {"minutes": "<p>ok</p>", "decisions": too_many},
                 {"minutes": "", "decisions": "d" * 501}):
        resp = world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/minutes", form)
        assert resp.status_code == 400
    assert get_meeting(world, mid).minutes == "" and count(world, MeetingDecision) == 0
    assert count(world, Activity, Activity.kind == "meeting.minutes") == 0


@pytest.mark.parametrize("bad", [
    {"title": ""},
    {"assignee": ""},
    {"assignee": "abc"},
    {"assignee": "OTHER"},  # a member of another network
    {"assignee": "TEACHER"},  # may not see the Schulleitungsrunde's details
    {"due": "morgen"},
])
def test_invalid_task_is_refused(world, bad):
    mid = add_meeting(world, body="schulleitungsrunde")
    form = {"title": "Einladung schreiben", "assignee": str(member_id(world, "leader_a")), "due": "2026-12-01"}
    form.update(bad)
    if form["assignee"] == "OTHER":
        form["assignee"] = str(member_id(world, "outsider", world.other_network_id))
    if form["assignee"] == "TEACHER":
        form["assignee"] = str(member_id(world, "teacher_a"))
    resp = world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/tasks", form)
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(world, MeetingTask) == 0


def test_body_change_unassigns_people_who_no_longer_see_the_details(world):
    mid = add_meeting(world, body="netzwerktreffen")
    tid = add_task(world, mid, member_id(world, "teacher_a"))
    keep = add_task(world, mid, member_id(world, "leader_a"))
    assert world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/edit",
                                     valid_form(body="schulleitungsrunde")).status_code == 303
    with bridge(world.app).db.sessions() as s:
        assert s.get(MeetingTask, tid).assignee_member_id is None
        assert s.get(MeetingTask, keep).assignee_member_id == member_id(world, "leader_a")


# -- rich text is sanitised ------------------------------------------------------------------------------------


def test_agenda_minutes_and_title_are_sanitised(world):
    manager = world.as_("manager")
    n = world.network_id
    resp = manager.post(f"/w/{n}/meetings", valid_form(body="netzwerktreffen", title='<script>alert("t")</script>Treffen',
                                                     agenda=XSS))
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        mid = s.scalars(select(Meeting.id)).one()
    assert manager.post(f"/w/{n}/meetings/{mid}/minutes",
                        {"minutes": XSS, "decisions": '<script>alert("d")</script>'}).status_code == 303
    for persona in ("manager", "teacher_b"):
        for path in (f"/w/{n}/meetings/{mid}", f"/w/{n}/meetings", f"/w/{n}/meetings/{mid}/edit",
                     f"/w/{n}/meetings/{mid}/minutes", f"/w/{n}/"):
            resp = world.as_(persona).get(path)
            if resp.status_code != 200:
                continue
            html = resp.get_data(as_text=True)
            assert "<script" not in html.lower() and "onerror" not in html.lower(), (persona, path)
    page = manager.get(f"/w/{n}/meetings/{mid}").get_data(as_text=True)
    assert "<strong>fett</strong>" in page  # allowed formatting survives
    assert "&lt;script&gt;" in page  # the plain-text title is shown escaped
    # the calendar carries the agenda as plain text, without markup
    event = Calendar.from_ical(manager.get(f"/w/{n}/meetings.ics").data).walk("VEVENT")[0]
    description = str(event["DESCRIPTION"])
    assert "Plan" in description and "fett" in description and "<" not in description and "onerror" not in description


# -- outsiders guessing ids ------------------------------------------------------------------------------------------


def _all_paths(n: int, mid: int, tid: int) -> tuple[list[str], list[str]]:
    gets = [f"/w/{n}/meetings/{mid}", f"/w/{n}/meetings/{mid}/edit", f"/w/{n}/meetings/{mid}/minutes"]
    posts = [f"/w/{n}/meetings/{mid}/edit", f"/w/{n}/meetings/{mid}/delete", f"/w/{n}/meetings/{mid}/minutes",
             f"/w/{n}/meetings/{mid}/tasks", f"/w/{n}/meetings/{mid}/tasks/{tid}/done",
             f"/w/{n}/meetings/{mid}/tasks/{tid}/delete"]
    return gets, posts


@pytest.mark.parametrize("through", ["own_network", "their_network"])
def test_outsider_cannot_reach_meetings_by_guessing_ids(world, through):
    mid = add_meeting(world, minutes="<p>MINUTES-MARKER</p>")
    tid = add_task(world, mid, member_id(world, "teacher_a"))
    n = world.other_network_id if through == "own_network" else world.network_id
    outsider = world.as_("outsider")
    gets, posts = _all_paths(n, mid, tid)
    for path in gets + [f"/w/{n}/meetings.ics" if through == "their_network" else f"/w/{world.network_id}/meetings"]:
        resp = outsider.get(path)
        assert resp.status_code == 404, path
        assert b"MINUTES-MARKER" not in resp.data
    for path in posts:
        assert outsider.post(path, valid_form(minutes="<p>x</p>", done="1")).status_code == 404, path
    m = get_meeting(world, mid)
    assert m is not None and m.title == "Netzwerktreffen Herbst" and "MINUTES-MARKER" in m.minutes
    with bridge(world.app).db.sessions() as s:
        assert s.get(MeetingTask, tid).done is False
    # the outsider's own calendar does not contain network 1's meeting
    cal = Calendar.from_ical(outsider.get(f"/w/{world.other_network_id}/meetings.ics").data)
    assert cal.walk("VEVENT") == []


def test_ids_of_another_network_are_not_reachable_through_this_network(world):
    foreign = add_meeting(world, network_id=world.other_network_id, title="FOREIGN")
    foreign_task = add_task(world, foreign, member_id(world, "outsider", world.other_network_id))
    own = add_meeting(world)
    manager = world.as_("manager")
    gets, posts = _all_paths(world.network_id, foreign, foreign_task)
    for path in gets:
        assert manager.get(path).status_code == 404, path
    for path in posts:
        assert manager.post(path, valid_form(done="1")).status_code == 404, path
    # a task id of another meeting through an own meeting
    for action in ("done", "delete"):
        resp = manager.post(f"/w/{world.network_id}/meetings/{own}/tasks/{foreign_task}/{action}", {"done": "1"})
        assert resp.status_code == 404
    assert get_meeting(world, foreign).title == "FOREIGN"
    assert count(world, MeetingTask, MeetingTask.id == foreign_task, MeetingTask.done.is_(False)) == 1


def test_posts_need_the_csrf_token(world):
    manager = world.as_("manager")
    resp = manager.client.post(f"/w/{world.network_id}/meetings",
                               data={"launch": manager.launch_id, "csrf": "forged", **valid_form()})
    assert resp.status_code == 400 and count(world, Meeting) == 0


# -- working groups, open tasks, activity ---------------------------------------------------------------------------------


def test_arbeitsgruppe_meeting_links_to_a_group_of_this_network(world):
    from lti_tool.workspaces.groups.models import Group

    with bridge(world.app).db.sessions() as s:
        own = Group(network_id=world.network_id, title="AG Medienkonzept", description="")
        foreign = Group(network_id=world.other_network_id, title="AG Fremd", description="")
        s.add_all([own, foreign])
        s.commit()
        own_id, foreign_id = own.id, foreign.id
    manager = world.as_("manager")
    n = world.network_id
    assert manager.post(f"/w/{n}/meetings", valid_form(body="arbeitsgruppe", group_id=str(foreign_id))).status_code == 400
    assert manager.post(f"/w/{n}/meetings", valid_form(body="arbeitsgruppe", group_id=str(own_id))).status_code == 303
    # the group is only linked for Arbeitsgruppe meetings
    assert manager.post(f"/w/{n}/meetings", valid_form(body="netzwerktreffen", group_id=str(own_id))).status_code == 303
    with bridge(world.app).db.sessions() as s:
        linked = dict(s.execute(select(Meeting.body, Meeting.group_id)).all())
    assert linked == {"arbeitsgruppe": own_id, "netzwerktreffen": None}
    with bridge(world.app).db.sessions() as s:
        mid = s.scalar(select(Meeting.id).where(Meeting.body == "arbeitsgruppe"))
    page = world.as_("teacher_a").get(f"/w/{n}/meetings/{mid}").get_data(as_text=True)
    assert f"/w/{n}/groups/{own_id}" in page


def test_open_tasks_appear_on_the_assignees_overview_until_done(world):
    mid = add_meeting(world, body="netzwerktreffen")
    tid = add_task(world, mid, member_id(world, "teacher_a"), title="OPEN-TASK-MARKER")
    hidden = add_meeting(world, body="schulleitungsrunde")
    add_task(world, hidden, member_id(world, "leader_a"), title="LEADER-TASK-MARKER")
    n = world.network_id
    teacher = world.as_("teacher_a").get(f"/w/{n}/").get_data(as_text=True)
    assert "OPEN-TASK-MARKER" in teacher and f"#task-{tid}" in teacher and "LEADER-TASK-MARKER" not in teacher
    assert "LEADER-TASK-MARKER" in world.as_("leader_a").get(f"/w/{n}/").get_data(as_text=True)
    assert "OPEN-TASK-MARKER" not in world.as_("teacher_b").get(f"/w/{n}/").get_data(as_text=True)
    assert world.as_("teacher_a").post(f"/w/{n}/meetings/{mid}/tasks/{tid}/done", {"done": "1"}).status_code == 303
    assert "OPEN-TASK-MARKER" not in world.as_("teacher_a").get(f"/w/{n}/").get_data(as_text=True)


def test_minutes_news_reach_only_the_body(world):
    mid = add_meeting(world, body="schulleitungsrunde", title="SLR-MARKER")
    assert world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/minutes",
                                     {"minutes": "<p>Protokoll</p>", "decisions": ""}).status_code == 303
    # saving again does not announce twice
    assert world.as_("manager").post(f"/w/{world.network_id}/meetings/{mid}/minutes",
                                     {"minutes": "<p>Protokoll 2</p>", "decisions": ""}).status_code == 303
    assert count(world, Activity, Activity.kind == "meeting.minutes") == 1
    assert "SLR-MARKER" in world.as_("leader_b").get(f"/w/{world.network_id}/").get_data(as_text=True)
    assert "SLR-MARKER" not in world.as_("teacher_b").get(f"/w/{world.network_id}/").get_data(as_text=True)


# -- iCalendar ----------------------------------------------------------------------------------------------------------


def _events(resp) -> dict[str, object]:
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.data)
    return {str(ev["SUMMARY"]): ev for ev in cal.walk("VEVENT")}


def test_icalendar_export(world):
    n = world.network_id
    slr = add_meeting(world, body="schulleitungsrunde", title="SLR", agenda="<p>Transfer ins Kollegium</p><p>Termine</p>",
                      video_url="https://video.example.org/slr", place="")
    nt = add_meeting(world, body="netzwerktreffen", title="NT", agenda="<p>Barcamp &amp; Austausch</p>",
                     starts=datetime(2027, 2, 3, 14, 0, tzinfo=UTC))
    leader = _events(world.as_("leader_a").get(f"/w/{n}/meetings.ics"))
    teacher = _events(world.as_("teacher_a").get(f"/w/{n}/meetings.ics"))
    assert len(leader) == 2 and len(teacher) == 2  # every member sees that both exist
    slr_key = next(k for k in leader if k.startswith("SLR"))
    nt_key = next(k for k in leader if k.startswith("NT"))
    # times in UTC
    assert leader[nt_key].decoded("DTSTART") == datetime(2027, 2, 3, 14, 0, tzinfo=UTC)
    assert leader[nt_key].decoded("DTEND") == datetime(2027, 2, 3, 16, 0, tzinfo=UTC)
    assert leader[nt_key].decoded("DTSTART").tzinfo is not None
    assert str(leader[nt_key]["LOCATION"]) == "Gesamtschule Musterstadt, Aula"
    # details (agenda, video link) only for those who may see them
    assert "Transfer ins Kollegium" in str(leader[slr_key]["DESCRIPTION"])
    assert str(leader[slr_key]["URL"]) == "https://video.example.org/slr"
    assert "DESCRIPTION" not in teacher[slr_key] and "URL" not in teacher[slr_key]
    assert "Barcamp & Austausch" in str(teacher[nt_key]["DESCRIPTION"])
    # UIDs are stable per meeting: across viewers, requests and edits
    uid = str(leader[slr_key]["UID"])
    assert uid == str(teacher[slr_key]["UID"]) and f"-{slr}@" in uid and f"-{nt}@" in str(leader[nt_key]["UID"])
    assert world.as_("manager").post(f"/w/{n}/meetings/{slr}/edit",
                                     valid_form(body="schulleitungsrunde", title="SLR neu")).status_code == 303
    again = _events(world.as_("leader_a").get(f"/w/{n}/meetings.ics"))
    by_uid = {str(ev["UID"]): summary for summary, ev in again.items()}
    assert by_uid[uid].startswith("SLR neu") and len(by_uid) == 2


def test_icalendar_is_empty_but_valid_without_meetings(world):
    resp = world.as_("guest").get(f"/w/{world.network_id}/meetings.ics")
    cal = Calendar.from_ical(resp.data)
    assert resp.status_code == 200 and cal.walk("VEVENT") == [] and str(cal["VERSION"]) == "2.0"
