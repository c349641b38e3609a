"""The network's OER library: collections, outline editor, uploads, licence panel, Deep Linking and viewer."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.oer import media
from lti_tool.oer.models import OerAsset, OerBlob, OerCollection, OerNode
from lti_tool.oer.viewer import signature
from lti_tool.selfeval.models import SelfevalRound
from lti_tool.workspaces.groups.models import Group, GroupMaterial
from lti_tool.workspaces.models import Activity
from lti_tool.workspaces.uploads import save_upload
from tests.ltiplatform import INSTRUCTOR, LEARNER, LTI, login_redirect_params
from tests.world import NETWORK_ROLES, PERSONAS, TOOL_LAUNCH

ALL_PERSONAS = list(PERSONAS)
AUTHORS = {"manager", "leader_a", "media_a", "teacher_a", "leader_b", "teacher_b"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XSS_PAGE = ('<html><head><title>t</title><script>alert("head")</script></head><body>'
            '<h2>Erklärvideos im Unterricht</h2><p>BODY-MARKER<script>alert("xss")</script>'
            '<img src="x.png" onerror="alert(1)"><a href="javascript:alert(2)">weiter</a></p></body></html>')
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


# -- helpers --------------------------------------------------------------------------------------------


def rows(world, model, *where) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def blob_files(world) -> list[Path]:
    root = Path(bridge(world.app).settings.instance_dir) / "oer"
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts] if root.exists() \
        else []


def tmp_leftovers(world) -> list[Path]:
    tmp = Path(bridge(world.app).settings.instance_dir) / "oer" / "tmp"
    return list(tmp.rglob("*")) if tmp.exists() else []


def make_collection(world, *, network_id: int | None = None, title: str = "Medienbildung im Netzwerk",
                    licence: str = "CC-BY-SA-4.0", authors: list[str] | None = None, by: str = "media_a") -> int:
    with bridge(world.app).db.sessions() as s:
        coll = OerCollection(network_id=network_id or world.network_id, title=title, description="Sammlung",
                             language="de", keywords=["Medienkompetenz"], licence=licence, source="",
                             authors=[{"name": a, "url": ""} for a in (["Netzwerk Lernen 25"] if authors is None else authors)],
                             created_by=world.as_(by).person_id)
        s.add(coll)
        s.flush()
        s.add(OerNode(collection_id=coll.id, parent_id=None, position=0, kind="module", title="Einstieg"))
        s.commit()
        return coll.id


def module_of(world, coll_id: int) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalars(select(OerNode.id).where(OerNode.collection_id == coll_id, OerNode.kind == "module")
                         .order_by(OerNode.position, OerNode.id)).first()


def add_node(world, coll_id: int, *, kind: str = "weblink", title: str = "Klicksafe", parent: int | None = None,
             **fields: Any) -> int:
    with bridge(world.app).db.sessions() as s:
        defaults: dict[str, Any] = {"url": "https://www.klicksafe.de/"} if kind == "weblink" else {}
        if kind == "discussion":
            defaults = {"text": "<p>Wie nutzt ihr Tablets?</p>"}
        defaults.update(fields)
        pos = s.scalar(select(func.count()).select_from(OerNode).where(OerNode.collection_id == coll_id))
        node = OerNode(collection_id=coll_id, parent_id=parent or module_of(world, coll_id), position=pos, kind=kind,
                       title=title, **defaults)
        s.add(node)
        s.commit()
        return node.id


def upload(world, coll_id: int, files: list[tuple[bytes, str]], persona: str = "teacher_a", **form: Any) -> Any:
    data: dict[str, Any] = {"module": str(module_of(world, coll_id))}
    data.update(form)
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return world.as_(persona).post(f"/oer/networks/{world.network_id}/collections/{coll_id}/uploads", data,
                                   content_type="multipart/form-data")


def node(world, node_id: int) -> OerNode | None:
    with bridge(world.app).db.sessions() as s:
        found = s.get(OerNode, node_id)
        if found is not None:
            s.expunge(found)
        return found


def nodes(world, coll_id: int) -> list[OerNode]:
    with bridge(world.app).db.sessions() as s:
        found = list(s.scalars(select(OerNode).where(OerNode.collection_id == coll_id)
                               .order_by(OerNode.parent_id.is_not(None), OerNode.position, OerNode.id)))
        s.expunge_all()
        return found


def expect(persona: str, allowed: bool, resp, ok: int = 303) -> None:
    if persona not in NETWORK_ROLES:
        assert resp.status_code == 404, (persona, resp.status_code)
    elif allowed:
        assert resp.status_code == ok, (persona, resp.status_code, resp.get_data(as_text=True)[:800])
    else:
        assert resp.status_code == 403, (persona, resp.status_code)


def html(resp) -> str:
    return resp.get_data(as_text=True)


def launch(app, site, sub: str, roles: list[str], context_id: str, *, custom: dict[str, str] | None = None,
           message_type: str = "LtiResourceLinkRequest", link_id: str = "oer-link") -> tuple[Any, str]:
    """A real launch from a school's LMS; returns a cookie-less client and where the tool sent the browser."""
    client = app.test_client(use_cookies=True)  # the OIDC state cookie of the login
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    extra: dict[str, Any] = {LTI + "context": {"id": context_id, "title": f"Kurs {context_id}", "label": context_id},
                             LTI + "custom": custom or {}}
    if message_type == "LtiResourceLinkRequest":
        extra[LTI + "resource_link"] = {"id": link_id, "title": "OER"}
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=roles, sub=sub, message_type=message_type, **extra)
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    assert resp.status_code == 303, resp.headers.get("X-LTI-Error")
    # the pages keep working on the launch id alone (third-party cookies blocked in the iframe)
    return app.test_client(use_cookies=False), resp.headers["Location"]


