"""The demo network's OER library: the seeded collection, its licence panel and cartridge, the placed page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.demo import seed_oer, seed_selfeval
from lti_tool.demo.models import DemoLink, DemoSite
from lti_tool.demo.seed_network import seed_network
from lti_tool.oer.checks import blocking, problems
from lti_tool.oer.models import OerAsset, OerBlob, OerCollection, OerNode
from lti_tool.oer.store import nodes_of
from lti_tool.oer.viewer import signature
from lti_tool.selfeval.models import SelfevalRound
from lti_tool.workspaces.models import Network, NetworkMember
from oer_packager import reader, validator
from oer_packager.findings import Severity, has_errors
from tests.test_demo import GE, GY, Browser, LiveDemo, browser, form_fields, live_demo, page  # noqa: F401

TITLE = "Datenschutz und Medienkompetenz – Materialien des Netzwerks Lernen 25"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: (depth, kind, title, own licence, instructor only) in outline order
OUTLINE = [
    (0, "module", "Datenschutz im Alltag", "", False),
    (1, "page", "Was sind personenbezogene Daten?", "", False),
    (1, "discussion", "Austausch: Meine Spuren im Netz", "", False),
    (1, "weblink", "Die Lizenz CC BY-SA 4.0 verständlich erklärt", "", False),
    (0, "module", "Sicher unterwegs mit Passwörtern", "", False),
    (1, "page", "Passwörter sicher wählen", "CC-BY-4.0", False),
    (0, "module", "Für Lehrkräfte und Schulentwicklung", "", False),
    (1, "page", "Hinweise für Lehrkräfte", "", True),
    (1, "lti", seed_oer.SELFEVAL_TITLE, "", True),
]


def _collection(app) -> tuple[OerCollection, list[OerNode]]:
    with bridge(app).db.sessions() as s:
        coll = s.scalar(select(OerCollection).where(OerCollection.title == TITLE))
        assert coll is not None
        nodes = nodes_of(s, coll.id)
        s.expunge_all()
        return coll, nodes


def _outline(nodes: list[OerNode]) -> list[tuple[int, str, str, str, bool]]:
    out = []

    def walk(parent_id: int | None, depth: int) -> None:
        for n in sorted((n for n in nodes if n.parent_id == parent_id), key=lambda n: (n.position, n.id)):
            out.append((depth, n.kind, n.title, n.licence, n.instructor_only))
            walk(n.id, depth + 1)

    walk(None, 0)
    return out


def _node(nodes: list[OerNode], title: str) -> OerNode:
    return next(n for n in nodes if n.title == title)


def _autumn(app) -> SelfevalRound:
    with bridge(app).db.sessions() as s:
        rnd = s.scalar(select(SelfevalRound).where(SelfevalRound.title == seed_selfeval.AUTUMN_TITLE))
        assert rnd is not None
        return rnd


def _counts(app) -> dict[str, int]:
    with bridge(app).db.sessions() as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                  for m in (OerCollection, OerNode, OerAsset, OerBlob, DemoLink)}
    root = Path(bridge(app).settings.instance_dir) / "oer"
    counts["files"] = sum(1 for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts)
    return counts


def _manager_launch(live: LiveDemo, browser: Browser) -> str:  # noqa: F811
    course = live.course(GY, "IF-EF")
    link = next(lk for lk in live.links(course) if "workspace" in (lk.custom or ""))
    _resp, url = browser.launch(GY, course, live.user(GY, "network_manager"), link)
    return parse_qs(urlsplit(url).query)["launch"][0]


# -- the seeded collection --------------------------------------------------------------------------------------


def test_sample_folder_is_a_valid_collection() -> None:
    collection, source = seed_oer.load_sample()
    assert collection.title == TITLE and collection.licence == "CC-BY-SA-4.0" and collection.language == "de"
    for item in collection.items():
        for path in ([item.path] if item.path else []) + item.assets:
            assert source.exists(path), path
    with source.open("bilder/passwort-schloss.png") as fh:
        assert fh.read(8) == PNG_MAGIC


def test_seeded_collection_has_its_outline_and_licences(live_demo: LiveDemo) -> None:  # noqa: F811
    coll, nodes = _collection(live_demo.app)
    with bridge(live_demo.app).db.sessions() as s:
        network = s.scalar(select(Network))
        manager = s.scalar(select(NetworkMember.person_id).where(NetworkMember.network_id == network.id,
                                                                 NetworkMember.role == "manager"))
    assert coll.network_id == network.id and coll.created_by == manager
    assert coll.licence == "CC-BY-SA-4.0" and coll.language == "de"
    assert [a["name"] for a in coll.authors] == ["AG Medienbildung im Netzwerk Lernen 25"]
    assert _outline(nodes) == OUTLINE

    passwords = _node(nodes, "Passwörter sicher wählen")
    assert passwords.authors == [{"name": "Jana Feldmann", "url": "https://example.org/jana-feldmann"}]
    assert passwords.source == "https://example.org/jana-feldmann/passwoerter" and passwords.changes
    assert passwords.media_type == "text/html" and passwords.blob_sha256
    with bridge(live_demo.app).db.sessions() as s:
        assets = list(s.scalars(select(OerAsset).where(OerAsset.node_id == passwords.id)))
    assert [(a.path, a.media_type) for a in assets] == [("bilder/passwort-schloss.png", "image/png")]
    from lti_tool.oer import blobs

    with live_demo.app.app_context():
        assert blobs.blob_path(assets[0].blob_sha256).read_bytes()[:8] == PNG_MAGIC
        stored_page = blobs.blob_path(passwords.blob_sha256).read_text(encoding="utf-8")
    assert "Tomate Fahrrad Wolke leise Brücke" in stored_page and "<script" not in stored_page

    # the network's own material inherits CC BY-SA 4.0 and the network's authors
    for title in ("Was sind personenbezogene Daten?", "Hinweise für Lehrkräfte", "Austausch: Meine Spuren im Netz"):
        own = _node(nodes, title)
        assert own.licence == "" and own.authors == [], title
    weblink = _node(nodes, "Die Lizenz CC BY-SA 4.0 verständlich erklärt")
    assert weblink.url == "https://creativecommons.org/licenses/by-sa/4.0/deed.de"
    assert "Spuren" in _node(nodes, "Austausch: Meine Spuren im Netz").text

    # the LTI item opens the open Selbstevaluationsraster round, as the editor's form makes it
    lti = _node(nodes, seed_oer.SELFEVAL_TITLE)
    assert lti.custom == {"feature": "selfeval", "round": str(_autumn(live_demo.app).id)}
    assert lti.url == live_demo.tool + "/lti/launch"


def test_licence_panel_is_clean(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    coll, nodes = _collection(live_demo.app)
    with live_demo.app.test_request_context():
        found = problems(coll, nodes)
    assert found == [] and not blocking(found)

    launch = _manager_launch(live_demo, browser)
    resp = browser.client.get(f"{live_demo.tool}/oer/networks/{coll.network_id}/collections/{coll.id}?launch={launch}")
    assert resp.status_code == 200
    doc = page(resp)
    assert doc.xpath("//*[@id='licences']/@data-blocking") == ["no"]
    assert doc.xpath("//*[@data-problem]") == [] and doc.xpath("//*[@data-problems]") == []
    assert doc.xpath("//dd[@data-licence]/@data-licence") == ["CC-BY-SA-4.0"]
    library = browser.client.get(f"{live_demo.tool}/oer/networks/{coll.network_id}/library?launch={launch}")
    assert page(library).xpath(f"//li[@data-collection-id='{coll.id}']//a/text()") == [TITLE]


def test_cartridge_downloads_and_validates(live_demo: LiveDemo, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    coll, nodes = _collection(live_demo.app)
    launch = _manager_launch(live_demo, browser)
    for version in ("1.1", "1.3"):
        resp = browser.client.get(f"{live_demo.tool}/oer/networks/{coll.network_id}/collections/{coll.id}/cartridge",
                                  query_string={"launch": launch, "cc_version": version})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        assert resp.mimetype == "application/zip"
        assert resp.headers["Content-Disposition"].startswith("attachment")
        path = tmp_path / f"sammlung-{version}.imscc"
        path.write_bytes(resp.get_data())
        resp.close()  # the built cartridge is an anonymous temporary file
        findings = validator.validate(path)
        assert not has_errors(findings), findings
        assert [f for f in findings if f.severity is Severity.WARNING] == [], findings

        cartridge = reader.read_cartridge(path)
        try:
            read = cartridge.collection
            assert read.title == TITLE and read.licence == "CC-BY-SA-4.0"
            assert [m.title for m in read.modules] == [t for d, k, t, _l, _i in OUTLINE if k == "module"]
            items = {i.title: i for i in read.items()}
            assert set(items) == {t for d, k, t, _l, _i in OUTLINE if k != "module"}
            passwords = read.effective(items["Passwörter sicher wählen"])
            assert passwords.licence == "CC-BY-4.0" and [p.name for p in passwords.authors] == ["Jana Feldmann"]
            assert items["Hinweise für Lehrkräfte"].instructor_only
            assert items[seed_oer.SELFEVAL_TITLE].custom.get("round") == str(_autumn(live_demo.app).id)
        finally:
            close = getattr(cartridge, "close", None)
            if callable(close):
                close()


def test_reseeding_creates_nothing_twice(live_demo: LiveDemo) -> None:  # noqa: F811
    app = live_demo.app
    before = _counts(app)
    assert before["oer_collection"] == 1 and before["oer_node"] == len(OUTLINE)
    for _ in range(2):
        with app.test_request_context(), bridge(app).db.sessions() as s:
            seed_network(s, list(s.scalars(select(DemoSite))))
            s.commit()
    assert _counts(app) == before
    with bridge(app).db.sessions() as s:
        placed = [json.loads(lk.custom or "{}") for lk in s.scalars(select(DemoLink))]
    assert sum(1 for c in placed if c.get("feature") == "oer") == 2  # one per bound course


# -- in the courses -----------------------------------------------------------------------------------------------


def test_placed_page_shows_content_and_tullu_to_a_learner(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    _coll, nodes = _collection(live_demo.app)
    passwords = _node(nodes, "Passwörter sicher wählen")
    for slug, short in ((GE, "MK-8"), (GY, "IF-EF")):
        course = live_demo.course(slug, short)
        links = [lk for lk in live_demo.links(course) if json.loads(lk.custom or "{}").get("feature") == "oer"]
        assert len(links) == 1
        assert json.loads(links[0].custom) == {"feature": "oer", "oer_node": str(passwords.id),
                                               "oer_sig": signature_of(live_demo, passwords.id)}
        assert links[0].title == "Passwörter sicher wählen" and links[0].url == live_demo.tool + "/lti/launch"

        resp, url = browser.launch(slug, course, live_demo.user(slug, "learner"), links[0])
        assert resp.status_code == 200 and urlsplit(url).path == "/oer/view"
        doc = page(resp)
        assert doc.xpath("//h1/text()") == ["Passwörter sicher wählen"]
        body = doc.xpath("//div[contains(@class, 'oer-page')]")[0].text_content()
        assert "Ein Passwort ist wie der Schlüssel" in body
        tullu = doc.xpath("//*[@data-tullu]")[0].text_content()
        assert "„Passwörter sicher wählen“ von Jana Feldmann" in tullu
        assert "CC BY 4.0" in tullu and "https://example.org/jana-feldmann/passwoerter" in tullu
        assert "Änderungen: gekürzt" in tullu
        # the page's image is served from the library, inside the launch
        src = doc.xpath("//div[contains(@class, 'oer-page')]//img/@src")[0]
        image = browser.client.get(urljoin(url, src))
        data = image.get_data()
        image.close()  # a stored file is streamed
        assert image.status_code == 200 and image.mimetype == "image/png" and data[:8] == PNG_MAGIC


def signature_of(live: LiveDemo, node_id: int) -> str:
    with live.app.app_context():
        return signature(node_id)


def test_teacher_picks_an_oer_item_through_deep_linking(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    _coll, nodes = _collection(live_demo.app)
    intro = _node(nodes, "Was sind personenbezogene Daten?")
    course = live_demo.course(GE, "MA-7b")
    before = {lk.id for lk in live_demo.links(course)}
    resp, url = browser.launch(GE, course, live_demo.user(GE, "teacher"))
    assert urlsplit(url).path == "/lti/deep-link"
    form = page(resp).xpath("//form[@method='post']")[0]
    offered = form.xpath(".//input[@name='feature']/@value")
    assert {f"oer:{n.id}" for n in nodes} <= set(offered)  # every module and item of the collection
    data: dict[str, Any] = {**form_fields(form), "feature": f"oer:{intro.id}", "action": "add"}
    resp = browser.client.post(urljoin(url, form.get("action")), data=data)
    back = page(resp).get_element_by_id("autopost")
    done = browser.client.post(back.get("action"), data=form_fields(back))
    assert done.status_code == 200
    added = [lk for lk in live_demo.links(course) if lk.id not in before]
    assert len(added) == 1 and added[0].title == intro.title
    assert json.loads(added[0].custom or "{}") == {"feature": "oer", "oer_node": str(intro.id),
                                                   "oer_sig": signature_of(live_demo, intro.id)}
    resp, url = browser.launch(GE, course, live_demo.user(GE, "learner"), added[0])
    assert urlsplit(url).path == "/oer/view"
    assert "Drei Fragen, bevor du etwas teilst" in page(resp).text_content()
    tullu = page(resp).xpath("//*[@data-tullu]")[0].text_content()
    assert "AG Medienbildung im Netzwerk Lernen 25" in tullu and "CC BY-SA 4.0" in tullu


def test_teachers_only_page_is_hidden_from_learners(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    _coll, nodes = _collection(live_demo.app)
    hints = _node(nodes, "Hinweise für Lehrkräfte")
    module = next(n for n in nodes if n.id == hints.parent_id)
    course = live_demo.course(GE, "MK-8")
    with bridge(live_demo.app).db.sessions() as s:
        link = DemoLink(course_id=course.id, title=module.title, url=live_demo.tool + "/lti/launch",
                        custom=json.dumps({"feature": "oer", "oer_node": str(module.id),
                                           "oer_sig": signature_of(live_demo, module.id)}))
        s.add(link)
        s.commit()
        s.refresh(link)
        s.expunge(link)
    resp, _url = browser.launch(GE, course, live_demo.user(GE, "learner"), link)
    listed = page(resp).xpath("//ol[contains(@class, 'oer-view-outline')]/li/@data-node-id")
    assert str(hints.id) not in listed and listed == []  # the module holds teachers' items only
    resp, _url = browser.launch(GE, course, live_demo.user(GE, "teacher"), link)
    listed = page(resp).xpath("//ol[contains(@class, 'oer-view-outline')]/li/@data-node-id")
    assert str(hints.id) in listed
