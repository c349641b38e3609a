"""Building cartridges: schema validity, Moodle's expectations, attribution, determinism, the CLI."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree, html

from oer_packager.builder import build, preflight
from oer_packager.cli_build import build as build_cli
from oer_packager.collection import FolderSource, load_collection
from oer_packager.errors import CollectionError, LicenceError
from oer_packager.licences import tullu
from oer_packager.model import Attribution, Collection, Item, ItemKind, Module
from oer_packager.names import is_safe_path
from oer_packager.pages import footer_html, with_footer
from tests.oer import xsd

FIXTURE = Path(__file__).parent / "fixtures" / "collection-medienkompetenz"

CP11 = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CP13 = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
NS11 = {
    "cp": CP11,
    "lomimscc": "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest",
    "lom": "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource",
}
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


@dataclass
class Built:
    path: Path
    zip: zipfile.ZipFile
    manifest: etree._Element
    collection: Collection

    def read(self, name: str) -> bytes:
        return self.zip.read(name)

    def resource(self, identifier: str) -> etree._Element:
        [el] = self.manifest.xpath("//cp:resource[@identifier=$i]", namespaces=NS11, i=identifier)
        return el

    def leaves(self) -> list[etree._Element]:
        """Organization items with a resource, author items only, in outline order."""
        return [
            el
            for el in self.manifest.xpath("//cp:item[@identifierref]", namespaces=NS11)
            if not el.get("identifier").startswith("ABOUT")
        ]


def build_fixture(folder: Path, out: Path, **options: object) -> Built:
    collection, source, _findings = load_collection(folder)
    build(collection, source, out, **options)  # type: ignore[arg-type]
    z = zipfile.ZipFile(out)
    return Built(out, z, etree.fromstring(z.read("imsmanifest.xml")), collection)


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_fixture(FIXTURE, tmp_path / "medienkompetenz.imscc")


def copy_fixture(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "sammlung"))


# -- the manifest as Moodle reads it --------------------------------------------


def test_manifest_is_first_and_declares_cc11_within_500_bytes(built: Built) -> None:
    assert built.zip.namelist()[0] == "imsmanifest.xml"
    head = built.read("imsmanifest.xml")[:500]
    assert b'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"' in head
    assert re.match(rb'<\?xml version="1.0" encoding="UTF-8"\?>\n<manifest xmlns="', head)
    [schema] = built.manifest.xpath("cp:metadata/cp:schema/text()", namespaces=NS11)
    [version] = built.manifest.xpath("cp:metadata/cp:schemaversion/text()", namespaces=NS11)
    assert (schema, version) == ("IMS Common Cartridge", "1.1.0")


def test_manifest_validates_against_the_official_cc11_schemas(built: Built) -> None:
    assert xsd.errors(built.read("imsmanifest.xml"), "manifest") == []


@pytest.mark.parametrize(
    ("type_", "kind", "root"),
    [("imswl_xmlv1p1", "weblink", "webLink"), ("imsdt_xmlv1p1", "discussion", "topic"),
     ("imsbasiclti_xmlv1p0", "lti", "cartridge_basiclti_link")],
)  # fmt: skip
def test_every_descriptor_validates(built: Built, type_: str, kind: str, root: str) -> None:
    hrefs = built.manifest.xpath("//cp:resource[@type=$t]/cp:file/@href", namespaces=NS11, t=type_)
    assert hrefs  # the fixture has one of each
    for href in hrefs:
        data = built.read(href)
        assert xsd.errors(data, kind) == [], href
        assert etree.QName(etree.fromstring(data)).localname == root


def test_files_in_the_zip_and_in_the_manifest_match_exactly(built: Built) -> None:
    hrefs = built.manifest.xpath("//cp:file/@href", namespaces=NS11)
    resource_hrefs = built.manifest.xpath("//cp:resource/@href", namespaces=NS11)
    names = built.zip.namelist()
    assert len(names) == len(set(names))
    assert set(hrefs) | set(resource_hrefs) <= set(names)
    assert set(names) - {"imsmanifest.xml"} == set(hrefs)  # every entry is referenced
    for res in built.manifest.xpath("//cp:resource[@href]", namespaces=NS11):
        assert res.get("href") in res.xpath("cp:file/@href", namespaces=NS11)
    assert all(is_safe_path(n) for n in names)


def test_identifiers_are_unique_ncnames_and_every_reference_resolves(built: Built) -> None:
    ids = built.manifest.xpath("//@identifier")
    assert len(ids) == len(set(ids))
    assert all(NCNAME.match(i) for i in ids)
    resources = set(built.manifest.xpath("//cp:resource/@identifier", namespaces=NS11))
    refs = built.manifest.xpath("//cp:item/@identifierref | //cp:dependency/@identifierref", namespaces=NS11)
    assert refs and set(refs) <= resources
    assert set(refs) == resources  # and no resource is left without an item


def test_outline_starts_with_the_about_module_then_the_authors_modules(built: Built) -> None:
    [org] = built.manifest.xpath("//cp:organization", namespaces=NS11)
    assert org.get("structure") == "rooted-hierarchy"
    [root] = org.xpath("cp:item", namespaces=NS11)
    sections = [el.findtext(f"{{{CP11}}}title") for el in root.xpath("cp:item", namespaces=NS11)]
    assert sections == ["Über diese Sammlung", "Mein Smartphone und ich", "Passwörter und Datenschutz", "Reflexion"]
    about = root.xpath("cp:item[1]/cp:item", namespaces=NS11)
    assert [el.findtext(f"{{{CP11}}}title") for el in about] == ["Überblick", "Lizenzen und Quellen"]
    hrefs = [built.resource(el.get("identifierref")).get("href") for el in about]
    assert hrefs == ["about/overview.html", "about/licences.html"]
    nested = root.xpath("cp:item[3]/cp:item[3]", namespaces=NS11)[0]
    assert nested.findtext(f"{{{CP11}}}title") == "Vertiefung: Falschmeldungen erkennen"
    assert len(nested.xpath("cp:item", namespaces=NS11)) == 2


def test_resource_types_and_safe_names_with_original_titles(built: Built) -> None:
    items = built.collection.items()
    leaves = built.leaves()
    assert len(leaves) == len(items)
    types = [built.resource(el.get("identifierref")).get("type") for el in leaves]
    expected = {ItemKind.PAGE: "webcontent", ItemKind.FILE: "webcontent", ItemKind.WEBLINK: "imswl_xmlv1p1",
                ItemKind.DISCUSSION: "imsdt_xmlv1p1", ItemKind.LTI: "imsbasiclti_xmlv1p0"}  # fmt: skip
    assert types == [expected[i.kind] for i in items]
    pdf = next(
        el for el in leaves if el.findtext(f"{{{CP11}}}title") == "Arbeitsblatt Datenschutz – Übungen (Klasse 7)"
    )
    assert built.resource(pdf.get("identifierref")).get("href") == (
        "web_resources/Arbeitsblatt-Datenschutz-Uebungen-Klasse-7.pdf"
    )
    assert (
        built.read("web_resources/Arbeitsblatt-Datenschutz-Uebungen-Klasse-7.pdf")
        == (FIXTURE / "Arbeitsblatt Datenschutz – Übungen (Klasse 7).pdf").read_bytes()
    )
    # A page keeps its folder (its links stay valid) and its assets their exact paths.
    page = built.resource(leaves[4].get("identifierref"))
    assert page.xpath("cp:file/@href", namespaces=NS11) == [
        "web_resources/seiten/Passwoerter-sicher-waehlen.html",
        "web_resources/bilder/passwort-tresor.png",
    ]


def test_descriptors_carry_the_items_content(built: Built) -> None:
    weblink = etree.fromstring(built.read(_href_of(built, "imswl_xmlv1p1")))
    assert weblink.find("{*}url").get("href") == "https://www.klicksafe.de/smartphones"
    topic = etree.fromstring(built.read(_href_of(built, "imsdt_xmlv1p1")))
    text = topic.find("{*}text")
    assert text.get("texttype") == "text/html"
    assert text.text.startswith("<p>Welche drei Apps nutzt ihr jeden Tag?</p>\n<p>Was würde euch fehlen")
    assert '<p class="oer-attribution" lang="de">„Austausch: Meine Apps“ von Anna Schmidt' in text.text
    lti = etree.fromstring(built.read(_href_of(built, "imsbasiclti_xmlv1p0")))
    blti = "{http://www.imsglobal.org/xsd/imsbasiclti_v1p0}"
    assert lti.findtext(f"{blti}title") == "Selbsteinschätzung Medienkompetenz"
    assert lti.findtext(f"{blti}launch_url") == "https://lms-bridge.example.org/lti/launch"
    assert lti.findtext(f"{blti}secure_launch_url") == "https://lms-bridge.example.org/lti/launch"
    props = {p.get("name"): p.text for p in lti.find(f"{blti}custom")}
    assert props == {"instrument": "medienkompetenz-7", "round": "2025"}


def _href_of(built: Built, type_: str) -> str:
    [href] = built.manifest.xpath("//cp:resource[@type=$t]/cp:file/@href", namespaces=NS11, t=type_)
    return href


# -- attribution -----------------------------------------------------------------


def test_every_page_ends_its_body_with_its_tullu_line(built: Built) -> None:
    pages = [(item, leaf) for item, leaf in zip(built.collection.items(), built.leaves(), strict=True)
             if item.kind is ItemKind.PAGE]  # fmt: skip
    assert len(pages) == 4
    for item, leaf in pages:
        data = built.read(built.resource(leaf.get("identifierref")).get("href"))
        doc = html.fromstring(data.decode("utf-8"))
        last = doc.body[-1]
        assert (last.tag, last.get("class"), last.get("lang")) == ("p", "oer-attribution", "de")
        assert last.text_content() == tullu(built.collection.effective(item), lang="de")
        assert len(doc.find_class("oer-attribution")) == 1
    passwords = built.read("web_resources/seiten/Passwoerter-sicher-waehlen.html").decode()
    assert "Lizenz: CC BY-SA 3.0 DE (" in passwords and "Änderungen: gekürzt und an Klasse 7 angepasst" in passwords


def test_the_authors_html_is_kept_byte_for_byte(built: Built) -> None:
    original = (FIXTURE / "seiten/einstieg.html").read_text("utf-8")
    out = built.read("web_resources/seiten/einstieg.html").decode("utf-8")
    before, after = original.split("</body>")
    assert out.startswith(before)
    footer = out[len(before) :].removesuffix("</body>" + after)
    assert re.fullmatch(r'<p class="oer-attribution" lang="de">[^\n]*</p>\n', footer)
    assert 'src="../bilder/smartphone.png"' in out  # links are not rewritten
    assert "web_resources/bilder/smartphone.png" in built.zip.namelist()


def test_legacy_and_fragment_pages_become_utf8_documents_with_a_body(built: Built) -> None:
    legacy = built.read("web_resources/seiten/alt/fake-news.htm").decode("utf-8")  # was Windows-1252
    assert "Prüfe die Quelle" in legacy and "„Eilmeldungen“" in legacy
    assert '<meta charset="utf-8">' in legacy
    fragment = built.read("web_resources/seiten/Passwoerter-sicher-waehlen.html").decode("utf-8")
    assert fragment.startswith("<!DOCTYPE html>") and "<body>\n<h1>Passwörter sicher wählen</h1>" in fragment


def test_attribution_page_lists_every_item(built: Built) -> None:
    doc = html.fromstring(built.read("about/licences.html").decode("utf-8"))
    lines = [li.text_content() for li in doc.iter("li")]
    items = built.collection.items()
    assert len(lines) == len(items)
    for line, item in zip(lines, items, strict=True):
        assert line.startswith(tullu(built.collection.effective(item), lang="de"))
    assert lines[2].endswith("Keine offene Lizenz im Sinne von OER: keine Bearbeitungen erlaubt (ND).")
    assert lines[-1].endswith("(nur für Lehrkräfte)")
    assert [h.text_content() for h in doc.iter("h3", "h4")] == [
        "Mein Smartphone und ich", "Passwörter und Datenschutz", "Vertiefung: Falschmeldungen erkennen", "Reflexion",
    ]  # fmt: skip


def test_overview_page_shows_the_collection(built: Built) -> None:
    text = html.fromstring(built.read("about/overview.html").decode("utf-8")).text_content()
    for expected in ("Medienkompetenz Klasse 7", "Materialien für vier Doppelstunden", "Anna Schmidt, Jonas Weber",
                     "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International",
                     "Medienkompetenz, Datenschutz"):  # fmt: skip
        assert expected in text


def test_cartridge_lom(built: Built) -> None:
    lom = built.manifest.find("cp:metadata/lomimscc:lom", NS11)

    def texts(path: str) -> list[str]:
        return lom.xpath(path, namespaces=NS11)

    assert texts("lomimscc:general/lomimscc:title/lomimscc:string/text()") == ["Medienkompetenz Klasse 7"]
    assert texts("lomimscc:general/lomimscc:language/text()") == ["de"]
    assert "Fake News" in texts("lomimscc:general/lomimscc:keyword/lomimscc:string/text()")
    assert texts("lomimscc:lifeCycle/lomimscc:contribute/lomimscc:role/lomimscc:value/text()") == ["author"]
    entities = texts("lomimscc:lifeCycle/lomimscc:contribute/lomimscc:entity/text()")
    assert [line for e in entities for line in e.splitlines() if line.startswith("FN:")] == [
        "FN:Anna Schmidt",
        "FN:Jonas Weber",
    ]
    assert "URL:https://example.org/anna-schmidt" in entities[0]
    assert texts("lomimscc:rights/lomimscc:copyrightAndOtherRestrictions/lomimscc:value/text()") == ["yes"]
    [rights] = texts("lomimscc:rights/lomimscc:description/lomimscc:string/text()")
    assert rights.splitlines() == [
        "CC BY-SA 4.0 - https://creativecommons.org/licenses/by-sa/4.0/",
        tullu(Attribution("Medienkompetenz Klasse 7", built.collection.authors, "CC-BY-SA-4.0",
                          "https://oer.example.org/sammlungen/medienkompetenz-7"), lang="de"),
    ]  # fmt: skip


def test_each_item_carries_its_licence_in_lom(built: Built) -> None:
    for item, leaf in zip(built.collection.items(), built.leaves(), strict=True):
        [rights] = leaf.xpath("cp:metadata/lomimscc:lom/lomimscc:rights/lomimscc:description/lomimscc:string/text()",
                              namespaces=NS11)  # fmt: skip
        assert rights.splitlines()[-1] == tullu(built.collection.effective(item), lang="de")
    poster = built.leaves()[7]
    assert poster.xpath("string(.//lomimscc:copyrightAndOtherRestrictions/lomimscc:value)", namespaces=NS11) == "no"
    assert poster.xpath("string(.//lomimscc:rights/lomimscc:description/lomimscc:string)", namespaces=NS11).startswith(
        "Public Domain Mark 1.0 - https://creativecommons.org/publicdomain/mark/1.0/"
    )


def test_instructor_only_items_have_lom_role_instructor(built: Built) -> None:
    roles = built.manifest.xpath("//cp:resource[.//lom:intendedEndUserRole]", namespaces=NS11)
    assert [r.get("href") for r in roles] == ["web_resources/lehrkraefte/hinweise.html"]
    [role] = roles
    assert role.xpath("string(.//lom:intendedEndUserRole/lom:source)", namespaces=NS11) == "IMSGLC_CC_Rolesv1p1"
    assert role.xpath("string(.//lom:intendedEndUserRole/lom:value)", namespaces=NS11) == "Instructor"


# -- licences ----------------------------------------------------------------------


def test_non_open_collection_licence_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    yaml_path = folder / "collection.yaml"
    yaml_path.write_text(yaml_path.read_text("utf-8").replace("licence: CC-BY-SA-4.0", "licence: CC-BY-NC-SA-4.0", 1))
    collection, source, _ = load_collection(folder)
    out = tmp_path / "out.imscc"
    with pytest.raises(LicenceError) as info:
        build(collection, source, out)
    assert [(f.code, f.severity.value, f.location) for f in info.value.findings] == [
        ("non-open-licence", "error", "licence"),
        ("non-open-licence", "warning", "modules[0].items[2].licence"),  # a link: never refused
    ]
    assert list(tmp_path.glob("*.imscc*")) == [] and list(tmp_path.glob(".*part")) == []


def test_allow_non_oer_builds_and_marks_the_restriction(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    yaml_path = folder / "collection.yaml"
    yaml_path.write_text(yaml_path.read_text("utf-8").replace("licence: CC-BY-SA-4.0", "licence: CC-BY-NC-SA-4.0", 1))
    collection, source, _ = load_collection(folder)
    report = build(collection, source, tmp_path / "out.imscc", allow_non_oer=True)
    assert ("non-open-licence", "warning", "licence") in [
        (f.code, f.severity.value, f.location) for f in report.findings
    ]
    z = zipfile.ZipFile(tmp_path / "out.imscc")
    manifest = etree.fromstring(z.read("imsmanifest.xml"))
    rights = manifest.xpath("string(cp:metadata/lomimscc:lom/lomimscc:rights/lomimscc:description/lomimscc:string)",
                            namespaces=NS11)  # fmt: skip
    assert rights.splitlines()[:2] == [
        "CC BY-NC-SA 4.0 - https://creativecommons.org/licenses/by-nc-sa/4.0/",
        "Keine offene Lizenz im Sinne von OER: nur nicht-kommerzielle Nutzung (NC).",
    ]
    assert xsd.errors(z.read("imsmanifest.xml"), "manifest") == []


def test_unknown_licence_of_a_page_is_refused(tmp_path: Path) -> None:
    source = FolderSource(FIXTURE)
    item = Item(ItemKind.PAGE, "Einstieg", path="seiten/einstieg.html",
                attribution=Attribution(licence="Alle Rechte vorbehalten"))  # fmt: skip
    collection = Collection("X", licence="CC0-1.0", modules=[Module("M", [item])])
    with pytest.raises(LicenceError) as info:
        build(collection, source, tmp_path / "x.imscc")
    assert [(f.code, f.location) for f in info.value.findings] == [("unknown-licence", "modules[0].items[0].licence")]
    report = build(collection, source, tmp_path / "x.imscc", allow_non_oer=True)
    page = zipfile.ZipFile(tmp_path / "x.imscc").read("web_resources/seiten/einstieg.html").decode()
    assert "„Einstieg“, Lizenz: Alle Rechte vorbehalten</p>" in page
    assert [f.code for f in report.findings] == ["unknown-licence"]


def test_items_that_cannot_be_packaged_are_refused(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    collection = Collection("X", licence="CC0-1.0", modules=[Module("M", [
        Item(ItemKind.FILE, "fehlt", path="fehlt.pdf"),
        Item(ItemKind.FILE, "draußen", path="../draussen.pdf"),
        Item(ItemKind.WEBLINK, "kaputt", url="javascript:alert(1)"),
    ])])  # fmt: skip
    with pytest.raises(CollectionError) as info:
        build(collection, FolderSource(tmp_path / "c"), tmp_path / "x.imscc")
    assert [(f.code, f.location) for f in info.value.findings] == [
        ("missing-file", "modules[0].items[0].path"),
        ("path-outside", "modules[0].items[1].path"),
        ("bad-url", "modules[0].items[2].url"),
    ]
    assert not (tmp_path / "x.imscc").exists()


# -- determinism and streaming ----------------------------------------------------------


def test_two_builds_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    (tmp_path / "a").mkdir()
    first = build_fixture(FIXTURE, tmp_path / "a" / "one.imscc")
    second = build_fixture(copy_fixture(tmp_path), tmp_path / "two.imscc")  # another folder, another name
    assert first.path.read_bytes() == second.path.read_bytes()
    for info in first.zip.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert (info.create_system, info.external_attr >> 16) == (3, 0o100644)
        stored = info.filename.endswith((".png", ".mp3"))
        assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    assert first.zip.testzip() is None


def test_source_date_epoch_sets_the_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")  # 2023-11-14 22:13:21 UTC
    built = build_fixture(FIXTURE, tmp_path / "x.imscc")
    assert {i.date_time for i in built.zip.infolist()} == {(2023, 11, 14, 22, 13, 20)}


class _Pipe:
    """An output that cannot seek, like a web response."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def test_builds_into_an_unseekable_stream(tmp_path: Path) -> None:
    collection, source, _ = load_collection(FIXTURE)
    pipe = _Pipe()
    report = build(collection, source, pipe)  # type: ignore[arg-type]
    data = b"".join(pipe.chunks)
    assert report.bytes_written == len(data)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.namelist()[0] == "imsmanifest.xml" and z.testzip() is None
    assert report.file_count == len(z.namelist()) == 15 and report.item_count == 10