def deep_link(world, persona: str, keys: list[str]) -> list[dict[str, Any]]:
    """Pick ``keys`` in the Deep Linking picker as ``persona``; returns the content items sent back."""
    site_key, sub, roles, _role, _school = PERSONAS[persona]
    client, location = launch(world.app, world.sites[site_key], sub, roles, f"course-{site_key}",
                              message_type="LtiDeepLinkingRequest")
    page = client.get(location)
    assert page.status_code == 200
    text = html(page)
    for key in keys:
        assert f'value="{key}"' in text, key
    fields = dict(re.findall(r'name="(launch|csrf)" value="([^"]*)"', text))
    done = client.post("/lti/deep-link", data={**fields, "feature": keys, "action": "add"})
    token = re.search(r'name="JWT" value="([^"]+)"', html(done)).group(1)
    return jwt.decode(token, options={"verify_signature": False})[DL_CLAIM]


def open_link(world, site_key: str, sub: str, roles: list[str], context: str, custom: dict[str, str],
              link_id: str = "oer-link") -> tuple[Any, str]:
    client, location = launch(world.app, world.sites[site_key], sub, roles, context, custom=custom, link_id=link_id)
    assert "/oer/view" in location, location
    return client, location


def with_query(location: str, **params: Any) -> str:
    return location + "".join(f"&{k}={v}" for k, v in params.items())


