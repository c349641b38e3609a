"""Cartridges in and out of the OER library: import, licence-keeping round trip, hostile input, download."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lti_tool.bridge import bridge
from lti_tool.oer import store
from lti_tool.oer.models import OerAsset, OerBlob, OerCollection, OerNode
from oer_packager import builder, reader, validator
from oer_packager.collection import FolderSource
from oer_packager.findings import Severity, has_errors
from oer_packager.model import Attribution, Collection, Item, ItemKind, Module, Person
from tests.ltiplatform import LEARNER
from tests.test_oer_library import (
    AUTHORS,
    PNG,
    blob_files,
    deep_link,
    expect,
    html,
    make_collection,
    open_link,
    rows,
    tmp_leftovers,
)
from tests.world import PERSONAS

PDF = b"%PDF-1.4\n% Storyboard\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 32
PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Gutes Erklärvideo</title>
<script>document.write("HEAD-SCRIPT")</script></head>
<body>
<h2>Was macht ein gutes Erklärvideo aus?</h2>
<p>PAGE-MARKER: kurz, anschaulich, mit einem roten Faden.</p>
<p><img src="../bilder/storyboard.png" alt="Storyboard"></p>
<script>alert("xss")</script>
<p><img src="https://example.org/bild.png" alt="" onerror="alert(1)"> <a href="javascript:alert(2)">mehr</a></p>
</body></html>
"""
CANVAS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "cartridges"


def fixture_collection(root: Path) -> tuple[Collection, FolderSource]:
    """School OER as a teacher network shares it: German titles, spaces in names, several licences."""
    (root / "seiten").mkdir(parents=True)
    (root / "bilder").mkdir()
    (root / "dateien").mkdir()
    (root / "seiten" / "Gutes Erklärvideo.html").write_text(PAGE, encoding="utf-8")
    (root / "bilder" / "storyboard.png").write_bytes(PNG)
    (root / "dateien" / "Storyboard Vorlage.pdf").write_bytes(PDF)
    (root / "dateien" / "Interview Medienscouts.mp3").write_bytes(MP3)
    kim = [Person("Kim Weber", "https://kim.example.org")]
    collection = Collection(
        title="Erklärvideos im Unterricht",
        description="Material der AG Erklärvideos des Netzwerks Lernen 25.",
        language="de",
        keywords=["Erklärvideo", "Medienkompetenz"],
        authors=[Person("AG Erklärvideos")],
        licence="CC-BY-SA-4.0",
        source="https://lernen25.example.org/oer/erklaervideos",
        modules=[
            Module("Grundlagen", [
                Item(ItemKind.PAGE, "Was ist ein gutes Erklärvideo?", path="seiten/Gutes Erklärvideo.html",
                     assets=["bilder/storyboard.png"],
                     attribution=Attribution(authors=kim, licence="CC-BY-4.0",
                                             source="https://example.org/original-erklaervideo",
                                             changes="gekürzt und übersetzt")),
                Item(ItemKind.FILE, "Storyboard-Vorlage", path="dateien/Storyboard Vorlage.pdf",
                     attribution=Attribution(licence="CC0-1.0")),
                Module("Vertiefung", [
                    Item(ItemKind.WEBLINK, "Medienkompetenzrahmen NRW", url="https://medienkompetenzrahmen.nrw/",
                         description="Kompetenzbereich 4: Produzieren und Präsentieren"),
                ]),
            ]),
            Module("Austausch", [
                Item(ItemKind.DISCUSSION, "Eure Erfahrungen", text="<p>Welche Erklärvideos haben eure "
                                                                    "Klassen gedreht?</p>"),
                Item(ItemKind.FILE, "Interview mit den Medienscouts", path="dateien/Interview Medienscouts.mp3",
                     instructor_only=True,
                     attribution=Attribution(authors=[Person("Schulradio Musterstadt")], licence="CC-BY-3.0-DE",
                                             source="https://radio.example.org/interview")),
            ]),
        ],
    )
    return collection, FolderSource(root)


def build_fixture(tmp_path: Path, cc_version: str = "1.1") -> Path:
    collection, source = fixture_collection(tmp_path / "sammlung")
    out = tmp_path / f"erklaervideos-{cc_version}.imscc"
    report = builder.build(collection, source, out, cc_version=cc_version)
    assert not has_errors(report.findings)
    return out


