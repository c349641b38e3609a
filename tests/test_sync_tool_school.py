"""A target in one school's course (LOGINEO: each school has its own Moodle site), from the form and the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.bridge import bridge
from lti_tool.cli import main
from lti_tool.models import LtiContext
from lti_tool.sync.models import SyncTarget
from lti_tool.workspaces.models import SchoolContext
from tests.sync.fakemoodle import FakeMoodle
from tests.test_sync_tool import base, run_row, start, username
from tests.world import NETWORK_ROLES, PERSONAS

SCHOOL_A = ("leader_a", "media_a", "teacher_a")
ROLE = {"leader_a": "teacher", "media_a": "teacher", "teacher_a": "student"}


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


def bind_course(world: Any, school: str, context_id: str) -> None:
    """Make the LTI context bound to ``school`` the given Moodle course id (as a real Moodle launch has it)."""
    with bridge(world.app).db.sessions() as s:
        ctx_pk = s.scalar(select(SchoolContext.context_pk).where(SchoolContext.school_id == world.schools[school]))
        s.get(LtiContext, ctx_pk).context_id = context_id
        s.commit()


def add_school_target(world: Any, fake: FakeMoodle, school: str = "A", *, by: str = "manager") -> Any:
    return world.as_(by).post(f"{base(world)}/targets", {
        "name": f"LOGINEO {school}", "site_url": fake.url, "token": fake.token, "user_auth": "nologin",
        "scope": "school", "school_id": str(world.schools[school])})


def test_the_form_offers_the_schools_with_a_bound_course(world, fake):
    html = world.as_("manager").get(base(world)).get_data(as_text=True)
    assert 'name="scope" value="school"' in html
    assert f'<option value="{world.schools["A"]}"' in html and f'<option value="{world.schools["B"]}"' in html


def test_a_school_course_that_is_no_moodle_course_id_is_refused(world, fake):
    resp = add_school_target(world, fake)  # the world's contexts are "course-A", "course-B"
    assert resp.status_code == 400
    assert "keine Moodle-Kurs-ID" in resp.get_data(as_text=True)  # the page speaks German
    with bridge(world.app).db.sessions() as s:
        assert s.scalar(select(SyncTarget.id)) is None


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_only_managers_add_school_targets(world, fake, persona):
    course_id = fake.add_course("Klasse 8a", "8A", sections=2)
    bind_course(world, "A", str(course_id))
    resp = add_school_target(world, fake, by=persona)
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404
    elif persona == "manager":
        assert resp.status_code == 303
    else:
        assert resp.status_code == 403


def test_plan_and_apply_provision_only_the_schools_members_into_its_course(world, fake):
    course_id = fake.add_course("Klasse 8a", "8A", sections=2)
    before = dict(fake.state.courses[course_id])
    bind_course(world, "A", str(course_id))
    resp = add_school_target(world, fake)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    target_id = int(re.search(r"/targets/(\d+)", resp.headers["Location"]).group(1))
    with bridge(world.app).db.sessions() as s:
        target = s.get(SyncTarget, target_id)
        assert (target.scope, target.school_id) == ("school", world.schools["A"])
    page = world.as_("manager").get(f"{base(world)}/targets/{target_id}").get_data(as_text=True)
    assert 'data-scope="school"' in page and "Gesamtschule Musterstadt" in page
    assert "sync-site-warning" in page  # the fake's address is not the school's LTI issuer

    planned = run_row(world, start(world, target_id, "plan"))
    assert planned.status == "done", planned.message
    assert fake.writes() == []
    kinds = {item["kind"] for item in planned.plan["changes"]["create"]}
    assert kinds == {"section", "group", "user", "enrolment", "membership"}

    courses, categories = len(fake.state.courses), len(fake.state.categories)
    run = run_row(world, start(world, target_id, "apply"))
    assert run.status == "done" and run.report["ok"] is True, run.report_text
    assert len(fake.state.courses) == courses and len(fake.state.categories) == categories
    assert fake.state.courses[course_id] == before
    assert fake.section_names(course_id)[-1] == "Schulnetzwerk Lernen 25"
    groups = [g for g in fake.state.groups.values() if g["courseid"] == course_id]
    assert [g["name"] for g in groups] == ["Netzwerk Lernen 25"]
    for persona in PERSONAS:
        account = fake.user_by_username(username(world, fake, persona))
        if persona in ROLE:
            assert account is not None, persona
            assert fake.roles_of(course_id, account["id"]) == {ROLE[persona]}
            assert account["id"] in fake.state.members[groups[0]["id"]]
        else:
            assert account is None, persona

    fake.clear_log()
    again = run_row(world, start(world, target_id, "apply"))
    assert again.status == "done" and again.plan["noop"] is True
    assert fake.writes() == []


@pytest.fixture
def cli(world, monkeypatch, tmp_path):
    settings = bridge(world.app).settings
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", settings.instance_dir)
    monkeypatch.setenv("LMS_BRIDGE_BASE_URL", settings.base_url)
    monkeypatch.setenv("LMS_BRIDGE_ALLOW_INSECURE_PLATFORMS", "1")
    runner = CliRunner()
    token = tmp_path / "token.txt"

    def run(*args: str, code: int = 0, secret: str = "") -> Any:
        token.write_text(secret + "\n")
        token.chmod(0o600)
        result = runner.invoke(main, [*args, "--token-file", str(token)], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_cli_target_add_with_a_school(cli, world, fake):
    course_id = fake.add_course("Klasse 8a", "8A", sections=1)
    bind_course(world, "A", str(course_id))
    out = cli("sync", "target-add", "--network", str(world.network_id), "--name", "LOGINEO A", "--url", fake.url,
              "--school", str(world.schools["A"]), secret=fake.token).output
    assert f"course of school {world.schools['A']}" in out
    assert "is not the LMS the course of Gesamtschule Musterstadt was bound from" in out
    with bridge(world.app).db.sessions() as s:
        target = s.scalar(select(SyncTarget).where(SyncTarget.name == "LOGINEO A"))
        assert (target.scope, target.school_id) == ("school", world.schools["A"])
    refused = cli("sync", "target-add", "--network", str(world.network_id), "--name", "LOGINEO B", "--url",
                  fake.url, "--school", str(world.schools["B"]), secret=fake.token, code=1)
    assert "not a Moodle course id" in refused.output


def test_own_accounts_come_from_launches_from_the_same_site(world, app):
    """A member's Moodle user id is the numeric LTI sub of their launches from that site;
    other sites, non-numeric subs and Moodle's guest (1) give none."""
    from sqlalchemy import select

    from lti_tool.bridge import bridge
    from lti_tool.models import LtiUser, Platform
    from lti_tool.sync.desired import own_accounts
    from lti_tool.workspaces.models import PersonIdentity

    box = bridge(app).box
    site_a, site_b = world.sites["A"].issuer, world.sites["B"].issuer
    teacher, leader = world.as_("teacher_a").person_id, world.as_("leader_a").person_id
    with bridge(app).db.sessions() as s:
        platform_a = s.scalar(select(Platform).where(Platform.issuer == site_a))
        for person_id, sub in ((teacher, "42"), (leader, "1")):
            user = LtiUser(platform_id=platform_a.id, sub_hash=box.pseudonym(site_a, sub), sub_enc=box.encrypt(sub))
            s.add(user)
            s.flush()
            s.add(PersonIdentity(person_id=person_id, lti_user_id=user.id))
        s.commit()
        assert own_accounts(s, box, [teacher, leader], site_a + "/") == {teacher: 42}
        assert own_accounts(s, box, [teacher, leader], site_b) == {}