# -- access: every route x every persona ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_library_and_collection_pages_are_for_members(world, persona):
    cid = make_collection(world)
    nid = add_node(world, cid, kind="discussion", title="Austausch")
    n = world.network_id
    actor = world.as_(persona)
    for path in (f"/oer/networks/{n}/library", f"/oer/networks/{n}/collections/{cid}",
                 f"/oer/networks/{n}/collections/{cid}/nodes/{nid}/preview"):
        resp = actor.get(path)
        expect(persona, True, resp, ok=200)
        if resp.status_code == 200:
            assert "Medienbildung im Netzwerk" in html(resp)
    library = actor.get(f"/oer/networks/{n}/library")
    if persona in NETWORK_ROLES:
        # the author forms are only offered to authors
        assert ('name="cartridge"' in html(library)) == (persona in AUTHORS)
        page = html(actor.get(f"/oer/networks/{n}/collections/{cid}"))
        assert ('name="files"' in page) == (persona in AUTHORS)
        assert f'data-node-id="{nid}"' in page
    expect(persona, persona in AUTHORS, actor.get(f"/oer/networks/{n}/collections/{cid}/nodes/{nid}"), ok=200)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_create_collection(world, persona):
    n = world.network_id
    resp = world.as_(persona).post(f"/oer/networks/{n}/collections", {
        "title": "Tablets im Fachunterricht", "description": "Erprobte Stunden", "language": "de",
        "keywords": "Tablet, Unterrichtsentwicklung", "authors": "AG Tablet https://lernen25.example.org\nKim Weber",
        "licence": "CC-BY-4.0", "source": ""})
    allowed = persona in AUTHORS
    expect(persona, allowed, resp)
    assert rows(world, OerCollection) == (1 if allowed else 0)
    if allowed:
        with bridge(world.app).db.sessions() as s:
            coll = s.scalars(select(OerCollection)).one()
            assert coll.network_id == n and coll.licence == "CC-BY-4.0"
            assert coll.keywords == ["Tablet", "Unterrichtsentwicklung"]
            assert coll.authors == [{"name": "AG Tablet", "url": "https://lernen25.example.org"},
                                    {"name": "Kim Weber", "url": ""}]
            assert coll.created_by == world.as_(persona).person_id
            # items always sit in a module: a new collection starts with one
            assert s.scalar(select(func.count()).select_from(OerNode).where(
                OerNode.collection_id == coll.id, OerNode.kind == "module", OerNode.parent_id.is_(None))) == 1
            act = s.scalars(select(Activity).where(Activity.kind == "oer.collection")).one()
            assert act.url == f"/oer/networks/{n}/collections/{coll.id}" and act.audience == "network"
        assert resp.headers["Location"].startswith(f"/oer/networks/{n}/collections/")


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_edit_collection_details(world, persona):
    cid = make_collection(world)
    resp = world.as_(persona).post(f"/oer/networks/{world.network_id}/collections/{cid}", {
        "title": "Neuer Titel", "language": "en", "keywords": "", "authors": "Kim Weber", "licence": "CC0-1.0"})
    expect(persona, persona in AUTHORS, resp)
    with bridge(world.app).db.sessions() as s:
        coll = s.get(OerCollection, cid)
        assert (coll.title == "Neuer Titel" and coll.licence == "CC0-1.0" and coll.language == "en") == \
            (persona in AUTHORS)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_delete_collection_creator_or_manager(world, persona):
    cid = make_collection(world, by="teacher_a")
    assert upload(world, cid, [(PDF, "Arbeitsblatt.pdf")]).status_code == 303
    assert len(blob_files(world)) == 1
    resp = world.as_(persona).post(f"/oer/networks/{world.network_id}/collections/{cid}/delete")
    allowed = persona in ("manager", "teacher_a")
    if persona in NETWORK_ROLES and not allowed:
        assert resp.status_code == 403
    else:
        expect(persona, allowed, resp)
    assert rows(world, OerCollection) == (0 if allowed else 1)
    assert rows(world, OerNode) == (0 if allowed else 2)
    # the file goes with its last reference
    assert rows(world, OerBlob) == (0 if allowed else 1)
    assert len(blob_files(world)) == (0 if allowed else 1)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_outline_editing(world, persona):
    cid = make_collection(world)
    first = module_of(world, cid)
    a = add_node(world, cid, title="A")
    b = add_node(world, cid, title="B")
    n, actor, allowed = world.network_id, world.as_(persona), persona in AUTHORS
    base = f"/oer/networks/{n}/collections/{cid}"
    expect(persona, allowed, actor.post(f"{base}/modules", {"title": "Vertiefung", "parent": ""}))
    expect(persona, allowed, actor.post(f"{base}/nodes/{b}/move", {"direction": "up"}))
    order = [x.id for x in nodes(world, cid) if x.parent_id == first]
    assert order == ([b, a] if allowed else [a, b])
    expect(persona, allowed, actor.post(f"{base}/items", {
        "kind": "weblink", "title": "Medienpass NRW", "url": "https://medienkompetenzrahmen.nrw/", "module": str(first),
        "licence": "", "authors": "", "source": ""}))
    expect(persona, allowed, actor.post(f"{base}/items", {
        "kind": "discussion", "title": "Erfahrungen", "text": "<p>Was hat geklappt?</p>", "module": str(first)}))
    expect(persona, allowed, actor.post(f"{base}/nodes/{a}", {
        "title": "A neu", "parent": str(first), "url": "https://www.klicksafe.de/neu", "authors": "Kim Weber", "licence": "CC-BY-4.0",
        "source": "https://example.org/a", "changes": "gekürzt", "instructor_only": "1"}))
    expect(persona, allowed, actor.post(f"{base}/nodes/{b}/delete"))
    titles = {x.title for x in nodes(world, cid)}
    if allowed:
        assert titles == {"Einstieg", "Vertiefung", "A neu", "Medienpass NRW", "Erfahrungen"}
        changed = node(world, a)
        assert changed.authors == [{"name": "Kim Weber", "url": ""}] and changed.licence == "CC-BY-4.0"
        assert changed.changes == "gekürzt" and changed.instructor_only and changed.source == "https://example.org/a"
        assert changed.url == "https://www.klicksafe.de/neu"
    else:
        assert titles == {"Einstieg", "A", "B"}


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_upload_files(world, persona):
    cid = make_collection(world)
    resp = upload(world, cid, [(PDF, "Stundenentwurf Tablet.pdf"), (PNG, "Tafelbild.png")], persona=persona,
                  authors="Kim Weber", licence="CC-BY-4.0", source="https://example.org/entwurf")
    allowed = persona in AUTHORS
    expect(persona, allowed, resp)
    files = [x for x in nodes(world, cid) if x.kind == "file"]
    assert len(files) == (2 if allowed else 0)
    if allowed:
        pdf = next(f for f in files if f.media_type == "application/pdf")
        assert pdf.title == "Stundenentwurf Tablet" and pdf.filename == "Stundenentwurf Tablet.pdf"
        assert pdf.size == len(PDF) and pdf.licence == "CC-BY-4.0" and pdf.authors[0]["name"] == "Kim Weber"
        assert rows(world, OerBlob) == 2 and len(blob_files(world)) == 2
        stored = [p.read_bytes() for p in blob_files(world)]
        assert PDF in stored and PNG in stored
    assert not tmp_leftovers(world)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_files_and_assets_are_for_members(world, persona):
    cid = make_collection(world)
    assert upload(world, cid, [(PDF, "Arbeitsblatt.pdf")]).status_code == 303
    fid = next(x.id for x in nodes(world, cid) if x.kind == "file")
    base = f"/oer/networks/{world.network_id}/collections/{cid}/nodes"
    resp = world.as_(persona).get(f"{base}/{fid}/file")
    expect(persona, True, resp, ok=200)
    if resp.status_code == 200:
        assert resp.data == PDF and resp.mimetype == "application/pdf"
        assert resp.headers["Cache-Control"] == "private, no-store"
    resp.close()
    page_id, asset_id = add_page_with_asset(world, cid)
    resp = world.as_(persona).get(f"{base}/{page_id}/assets/{asset_id}")
    expect(persona, True, resp, ok=200)
    if resp.status_code == 200:
        assert resp.data == PNG and "sandbox" in resp.headers["Content-Security-Policy"]
    resp.close()
    if persona in NETWORK_ROLES:  # an asset through another node of the collection
        assert world.as_(persona).get(f"{base}/{fid}/assets/{asset_id}").status_code == 404


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_working_group_material(world, persona):
    cid = make_collection(world)
    mid = add_material(world, by="teacher_a", licence="CC-BY-SA-4.0")
    resp = world.as_(persona).post(f"/oer/networks/{world.network_id}/collections/{cid}/materials", {
        "material": str(mid), f"licence_{mid}": "CC-BY-SA-4.0", "module": str(module_of(world, cid))})
    allowed = persona in AUTHORS
    expect(persona, allowed, resp)
    copied = [x for x in nodes(world, cid) if x.kind == "file"]
    assert len(copied) == (1 if allowed else 0)
    if allowed:
        assert copied[0].title == "Stundenentwurf Erklärvideo" and copied[0].authors == [{"name": "Kim Weber",
                                                                                            "url": ""}]
        assert copied[0].licence == "CC-BY-SA-4.0" and copied[0].source == "https://material.example.org/quelle"
        assert copied[0].media_type == "application/pdf" and copied[0].size == len(PDF)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_add_selfeval_link(world, persona):
    cid = make_collection(world)
    rnd = add_round(world)
    resp = world.as_(persona).post(f"/oer/networks/{world.network_id}/collections/{cid}/items", {
        "kind": "lti", "round_id": str(rnd), "title": "", "module": str(module_of(world, cid))})
    expect(persona, persona in AUTHORS, resp)
    links = [x for x in nodes(world, cid) if x.kind == "lti"]
    assert len(links) == (1 if persona in AUTHORS else 0)
    if links:
        assert links[0].custom == {"feature": "selfeval", "round": str(rnd)}
        assert links[0].url == "http://localhost/lti/launch" and links[0].title == "Herbst 2026"


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_cartridge_download_is_for_members(world, persona):
    cid = make_collection(world)
    add_node(world, cid, kind="discussion", title="Austausch")
    resp = world.as_(persona).get(f"/oer/networks/{world.network_id}/collections/{cid}/cartridge?cc_version=1.1")
    expect(persona, True, resp, ok=200)
    if resp.status_code == 200:
        assert resp.data[:4] == b"PK\x03\x04" and resp.mimetype == "application/zip"
        assert resp.headers["Content-Disposition"].startswith("attachment")
    resp.close()