def post_cartridge(world, data: bytes, name: str = "Erklärvideos.imscc", persona: str = "media_a") -> Any:
    return world.as_(persona).post(f"/oer/networks/{world.network_id}/import",
                                   {"cartridge": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def imported_id(resp) -> int:
    import re

    return int(re.search(r'data-imported="(\d+)"', html(resp)).group(1))


def outline(collection: Collection) -> list[Any]:
    """Titles, kinds, nesting and attribution of a collection, as comparable data."""

    def walk(children: list[Item | Module]) -> list[Any]:
        out: list[Any] = []
        for child in children:
            if isinstance(child, Module):
                out.append(("module", child.title, walk(child.children)))
            else:
                a = collection.effective(child)
                out.append((child.kind.value, child.title, child.instructor_only, a.licence,
                            [p.name for p in a.authors], a.source, a.changes, child.url))
        return out

    return walk(collection.modules)


def metadata(collection: Collection) -> tuple[Any, ...]:
    return (collection.title, collection.description, collection.language, collection.keywords,
            [p.name for p in collection.authors], collection.licence, collection.source)


def nothing_stored(world) -> None:
    assert rows(world, OerCollection) == 0 and rows(world, OerNode) == 0
    assert rows(world, OerAsset) == 0 and rows(world, OerBlob) == 0
    assert blob_files(world) == [] and tmp_leftovers(world) == []


# -- import ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_import_is_for_authors(world, tmp_path, persona):
    data = build_fixture(tmp_path).read_bytes()
    resp = post_cartridge(world, data, persona=persona)
    expect(persona, persona in AUTHORS, resp, ok=200)
    assert rows(world, OerCollection) == (1 if persona in AUTHORS else 0)


def test_import_keeps_outline_metadata_licences_and_files(world, tmp_path):
    path = build_fixture(tmp_path)
    resp = post_cartridge(world, path.read_bytes())
    assert resp.status_code == 200
    cid = imported_id(resp)
    with bridge(world.app).db.sessions() as s:
        coll = s.get(OerCollection, cid)
        assert coll.network_id == world.network_id and coll.created_by == world.as_("media_a").person_id
        with world.app.app_context():
            stored, source = store.to_model(s, coll)
        page = s.scalars(select(OerNode).where(OerNode.collection_id == cid, OerNode.kind == "page")).one()
        asset = s.scalars(select(OerAsset).where(OerAsset.node_id == page.id)).one()
        audio = s.scalars(select(OerNode).where(OerNode.collection_id == cid, OerNode.media_type == "audio/mpeg")).one()
        blob_rows = {b.sha256 for b in s.scalars(select(OerBlob))}
    original, _source = fixture_collection(tmp_path / "nochmal")
    assert metadata(stored) == metadata(original)
    assert outline(stored) == outline(original)
    # files are stored by content, next to their rows
    files = {p.name: p.read_bytes() for p in blob_files(world)}
    assert hashlib.sha256(PNG).hexdigest() in files and files[hashlib.sha256(PNG).hexdigest()] == PNG
    assert files[hashlib.sha256(MP3).hexdigest()] == MP3 and files[hashlib.sha256(PDF).hexdigest()] == PDF
    assert set(files) == blob_rows
    assert asset.path.endswith("storyboard.png") and asset.media_type == "image/png"
    assert audio.instructor_only and audio.licence == "CC-BY-3.0-DE"
    # the page is stored cleaned
    page_text = files[page.blob_sha256].decode()
    assert "PAGE-MARKER" in page_text and "<script" not in page_text and "onerror" not in page_text
    assert not tmp_leftovers(world)
    # the import is on the network's overview
    from lti_tool.workspaces.models import Activity

    assert rows(world, Activity, Activity.kind == "oer.imported") == 1


def test_round_trip_import_and_rebuild_keeps_outline_metadata_and_licences(world, tmp_path):
    first = build_fixture(tmp_path)
    cid = imported_id(post_cartridge(world, first.read_bytes()))
    for version in ("1.1", "1.3"):
        resp = world.as_("guest").get(f"/oer/networks/{world.network_id}/collections/{cid}/cartridge"
                                      f"?cc_version={version}")
        assert resp.status_code == 200
        rebuilt = tmp_path / f"rebuilt-{version}.imscc"
        rebuilt.write_bytes(resp.data)
        resp.close()
        assert not has_errors(validator.validate(rebuilt)), [str(f) for f in validator.validate(rebuilt)]
        with reader.read_cartridge(first) as a, reader.read_cartridge(rebuilt) as b:
            assert b.version == version
            assert metadata(b.collection) == metadata(a.collection)
            assert outline(b.collection) == outline(a.collection)
    # and in again: the builder's attribution paragraph is not carried into the library (it shows its own)
    again = imported_id(post_cartridge(world, (tmp_path / "rebuilt-1.1.imscc").read_bytes()))
    with bridge(world.app).db.sessions() as s:
        page = s.scalars(select(OerNode).where(OerNode.collection_id == again, OerNode.kind == "page")).one()
        with world.app.app_context():
            stored, _source = store.to_model(s, s.get(OerCollection, again))
    text = next(p for p in blob_files(world) if p.name == page.blob_sha256).read_text()
    assert "PAGE-MARKER" in text and "creativecommons.org" not in text
    with reader.read_cartridge(first) as a:
        assert outline(stored) == outline(a.collection) and metadata(stored) == metadata(a.collection)


@pytest.mark.parametrize("version", ["1.1", "1.3"])
def test_downloaded_cartridge_is_a_valid_zip(world, tmp_path, version):
    cid = imported_id(post_cartridge(world, build_fixture(tmp_path).read_bytes()))
    resp = world.as_("teacher_b").get(f"/oer/networks/{world.network_id}/collections/{cid}/cartridge"
                                      f"?cc_version={version}")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert resp.headers["Content-Disposition"].startswith("attachment") and ".imscc" in \
        resp.headers["Content-Disposition"]
    data = resp.data
    resp.close()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist()[0] == "imsmanifest.xml"
        head = zf.read("imsmanifest.xml")[:500]
    if version == "1.1":  # Moodle sniffs the namespace in the first bytes
        assert b'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"' in head
    target = tmp_path / "download.imscc"
    target.write_bytes(data)
    findings = validator.validate(target)
    assert not has_errors(findings), [str(f) for f in findings if f.severity is Severity.ERROR]
    # the imported page went out without its script, and with its TULLU line in the body
    with zipfile.ZipFile(target) as zf:
        pages = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".html") and "about/" not in n]
    assert pages and all("<script" not in p for p in pages)
    assert any("PAGE-MARKER" in p and "Kim Weber" in p for p in pages)


