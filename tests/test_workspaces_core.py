"""Network core: who may see and change what, invitations, joining, identities, CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.workspaces.models import Invitation, MemberSchool, NetworkMember, Person, SchoolContext
from tests.world import NETWORK_ROLES, PERSONAS

READ_ROUTES = ["/w/{n}/", "/w/{n}/people"]


@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("route", READ_ROUTES)
def test_network_pages_only_for_members(world, persona, route):
    resp = world.as_(persona).get(route.format(n=world.network_id))
    if persona in NETWORK_ROLES:
        assert resp.status_code == 200
        assert "Lernen 25" in resp.get_data(as_text=True)
    else:
        assert resp.status_code == 404  # existence is not confirmed to outsiders


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_only_managers_add_schools(world, persona):
    resp = world.as_(persona).post(f"/w/{world.network_id}/schools",
                                   {"name": "Realschule am See", "school_number": "100003"})
    with bridge(world.app).db.sessions() as s:
        added = s.scalar(select(func.count()).select_from(MemberSchool).where(MemberSchool.school_number == "100003"))
    if persona == "manager":
        assert resp.status_code == 303 and added == 1
    else:
        assert resp.status_code in (403, 404) and added == 0


def test_outsider_cannot_reach_network_by_guessing_ids(world):
    outsider = world.as_("outsider")
    n = world.network_id
    for path in (f"/w/{n}/", f"/w/{n}/people", f"/w/{n}/schools/{world.schools['A']}/roster"):
        assert outsider.get(path).status_code == 404
    assert outsider.post(f"/w/{n}/schools/{world.schools['A']}/invite").status_code == 404
    # …while their own network works
    assert outsider.get(f"/w/{world.other_network_id}/").status_code == 200


def test_school_of_another_network_is_not_reachable(world):
    manager = world.as_("manager")
    with world.app.test_request_context():
        from lti_tool.db import db_session
        from lti_tool.workspaces.models import Network
        from lti_tool.workspaces.services import add_school

        s = db_session()
        foreign = add_school(s, s.get(Network, world.other_network_id), name="Fremde Schule", school_number="900001").school
        s.commit()
        foreign_id = foreign.id
    assert manager.post(f"/w/{world.network_id}/schools/{foreign_id}/invite").status_code == 404


def invitation_code(resp) -> str:
    return re.search(r'id="invitation-code">([A-Z0-9-]+)<', resp.get_data(as_text=True)).group(1)


def test_school_invitation_binds_a_course_and_appoints_the_leader(world, app):
    from tests.world import _launch

    manager = world.as_("manager")
    resp = manager.post(f"/w/{world.network_id}/schools", {"name": "Realschule am See", "school_number": "100003"})
    assert resp.status_code == 303
    with bridge(app).db.sessions() as s:
        school_id = s.scalar(select(MemberSchool.id).where(MemberSchool.school_number == "100003"))
    code = invitation_code(manager.post(f"/w/{world.network_id}/schools/{school_id}/invite"))
    with bridge(app).db.sessions() as s:
        stored = s.scalars(select(Invitation.code_hash)).all()
    assert code not in " ".join(stored)  # only a keyed hash is stored

    # The Realschule's leader launches from their course on site B and redeems the code.
    from tests.world import Actor

    launch_id = _launch(app, world.sites["B"], "lead-c", [PERSONAS["leader_b"][2][0]], "course-C", "Frau Berg")
    leader = Actor(app, launch_id, None)
    resp = leader.post("/w/redeem", {"code": code.lower().replace("-", " "), "school_role": "leader"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    with bridge(app).db.sessions() as s:
        bound = s.scalar(select(func.count()).select_from(SchoolContext).where(SchoolContext.school_id == school_id))
        member = s.scalars(select(NetworkMember).where(NetworkMember.school_id == school_id)).one()
    assert bound == 1 and member.role == "leader"
    again = leader.post("/w/redeem", {"code": code})
    assert again.status_code == 400 and "bereits verwendet" in again.get_data(as_text=True)

    # A teacher of that course joins by launching.
    teacher_launch = _launch(app, world.sites["B"], "teach-c", [PERSONAS["teacher_b"][2][0]], "course-C", "Herr Kurz")
    teacher = Actor(app, teacher_launch, None)
    assert teacher.get("/w/enter").status_code == 302
    assert teacher.get(f"/w/{world.network_id}/").status_code == 200


def test_learners_do_not_enter_workspaces(world):
    resp = world.as_("learner").get("/w/enter")
    assert resp.status_code == 200 and "Lehrkraft" in resp.get_data(as_text=True)
    with bridge(world.app).db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(NetworkMember).where(
            NetworkMember.person_id == world.as_("learner").person_id)) == 0


def test_wrong_or_expired_codes_are_refused(world, app):
    from datetime import timedelta

    leader = world.as_("leader_b")
    assert leader.post("/w/redeem", {"code": "AAAA-BBBB-CCCC"}).status_code == 400
    manager = world.as_("manager")
    code = invitation_code(manager.post(f"/w/{world.network_id}/schools/{world.schools['B']}/invite"))
    with bridge(app).db.sessions() as s:
        inv = s.scalars(select(Invitation)).one()
        inv.expires_at = inv.expires_at - timedelta(days=30)
        s.commit()
    resp = leader.post("/w/redeem", {"code": code})
    assert resp.status_code == 400 and "abgelaufen" in resp.get_data(as_text=True)


def test_manager_changes_roles_others_cannot(world, app):
    with bridge(app).db.sessions() as s:
        teacher_member = s.scalars(select(NetworkMember).where(
            NetworkMember.person_id == world.as_("teacher_a").person_id)).one()
    path = f"/w/{world.network_id}/members/{teacher_member.id}"
    assert world.as_("leader_a").post(path, {"role": "manager"}).status_code == 403
    assert world.as_("manager").post(path, {"role": "media", "school_id": str(world.schools["A"])}).status_code == 303
    with bridge(app).db.sessions() as s:
        assert s.get(NetworkMember, teacher_member.id).role == "media"
    assert world.as_("manager").post(path, {"role": "emperor"}).status_code == 400


def test_posts_need_the_csrf_token(world):
    manager = world.as_("manager")
    resp = manager.client.post(f"/w/{world.network_id}/schools",
                               data={"launch": manager.launch_id, "csrf": "forged", "name": "X", "school_number": "1"})
    assert resp.status_code == 400


def test_linking_identities_across_sites(world, app):
    from tests.world import Actor, _launch

    manager = world.as_("manager")
    resp = manager.post("/w/identity", {"action": "create"})
    code = re.search(r'id="link-code">([A-F0-9-]+)<', resp.get_data(as_text=True)).group(1)
    # The same human launches from site B (another issuer, another sub).
    other_launch = _launch(app, world.sites["B"], "m-1-on-b", [PERSONAS["manager"][2][0]], "course-B", "Manager")
    second = Actor(app, other_launch, None)
    assert second.get(f"/w/{world.network_id}/").status_code == 404  # not yet the same person
    resp = second.post("/w/identity", {"action": "link", "code": code})
    assert resp.status_code == 200
    assert second.get(f"/w/{world.network_id}/").status_code == 200  # now a manager there too
    assert second.post("/w/identity", {"action": "link", "code": code}).status_code == 400  # single use
    with bridge(app).db.sessions() as s:
        assert s.get(Person, manager.person_id) is not None


def test_network_cli_bulk_import_with_dry_run(tmp_path, monkeypatch, app):
    from click.testing import CliRunner

    from lti_tool.cli import main

    settings = bridge(app).settings
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", settings.instance_dir)
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", settings.secret_key)
    run = CliRunner().invoke
    out = run(main, ["network", "create", "--name", "Lernen 26", "--region", "Musterstadt"]).output
    net_id = re.search(r"network (\d+)", out).group(1)
    assert re.search(r"manager invitation code .*: [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", out)
    csv_file = tmp_path / "schulen.csv"
    csv_file.write_text("name,school_number,school_type\nGS Am Park,200001,Grundschule\nRS Mitte,200002,Realschule\n",
                        encoding="utf-8")
    dry = run(main, ["network", "import-schools", "--network", net_id, "--csv", str(csv_file), "--dry-run"])
    assert dry.exit_code == 0 and "2 school(s) would be added" in dry.output
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MemberSchool).where(MemberSchool.network_id == int(net_id))) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("name,school_number\nGS Am Park,200001\n,200003\n", encoding="utf-8")
    res = run(main, ["network", "import-schools", "--network", net_id, "--csv", str(bad)])
    assert res.exit_code == 1 and "nothing was imported" in res.output
    ok = run(main, ["network", "import-schools", "--network", net_id, "--csv", str(csv_file), "--invite-days", "14"])
    assert ok.exit_code == 0 and "2 school(s) added" in ok.output
    assert len(re.findall(r"code [A-Z0-9]{4}-", ok.output)) == 2
    listed = run(main, ["network", "list", "--json"]).output
    assert '"schools": 2' in listed


def test_deep_linking_offers_the_network_and_its_parts(world, app):
    import jwt

    from tests.ltiplatform import LTI, login_redirect_params
    from tests.world import PERSONAS, TOOL_LAUNCH

    site = world.sites["A"]
    client = app.test_client()
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["manager"][2], sub="m-1",
                       message_type="LtiDeepLinkingRequest",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"}})
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    picker = client.get(resp.headers["Location"])
    html = picker.get_data(as_text=True)
    key = f"workspace:{world.network_id}:overview"
    assert f'value="{key}"' in html and "Lernen 25" in html
    assert f"workspace:{world.other_network_id}:" not in html  # only the person's own networks
    fields = dict(re.findall(r'name="(launch|csrf)" value="([^"]*)"', html))
    done = client.post("/lti/deep-link", data={**fields, "feature": key, "action": "add"})
    token = re.search(r'name="JWT" value="([^"]+)"', done.get_data(as_text=True)).group(1)
    items = jwt.decode(token, options={"verify_signature": False})[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert items[0]["custom"] == {"feature": "workspace", "network": str(world.network_id), "part": "overview"}

    # A forged choice for a network the teacher is not in is not offered, so it is refused.
    forged = client.post("/lti/deep-link", data={**fields, "feature": f"workspace:{world.other_network_id}:overview",
                                                 "action": "add"})
    assert forged.status_code == 400


def test_resource_link_to_a_network_part_lands_there(world, app):
    from tests.ltiplatform import LTI, login_redirect_params
    from tests.world import PERSONAS, TOOL_LAUNCH

    site = world.sites["A"]
    client = app.test_client()
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["leader_a"][2], sub="lead-a",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"},
                          LTI + "resource_link": {"id": "rl-ws-1", "title": "Unser Netzwerk"},
                          LTI + "custom": {"feature": "workspace", "network": str(world.network_id), "part": "people"}})
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    enter = client.get(resp.headers["Location"])
    assert enter.status_code == 302
    assert f"/w/{world.network_id}/people" in enter.headers["Location"]
    assert client.get(enter.headers["Location"]).status_code == 200


def test_network_cli_members_and_roles(world, monkeypatch, app):
    import json

    from click.testing import CliRunner

    from lti_tool.cli import main

    settings = bridge(app).settings
    for key, value in (("DATABASE_URL", settings.database_url), ("INSTANCE_DIR", settings.instance_dir),
                       ("SECRET_KEY", settings.secret_key)):
        monkeypatch.setenv("LMS_BRIDGE_" + key, value)
    run = CliRunner().invoke
    rows = json.loads(run(main, ["network", "members", "--network", str(world.network_id), "--json"]).output)
    assert len(rows) == 8 and {r["role"] for r in rows} == {"manager", "authority", "leader", "media", "teacher", "guest"}
    teacher = next(r for r in rows if r["name"] == "Teacher B")
    res = run(main, ["network", "set-role", "--network", str(world.network_id), "--member-id", str(teacher["member_id"]),
                     "--role", "media", "--school-number", "100002"])
    assert res.exit_code == 0, res.output
    with bridge(app).db.sessions() as s:
        assert s.get(NetworkMember, teacher["member_id"]).role == "media"
    wrong = run(main, ["network", "set-role", "--network", str(world.other_network_id), "--member-id",
                       str(teacher["member_id"]), "--role", "guest"])
    assert wrong.exit_code == 1 and "no member" in wrong.output


def test_deep_linking_offers_one_working_group_and_it_opens(world, app):
    import jwt

    from lti_tool.db import db_session
    from lti_tool.workspaces.groups.models import Group
    from tests.ltiplatform import LTI, login_redirect_params
    from tests.world import PERSONAS, TOOL_LAUNCH

    with app.test_request_context():
        s = db_session()
        group = Group(network_id=world.network_id, title="AG Medienkonzept", description="")
        s.add(group)
        s.commit()
        group_id = group.id
    site = world.sites["A"]
    client = app.test_client()
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["leader_a"][2], sub="lead-a",
                       message_type="LtiDeepLinkingRequest",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"}})
    picker = client.get(client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
                        .headers["Location"])
    html = picker.get_data(as_text=True)
    key = f"workspace:{world.network_id}:group:{group_id}"
    assert f'value="{key}"' in html
    fields = dict(re.findall(r'name="(launch|csrf)" value="([^"]*)"', html))
    done = client.post("/lti/deep-link", data={**fields, "feature": key, "action": "add"})
    token = re.search(r'name="JWT" value="([^"]+)"', done.get_data(as_text=True)).group(1)
    custom = jwt.decode(token, options={"verify_signature": False})[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0]["custom"]
    assert custom == {"feature": "workspace", "network": str(world.network_id), "part": "group", "group_id": str(group_id)}

    # A resource link carrying these parameters lands on the group.
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["teacher_a"][2], sub="teach-a",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"},
                          LTI + "resource_link": {"id": "rl-group", "title": "AG"}, LTI + "custom": custom})
    enter = client.get(client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
                       .headers["Location"])
    assert f"/w/{world.network_id}/groups/{group_id}" in enter.headers["Location"]
    assert client.get(enter.headers["Location"]).status_code == 200


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_only_managers_edit_network_details(world, persona):
    from lti_tool.workspaces.models import Network

    resp = world.as_(persona).post(f"/w/{world.network_id}/settings", {
        "name": "Lernen 25 plus", "region": "Musterstadt", "school_authority": "Stadt Musterstadt",
        "school_years": "2026/27–2027/28", "description": "Zwei Jahre", "status": "archived"})
    with bridge(world.app).db.sessions() as s:
        net = s.get(Network, world.network_id)
    if persona == "manager":
        assert resp.status_code == 303 and (net.name, net.status) == ("Lernen 25 plus", "archived")
    else:
        assert resp.status_code in (403, 404) and (net.name, net.status) == ("Lernen 25", "active")


def test_network_details_are_validated(world):
    manager = world.as_("manager")
    assert manager.post(f"/w/{world.network_id}/settings", {"name": "", "status": "active"}).status_code == 400
    assert manager.post(f"/w/{world.network_id}/settings", {"name": "X", "status": "gone"}).status_code == 400


@pytest.mark.parametrize("persona,status", [
    ("manager", 200), ("leader_a", 200), ("media_a", 200), ("teacher_a", 403), ("leader_b", 403),
    ("authority", 403), ("guest", 403), ("outsider", 404), ("learner", 404),
])
def test_school_roster_only_for_managers_and_that_schools_leaders(world, persona, status):
    resp = world.as_(persona).get(f"/w/{world.network_id}/schools/{world.schools['A']}/roster")
    assert resp.status_code == status
    if status == 200:  # the bound course is listed (its LMS sent no NRPS endpoint in these launches)
        assert "Kurs course-A" in resp.get_data(as_text=True)