# -- outsiders guessing ids ---------------------------------------------------------------------------------


def add_material(world, *, by: str = "teacher_a", licence: str = "CC-BY-SA-4.0", network_id: int | None = None,
                 link: str = "") -> int:
    with world.app.test_request_context():
        from lti_tool.db import db_session

        s = db_session()
        net = network_id or world.network_id
        group = Group(network_id=net, title="AG Erklärvideos", description="")
        s.add(group)
        s.flush()
        up = None if link else save_upload(net, world.as_(by).person_id,
                                           __import__("werkzeug").datastructures.FileStorage(
                                               io.BytesIO(PDF), "stundenentwurf.pdf"))
        s.flush()
        m = GroupMaterial(group_id=group.id, kind="link" if link else "file", title="Stundenentwurf Erklärvideo",
                          author="Kim Weber", licence=licence, source_url="https://material.example.org/quelle",
                          upload_id=up.id if up else None, link_url=link, added_by=world.as_(by).person_id)
        s.add(m)
        s.commit()
        return m.id


def add_round(world, network_id: int | None = None) -> int:
    now = datetime.now(UTC)
    with bridge(world.app).db.sessions() as s:
        rnd = SelfevalRound(network_id=network_id or world.network_id, instrument_key="selbstevaluationsraster",
                            title="Herbst 2026", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=7))
        s.add(rnd)
        s.commit()
        return rnd.id


@pytest.mark.parametrize("through", ["own", "theirs"])
def test_outsider_cannot_reach_the_library_by_guessing_ids(world, through):
    cid = make_collection(world)
    assert upload(world, cid, [(PDF, "Arbeitsblatt.pdf")]).status_code == 303
    fid = next(x.id for x in nodes(world, cid) if x.kind == "file")
    mod = module_of(world, cid)
    n = world.other_network_id if through == "own" else world.network_id
    outsider = world.as_("outsider")
    base = f"/oer/networks/{n}/collections/{cid}"
    for path in (f"/oer/networks/{n}/library", base, f"{base}/nodes/{fid}", f"{base}/nodes/{fid}/file",
                 f"{base}/nodes/{fid}/preview", f"{base}/cartridge"):
        if through == "own" and path.endswith("/library"):
            assert outsider.get(path).status_code == 200  # their own library, which lists nothing of ours
            assert "Medienbildung" not in html(outsider.get(path))
            continue
        assert outsider.get(path).status_code == 404, path
    for path, data in ((base, {"title": "x", "licence": "CC0-1.0"}), (f"{base}/delete", {}),
                       (f"{base}/modules", {"title": "x"}),
                       (f"{base}/items", {"kind": "weblink", "title": "x", "url": "https://x.example",
                                          "module": str(mod)}),
                       (f"{base}/nodes/{fid}", {"title": "x", "parent": str(mod)}),
                       (f"{base}/nodes/{fid}/move", {"direction": "up"}), (f"{base}/nodes/{fid}/delete", {})):
        assert outsider.post(path, data).status_code == 404, path
    assert [x.title for x in nodes(world, cid)] == ["Einstieg", "Arbeitsblatt"]
    assert rows(world, OerCollection) == 1


def test_members_cannot_mix_ids_of_other_networks_or_collections(world):
    ours = make_collection(world)
    theirs = make_collection(world, network_id=world.other_network_id, title="Fremde Sammlung", by="outsider")
    other_coll = make_collection(world, title="Zweite Sammlung")
    their_node = add_node(world, theirs, title="Fremd")
    n, manager = world.network_id, world.as_("manager")
    # a collection of another network through our network id
    assert manager.get(f"/oer/networks/{n}/collections/{theirs}").status_code == 404
    assert manager.post(f"/oer/networks/{n}/collections/{theirs}/delete").status_code == 404
    # a node of another collection through ours
    assert manager.get(f"/oer/networks/{n}/collections/{ours}/nodes/{their_node}").status_code == 404
    assert manager.post(f"/oer/networks/{n}/collections/{ours}/nodes/{their_node}/delete").status_code == 404
    # a module of another collection as target
    resp = manager.post(f"/oer/networks/{n}/collections/{ours}/items", {
        "kind": "weblink", "title": "x", "url": "https://x.example", "module": str(module_of(world, other_coll))})
    assert resp.status_code == 404
    # working-group material and self-evaluation rounds of the other network
    foreign_material = add_material(world, network_id=world.other_network_id, by="outsider")
    resp = manager.post(f"/oer/networks/{n}/collections/{ours}/materials", {
        "material": str(foreign_material), f"licence_{foreign_material}": "CC-BY-SA-4.0",
        "module": str(module_of(world, ours))})
    assert resp.status_code == 404
    foreign_round = add_round(world, network_id=world.other_network_id)
    resp = manager.post(f"/oer/networks/{n}/collections/{ours}/items", {
        "kind": "lti", "round_id": str(foreign_round), "module": str(module_of(world, ours))})
    assert resp.status_code == 404
    assert [x.title for x in nodes(world, ours)] == ["Einstieg"]
    assert node(world, their_node) is not None


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,content", [
    ("schadsoftware.exe", b"MZ\x90\x00"),
    ("falsch.pdf", b"<html>kein PDF</html>"),
    ("leer.pdf", b""),
    ("seite.html", "<p>Grüße</p>".encode("latin-1")),
    ("bild.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
])
def test_bad_uploads_are_refused_and_nothing_is_written(world, name, content):
    cid = make_collection(world)
    good = (PDF, "gut.pdf")
    resp = upload(world, cid, [good, (content, name)])  # one bad file refuses the whole upload
    assert resp.status_code == 400
    assert 'role="alert"' in html(resp)
    assert [x.kind for x in nodes(world, cid)] == ["module"]
    assert rows(world, OerBlob) == 0 and blob_files(world) == [] and not tmp_leftovers(world)