def test_a_thousand_file_collection_builds(tmp_path: Path) -> None:
    folder = tmp_path / "gross"
    modules = []
    for m in range(10):
        items = []
        for i in range(100):
            if i % 2:
                name = f"Modul {m}/Seite {i} – Übung.html"
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(f"<h1>Übung {m}.{i}</h1><p>Text</p>", "utf-8")
                items.append(Item(ItemKind.PAGE, f"Seite {m}.{i}", path=name))
            else:
                name = f"Modul {m}/bild-{i}.png"
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(b"\x89PNG" + bytes([m, i]) * 50)
                items.append(Item(ItemKind.FILE, f"Bild {m}.{i}", path=name))
        modules.append(Module(f"Modul {m}", items))  # type: ignore[arg-type]
    collection = Collection("Groß", licence="CC-BY-4.0", modules=modules)
    calls: list[tuple[int, int]] = []
    report = build(
        collection, FolderSource(folder), tmp_path / "gross.imscc", progress=lambda d, t: calls.append((d, t))
    )
    assert (report.item_count, report.file_count) == (1000, 1003)
    assert calls[0] == (0, 1000) and calls[-1] == (1000, 1000) and len(calls) == 1001
    z = zipfile.ZipFile(tmp_path / "gross.imscc")
    assert len(z.namelist()) == 1003 and z.testzip() is None
    assert xsd.errors(z.read("imsmanifest.xml"), "manifest") == []


