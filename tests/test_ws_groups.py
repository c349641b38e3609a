"""Working groups (Arbeitsgruppen): members, shared material, discussion, results for the network."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.workspaces.groups.models import (
    LICENCES,
    Group,
    GroupMaterial,
    GroupMembership,
    GroupPost,
    GroupResult,
    result_material,
)
from lti_tool.workspaces.models import Activity, NetworkMember, Upload
from lti_tool.workspaces.roles import PERMISSIONS
from tests.world import NETWORK_ROLES, PERSONAS

ALL_PERSONAS = list(PERSONAS)
XSS = '<p>Hallo<script>alert("xss")</script><img src="x" onerror="alert(1)"> <em>kursiv</em></p>'
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- helpers ---------------------------------------------------------------------------------


def role_of(persona: str) -> str | None:
    return PERSONAS[persona][3]


def has(persona: str, permission: str) -> bool:
    return role_of(persona) in PERMISSIONS[permission]


def member_id(world, persona: str, network_id: int | None = None) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(NetworkMember.id).where(
            NetworkMember.network_id == (network_id or world.network_id),
            NetworkMember.person_id == world.as_(persona).person_id))


def add_group(world, *, network_id: int | None = None, title: str = "AG Medienkonzept",
              coordinator: str = "media_a", members: tuple[str, ...] = ("media_a", "teacher_a"),
              description: str = "<p>DESCRIPTION-MARKER</p>", handlungsfeld: str | None = "medienkonzept") -> int:
    net = network_id or world.network_id
    with bridge(world.app).db.sessions() as s:
        g = Group(network_id=net, title=title, description=description, handlungsfeld=handlungsfeld,
                  coordinator_member_id=member_id(world, coordinator, net))
        s.add(g)
        s.flush()
        for p in members:
            s.add(GroupMembership(group_id=g.id, member_id=member_id(world, p, net)))
        s.commit()
        return g.id


def add_material(world, group_id: int, *, by: str = "teacher_a", title: str = "Unterrichtsbeispiel",
                 link: str = "https://material.example.org/beispiel", licence: str = "CC-BY-4.0") -> int:
    with bridge(world.app).db.sessions() as s:
        m = GroupMaterial(group_id=group_id, kind="link", title=title, author="Kim Weber", licence=licence,
                          link_url=link, added_by=world.as_(by).person_id)
        s.add(m)
        s.commit()
        return m.id


def add_post(world, group_id: int, *, by: str = "teacher_a", body: str = "<p>POST-MARKER</p>") -> int:
    with bridge(world.app).db.sessions() as s:
        p = GroupPost(group_id=group_id, author_id=world.as_(by).person_id, body=body)
        s.add(p)
        s.commit()
        return p.id


def add_result(world, group_id: int, *, text: str = "<p>RESULT-MARKER</p>") -> int:
    from lti_tool.db import utcnow

    with bridge(world.app).db.sessions() as s:
        r = GroupResult(group_id=group_id, text=text, published_by=world.as_("media_a").person_id, published_at=utcnow())
        s.add(r)
        s.commit()
        return r.id


def count(world, model, *where) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def members_of(world, group_id: int) -> set[int]:
    with bridge(world.app).db.sessions() as s:
        return set(s.scalars(select(GroupMembership.member_id).where(GroupMembership.group_id == group_id)))


def expect(persona: str, allowed: bool, resp, ok: int = 303) -> None:
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404, (persona, resp.status_code)
    elif allowed:
        assert resp.status_code == ok, (persona, resp.status_code, resp.get_data(as_text=True)[:600])
    else:
        assert resp.status_code == 403, (persona, resp.status_code)


def group_form(**overrides: str) -> dict[str, str]:
    form = {"title": "AG Fortbildung", "description": "<p>Wir planen Fortbildungen.</p>", "handlungsfeld": "fortbildung"}
    form.update(overrides)
    return form


def material_form(**overrides) -> dict:
    form = {"title": "Stundenentwurf Erklärvideo", "author": "Kim Weber", "licence": "CC-BY-SA-4.0",
            "source_url": "https://material.example.org/quelle",
            "file": (io.BytesIO(PDF), "stundenentwurf.pdf")}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


LEADS = {"manager", "media_a"}  # media_a coordinates the group built by add_group
GROUP_MEMBERS = {"media_a", "teacher_a"}


# -- access: every route x every persona --------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_read_routes_for_every_member_only(world, persona):
    gid = add_group(world)
    add_result(world, gid)
    add_material(world, gid)
    n = world.network_id
    for path in (f"/w/{n}/groups", f"/w/{n}/groups/{gid}", f"/w/{n}/groups?feld=medienkonzept"):
        resp = world.as_(persona).get(path)
        expect(persona, True, resp, ok=200)
        if resp.status_code == 200:
            assert "AG Medienkonzept" in resp.get_data(as_text=True)
    if persona in NETWORK_ROLES:  # results and materials are for everybody in the network
        page = world.as_(persona).get(f"/w/{n}/groups/{gid}").get_data(as_text=True)
        assert "RESULT-MARKER" in page and "material.example.org/beispiel" in page and "DESCRIPTION-MARKER" in page


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_create_group(world, persona):
    n = world.network_id
    form_page = world.as_(persona).get(f"/w/{n}/groups/new")
    expect(persona, has(persona, "groups.create"), form_page, ok=200)
    coordinator = member_id(world, persona) if persona in NETWORK_ROLES else member_id(world, "media_a")
    resp = world.as_(persona).post(f"/w/{n}/groups", group_form(coordinator=str(coordinator)))
    allowed = has(persona, "groups.create")
    expect(persona, allowed, resp)
    assert count(world, Group) == (1 if allowed else 0)
    if allowed:
        with bridge(world.app).db.sessions() as s:
            g = s.scalars(select(Group)).one()
            assert g.network_id == n and g.coordinator_member_id == coordinator and g.handlungsfeld == "fortbildung"
            act = s.scalars(select(Activity).where(Activity.kind == "group.created")).one()
            assert act.audience == "network" and act.url == f"/w/{n}/groups/{g.id}"
        assert coordinator in members_of(world, g.id)


def test_creator_names_another_coordinator_who_becomes_member(world):
    coordinator = member_id(world, "teacher_b")
    resp = world.as_("leader_a").post(f"/w/{world.network_id}/groups", group_form(coordinator=str(coordinator)))
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        g = s.scalars(select(Group)).one()
    assert g.coordinator_member_id == coordinator
    assert members_of(world, g.id) == {coordinator, member_id(world, "leader_a")}


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_edit_group(world, persona):
    gid = add_group(world)
    n = world.network_id
    allowed = persona in LEADS
    expect(persona, allowed, world.as_(persona).get(f"/w/{n}/groups/{gid}/edit"), ok=200)
    resp = world.as_(persona).post(f"/w/{n}/groups/{gid}/edit",
                                   group_form(title="Neu", coordinator=str(member_id(world, "teacher_a"))))
    expect(persona, allowed, resp)
    with bridge(world.app).db.sessions() as s:
        g = s.get(Group, gid)
        assert (g.title == "Neu") == allowed
        assert (g.coordinator_member_id == member_id(world, "teacher_a")) == allowed


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_group(world, persona):
    gid = add_group(world)
    add_material(world, gid)
    add_post(world, gid)
    assert world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials",
                                       material_form()).status_code == 303
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/delete")
    allowed = persona == "manager"
    expect(persona, allowed, resp)
    assert count(world, Group) == (0 if allowed else 1)
    assert count(world, GroupMaterial) == (0 if allowed else 2) and count(world, GroupPost) == (0 if allowed else 1)
    assert count(world, Upload, Upload.deleted.is_(True)) == (1 if allowed else 0)  # its files are withdrawn too


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_join_group(world, persona):
    gid = add_group(world, members=("media_a",))
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/join")
    allowed = has(persona, "groups.join")
    expect(persona, allowed, resp)
    if persona in NETWORK_ROLES:
        assert (member_id(world, persona) in members_of(world, gid)) == (allowed or persona == "media_a")
    # joining twice changes nothing
    if allowed:
        assert world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/join").status_code == 303
        assert count(world, GroupMembership, GroupMembership.member_id == member_id(world, persona)) == 1


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_leave_group(world, persona):
    everyone = tuple(p for p in NETWORK_ROLES)
    gid = add_group(world, members=everyone)
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/leave")
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404
        return
    if persona == "media_a":  # the coordinator hands over first
        assert resp.status_code == 400 and member_id(world, persona) in members_of(world, gid)
    else:
        assert resp.status_code == 303 and member_id(world, persona) not in members_of(world, gid)
        # leaving again: not a member any more
        assert world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/leave").status_code == 400


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_member(world, persona):
    gid = add_group(world)
    target = member_id(world, "leader_b")
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/members", {"member_id": str(target)})
    allowed = persona in LEADS
    expect(persona, allowed, resp)
    assert (target in members_of(world, gid)) == allowed


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_remove_member(world, persona):
    gid = add_group(world)
    target = member_id(world, "teacher_a")
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/members/{target}/remove")
    allowed = persona in LEADS
    expect(persona, allowed, resp)
    assert (target not in members_of(world, gid)) == allowed


def test_member_management_edge_cases(world):
    gid = add_group(world)
    n = world.network_id
    manager = world.as_("manager")
    coordinator = member_id(world, "media_a")
    # the coordinator stays until another one is chosen
    assert manager.post(f"/w/{n}/groups/{gid}/members/{coordinator}/remove").status_code == 400
    # not a member of the group / a member of another network
    assert manager.post(f"/w/{n}/groups/{gid}/members/{member_id(world, 'leader_b')}/remove").status_code == 404
    other = member_id(world, "outsider", world.other_network_id)
    assert manager.post(f"/w/{n}/groups/{gid}/members", {"member_id": str(other)}).status_code == 400
    assert manager.post(f"/w/{n}/groups/{gid}/members", {"member_id": "x"}).status_code == 400
    assert other not in members_of(world, gid)
    # a new coordinator must be a group member
    resp = manager.post(f"/w/{n}/groups/{gid}/edit", group_form(coordinator=str(member_id(world, "leader_b"))))
    assert resp.status_code == 400
    with bridge(world.app).db.sessions() as s:
        assert s.get(Group, gid).coordinator_member_id == coordinator


# -- materials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_material_file(world, persona):
    gid = add_group(world)
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/materials", material_form())
    allowed = persona in GROUP_MEMBERS | {"manager"}
    expect(persona, allowed, resp)
    assert count(world, GroupMaterial) == (1 if allowed else 0)
    assert count(world, Upload) == (1 if allowed else 0)
    if allowed:
        with bridge(world.app).db.sessions() as s:
            m = s.scalars(select(GroupMaterial)).one()
            up = s.get(Upload, m.upload_id)
            assert (m.kind, m.title, m.author, m.licence, m.source_url) == (
                "file", "Stundenentwurf Erklärvideo", "Kim Weber", "CC-BY-SA-4.0", "https://material.example.org/quelle")
            assert up.network_id == world.network_id and up.content_type == "application/pdf"
            assert s.scalars(select(Activity.kind).where(Activity.kind == "group.material")).one()


def test_add_material_link(world):
    gid = add_group(world)
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials",
                                       material_form(file=None, link_url="https://oer.example.org/einheit-3",
                                                     licence="all rights reserved", source_url=""))
    assert resp.status_code == 303
    with bridge(world.app).db.sessions() as s:
        m = s.scalars(select(GroupMaterial)).one()
    assert (m.kind, m.link_url, m.upload_id, m.licence) == ("link", "https://oer.example.org/einheit-3", None,
                                                             "all rights reserved")
    page = world.as_("guest").get(f"/w/{world.network_id}/groups/{gid}").get_data(as_text=True)
    assert "https://oer.example.org/einheit-3" in page and 'data-licence="all rights reserved"' in page


def test_every_licence_of_the_list_is_accepted(world):
    gid = add_group(world)
    for i, licence in enumerate(LICENCES):
        resp = world.as_("media_a").post(f"/w/{world.network_id}/groups/{gid}/materials",
                                         material_form(file=None, title=f"M{i}", licence=licence,
                                                       link_url=f"https://oer.example.org/{i}"))
        assert resp.status_code == 303, licence
    with bridge(world.app).db.sessions() as s:
        assert set(s.scalars(select(GroupMaterial.licence))) == set(LICENCES)
    assert set(LICENCES) == {"CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-4.0",
                             "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0", "PDM", "all rights reserved"}


@pytest.mark.parametrize("bad", [
    {"title": ""},
    {"author": ""},
    {"licence": ""},
    {"licence": "GPL-3.0"},
    {"source_url": "javascript:alert(1)"},
    {"file": None},  # neither file nor link
    {"link_url": "https://oer.example.org/x"},  # both file and link
    {"file": None, "link_url": "ftp://oer.example.org/x"},
    {"file": None, "link_url": "data:text/html,hi"},
    {"file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")},
    {"file": (io.BytesIO(b"not a pdf"), "fake.pdf")},
    {"file": (io.BytesIO(b""), "empty.txt")},
])
def test_invalid_material_is_refused(world, bad):
    gid = add_group(world)
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials", material_form(**bad))
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(world, GroupMaterial) == 0 and count(world, Upload) == 0
    assert count(world, Activity, Activity.kind == "group.material") == 0


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_download_streams_the_file_to_network_members(world, persona):
    gid = add_group(world)
    assert world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials",
                                       material_form()).status_code == 303
    with bridge(world.app).db.sessions() as s:
        mid = s.scalars(select(GroupMaterial.id)).one()
    resp = world.as_(persona).get(f"/w/{world.network_id}/groups/{gid}/materials/{mid}/download")
    expect(persona, True, resp, ok=200)
    if persona in NETWORK_ROLES:
        assert resp.data == PDF
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["Content-Disposition"].startswith("attachment")
        assert "stundenentwurf.pdf" in resp.headers["Content-Disposition"]
    else:
        assert PDF not in resp.data
    resp.close()


def test_download_of_a_link_or_removed_material_is_404(world):
    gid = add_group(world)
    link = add_material(world, gid)
    assert world.as_("manager").get(f"/w/{world.network_id}/groups/{gid}/materials/{link}/download").status_code == 404
    assert world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials", material_form()).status_code == 303
    with bridge(world.app).db.sessions() as s:
        mid = s.scalar(select(GroupMaterial.id).where(GroupMaterial.kind == "file"))
    assert world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials/{mid}/delete").status_code == 303
    assert world.as_("teacher_a").get(f"/w/{world.network_id}/groups/{gid}/materials/{mid}/download").status_code == 404
    with bridge(world.app).db.sessions() as s:
        assert s.scalars(select(Upload.deleted)).one() is True


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_material(world, persona):
    gid = add_group(world, members=("media_a", "teacher_a", "leader_a"))
    mid = add_material(world, gid, by="teacher_a")
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/materials/{mid}/delete")
    allowed = persona in {"teacher_a"} | LEADS  # who added it, the coordinator, the managers
    expect(persona, allowed, resp)
    assert count(world, GroupMaterial) == (0 if allowed else 1)


# -- discussion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", NETWORK_ROLES)
def test_discussion_only_for_group_members_and_managers(world, persona):
    gid = add_group(world)
    add_post(world, gid)
    page = world.as_(persona).get(f"/w/{world.network_id}/groups/{gid}").get_data(as_text=True)
    sees = persona in GROUP_MEMBERS | {"manager"}
    assert ("POST-MARKER" in page) == sees
    assert ('data-discussion="shown"' in page) == sees and ('data-discussion="hidden"' in page) != sees


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_post(world, persona):
    gid = add_group(world)
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/posts", {"body": "<p>Neuer Beitrag</p>"})
    allowed = persona in GROUP_MEMBERS | {"manager"}
    expect(persona, allowed, resp)
    assert count(world, GroupPost) == (1 if allowed else 0)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_post(world, persona):
    gid = add_group(world)
    pid = add_post(world, gid, by="teacher_a")
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/posts/{pid}/delete")
    allowed = persona in ("teacher_a", "manager")  # authors their own, managers any (not the coordinator)
    expect(persona, allowed, resp)
    assert count(world, GroupPost) == (0 if allowed else 1)


@pytest.mark.parametrize("body", ["", "   ", "<p></p>", "<script>alert(1)</script>", "x" * 10001])
def test_empty_or_too_long_posts_are_refused(world, body):
    gid = add_group(world)
    resp = world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/posts", {"body": body})
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(world, GroupPost) == 0


# -- results ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_publish_result(world, persona):
    gid = add_group(world)
    mat = add_material(world, gid)
    n = world.network_id
    allowed = persona in LEADS
    expect(persona, allowed, world.as_(persona).get(f"/w/{n}/groups/{gid}/result"), ok=200)
    resp = world.as_(persona).post(f"/w/{n}/groups/{gid}/result", {"text": "<p>RESULT-NEW</p>", "materials": [str(mat)]})
    expect(persona, allowed, resp)
    assert count(world, GroupResult) == (1 if allowed else 0)
    acts = count(world, Activity, Activity.kind == "group.result", Activity.audience == "network")
    assert acts == (1 if allowed else 0)
    if allowed:
        with bridge(world.app).db.sessions() as s:
            rid = s.scalars(select(GroupResult.id)).one()
            assert s.execute(select(result_material.c.material_id).where(result_material.c.result_id == rid)).scalars().all() == [mat]
            act = s.scalars(select(Activity).where(Activity.kind == "group.result")).one()
            assert act.url == f"/w/{n}/groups/{gid}"  # no #fragment: the overview appends ?launch=
        # shown on the group page for everybody in the network
        page = world.as_("teacher_b").get(f"/w/{n}/groups/{gid}").get_data(as_text=True)
        assert "RESULT-NEW" in page and f'data-result-id="{rid}"' in page and f"#material-{mat}" in page
        assert "AG Medienkonzept" in world.as_("authority").get(f"/w/{n}/").get_data(as_text=True)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_withdraw_result(world, persona):
    gid = add_group(world)
    rid = add_result(world, gid)
    resp = world.as_(persona).post(f"/w/{world.network_id}/groups/{gid}/results/{rid}/delete")
    allowed = persona in LEADS
    expect(persona, allowed, resp)
    assert count(world, GroupResult) == (0 if allowed else 1)


def test_invalid_results_are_refused(world):
    gid = add_group(world)
    other_group = add_group(world, title="AG Andere")
    foreign_material = add_material(world, other_group)
    n = world.network_id
    for form in ({"text": ""}, {"text": "<p> </p>"}, {"text": "x" * 20001},
                 {"text": "<p>ok</p>", "materials": [str(foreign_material)]}, {"text": "<p>ok</p>", "materials": ["a"]}):
        resp = world.as_("media_a").post(f"/w/{n}/groups/{gid}/result", form)
        assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(world, GroupResult) == 0 and count(world, Activity, Activity.kind == "group.result") == 0


# -- validation and sanitising ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"title": ""},
    {"title": "t" * 201},
    {"handlungsfeld": "kantine"},
    {"coordinator": ""},
    {"coordinator": "OTHER"},
    {"description": "d" * 20001},
])
def test_invalid_group_is_refused(world, bad):
    form = group_form(**{"coordinator": str(member_id(world, "leader_a")), **bad})
    if form["coordinator"] == "OTHER":
        form["coordinator"] = str(member_id(world, "outsider", world.other_network_id))
    resp = world.as_("leader_a").post(f"/w/{world.network_id}/groups", form)
    assert resp.status_code == 400 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(world, Group) == 0 and count(world, GroupMembership) == 0


def test_rich_text_is_sanitised_everywhere(world):
    n = world.network_id
    leader = world.as_("leader_a")
    assert leader.post(f"/w/{n}/groups", group_form(title='<script>alert("t")</script>AG', description=XSS,
                                                     coordinator=str(member_id(world, "leader_a")))).status_code == 303
    with bridge(world.app).db.sessions() as s:
        gid = s.scalars(select(Group.id)).one()
    assert leader.post(f"/w/{n}/groups/{gid}/posts", {"body": XSS}).status_code == 303
    assert leader.post(f"/w/{n}/groups/{gid}/materials",
                       material_form(file=None, title='<img src=x onerror="alert(2)">',
                                     author="<script>alert(3)</script>",
                                     link_url="https://oer.example.org/a")).status_code == 303
    assert leader.post(f"/w/{n}/groups/{gid}/result", {"text": XSS}).status_code == 303
    for persona in ("leader_a", "manager", "teacher_b"):
        for path in (f"/w/{n}/groups", f"/w/{n}/groups/{gid}", f"/w/{n}/", f"/w/{n}/groups/{gid}/edit",
                     f"/w/{n}/groups/{gid}/result"):
            resp = world.as_(persona).get(path)
            if resp.status_code != 200:
                continue
            html = resp.get_data(as_text=True).lower()
            assert "<script" not in html and "<img" not in html, (persona, path)
            assert not re.search(r"<[^>]*\bonerror", html), (persona, path)  # no onerror attribute in any tag
    page = leader.get(f"/w/{n}/groups/{gid}").get_data(as_text=True)
    assert "<em>kursiv</em>" in page and "&lt;script&gt;" in page  # formatting kept, plain text escaped


# -- outsiders guessing ids ---------------------------------------------------------------------------


def _paths(n: int, gid: int, mid: int, pid: int, rid: int, member: int) -> tuple[list[str], list[str]]:
    base = f"/w/{n}/groups/{gid}"
    gets = [base, f"{base}/edit", f"{base}/result", f"{base}/materials/{mid}/download"]
    posts = [f"{base}/edit", f"{base}/delete", f"{base}/join", f"{base}/leave", f"{base}/members",
             f"{base}/members/{member}/remove", f"{base}/materials", f"{base}/materials/{mid}/delete",
             f"{base}/posts", f"{base}/posts/{pid}/delete", f"{base}/result", f"{base}/results/{rid}/delete"]
    return gets, posts


def _seed_full_group(world, network_id: int | None = None, persona_prefix: str = "") -> dict[str, int]:
    gid = add_group(world)
    assert world.as_("teacher_a").post(f"/w/{world.network_id}/groups/{gid}/materials",
                                       material_form()).status_code == 303
    with bridge(world.app).db.sessions() as s:
        mid = s.scalars(select(GroupMaterial.id)).one()
    return {"gid": gid, "mid": mid, "pid": add_post(world, gid, body="<p>SECRET-POST</p>"), "rid": add_result(world, gid),
            "member": member_id(world, "teacher_a")}


def _unchanged(world, ids: dict[str, int]) -> None:
    with bridge(world.app).db.sessions() as s:
        g = s.get(Group, ids["gid"])
        assert g is not None and g.title == "AG Medienkonzept"
        assert s.get(GroupMaterial, ids["mid"]) is not None and s.get(GroupPost, ids["pid"]) is not None
        assert s.get(GroupResult, ids["rid"]) is not None
    assert members_of(world, ids["gid"]) == {member_id(world, "media_a"), member_id(world, "teacher_a")}
    assert count(world, GroupResult) == 1 and count(world, GroupPost) == 1 and count(world, GroupMaterial) == 1


@pytest.mark.parametrize("through", ["own_network", "their_network"])
def test_outsider_cannot_reach_groups_by_guessing_ids(world, through):
    ids = _seed_full_group(world)
    n = world.other_network_id if through == "own_network" else world.network_id
    outsider = world.as_("outsider")
    gets, posts = _paths(n, **ids)
    for path in gets + ([f"/w/{n}/groups"] if through == "their_network" else []):
        resp = outsider.get(path)
        assert resp.status_code == 404, path
        assert b"SECRET-POST" not in resp.data and PDF not in resp.data
        resp.close()
    for path in posts:
        data = {**group_form(coordinator="1"), "body": "<p>x</p>", "text": "<p>x</p>", "member_id": str(ids["member"]),
                "author": "A", "licence": "CC0-1.0", "link_url": "https://oer.example.org/x"}
        assert outsider.post(path, data).status_code == 404, path
    _unchanged(world, ids)
    # the outsider's own list shows nothing of network 1
    assert "AG Medienkonzept" not in outsider.get(f"/w/{world.other_network_id}/groups").get_data(as_text=True)


def test_ids_of_another_network_are_not_reachable_through_this_network(world):
    foreign = add_group(world, network_id=world.other_network_id, title="AG Fremd", coordinator="outsider",
                        members=("outsider",))
    own = add_group(world)
    foreign_material = add_material(world, foreign, by="outsider")
    foreign_post = add_post(world, foreign, by="outsider")
    foreign_result = add_result(world, foreign)
    manager = world.as_("manager")
    n = world.network_id
    gets, posts = _paths(n, foreign, foreign_material, foreign_post, foreign_result, member_id(world, "teacher_a"))
    for path in gets:
        assert manager.get(path).status_code == 404, path
    for path in posts:
        assert manager.post(path, {"title": "x", "body": "<p>x</p>", "text": "<p>x</p>"}).status_code == 404, path
    # children of another group through an own group
    base = f"/w/{n}/groups/{own}"
    assert manager.get(f"{base}/materials/{foreign_material}/download").status_code == 404
    for path in (f"{base}/materials/{foreign_material}/delete", f"{base}/posts/{foreign_post}/delete",
                 f"{base}/results/{foreign_result}/delete"):
        assert manager.post(path).status_code == 404, path
    with bridge(world.app).db.sessions() as s:
        assert s.get(Group, foreign).title == "AG Fremd"
        assert s.get(GroupMaterial, foreign_material) and s.get(GroupPost, foreign_post) and s.get(GroupResult, foreign_result)


def test_posts_need_the_csrf_token(world):
    gid = add_group(world)
    actor = world.as_("teacher_a")
    resp = actor.client.post(f"/w/{world.network_id}/groups/{gid}/posts",
                             data={"launch": actor.launch_id, "csrf": "forged", "body": "<p>x</p>"})
    assert resp.status_code == 400 and count(world, GroupPost) == 0


# -- list and links ---------------------------------------------------------------------------------------


def test_list_filters_by_handlungsfeld_and_marks_my_groups(world):
    konzept = add_group(world, title="AG Konzept", handlungsfeld="medienkonzept")
    fortbildung = add_group(world, title="AG Fortbildung", handlungsfeld="fortbildung", members=("media_a",))
    n = world.network_id
    html = world.as_("teacher_a").get(f"/w/{n}/groups?feld=fortbildung").get_data(as_text=True)
    assert f'data-group-id="{fortbildung}"' in html and f'data-group-id="{konzept}"' not in html
    html = world.as_("teacher_a").get(f"/w/{n}/groups?feld=unbekannt").get_data(as_text=True)
    assert f'data-group-id="{fortbildung}"' in html and f'data-group-id="{konzept}"' in html
    card = html[html.index(f'data-group-id="{konzept}"'):]
    card = card[:card.index("</li>")]
    assert "data-mine" in card  # teacher_a is a member of AG Konzept
    other = html[html.index(f'data-group-id="{fortbildung}"'):]
    assert "data-mine" not in other[:other.index("</li>")]


def test_group_page_lists_its_meetings(world):
    from datetime import UTC, datetime, timedelta

    from lti_tool.workspaces.meetings.models import Meeting

    gid = add_group(world)
    with bridge(world.app).db.sessions() as s:
        start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        m = Meeting(network_id=world.network_id, title="AG-Treffen", body="arbeitsgruppe", starts_at=start,
                    ends_at=start + timedelta(hours=2), place="Online", group_id=gid)
        s.add(m)
        s.commit()
        meeting_id = m.id
    page = world.as_("guest").get(f"/w/{world.network_id}/groups/{gid}").get_data(as_text=True)
    assert f'data-meeting-id="{meeting_id}"' in page and f"/w/{world.network_id}/meetings/{meeting_id}" in page
    # deleting the group keeps the meeting, without the link
    assert world.as_("manager").post(f"/w/{world.network_id}/groups/{gid}/delete").status_code == 303
    with bridge(world.app).db.sessions() as s:
        assert s.get(Meeting, meeting_id).group_id is None