def test_upload_needs_a_file_and_a_module_of_this_collection(world):
    cid = make_collection(world)
    n = world.network_id
    resp = world.as_("teacher_a").post(f"/oer/networks/{n}/collections/{cid}/uploads",
                                       {"module": str(module_of(world, cid))}, content_type="multipart/form-data")
    assert resp.status_code == 400
    item = add_node(world, cid, title="Kein Modul")
    resp = upload(world, cid, [(PDF, "a.pdf")], module=str(item))  # an item is not a module
    assert resp.status_code == 400
    resp = upload(world, cid, [(PDF, "a.pdf")], licence="all rights reserved")
    assert resp.status_code == 400
    assert rows(world, OerBlob) == 0 and blob_files(world) == []


def test_upload_limits(world, monkeypatch):
    cid = make_collection(world)
    monkeypatch.setattr(media, "MAX_UPLOAD", 1024)
    resp = upload(world, cid, [(PDF + b"0" * 2048, "gross.pdf")])
    assert resp.status_code == 400
    assert rows(world, OerBlob) == 0 and blob_files(world) == [] and not tmp_leftovers(world)
    # the app's request limit is respected, and said
    world.app.config["MAX_CONTENT_LENGTH"] = 4096
    resp = upload(world, cid, [(PDF + b"0" * 8192, "noch-groesser.pdf")])
    assert resp.status_code == 413
    assert rows(world, OerNode, OerNode.kind == "file") == 0


@pytest.mark.parametrize("form", [
    {"title": ""},
    {"title": "x" * 300},
    {"title": "ok", "licence": "all rights reserved"},
    {"title": "ok", "language": "Deutsch!"},
    {"title": "ok", "authors": ("Kim Weber\n" * 40)},
])
def test_collection_details_are_validated(world, form):
    resp = world.as_("manager").post(f"/oer/networks/{world.network_id}/collections", form)
    assert resp.status_code == 400 and 'role="alert"' in html(resp)
    assert rows(world, OerCollection) == 0


@pytest.mark.parametrize("kind,form", [
    ("weblink", {"title": "Link", "url": "javascript:alert(1)"}),
    ("weblink", {"title": "Link", "url": ""}),
    ("weblink", {"title": "", "url": "https://example.org"}),
    ("discussion", {"title": "Frage", "text": "<script>alert(1)</script>"}),
    ("unknown", {"title": "x"}),
])
def test_items_are_validated(world, kind, form):
    cid = make_collection(world)
    resp = world.as_("manager").post(f"/oer/networks/{world.network_id}/collections/{cid}/items",
                                     {"kind": kind, "module": str(module_of(world, cid)), **form})
    assert resp.status_code == 400
    assert [x.kind for x in nodes(world, cid)] == ["module"]


def test_last_module_cannot_be_deleted_and_a_module_cannot_move_into_itself(world):
    cid = make_collection(world)
    first = module_of(world, cid)
    base = f"/oer/networks/{world.network_id}/collections/{cid}"
    assert world.as_("manager").post(f"{base}/nodes/{first}/delete").status_code == 400
    assert world.as_("manager").post(f"{base}/modules", {"title": "Unterkapitel", "parent": str(first)}).status_code \
        == 303
    child = next(x.id for x in nodes(world, cid) if x.title == "Unterkapitel")
    resp = world.as_("manager").post(f"{base}/nodes/{first}", {"title": "Einstieg", "parent": str(child)})
    assert resp.status_code == 400
    assert node(world, first).parent_id is None
    # deleting a module deletes what is in it
    add_node(world, cid, title="Im Unterkapitel", parent=child)
    world.as_("manager").post(f"{base}/modules", {"title": "Zweites Kapitel", "parent": ""})
    assert world.as_("manager").post(f"{base}/nodes/{first}/delete").status_code == 303
    assert [x.title for x in nodes(world, cid)] == ["Zweites Kapitel"]


def test_material_licence_can_only_be_changed_by_who_shared_it(world):
    cid = make_collection(world)
    mid = add_material(world, by="teacher_a", licence="CC-BY-SA-4.0")
    base = f"/oer/networks/{world.network_id}/collections/{cid}/materials"
    form = {"material": str(mid), "module": str(module_of(world, cid))}
    assert world.as_("manager").post(base, {**form, f"licence_{mid}": ""}).status_code == 400  # must pick
    assert world.as_("manager").post(base, {**form, f"licence_{mid}": "CC0-1.0"}).status_code == 400
    assert rows(world, OerNode, OerNode.kind == "file") == 0 and blob_files(world) == []
    assert world.as_("teacher_a").post(base, {**form, f"licence_{mid}": "CC0-1.0"}).status_code == 303
    assert [x.licence for x in nodes(world, cid) if x.kind == "file"] == ["CC0-1.0"]
    link = add_material(world, by="teacher_a", licence="CC-BY-4.0", link="https://www.planet-schule.de/")
    assert world.as_("manager").post(base, {"material": str(link), f"licence_{link}": "CC-BY-4.0",
                                            "module": str(module_of(world, cid))}).status_code == 303
    weblink = next(x for x in nodes(world, cid) if x.kind == "weblink")
    assert weblink.url == "https://www.planet-schule.de/" and weblink.licence == "CC-BY-4.0"