def test_unknown_cc_version_is_refused(world, tmp_path):
    cid = imported_id(post_cartridge(world, build_fixture(tmp_path).read_bytes()))
    resp = world.as_("guest").get(f"/oer/networks/{world.network_id}/collections/{cid}/cartridge?cc_version=2.0")
    assert resp.status_code == 400


@pytest.mark.parametrize("name", ["canvas-cc13-main.imscc", "canvas-cc13-corner_cases.imscc"])
def test_canvas_exports_import(world, name):
    data = (CANVAS / name).read_bytes()
    with reader.read_cartridge(io.BytesIO(data)) as cart:
        expected = outline(cart.collection)
        expected_meta = metadata(cart.collection)
    validator_codes = {f.code for f in validator.validate(io.BytesIO(data))}
    resp = post_cartridge(world, data, name=name)
    assert resp.status_code == 200, html(resp)[:2000]
    cid = imported_id(resp)
    # what the reader and the validator found is shown with the import
    import re

    shown = set(re.findall(r'data-finding="([\w-]+)"', html(resp)))
    assert validator_codes and validator_codes <= shown and "not-carried-over" in shown
    with bridge(world.app).db.sessions() as s, world.app.app_context():
        stored, _source = store.to_model(s, s.get(OerCollection, cid))
    assert metadata(stored)[0] == expected_meta[0] and metadata(stored)[5] == expected_meta[5]
    assert [entry[:2] for entry in outline(stored)] == [entry[:2] for entry in expected]
    assert rows(world, OerNode, OerNode.kind != "module") == len(stored.items()) > 0


# -- imported HTML is never shown with its scripts -----------------------------------------------------------------


def test_script_in_an_imported_page_never_comes_back(world, tmp_path):
    cid = imported_id(post_cartridge(world, build_fixture(tmp_path).read_bytes()))
    with bridge(world.app).db.sessions() as s:
        page = s.scalars(select(OerNode).where(OerNode.collection_id == cid, OerNode.kind == "page")).one()
        page_id = page.id
    base = f"/oer/networks/{world.network_id}/collections/{cid}/nodes/{page_id}"
    for path in (f"{base}/preview", f"{base}/file"):
        resp = world.as_("guest").get(path)
        text = html(resp)
        resp.close()
        assert resp.status_code == 200 and "PAGE-MARKER" in text
        assert "<script" not in text and "onerror" not in text and "javascript:alert" not in text
        assert "HEAD-SCRIPT" not in text
    items = deep_link(world, "teacher_a", [f"oer:{page_id}"])
    custom = next(i["custom"] for i in items if i["custom"].get("oer_node") == str(page_id))
    client, location = open_link(world, "A", "pupil-1", [LEARNER], "course-A", custom)
    shown = client.get(location)
    text = html(shown)
    assert shown.status_code == 200 and "PAGE-MARKER" in text
    body = text.split("<main", 1)[1]
    assert "<script" not in body and "onerror" not in body and "javascript:alert" not in body
    assert "Kim Weber" in text and "CC BY 4.0" in text and "gekürzt und übersetzt" in text  # TULLU with changes
    # the page's image is served from the cartridge's asset, through the launch
    import re

    src = re.search(r'<img src="([^"]*/oer/view/asset/[^"]*)"', text).group(1).replace("&amp;", "&")
    image = client.get(src)
    assert image.status_code == 200 and image.data == PNG
    image.close()


