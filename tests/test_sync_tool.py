"""LMS sync from the workspace: targets, preflight, plan, apply, progress and failures against a fake Moodle.

The fake Moodle (``tests/sync/fakemoodle.py``) is a real HTTP server in the
test process answering like a Moodle 5.1 site; runs go through the real
in-process thread (``jobs.wait`` joins it – no sleeps).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from lti_tool.bridge import bridge
from lti_tool.db import utcnow
from lti_tool.sync import jobs
from lti_tool.sync.desired import PSEUDONYM_LENGTH, build, pseudonym, split_name
from lti_tool.sync.models import SyncLock, SyncMapping, SyncRun, SyncTarget
from lti_tool.sync.service import SyncRefused, normalize_url, start_run
from lti_tool.sync.store import DbTargetLock
from lti_tool.workspaces.models import Activity, NetworkMember
from tests.sync.fakemoodle import FakeMoodle
from tests.world import NETWORK_ROLES, PERSONAS

ALL_PERSONAS = list(PERSONAS)
TITLES = ["Nutzung", "Unterrichtsentwicklung", "Medienkonzept", "Medienkompetenz", "Leitung/Steuerung",
          "Fortbildung", "Kommunikation", "Netzwerktreffen", "Arbeitsgruppen"]
#: world: 8 members, 5 of them in a school (leader_a, media_a, teacher_a, leader_b, teacher_b), 2 schools
FRESH_CREATES = {"category": 1, "course": 1, "section": 9, "group": 2, "user": 8, "enrolment": 8, "membership": 5}
MOODLE_ROLE = {"manager": "editingteacher", "authority": "student", "leader_a": "teacher", "media_a": "teacher",
               "teacher_a": "student", "leader_b": "teacher", "teacher_b": "student", "guest": "student"}


# -- fixtures and helpers -----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


def base(world: Any, network_id: int | None = None) -> str:
    return f"/sync/networks/{network_id or world.network_id}"


def add_target(world: Any, fake: FakeMoodle, *, name: str = "Moodle Musterstadt", token: str | None = None,
               by: str = "manager", url: str | None = None) -> int:
    resp = world.as_(by).post(f"{base(world)}/targets", {"name": name, "site_url": url or fake.url,
                                                         "token": token or fake.token, "user_auth": "nologin"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    return int(re.search(r"/targets/(\d+)", resp.headers["Location"]).group(1))


def start(world: Any, target_id: int, mode: str, *, prune: bool = False, by: str = "manager") -> int:
    data = {"mode": mode}
    if prune:
        data["prune"] = "yes"
    if mode == "apply":
        data["confirm"] = "yes"
    resp = world.as_(by).post(f"{base(world)}/targets/{target_id}/runs", data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    run_id = int(re.search(r"/runs/(\d+)", resp.headers["Location"]).group(1))
    assert jobs.wait(run_id, 120), "the run thread did not end"
    return run_id


def run_row(world: Any, run_id: int) -> SyncRun:
    with bridge(world.app).db.sessions() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


def target_row(world: Any, target_id: int) -> SyncTarget:
    with bridge(world.app).db.sessions() as s:
        target = s.get(SyncTarget, target_id)
        assert target is not None
        s.expunge(target)
        return target


def count(world: Any, model: Any, *where: Any) -> int:
    with bridge(world.app).db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)))


def changes(run: SyncRun, op: str) -> list[tuple[str, str]]:
    assert run.plan is not None
    return [(item["kind"], item["key"]) for item in run.plan["changes"][op]]


def by_kind(run: SyncRun, op: str) -> dict[str, int]:
    counted: dict[str, int] = {}
    for kind, _key in changes(run, op):
        counted[kind] = counted.get(kind, 0) + 1
    return counted


def username(world: Any, fake: FakeMoodle, persona: str) -> str:
    with world.app.app_context():
        return "lmsb-" + pseudonym(bridge(world.app).box, fake.url, world.as_(persona).person_id)


def member_id(world: Any, persona: str) -> int:
    with bridge(world.app).db.sessions() as s:
        return int(s.scalar(select(NetworkMember.id).where(NetworkMember.network_id == world.network_id,
                                                           NetworkMember.person_id == world.as_(persona).person_id)))


def all_stored_text(world: Any) -> str:
    """Every value of every sync table, as text."""
    out = []
    with bridge(world.app).db.engine.connect() as conn:
        for table in ("sync_target", "sync_mapping", "sync_run", "sync_lock", "ws_activity"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed table names
                out.extend(str(v) for v in row)
    return "\n".join(out)


def course(fake: FakeMoodle, world: Any) -> dict[str, Any]:
    found = fake.course_by_idnumber(f"lmsb-net-{world.network_id}-ws")
    assert found is not None
    return found


def expect(persona: str, resp: Any, ok: int) -> None:
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404, (persona, resp.status_code)
    elif persona == "manager":
        assert resp.status_code == ok, (persona, resp.status_code, resp.get_data(as_text=True)[:600])
    else:
        assert resp.status_code == 403, (persona, resp.status_code)


# -- targets and preflight -------------------------------------------------------------------------------------


def test_add_target_keeps_the_token_encrypted_and_shows_the_preflight(world, fake):
    target_id = add_target(world, fake)
    target = target_row(world, target_id)
    assert (target.site_url, target.kind, target.scope, target.user_auth) == (fake.url, "moodle", "network", "nologin")
    assert target.token_hint == fake.token[-4:]
    assert fake.token not in all_stored_text(world)  # in no column of any sync row
    with world.app.app_context():
        assert bridge(world.app).box.decrypt(target.token_enc) == fake.token
    preflight = target.last_preflight
    assert preflight is not None and preflight["error"] is None and target.checked_at is not None
    assert preflight["checks"]["provisioning"]["available"] is True
    assert preflight["checks"]["prune"]["available"] is True
    assert preflight["checks"]["cartridge_delivery"]["available"] is False  # the companion plugin is not installed
    assert "local_lmsbridge_restore_cartridge" in preflight["missing_functions"]
    assert fake.functions_called() == ["core_webservice_get_site_info"]

    page = world.as_("manager").get(f"{base(world)}/targets/{target_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert fake.token not in html and f'data-token-hint="{fake.token[-4:]}"' in html
    assert 'data-preflight="usable"' in html  # provisioning works; cartridges fall back to Deep Linking
    assert 'data-feature="provisioning" data-available="yes"' in html
    assert 'data-feature="cartridge_delivery" data-available="no"' in html
    assert 'id="new-token" name="token" type="password" autocomplete="off"' in html
    listing = world.as_("manager").get(base(world)).get_data(as_text=True)
    assert f'data-target-id="{target_id}"' in listing and fake.token not in listing
    assert 'name="token" type="password" autocomplete="off"' in listing
    assert count(world, Activity, Activity.kind == "sync.target", Activity.audience == "roles:manager") == 1


def test_check_connection_records_what_changed_on_the_site(world, fake):
    target_id = add_target(world, fake)
    fake.remove_function("core_user_create_users")
    resp = world.as_("manager").post(f"{base(world)}/targets/{target_id}/check")
    assert resp.status_code == 303
    preflight = target_row(world, target_id).last_preflight
    assert preflight["checks"]["provisioning"]["available"] is False
    assert preflight["checks"]["provisioning"]["missing"] == ["core_user_create_users"]
    html = world.as_("manager").get(f"{base(world)}/targets/{target_id}").get_data(as_text=True)
    assert 'data-feature="provisioning" data-available="no"' in html and "<code>core_user_create_users</code>" in html


def test_a_wrong_token_is_saved_with_a_failed_preflight(world, fake):
    target_id = add_target(world, fake, token="wrong-token-000000000000")
    preflight = target_row(world, target_id).last_preflight
    assert "invalidtoken" in preflight["error"]
    html = world.as_("manager").get(f"{base(world)}/targets/{target_id}").get_data(as_text=True)
    assert 'data-preflight="error"' in html and "wrong-token-000000000000" not in html


def test_replacing_the_token(world, fake):
    target_id = add_target(world, fake, token="wrong-token-000000000000")
    resp = world.as_("manager").post(f"{base(world)}/targets/{target_id}/token", {"token": fake.token})
    assert resp.status_code == 303
    target = target_row(world, target_id)
    assert target.token_hint == fake.token[-4:] and target.last_preflight["error"] is None
    assert "wrong-token-000000000000" not in all_stored_text(world) and fake.token not in all_stored_text(world)


@pytest.mark.parametrize("field, value", [
    ("name", ""),
    ("name", "x" * 256),
    ("site_url", ""),
    ("site_url", "ftp://moodle.example.org"),
    ("site_url", "moodle.example.org"),
    ("site_url", "https://admin:pw@moodle.example.org"),
    ("site_url", "https://moodle.example.org/?next=1"),
    ("token", ""),
    ("token", "short"),
    ("token", "has a space in it 0123456789"),
    ("user_auth", "manual"),
])
def test_add_target_refuses_bad_input(world, fake, field, value):
    form = {"name": "Moodle", "site_url": fake.url, "token": fake.token, "user_auth": "nologin", field: value}
    resp = world.as_("manager").post(f"{base(world)}/targets", form)
    assert resp.status_code == 400
    assert 'class="notice error"' in resp.get_data(as_text=True)
    assert count(world, SyncTarget) == 0
    assert fake.calls == []


def test_add_target_refuses_a_second_target_of_the_same_name_or_site(world, fake):
    add_target(world, fake)
    for form in ({"name": "moodle musterstadt", "site_url": fake.url + "/other"},
                 {"name": "Another", "site_url": fake.url + "/"}):
        resp = world.as_("manager").post(f"{base(world)}/targets", {**form, "token": fake.token})
        assert resp.status_code == 400
    assert count(world, SyncTarget) == 1


def test_site_addresses_are_normalised_and_https_is_required_outside_tests():
    assert normalize_url("HTTPS://Moodle.Example.org/moodle/webservice/rest/server.php") == \
        "https://moodle.example.org/moodle"
    assert normalize_url(" https://moodle.example.org:8443/ ") == "https://moodle.example.org:8443"
    with pytest.raises(SyncRefused) as refused:
        normalize_url("http://moodle.example.org")
    assert refused.value.code == "sync_url_insecure"
    assert normalize_url("http://127.0.0.1:8080", allow_http=True) == "http://127.0.0.1:8080"


def test_target_names_are_escaped(world, fake):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    target_id = add_target(world, fake, name=evil)
    for path in (base(world), f"{base(world)}/targets/{target_id}"):
        html = world.as_("manager").get(path).get_data(as_text=True)
        assert "<script>alert" not in html and not re.search(r"<[^>]*\bonerror", html)


# -- the desired state ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("Maria Moderatorin", ("Maria", "Moderatorin")),
    ("Anna Maria von Berg", ("Anna Maria", "von Berg")),
    ("Berg, Anna", ("Anna", "Berg")),
    ("  Kim   Weber  ", ("Kim", "Weber")),
    ("Madonna", ("Madonna", "–")),
    ("", None),
    ("   ", None),
])
def test_names_are_split_for_moodle(name, expected):
    assert split_name(name) == expected


def test_desired_state_of_the_world_network(world, fake):
    target_id = add_target(world, fake)
    with world.app.app_context(), bridge(world.app).db.sessions() as s:
        target = s.get(SyncTarget, target_id)
        box = bridge(world.app).box
        built = build(s, box, target)
        other_site = pseudonym(box, "https://other.example.org", world.as_("manager").person_id)
    desired = built.desired
    desired.validate()
    assert desired.category_idnumber == f"lmsb-net-{world.network_id}"
    assert desired.category_name == "Lernen 25 (Musterstadt)"
    assert (desired.course.fullname, desired.course.shortname, desired.course.idnumber) == \
        ("Lernen 25", f"LMSB-{world.network_id}", f"lmsb-net-{world.network_id}-ws")
    assert [s.title for s in desired.sections] == TITLES
    assert {s.key: s.name for s in desired.schools} == {
        str(world.schools["A"]): "Gesamtschule Musterstadt", str(world.schools["B"]): "Gymnasium Beispielburg"}
    people = {p.username: p for p in desired.people}
    assert len(people) == 8
    for persona, role in MOODLE_ROLE.items():
        wanted = people[username(world, fake, persona)]
        assert wanted.role == role
        assert wanted.email_address == f"{wanted.username}@lms-bridge.invalid"
        assert wanted.auth == "nologin"
        school = PERSONAS[persona][4]
        assert wanted.school == (str(world.schools[school]) if school else None)
    leader = people[username(world, fake, "leader_a")]
    assert (leader.firstname, leader.lastname) == ("Leader", "A")
    assert len(leader.username) == len("lmsb-") + PSEUDONYM_LENGTH
    assert other_site not in {u[len("lmsb-"):] for u in people}  # another site gets other usernames
    assert built.label("enrolment", f"{desired.course.idnumber}/{leader.username}") == "Leader A"


def test_a_person_without_a_name_gets_a_neutral_stable_placeholder(world, fake):
    from lti_tool.workspaces.models import Person

    target_id = add_target(world, fake)
    with bridge(world.app).db.sessions() as s:
        s.execute(update(Person).where(Person.id == world.as_("guest").person_id).values(display_name=""))
        s.commit()
    with world.app.app_context(), bridge(world.app).db.sessions() as s:
        built = build(s, bridge(world.app).box, s.get(SyncTarget, target_id))
    guest = next(p for p in built.desired.people if p.username == username(world, fake, "guest"))
    assert guest.firstname == "Mitglied" and guest.lastname == guest.username[len("lmsb-"):][:6]


# -- plan and apply -------------------------------------------------------------------------------------------


def test_plan_for_a_fresh_site_lists_the_creates_and_writes_nothing(world, fake):
    target_id = add_target(world, fake)
    fake.clear_log()
    run_id = start(world, target_id, "plan")
    run = run_row(world, run_id)
    assert (run.status, run.mode, run.dry_run, run.backend) == ("done", "plan", True, "thread")
    assert by_kind(run, "create") == FRESH_CREATES
    assert changes(run, "update") == [] and changes(run, "remove") == []
    assert fake.writes() == []
    assert count(world, SyncMapping) == 0
    assert "Summary: 34 create, 0 update, 0 leave, 0 remove" in run.plan_text
    html = world.as_("manager").get(f"{base(world)}/runs/{run_id}").get_data(as_text=True)
    assert 'data-state="done"' in html and 'http-equiv="refresh"' not in html
    assert 'data-plan-counts="34 0 0 0"' in html
    assert html.count('<tr data-kind="user"') == 8
    assert "Leader A" in html  # keys come with the people's names


def test_apply_provisions_the_network_and_an_unchanged_rerun_writes_nothing(world, fake, caplog):
    caplog.set_level(logging.DEBUG)
    target_id = add_target(world, fake)
    run_id = start(world, target_id, "apply")
    run = run_row(world, run_id)
    assert run.status == "done", run.message
    assert run.message == "complete"
    assert run.progress_done == run.progress_total == sum(FRESH_CREATES.values())
    assert run.report["ok"] is True

    category = fake.category_by_idnumber(f"lmsb-net-{world.network_id}")
    assert category is not None and category["name"] == "Lernen 25 (Musterstadt)"
    moodle_course = course(fake, world)
    assert moodle_course["fullname"] == "Lernen 25" and moodle_course["categoryid"] == category["id"]
    assert fake.section_names(moodle_course["id"])[1:] == TITLES
    groups = {g["idnumber"]: g for g in fake.state.groups.values() if g["courseid"] == moodle_course["id"]}
    assert {g["name"] for g in groups.values()} == {"Gesamtschule Musterstadt", "Gymnasium Beispielburg"}
    for persona, role in MOODLE_ROLE.items():
        account = fake.user_by_username(username(world, fake, persona))
        assert account is not None, persona
        assert account["email"].endswith("@lms-bridge.invalid") and account["auth"] == "nologin"
        assert fake.roles_of(moodle_course["id"], account["id"]) == {role}, persona
        school = PERSONAS[persona][4]
        member_of = {g["idnumber"] for gid, g in groups.items() if account["id"] in fake.state.members[g["id"]]}
        assert member_of == ({f"lmsb-net-{world.network_id}-school-{world.schools[school]}"} if school else set())
    assert count(world, SyncMapping, SyncMapping.created.is_(True)) == sum(FRESH_CREATES.values())
    assert count(world, Activity, Activity.kind == "sync.applied", Activity.audience == "roles:manager") == 1

    html = world.as_("manager").get(f"{base(world)}/runs/{run_id}").get_data(as_text=True)
    assert '<tr data-result="created">' in html and 'data-kind="user" data-count="8"' in html

    fake.clear_log()
    again = run_row(world, start(world, target_id, "apply"))
    assert again.status == "done" and again.report["ok"] is True
    assert fake.writes() == []  # zero write calls
    assert again.report["calls"]["writes"] == 0 and again.report["done"] == []
    assert again.plan["noop"] is True
    assert len([c for c in fake.state.courses.values() if c["idnumber"] == moodle_course["idnumber"]]) == 1
    html = world.as_("manager").get(f"{base(world)}/runs/{again.id}").get_data(as_text=True)
    assert 'data-report="nothing"' in html and 'data-plan="noop"' in html and 'data-calls-writes="0"' in html
    assert fake.token not in caplog.text


def test_a_role_change_is_exactly_one_update(world, fake):
    target_id = add_target(world, fake)
    start(world, target_id, "apply")
    resp = world.as_("manager").post(f"/w/{world.network_id}/members/{member_id(world, 'teacher_a')}",
                                     {"action": "update", "role": "leader", "school_id": str(world.schools["A"])})
    assert resp.status_code == 303
    fake.clear_log()
    plan = run_row(world, start(world, target_id, "plan"))
    wanted = username(world, fake, "teacher_a")
    assert changes(plan, "update") == [("enrolment", f"lmsb-net-{world.network_id}-ws/{wanted}")]
    assert changes(plan, "create") == [] and changes(plan, "remove") == []
    assert "student -> teacher" in plan.plan["changes"]["update"][0]["reason"]
    run = run_row(world, start(world, target_id, "apply"))
    assert run.status == "done" and run.report["ok"] is True
    assert [c.function for c in fake.writes()] == ["enrol_manual_enrol_users", "core_role_unassign_roles"]
    account = fake.user_by_username(wanted)
    assert fake.roles_of(course(fake, world)["id"], account["id"]) == {"teacher"}


def test_removals_happen_only_when_prune_is_ticked(world, fake):
    target_id = add_target(world, fake)
    start(world, target_id, "apply")
    gone = username(world, fake, "teacher_b")
    resp = world.as_("manager").post(f"/w/{world.network_id}/members/{member_id(world, 'teacher_b')}",
                                     {"action": "remove"})
    assert resp.status_code == 303
    fake.clear_log()
    kept = run_row(world, start(world, target_id, "apply"))
    assert kept.status == "done" and fake.writes() == []
    assert changes(kept, "remove") == []
    account = fake.user_by_username(gone)
    course_id = course(fake, world)["id"]
    assert fake.roles_of(course_id, account["id"]) == {"student"}

    planned = run_row(world, start(world, target_id, "plan", prune=True))
    assert changes(planned, "remove") == [
        ("enrolment", f"lmsb-net-{world.network_id}-ws/{gone}"),
        ("membership", f"lmsb-net-{world.network_id}-school-{world.schools['B']}/{gone}"),
    ]
    assert fake.writes() == []
    pruned = run_row(world, start(world, target_id, "apply", prune=True))
    assert pruned.status == "done" and pruned.prune is True and pruned.report["ok"] is True
    assert [c.function for c in fake.writes()] == ["enrol_manual_unenrol_users"]
    assert (course_id, account["id"]) not in fake.state.enrolments
    assert fake.user_by_username(gone) is not None  # accounts are never removed
    fake.clear_log()
    run_row(world, start(world, target_id, "apply", prune=True))
    assert fake.writes() == []


# -- one run per target, locks that lapse ------------------------------------------------------------------------


def test_a_second_run_is_refused_while_one_holds_the_target(world, fake):
    target_id = add_target(world, fake)
    with world.app.app_context():
        from lti_tool.db import db_session

        s = db_session()
        held = start_run(s, DbTargetLock(bridge(world.app).db.sessions), s.get(SyncTarget, target_id), mode="apply")
    for data in ({"mode": "plan"}, {"mode": "apply", "confirm": "yes"}):
        resp = world.as_("manager").post(f"{base(world)}/targets/{target_id}/runs", data)
        assert resp.status_code == 409
        assert 'class="notice error"' in resp.get_data(as_text=True)
    resp = world.as_("manager").post(f"{base(world)}/targets/{target_id}/delete", {"confirm": "yes"})
    assert resp.status_code == 409 and count(world, SyncTarget) == 1
    assert count(world, SyncRun) == 1
    html = world.as_("manager").get(f"{base(world)}/targets/{target_id}").get_data(as_text=True)
    assert f'data-run-id="{held.id}" data-state="queued"' in html
    page = world.as_("manager").get(f"{base(world)}/runs/{held.id}").get_data(as_text=True)
    assert 'http-equiv="refresh" content="2"' in page and 'aria-live="polite"' in page and "<progress" in page
    assert fake.writes() == []


def test_the_lock_is_atomic_reentrant_and_lapses(world, fake):
    target_id = add_target(world, fake)
    now = [utcnow()]
    lock = DbTargetLock(bridge(world.app).db.sessions, ttl=60, now=lambda: now[0])
    assert lock.acquire(target_id, "worker-a")
    assert lock.acquire(target_id, "worker-a")  # the holder may take it again (renew)
    assert not lock.acquire(target_id, "worker-b")
    assert lock.holder(target_id) == "worker-a"
    now[0] += timedelta(seconds=59)
    assert lock.renew(target_id, "worker-a")
    now[0] += timedelta(seconds=59)
    assert not lock.acquire(target_id, "worker-b")  # renewed: still held
    now[0] += timedelta(seconds=2)  # worker-a crashed: no renewal for longer than the ttl
    assert lock.holder(target_id) is None
    assert lock.acquire(target_id, "worker-b")
    assert not lock.renew(target_id, "worker-a")
    lock.release(target_id, "worker-a")  # not the holder: changes nothing
    assert lock.holder(target_id) == "worker-b"
    lock.release(target_id, "worker-b")
    assert count(world, SyncLock) == 0


def test_a_run_whose_worker_died_is_shown_stalled_and_the_next_run_resumes(world, fake):
    target_id = add_target(world, fake)
    fake.inject("core_user_create_users", "reset_after")  # users arrive, the answer is lost …
    with world.app.app_context():
        from lti_tool.db import db_session

        s = db_session()
        dead = start_run(s, DbTargetLock(bridge(world.app).db.sessions), s.get(SyncTarget, target_id), mode="apply")
        s.execute(update(SyncRun).where(SyncRun.id == dead.id).values(status="running"))
        s.execute(update(SyncLock).where(SyncLock.target_id == target_id)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    page = world.as_("manager").get(f"{base(world)}/runs/{dead.id}").get_data(as_text=True)
    assert 'data-state="stalled"' in page and 'http-equiv="refresh"' not in page
    run_id = start(world, target_id, "apply")
    assert run_row(world, dead.id).status == "failed"
    run = run_row(world, run_id)
    assert run.status == "done", run.message
    assert run.report["ok"] is True
    assert len(run.report["recovered"]) == 8 and all("no duplicate" in r for r in run.report["recovered"])
    usernames = [u["username"] for u in fake.state.users.values()]
    assert len(usernames) == len(set(usernames)) == 2 + 8  # guest and admin, then no duplicate


# -- failures ----------------------------------------------------------------------------------------------------


def test_an_invalid_token_fails_the_run_with_a_readable_message_and_no_token(world, fake, caplog):
    caplog.set_level(logging.DEBUG)
    target_id = add_target(world, fake)
    old = fake.token
    fake.new_token()  # the site's administrator revoked the tool's token
    run = run_row(world, start(world, target_id, "apply"))
    assert run.status == "failed"
    assert "invalidtoken" in run.message and "Traceback" not in run.message
    assert count(world, SyncLock) == 0  # the lock is released
    html = world.as_("manager").get(f"{base(world)}/runs/{run.id}").get_data(as_text=True)
    assert 'data-state="failed"' in html and "invalidtoken" in html
    for token in (old, fake.token):
        assert token not in all_stored_text(world) and token not in caplog.text and token not in html
    assert fake.writes() == []


def test_a_token_expiring_mid_run_keeps_a_partial_report_and_the_next_run_resumes(world, fake, caplog):
    caplog.set_level(logging.DEBUG)
    target_id = add_target(world, fake)
    fake.inject("core_user_create_users", "expire_token")
    run = run_row(world, start(world, target_id, "apply"))
    assert run.status == "failed" and run.message.startswith("stopped: ")
    assert "invalidtoken" in run.message and "Traceback" not in run.message
    report = run.report
    assert report["complete"] is False and report["pending"] > 0
    done = {item["kind"] for item in report["done"]}
    assert {"category", "course", "section", "group"} <= done and "user" not in done
    assert "STOPPED" in run.report_text and "resumes where it stopped" in run.report_text
    html = world.as_("manager").get(f"{base(world)}/runs/{run.id}").get_data(as_text=True)
    assert 'data-state="failed"' in html and 'data-text="report"' in html
    assert fake.token is None  # Moodle deleted the expired token
    new = fake.new_token()
    assert world.as_("manager").post(f"{base(world)}/targets/{target_id}/token", {"token": new}).status_code == 303
    fake.clear_log()
    resumed = run_row(world, start(world, target_id, "apply"))
    assert resumed.status == "done" and resumed.report["ok"] is True
    written = [c.function for c in fake.writes()]
    assert "core_course_create_courses" not in written and "core_course_create_categories" not in written
    assert "core_user_create_users" in written
    assert len([c for c in fake.state.courses.values() if c["idnumber"] == f"lmsb-net-{world.network_id}-ws"]) == 1
    for token in ("fake-token-0123456789abcdef", new):
        assert token not in all_stored_text(world) and token not in caplog.text


def test_moodle_text_in_plans_is_escaped(world, fake):
    from lti_tool.workspaces.models import Network

    target_id = add_target(world, fake)
    start(world, target_id, "apply")
    with bridge(world.app).db.sessions() as s:
        s.execute(update(Network).where(Network.id == world.network_id)
                  .values(name='Lernen 25 <img src=x onerror=alert(1)><script>alert(2)</script>'))
        s.commit()
    run_id = start(world, target_id, "plan")
    assert ("course", f"lmsb-net-{world.network_id}-ws") in changes(run_row(world, run_id), "update")
    html = world.as_("manager").get(f"{base(world)}/runs/{run_id}").get_data(as_text=True)
    assert "<script>alert" not in html and not re.search(r"<[^>]*\bonerror", html)


# -- forms and their refusals -------------------------------------------------------------------------------------


def test_run_and_delete_forms_refuse_bad_input(world, fake):
    target_id = add_target(world, fake)
    manager = world.as_("manager")
    assert manager.post(f"{base(world)}/targets/{target_id}/runs", {"mode": "destroy"}).status_code == 400
    assert manager.post(f"{base(world)}/targets/{target_id}/runs", {"mode": "apply"}).status_code == 400  # no confirm
    assert manager.post(f"{base(world)}/targets/{target_id}/delete", {}).status_code == 400
    before = target_row(world, target_id).token_enc
    assert manager.post(f"{base(world)}/targets/{target_id}/token", {"token": "x y"}).status_code == 400
    assert target_row(world, target_id).token_enc == before
    assert count(world, SyncRun) == 0 and count(world, SyncTarget) == 1
    bad_csrf = manager.client.post(f"{base(world)}/targets/{target_id}/runs",
                                   data={"launch": manager.launch_id, "csrf": "nope", "mode": "plan"})
    assert bad_csrf.status_code == 400 and count(world, SyncRun) == 0


def test_deleting_a_target_forgets_its_mappings_but_leaves_moodle_alone(world, fake):
    target_id = add_target(world, fake)
    start(world, target_id, "apply")
    assert count(world, SyncMapping) > 0
    resp = world.as_("manager").post(f"{base(world)}/targets/{target_id}/delete", {"confirm": "yes"})
    assert resp.status_code == 303
    assert count(world, SyncTarget) == 0 and count(world, SyncMapping) == 0 and count(world, SyncRun) == 0
    assert fake.course_by_idnumber(f"lmsb-net-{world.network_id}-ws") is not None
    # connected again, the tool finds everything by its keys: no create, nothing to write
    again = add_target(world, fake)
    fake.clear_log()
    run = run_row(world, start(world, again, "apply"))
    assert run.status == "done" and not [c for c in fake.writes() if "create" in c.function]
    assert count(world, SyncMapping, SyncMapping.created.is_(False)) == sum(FRESH_CREATES.values())


# -- access --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_every_route_for_every_persona(world, fake, persona):
    target_id = add_target(world, fake)
    plan_id = start(world, target_id, "plan")
    actor = world.as_(persona)
    b = base(world)
    expect(persona, actor.get(b), 200)
    expect(persona, actor.get(f"{b}/targets/{target_id}"), 200)
    expect(persona, actor.get(f"{b}/runs/{plan_id}"), 200)
    expect(persona, actor.post(f"{b}/targets/{target_id}/check"), 303)
    expect(persona, actor.post(f"{b}/targets/{target_id}/token", {"token": fake.token}), 303)
    expect(persona, actor.post(f"{b}/targets", {"name": "Zweite Seite", "site_url": fake.url + "/zwei",
                                                 "token": fake.token}), 303)
    resp = actor.post(f"{b}/targets/{target_id}/runs", {"mode": "plan"})
    expect(persona, resp, 303)
    if resp.status_code == 303:
        jobs.wait(int(re.search(r"/runs/(\d+)", resp.headers["Location"]).group(1)))
    expect(persona, actor.post(f"{b}/targets/{target_id}/delete", {"confirm": "yes"}), 303)
    if persona == "manager":
        assert count(world, SyncTarget) == 1  # the first was deleted, the second added
    else:
        assert count(world, SyncTarget) == 1 and count(world, SyncRun) == 1
        assert target_row(world, target_id).checked_at is not None
        assert fake.functions_called().count("core_webservice_get_site_info") == 2  # add + the plan only


def test_the_nav_lists_the_sync_for_managers(world, fake):
    html = world.as_("manager").get(f"/w/{world.network_id}/").get_data(as_text=True)
    assert f'href="/sync/networks/{world.network_id}?launch=' in html


def test_an_outsider_cannot_reach_another_networks_targets_and_runs(world, fake):
    target_id = add_target(world, fake)
    run_id = start(world, target_id, "plan")
    outsider = world.as_("outsider")
    for network_id in (world.other_network_id, world.network_id):
        b = base(world, network_id)
        assert outsider.get(f"{b}/targets/{target_id}").status_code == 404
        assert outsider.get(f"{b}/runs/{run_id}").status_code == 404
        for path, data in ((f"{b}/targets/{target_id}/check", {}), (f"{b}/targets/{target_id}/token",
                                                                     {"token": "evil-token-0123456789"}),
                           (f"{b}/targets/{target_id}/runs", {"mode": "apply", "confirm": "yes"}),
                           (f"{b}/targets/{target_id}/delete", {"confirm": "yes"})):
            assert outsider.post(path, data).status_code == 404, path
    assert outsider.get(base(world, world.other_network_id)).status_code == 200  # their own network's page
    assert count(world, SyncRun) == 1 and count(world, SyncTarget) == 1
    assert target_row(world, target_id).token_hint == fake.token[-4:]


def test_only_managers_see_the_sync_in_the_network_navigation(world):
    nav_link = f'/sync/networks/{world.network_id}'
    manager = world.as_("manager").get(f"/w/{world.network_id}/").get_data(as_text=True)
    assert nav_link in manager
    for persona in ("leader_a", "media_a", "teacher_a", "authority", "guest"):
        page = world.as_(persona).get(f"/w/{world.network_id}/")
        assert page.status_code == 200 and nav_link not in page.get_data(as_text=True), persona