def test_deleting_an_item_releases_its_file_only_when_unused(world):
    cid = make_collection(world)
    assert upload(world, cid, [(PDF, "a.pdf")]).status_code == 303
    assert upload(world, cid, [(PDF, "b.pdf")]).status_code == 303  # same content: stored once
    assert rows(world, OerBlob) == 1 and len(blob_files(world)) == 1
    a, b = [x.id for x in nodes(world, cid) if x.kind == "file"]
    base = f"/oer/networks/{world.network_id}/collections/{cid}"
    assert world.as_("teacher_a").post(f"{base}/nodes/{a}/delete").status_code == 303
    assert rows(world, OerBlob) == 1 and len(blob_files(world)) == 1
    assert world.as_("teacher_a").post(f"{base}/nodes/{b}/delete").status_code == 303
    assert rows(world, OerBlob) == 0 and blob_files(world) == []


# -- sanitising ----------------------------------------------------------------------------------------------


def test_uploaded_html_page_is_cleaned_on_the_way_in_and_out(world):
    cid = make_collection(world)
    assert upload(world, cid, [(XSS_PAGE.encode(), "Erklärvideos.html")]).status_code == 303
    page = next(x for x in nodes(world, cid) if x.kind == "page")
    stored = next(p for p in blob_files(world)).read_text()
    assert "<script" not in stored and "onerror" not in stored and "javascript:" not in stored
    assert "BODY-MARKER" in stored and "Erklärvideos im Unterricht" in stored
    n = world.network_id
    for path in (f"/oer/networks/{n}/collections/{cid}/nodes/{page.id}/preview",
                 f"/oer/networks/{n}/collections/{cid}/nodes/{page.id}/file"):
        resp = world.as_("guest").get(path)
        text = html(resp)
        assert resp.status_code == 200 and "BODY-MARKER" in text
        assert "<script" not in text and "onerror" not in text and "javascript:alert" not in text
        resp.close()


def test_discussion_prompt_is_sanitised(world):
    cid = make_collection(world)
    base = f"/oer/networks/{world.network_id}/collections/{cid}"
    resp = world.as_("teacher_a").post(f"{base}/items", {
        "kind": "discussion", "title": "Frage", "module": str(module_of(world, cid)),
        "text": '<p>PROMPT-MARKER<script>alert(1)</script><img src="x" onerror="alert(2)"></p>'})
    assert resp.status_code == 303
    d = next(x for x in nodes(world, cid) if x.kind == "discussion")
    text = html(world.as_("teacher_a").get(f"{base}/nodes/{d.id}/preview"))
    assert "PROMPT-MARKER" in text and "<script>alert" not in text and "onerror" not in text


# -- licence panel --------------------------------------------------------------------------------------------


def problem_codes(page: str) -> set[tuple[str, str]]:
    return set(re.findall(r'data-problem="([\w-]+)" data-node="(\d*)"', page))


def test_licence_panel_lists_every_problem_with_a_link_to_fix_it(world):
    cid = make_collection(world, licence="", authors=[])
    no_licence = add_node(world, cid, kind="discussion", title="Ohne Lizenz")
    nc = add_node(world, cid, kind="discussion", title="Nicht offen", licence="CC-BY-NC-4.0",
                  authors=[{"name": "Kim Weber", "url": ""}], source="https://example.org/nc")
    third = add_node(world, cid, kind="discussion", title="Fremdes Material", licence="CC-BY-4.0",
                     authors=[{"name": "Landesmedienzentrum", "url": ""}])
    link = add_node(world, cid, kind="weblink", title="Link", licence="CC-BY-ND-4.0")
    base = f"/oer/networks/{world.network_id}/collections/{cid}"
    page = html(world.as_("teacher_a").get(base))
    codes = problem_codes(page)
    assert ("missing-licence", "") in codes  # the collection itself
    assert ("missing-author", str(no_licence)) in codes
    assert ("non-open-licence", str(nc)) in codes
    assert ("missing-source", str(third)) in codes
    assert ("missing-author", str(third)) not in codes and ("missing-author", str(link)) not in codes
    assert ("non-open-licence", str(link)) in codes  # a warning for links, listed nonetheless
    assert 'data-blocking="yes"' in page
    assert f'{base}/nodes/{nc}?launch=' in page  # "Fix" goes to the item
    # readers see the problems, but no fix links
    guest = html(world.as_("guest").get(base))
    assert ("non-open-licence", str(nc)) in problem_codes(guest) and f"{base}/nodes/{nc}?" not in guest
    # the download is refused while errors remain
    refused = world.as_("guest").get(f"{base}/cartridge")
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    # fix everything
    manager = world.as_("manager")
    assert manager.post(base, {"title": "Medienbildung im Netzwerk", "language": "de", "licence": "CC-BY-SA-4.0",
                               "authors": "Netzwerk Lernen 25"}).status_code == 303
    assert manager.post(f"{base}/nodes/{nc}", {"title": "Nicht offen", "parent": str(module_of(world, cid)),
                                                "licence": "CC-BY-4.0", "authors": "Kim Weber",
                                                "text": "<p>Frage</p>", "source": "x"}).status_code == 303
    assert manager.post(f"{base}/nodes/{third}", {"title": "Fremdes Material", "parent": str(module_of(world, cid)),
                                                   "licence": "CC-BY-4.0", "authors": "Landesmedienzentrum",
                                                   "text": "<p>Frage</p>",
                                                   "source": "https://lmz.example.org/material"}).status_code == 303
    page = html(manager.get(base))
    assert {c for c, _n in problem_codes(page)} <= {"non-open-licence"}  # only the link's warning is left
    assert 'data-blocking="no"' in page
    ok = manager.get(f"{base}/cartridge?cc_version=1.3")
    assert ok.status_code == 200 and ok.data[:4] == b"PK\x03\x04"
    ok.close()