# -- failed imports leave nothing ------------------------------------------------------------------------------------


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", b"<manifest/>")
        with zf.open("web_resources/nullen.txt", "w") as fh:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(64):
                fh.write(chunk)
    return buf.getvalue()


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<manifest identifier="M" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"><metadata>&xxe;</metadata>
<organizations/><resources/></manifest>"""


@pytest.mark.parametrize("case", ["zip-slip", "zip-bomb", "broken-manifest", "xxe", "no-manifest", "not-a-zip",
                                  "wrong-extension", "empty"])
def test_hostile_or_broken_cartridges_are_refused_and_leave_nothing(world, tmp_path, case):
    good = zipfile.ZipFile(build_fixture(tmp_path))
    entries = {n: good.read(n) for n in good.namelist()}
    good.close()
    name = "Erklärvideos.imscc"
    if case == "zip-slip":
        entries["../../../tmp/evil.html"] = b"<script>alert(1)</script>"
        data = zip_of(entries)
    elif case == "zip-bomb":
        data = zip_bomb()
    elif case == "broken-manifest":
        entries["imsmanifest.xml"] = entries["imsmanifest.xml"][:300]
        data = zip_of(entries)
    elif case == "xxe":
        data = zip_of({"imsmanifest.xml": XXE})
    elif case == "no-manifest":
        data = zip_of({k: v for k, v in entries.items() if k != "imsmanifest.xml"})
    elif case == "not-a-zip":
        data = b"%PDF-1.4 kein Cartridge"
    elif case == "wrong-extension":
        data, name = zip_of(entries), "Erklärvideos.pdf"
    else:
        data = b""
    resp = post_cartridge(world, data, name=name)
    assert resp.status_code == 400, (case, html(resp)[:1000])
    assert 'role="alert"' in html(resp)
    assert "/oer/tmp/" not in html(resp)  # the page names the upload, not the server's temporary file
    if case in ("zip-slip", "zip-bomb", "no-manifest"):
        assert name in html(resp)
    nothing_stored(world)
    assert not Path("/tmp/evil.html").exists() or Path("/tmp/evil.html").read_bytes() != b"<script>alert(1)</script>"


def test_a_database_error_midway_leaves_no_rows_and_no_new_files(world, tmp_path, monkeypatch):
    # a file of the cartridge is already in the library: it must survive the failed import
    other = make_collection(world)
    upload_resp = world.as_("teacher_a").post(
        f"/oer/networks/{world.network_id}/collections/{other}/uploads",
        {"module": str(_first_module(world, other)), "files": [(io.BytesIO(PDF), "Storyboard.pdf")]},
        content_type="multipart/form-data")
    assert upload_resp.status_code == 303
    before_files = {p.name for p in blob_files(world)}
    before_nodes = rows(world, OerNode)

    real_node = store._Saver.node
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # after modules, the page with its asset and the PDF were written
            raise OperationalError("INSERT INTO oer_node", {}, Exception("disk I/O error"))
        return real_node(self, *args, **kwargs)

    monkeypatch.setattr(store._Saver, "node", failing)
    resp = post_cartridge(world, build_fixture(tmp_path).read_bytes())
    assert resp.status_code == 400 and 'role="alert"' in html(resp)
    assert calls["n"] >= 6
    assert rows(world, OerCollection) == 1 and rows(world, OerNode) == before_nodes
    assert rows(world, OerAsset) == 0 and rows(world, OerBlob) == 1
    assert {p.name for p in blob_files(world)} == before_files  # the shared PDF stays, new files are gone
    assert tmp_leftovers(world) == []


def test_a_too_large_cartridge_is_refused(world, tmp_path, monkeypatch):
    from lti_tool.oer import media

    monkeypatch.setattr(media, "MAX_UPLOAD", 1024)
    resp = post_cartridge(world, build_fixture(tmp_path).read_bytes())
    assert resp.status_code == 400
    nothing_stored(world)


def _first_module(world, cid: int) -> int:
    with bridge(world.app).db.sessions() as s:
        return s.scalars(select(OerNode.id).where(OerNode.collection_id == cid, OerNode.kind == "module")).first()