# -- CC 1.3 ---------------------------------------------------------------------------


def test_cc13_uses_the_13_namespaces_and_types(tmp_path: Path) -> None:
    collection, source, _ = load_collection(FIXTURE)
    build(collection, source, tmp_path / "x.imscc", cc_version="1.3")
    z = zipfile.ZipFile(tmp_path / "x.imscc")
    data = z.read("imsmanifest.xml")
    assert b'xmlns="http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"' in data[:500]
    assert b"imsccv1p1" not in data
    manifest = etree.fromstring(data)
    ns = {"cp": CP13, "lomimscc": "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest",
          "lom": "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/resource"}  # fmt: skip
    assert manifest.xpath("string(cp:metadata/cp:schemaversion)", namespaces=ns) == "1.3.0"
    assert manifest.xpath("count(cp:metadata/lomimscc:lom/lomimscc:rights)", namespaces=ns) == 1
    assert manifest.xpath("string(//lom:intendedEndUserRole/lom:value)", namespaces=ns) == "Instructor"
    types = {
        r.get("type"): r.xpath("string(cp:file/@href)", namespaces=ns) for r in manifest.iterfind(".//cp:resource", ns)
    }
    assert set(types) == {"webcontent", "imswl_xmlv1p3", "imsdt_xmlv1p3", "imsbasiclti_xmlv1p0"}
    roots = {t: etree.QName(etree.fromstring(z.read(types[t]))).namespace for t in types if t != "webcontent"}
    assert roots == {
        "imswl_xmlv1p3": "http://www.imsglobal.org/xsd/imsccv1p3/imswl_v1p3",
        "imsdt_xmlv1p3": "http://www.imsglobal.org/xsd/imsccv1p3/imsdt_v1p3",
        "imsbasiclti_xmlv1p0": "http://www.imsglobal.org/xsd/imslticc_v1p0",  # as Canvas writes it in 1.3
    }