def test_node_edit_keeps_an_imported_unknown_licence_but_refuses_new_unknown_ones(world):
    cid = make_collection(world)
    nid = add_node(world, cid, kind="discussion", title="Alt", licence="Eigene Lizenz")
    base = f"/oer/networks/{world.network_id}/collections/{cid}/nodes/{nid}"
    form = {"title": "Alt", "parent": str(module_of(world, cid)), "text": "<p>x</p>"}
    assert world.as_("manager").post(base, {**form, "licence": "Eigene Lizenz"}).status_code == 303
    assert world.as_("manager").post(base, {**form, "licence": "Andere Lizenz"}).status_code == 400
    assert node(world, nid).licence == "Eigene Lizenz"


# -- Deep Linking and the viewer --------------------------------------------------------------------------------


def test_deep_linking_picks_items_and_modules_and_the_viewer_shows_them_with_tullu(world):
    cid = make_collection(world, licence="CC-BY-SA-4.0", authors=["AG Erklärvideos"])
    assert upload(world, cid, [(XSS_PAGE.encode(), "Erklärvideos.html")], authors="Kim Weber",
                  licence="CC-BY-4.0", source="https://example.org/erklaervideos",
                  title="Erklärvideos im Unterricht").status_code == 303
    page = next(x for x in nodes(world, cid) if x.kind == "page")
    assert upload(world, cid, [(PNG, "Tafelbild.png")]).status_code == 303
    image = next(x for x in nodes(world, cid) if x.kind == "file")
    module = module_of(world, cid)
    foreign = make_collection(world, network_id=world.other_network_id, title="Fremd", by="outsider")
    foreign_node = add_node(world, foreign, title="Fremder Link")

    items = deep_link(world, "teacher_a", [f"oer:{page.id}", f"oer:{module}"])
    picker_client, location = launch(world.app, world.sites["A"], "teach-a", [INSTRUCTOR], "course-A",
                                     message_type="LtiDeepLinkingRequest")
    assert f'value="oer:{foreign_node}"' not in html(picker_client.get(location))
    by_node = {i["custom"]["oer_node"]: i for i in items}
    assert by_node[str(page.id)]["custom"] == {"feature": "oer", "oer_node": str(page.id),
                                              "oer_sig": signature_for(world, page.id)}
    assert by_node[str(page.id)]["title"] == "Erklärvideos im Unterricht"
    assert by_node[str(page.id)]["type"] == "ltiResourceLink" and "lineItem" not in by_node[str(page.id)]

    # a learner opens the page from the course
    client, location = open_link(world, "A", "pupil-1", [LEARNER], "course-A", by_node[str(page.id)]["custom"])
    shown = client.get(location)
    text = html(shown)
    assert shown.status_code == 200 and "BODY-MARKER" in text and "Erklärvideos im Unterricht" in text
    assert "<script" not in text.split("</head>", 1)[1] and "onerror" not in text
    tullu = re.search(r'<p class="oer-tullu" data-tullu>(.*?)</p>', text, re.S).group(1)
    assert "Kim Weber" in tullu and "CC BY 4.0" in tullu and "https://example.org/erklaervideos" in tullu
    assert "https://creativecommons.org/licenses/by/4.0/" in tullu

    # the module link lists its items; each opens inside the same launch
    client, location = open_link(world, "A", "pupil-1", [LEARNER], "course-A", by_node[str(module)]["custom"],
                                 link_id="oer-module")
    outline = html(client.get(location))
    assert f'data-node-id="{page.id}"' in outline and f'data-node-id="{image.id}"' in outline
    img = html(client.get(with_query(location, node=image.id)))
    tullu = re.search(r'<p class="oer-tullu" data-tullu>(.*?)</p>', img, re.S).group(1)
    assert "AG Erklärvideos" in tullu and "CC BY-SA 4.0" in tullu  # the collection's attribution
    src = re.search(r'<img src="([^"]+)"', img).group(1).replace("&amp;", "&")
    picture = client.get(src)
    assert picture.status_code == 200 and picture.data == PNG and picture.mimetype == "image/png"
    assert "sandbox" in picture.headers["Content-Security-Policy"]
    picture.close()
    # nodes outside the linked module are not reachable through it
    other = make_collection(world, title="Andere")
    outside = add_node(world, other, title="Außerhalb")
    assert client.get(with_query(location, node=outside)).status_code == 404


def signature_for(world, node_id: int) -> str:
    with world.app.app_context():
        return signature(node_id)


def test_viewer_refuses_guessed_links_and_hides_teacher_items_from_learners(world):
    cid = make_collection(world)
    item = add_node(world, cid, kind="discussion", title="Austausch")
    secret = add_node(world, cid, kind="discussion", title="Lösungen", instructor_only=True)
    foreign = make_collection(world, network_id=world.other_network_id, title="Fremd", by="outsider")
    foreign_item = add_node(world, foreign, kind="discussion", title="Fremde Frage")
    site = world.sites["A"]
    # a course that is bound to a school of the network: works without the signature
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(item)})
    assert client.get(loc).status_code == 200
    # a course elsewhere: only with the signature of the deep link
    client, loc = open_link(world, "A", "pupil-9", [LEARNER], "course-Z", {"feature": "oer", "oer_node": str(item)})
    assert client.get(loc).status_code == 404
    client, loc = open_link(world, "A", "pupil-9", [LEARNER], "course-Z",
                            {"feature": "oer", "oer_node": str(item), "oer_sig": signature_for(world, item)},
                            link_id="signed")
    assert client.get(loc).status_code == 200
    client, loc = open_link(world, "A", "pupil-9", [LEARNER], "course-Z",
                            {"feature": "oer", "oer_node": str(item), "oer_sig": signature_for(world, item + 1)},
                            link_id="forged")
    assert client.get(loc).status_code == 404
    # another network's item from our course
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A",
                            {"feature": "oer", "oer_node": str(foreign_item)}, link_id="foreign")
    assert client.get(loc).status_code == 404
    # a missing node
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A",
                            {"feature": "oer", "oer_node": "999999"}, link_id="missing")
    assert client.get(loc).status_code == 404
    # teacher-only items
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(secret)},
                            link_id="secret")
    assert client.get(loc).status_code == 403
    client, loc = launch(world.app, site, "teach-a", [INSTRUCTOR], "course-A",
                         custom={"feature": "oer", "oer_node": str(secret)}, link_id="secret")
    assert client.get(loc).status_code == 200


def test_module_view_hides_teacher_items_from_learners(world):
    cid = make_collection(world)
    module = module_of(world, cid)
    open_item = add_node(world, cid, kind="discussion", title="Für alle")
    secret = add_node(world, cid, kind="discussion", title="Lösungen", instructor_only=True)
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(module)})
    page = html(client.get(loc))
    assert f'data-node-id="{open_item}"' in page and f'data-node-id="{secret}"' not in page
    assert client.get(with_query(loc, node=secret)).status_code == 403


def test_selfeval_links_of_the_library_become_selfeval_course_links(world):
    cid = make_collection(world)
    rnd = add_round(world)
    assert world.as_("manager").post(f"/oer/networks/{world.network_id}/collections/{cid}/items", {
        "kind": "lti", "round_id": str(rnd), "module": str(module_of(world, cid))}).status_code == 303
    lti = next(x for x in nodes(world, cid) if x.kind == "lti")
    items = deep_link(world, "teacher_a", [f"oer:{lti.id}"])
    chosen = next(i for i in items if i["title"] == "Herbst 2026")
    assert chosen["custom"] == {"feature": "selfeval", "round": str(rnd)}


def add_page_with_asset(world, cid: int) -> tuple[int, int]:
    """A page that shows an image of its own (as imported pages do), stored like the import stores it."""
    from lti_tool.oer import blobs

    with bridge(world.app).db.sessions() as s, world.app.app_context():
        page_blob = blobs.put_bytes(b'<html><body><p>Bild:</p><img src="../bilder/tafel.png" alt="Tafel">'
                                    b'<img src="../bilder/fehlt.png" alt="x"></body></html>', limit=10**6)
        image_blob = blobs.put_bytes(PNG, limit=10**6)
        for stored in (page_blob, image_blob):
            blobs.ensure_row(s, stored)
        page = OerNode(collection_id=cid, parent_id=module_of(world, cid), position=1, kind="page", title="Tafelbild",
                       blob_sha256=page_blob.sha256, filename="seiten/tafel.html", media_type="text/html",
                       size=page_blob.size)
        s.add(page)
        s.flush()
        asset = OerAsset(node_id=page.id, path="bilder/tafel.png", blob_sha256=image_blob.sha256,
                         media_type="image/png", size=image_blob.size)
        s.add(asset)
        s.commit()
        return page.id, asset.id


def test_a_page_with_assets_shows_them_through_the_launch(world):
    cid = make_collection(world)
    page_id, _asset_id = add_page_with_asset(world, cid)
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(page_id)})
    text = html(client.get(loc))
    srcs = re.findall(r'<img src="([^"]*)"', text)
    assert len(srcs) == 1 and "/oer/view/asset/" in srcs[0]  # the missing image lost its src
    resp = client.get(srcs[0].replace("&amp;", "&"))
    assert resp.status_code == 200 and resp.data == PNG
    resp.close()
    # an asset of another page is not reachable through this link
    other_page, other_asset = add_page_with_asset(world, make_collection(world, title="Andere"))
    foreign = client.get(srcs[0].replace("&amp;", "&").replace(f"/asset/{_asset_id}", f"/asset/{other_asset}"))
    assert foreign.status_code == 404


def test_the_library_is_in_the_network_navigation(world):
    page = html(world.as_("guest").get(f"/w/{world.network_id}/"))
    assert f'href="/oer/networks/{world.network_id}/library?launch=' in page


def test_viewer_shows_audio_video_pdf_links_and_prompts_each_with_attribution(world):
    cid = make_collection(world)
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 32
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32
    assert upload(world, cid, [(mp3, "Interview.mp3"), (mp4, "Erklärvideo.mp4"), (PDF, "Handout.pdf")]).status_code \
        == 303
    link = add_node(world, cid, kind="weblink", title="Klicksafe", url="https://www.klicksafe.de/")
    prompt = add_node(world, cid, kind="discussion", title="Austausch", text="<p>PROMPT-MARKER</p>")
    by_title = {x.title: x.id for x in nodes(world, cid)}
    expected = {"Interview": '<audio controls', "Erklärvideo": '<video controls', "Handout": 'target="_blank"'}
    for title, marker in expected.items():
        client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A",
                                {"feature": "oer", "oer_node": str(by_title[title])}, link_id=title)
        text = html(client.get(loc))
        assert marker in text, title
        assert "CC BY-SA 4.0" in re.search(r'data-tullu>(.*?)</p>', text, re.S).group(1)
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(link)},
                            link_id="link")
    text = html(client.get(loc))
    assert 'href="https://www.klicksafe.de/"' in text and "data-tullu" in text
    client, loc = open_link(world, "A", "pupil-1", [LEARNER], "course-A", {"feature": "oer", "oer_node": str(prompt)},
                            link_id="prompt")
    text = html(client.get(loc))
    assert "PROMPT-MARKER" in text and "data-tullu" in text