def test_unsupported_version_is_a_programming_error(tmp_path: Path) -> None:
    collection, source, _ = load_collection(FIXTURE)
    with pytest.raises(ValueError, match="1.1, 1.3"):
        build(collection, source, tmp_path / "x.imscc", cc_version="1.2")


# -- the footer on its own ------------------------------------------------------------------

FOOTER = footer_html(Attribution("T", [], "CC0-1.0"), "de")


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("<html><body><p>a</p></body></html>", f"<html><body><p>a</p>{FOOTER}\n</body></html>"),
        ("<html><BODY><p>a</p></BODY ></html>", f"<html><BODY><p>a</p>{FOOTER}\n</BODY ></html>"),
        ("<html><body><p>a</p></html>", f"<html><body><p>a</p>{FOOTER}\n</body>\n</html>"),
        ("<html><head><title>t</title></head><p>a</p></html>",
         f'<html><head>\n<meta charset="utf-8"><title>t</title></head>\n<body>\n<p>a</p>{FOOTER}\n</body>\n</html>'),
    ],
)  # fmt: skip
def test_footer_goes_at_the_end_of_the_body(page: str, expected: str) -> None:
    assert with_footer(page.encode(), FOOTER, title="T", lang="de").data.decode() == expected


def test_footer_is_replaced_not_repeated() -> None:
    once = with_footer(b"<html><body><p>a</p></body></html>", FOOTER, title="T", lang="de")
    other = footer_html(Attribution("T", [], "CC-BY-4.0"), "de")
    twice = with_footer(once.data, other, title="T", lang="de")
    assert twice.data.decode() == f"<html><body><p>a</p>{other}\n</body></html>"
    assert twice.notes == ["replaced an earlier attribution footer"]


def test_declared_legacy_charset_is_rewritten_to_utf8() -> None:
    page = '<?xml version="1.0" encoding="iso-8859-1"?><html><head><meta charset="windows-1252"></head><body>Grüße</body></html>'
    out = with_footer(page.encode("cp1252"), FOOTER, title="T", lang="de").data.decode("utf-8")
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?><html><head><meta charset="utf-8">')
    assert "Grüße" in out


# -- the command -------------------------------------------------------------------------


def test_cli_builds_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    result = CliRunner().invoke(build_cli, [str(FIXTURE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"built {out} (CC 1.1): 10 items, 15 files" in result.stdout
    assert "WARNING collection.yaml:27 modules[0].items[2].licence" in result.stdout
    assert zipfile.ZipFile(out).namelist()[0] == "imsmanifest.xml"


def test_cli_json(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    result = CliRunner().invoke(build_cli, [str(FIXTURE), "-o", str(out), "--json", "--cc-version", "1.3"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["ok"], data["cc_version"], data["item_count"], data["file_count"]) == (True, "1.3", 10, 15)
    assert data["bytes_written"] == out.stat().st_size
    assert data["findings"][0]["location"] == "collection.yaml:27 modules[0].items[2].licence"


def test_cli_refuses_non_open_licences_with_the_yaml_line(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    yaml_path = folder / "collection.yaml"
    yaml_path.write_text(yaml_path.read_text("utf-8").replace("licence: CC-BY-4.0", "licence: CC-BY-NC-ND-4.0"))
    out = tmp_path / "kurs.imscc"
    result = CliRunner().invoke(build_cli, [str(folder), "-o", str(out), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert {"code": "non-open-licence", "severity": "error", "location": "collection.yaml:43 modules[1].items[1].licence"} \
        .items() <= next(f for f in data["findings"] if f["severity"] == "error").items()  # fmt: skip
    assert not out.exists()
    allowed = CliRunner().invoke(build_cli, [str(folder), "-o", str(out), "--allow-non-oer"])
    assert allowed.exit_code == 0 and out.exists()
    assert "WARNING collection.yaml:43 modules[1].items[1].licence" in allowed.stdout


def test_cli_refuses_a_broken_collection_without_traceback(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    (folder / "bilder" / "smartphone.png").unlink()
    result = CliRunner().invoke(build_cli, [str(folder), "-o", str(tmp_path / "k.imscc")])
    assert result.exit_code == 1
    assert "ERROR   collection.yaml:22 modules[0].items[0].assets[0]: bilder/smartphone.png" in result.stderr
    assert "refused: collection.yaml: 1 error(s)" in result.stderr and "Traceback" not in result.output


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(build_cli, [str(tmp_path / "fehlt")]).exit_code == 2
    assert CliRunner().invoke(build_cli, [str(FIXTURE), "--cc-version", "1.2"]).exit_code == 2


def test_cli_default_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(build_cli, [str(FIXTURE)])
    assert result.exit_code == 0
    assert (tmp_path / "collection-medienkompetenz.imscc").is_file()


def test_cli_shows_progress_on_stderr_for_large_collections(tmp_path: Path) -> None:
    folder = tmp_path / "gross"
    folder.mkdir()
    lines = ["title: Viele Seiten", "licence: CC0-1.0", "modules:", "  - module: Alles", "    items:"]
    for i in range(60):
        (folder / f"s{i}.html").write_text(f"<p>Seite {i}</p>", "utf-8")
        lines.append(f"      - file: s{i}.html")
    (folder / "collection.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    result = CliRunner().invoke(build_cli, [str(folder), "-o", str(tmp_path / "g.imscc"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["item_count"] == 60
    plain = CliRunner().invoke(build_cli, [str(folder), "-o", str(tmp_path / "g.imscc")])
    assert plain.exit_code == 0 and "building" in plain.stderr


def test_an_english_collection_gets_english_texts_and_cc0_rights(tmp_path: Path) -> None:
    built = build_fixture(FIXTURE.parent / "collection-digital-citizenship", tmp_path / "en.imscc")
    [root] = built.manifest.xpath("//cp:organization/cp:item", namespaces=NS11)
    titles = [el.findtext(f"{{{CP11}}}title") for el in root.iter(f"{{{CP11}}}item")][1:4]
    assert titles == ["About this collection", "Overview", "Licences and sources"]
    page = html.fromstring(built.read("web_resources/pages/welcome.html").decode())
    footer = page.body[-1]
    assert footer.get("lang") == "en"
    assert footer.text_content() == (
        "“Welcome” by Sam Carter, dedicated to the public domain under CC0 1.0 "
        "(https://creativecommons.org/publicdomain/zero/1.0/deed.en)"
    )
    restrictions = built.manifest.xpath(
        "//lomimscc:copyrightAndOtherRestrictions/lomimscc:value/text()", namespaces=NS11
    )
    assert restrictions == ["no", "no", "yes"]  # the cartridge, the CC0 page, the CC BY link
    licences_page = html.fromstring(built.read("about/licences.html").decode()).text_content()
    assert "“A privacy guide for teenagers” by Example Foundation, licensed under CC BY 4.0" in licences_page
    assert xsd.errors(built.read("imsmanifest.xml"), "manifest") == []


def test_a_page_that_is_also_an_asset_keeps_its_footer(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "rahmen.html").write_text('<html><body><iframe src="inhalt.html"></iframe></body></html>', "utf-8")
    (folder / "inhalt.html").write_text("<html><body><p>Inhalt</p></body></html>", "utf-8")
    frame = Item(ItemKind.PAGE, "Rahmen", path="rahmen.html", assets=["inhalt.html"])
    content = Item(ItemKind.PAGE, "Inhalt", path="inhalt.html")
    collection = Collection("X", licence="CC-BY-4.0", modules=[Module("M", [frame, content])])
    report = build(collection, FolderSource(folder), tmp_path / "x.imscc")
    z = zipfile.ZipFile(tmp_path / "x.imscc")
    assert z.namelist().count("web_resources/inhalt.html") == 1 and report.file_count == 5
    assert 'class="oer-attribution"' in z.read("web_resources/inhalt.html").decode()


def test_custom_parameters_that_are_no_xml_names_are_left_out(tmp_path: Path) -> None:
    lti = Item(ItemKind.LTI, "Tool", url="https://tool.example.org/launch", custom={"ok_name": "1", "kein name": "2"})
    collection = Collection("X", licence="CC0-1.0", modules=[Module("M", [lti])])
    report = build(collection, FolderSource(tmp_path), tmp_path / "x.imscc")
    assert [(f.code, f.location) for f in report.findings] == [("dropped-custom", "modules[0].items[0].custom")]
    z = zipfile.ZipFile(tmp_path / "x.imscc")
    [descriptor] = [n for n in z.namelist() if n.startswith("lti/")]
    assert xsd.errors(z.read(descriptor), "lti") == []
    assert b'name="ok_name"' in z.read(descriptor) and b"kein name" not in z.read(descriptor)


def test_preflight_reports_without_writing_or_raising(tmp_path: Path) -> None:
    collection = Collection("X", licence="CC-BY-NC-4.0", modules=[Module("M", [
        Item(ItemKind.FILE, "fehlt", path="fehlt.pdf"),
        Item(ItemKind.WEBLINK, "relativ", url="/web-link"),
    ])])  # fmt: skip
    findings = preflight(collection, FolderSource(tmp_path))
    assert [(f.code, f.severity.value, f.location) for f in findings] == [
        ("non-open-licence", "error", "licence"),
        ("missing-file", "error", "modules[0].items[0].path"),
        ("bad-url", "error", "modules[0].items[1].url"),
    ]
    assert list(tmp_path.iterdir()) == []
