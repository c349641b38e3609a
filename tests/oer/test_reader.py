"""read_cartridge() and inspect: CC 1.0–1.3, Canvas exports, the round trip with the builder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from oer_packager.builder import build
from oer_packager.cli_read import inspect as inspect_command
from oer_packager.collection import load_collection
from oer_packager.errors import CartridgeError
from oer_packager.findings import Severity
from oer_packager.inspect import inspect_cartridge, render
from oer_packager.model import Collection, Item, ItemKind, Module
from oer_packager.reader import licences_in, read_cartridge, resolve_link, tullu_parts, vcard_person
from tests.oer.cartridges import Files, good_cc10, good_cc11, good_cc13, replace, write_cartridge

CANVAS = Path("/work/shared/fixtures/cartridges")
FIXTURE = Path(__file__).parent / "fixtures" / "collection-medienkompetenz"
M = "imsmanifest.xml"


def outline(children: Sequence[Item | Module]) -> list[Any]:
    """Titles and kinds of an outline, nested."""
    return [(c.title, [*outline(c.children)]) if isinstance(c, Module) else (c.title, c.kind.value) for c in children]


def write(tmp_path: Path, files: Files) -> Path:
    return write_cartridge(tmp_path / "brueche.imscc", files)


# -- the hand-made CC 1.1 cartridge --------------------------------------------------------


def test_reads_cartridge_metadata(tmp_path: Path) -> None:
    with read_cartridge(write(tmp_path, good_cc11())) as c:
        col = c.collection
        assert c.version == "1.1"
        assert col.title == "Brüche verstehen – Mathematik Klasse 6"
        assert col.description == "Einführung in die Bruchrechnung mit Übungen."
        assert (col.language, col.keywords) == ("de", ["Brüche", "Mathematik"])
        assert [p.name for p in col.authors] == ["Jana Müller"]
        assert (col.licence, col.source) == ("CC-BY-4.0", "https://oer.example.org/brueche")
        assert c.findings == []


def test_reads_the_outline_into_modules_and_items(tmp_path: Path) -> None:
    with read_cartridge(write(tmp_path, good_cc11())) as c:
        assert [(m.title, m.ref) for m in c.collection.modules] == [
            ("Über diese Sammlung", "I_m1"), ("Brüche verstehen", "I_m2"), ("Üben & Austauschen", "I_m3"),
        ]  # fmt: skip
        assert outline(c.collection.modules) == [
            ("Über diese Sammlung", [("Über diese Sammlung und Lizenzen", "page")]),
            ("Brüche verstehen", [
                ("Was ist ein Bruch?", "page"), ("Arbeitsblatt: Brüche an der Pizza", "file"),
                ("Lösungen zum Arbeitsblatt", "file"), ("Erklärvideo: Brüche vergleichen", "weblink"),
            ]),
            ("Üben & Austauschen", [
                ("Wo begegnen dir Brüche im Alltag?", "discussion"), ("Selbsteinschätzung: Brüche", "lti"),
            ]),
        ]  # fmt: skip


def test_reads_items_with_their_content(tmp_path: Path) -> None:
    with read_cartridge(write(tmp_path, good_cc11())) as c:
        ueber, page, sheet, solutions, video, talk, lti = c.collection.items()
        assert (page.path, page.assets) == (
            "brueche/einfuehrung.html",
            ["brueche/bilder/pizza.png", "material/Arbeitsblatt Brüche.pdf"],
        )
        assert (sheet.path, sheet.ref) == ("material/Arbeitsblatt Brüche.pdf", "R_arbeitsblatt")
        assert video.url == "https://video.example.org/brueche-vergleichen"
        assert talk.text == "<p>Nenne drei Beispiele aus deinem Alltag – Rezepte, Uhrzeiten, Sport …</p>"
        assert (lti.url, lti.custom) == (
            "https://lms-bridge.example.org/lti/launch",
            {"instrument": "brueche-klasse-6"},
        )
        assert lti.text == "Schätze dich selbst ein: Wie sicher bist du beim Kürzen?"
        assert [i.instructor_only for i in c.collection.items()] == [False, False, False, True, False, False, False]
        assert c.source.open(sheet.path).read() == good_cc11()["material/Arbeitsblatt Brüche.pdf"]
        assert c.source.size(page.path) == len(good_cc11()["brueche/einfuehrung.html"])


def test_reads_licences_and_attribution_per_item(tmp_path: Path) -> None:
    with read_cartridge(write(tmp_path, good_cc11())) as c:
        col = c.collection
        by_title = {i.title: i for i in col.items()}
        assert {t: col.effective(i).licence for t, i in by_title.items()} == {
            "Über diese Sammlung und Lizenzen": "CC0-1.0",
            "Was ist ein Bruch?": "CC-BY-4.0",
            "Arbeitsblatt: Brüche an der Pizza": "CC-BY-SA-4.0",
            "Lösungen zum Arbeitsblatt": "CC-BY-4.0",
            "Erklärvideo: Brüche vergleichen": "CC-BY-4.0",
            "Wo begegnen dir Brüche im Alltag?": "CC-BY-4.0",
            "Selbsteinschätzung: Brüche": "CC-BY-4.0",
        }
        sheet = by_title["Arbeitsblatt: Brüche an der Pizza"].attribution
        assert [p.name for p in sheet.authors] == ["Ali Yılmaz"]
        assert (sheet.source, sheet.changes) == ("https://zum.example.de/pizza", "gekürzt")
        # What only repeats the collection's is inherited, not copied.
        assert by_title["Was ist ein Bruch?"].attribution.licence == ""


def test_cc10_and_cc13_read_alike(tmp_path: Path) -> None:
    with read_cartridge(write_cartridge(tmp_path / "alt.imscc", good_cc10())) as c10:
        assert c10.version == "1.0"
        assert (c10.collection.title, c10.collection.licence) == ("Geometrie: Winkel", "CC-BY-SA-3.0-DE")
        assert [(i.kind, i.url or i.path) for i in c10.collection.items()] == [
            (ItemKind.PAGE, "winkel.html"), (ItemKind.WEBLINK, "https://www.geogebra.org/m/winkel"),
        ]  # fmt: skip
    with (
        read_cartridge(write(tmp_path, good_cc13())) as c13,
        read_cartridge(write_cartridge(tmp_path / "b11.imscc", good_cc11())) as c11,
    ):
        assert c13.version == "1.3"
        assert outline(c13.collection.modules) == outline(c11.collection.modules)


def test_percent_encoded_href_is_read_from_the_decoded_name_and_reported(tmp_path: Path) -> None:
    files = replace(
        good_cc11(), M, "material/Arbeitsblatt Brüche.pdf", "material/Arbeitsblatt%20Br%C3%BCche.pdf", count=2
    )
    with read_cartridge(write(tmp_path, files)) as c:
        sheet = c.collection.items()[2]
        assert sheet.path == "material/Arbeitsblatt Brüche.pdf"
        [finding] = [f for f in c.findings if f.code == "href-decoded"]
        assert "'material/Arbeitsblatt%20Br%C3%BCche.pdf'" in finding.message
        assert finding.severity is Severity.WARNING


def test_unknown_and_quiz_items_stay_out_of_the_model(tmp_path: Path) -> None:
    files = replace(good_cc11(), M, 'type="imsdt_xmlv1p1"', 'type="imsqti_xmlv1p2/imscc_xmlv1p1/assessment"')
    with read_cartridge(write(tmp_path, files)) as c:
        assert "Wo begegnen dir Brüche im Alltag?" not in [i.title for i in c.collection.items()]
        [finding] = [f for f in c.findings if f.code == "not-carried-over"]
        assert finding.message.startswith("QTI quiz 'Wo begegnen dir Brüche im Alltag?'")
        assert finding.location.endswith("item[@identifier='I_diskussion']")


def test_source_refuses_paths_leaving_the_archive(tmp_path: Path) -> None:
    with read_cartridge(write(tmp_path, good_cc11())) as c:
        with pytest.raises(CartridgeError, match="leaves the archive"):
            c.source.open("../etc/passwd")
        assert c.source.exists("../etc/passwd") is False
        with pytest.raises(FileNotFoundError):
            c.source.open("fehlt.pdf")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"seite.html": b"<p/>"}, "no imsmanifest.xml at the root"),
        ({"kurs/imsmanifest.xml": b"<manifest/>"}, "found 'kurs/imsmanifest.xml'"),
        ({M: b"<manifest xmlns='http://example.org/x'/>"}, "not a Common Cartridge manifest"),
        ({M: b"<manifest><unclosed></manifest>"}, "imsmanifest.xml:1:"),
    ],
)
def test_unreadable_cartridges_raise(tmp_path: Path, files: Files, message: str) -> None:
    with pytest.raises(CartridgeError) as exc:
        read_cartridge(write(tmp_path, files))
    assert message in exc.value.message


# -- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("CC BY-SA 4.0 - https://creativecommons.org/licenses/by-sa/4.0/", ["CC-BY-SA-4.0"]),
        ("CC Attribution Share Alike - http://creativecommons.org/licenses/by-sa/4.0", ["CC-BY-SA-4.0"]),
        ("Public Domain - http://en.wikipedia.org/wiki/Public_domain", ["PDM-1.0"]),
        ("Lizenz: CC BY 3.0 DE", ["CC-BY-3.0-DE"]),
        ("CC0", ["CC0-1.0"]),
        ("Private (Copyrighted) - http://en.wikipedia.org/wiki/Copyright", []),
        ("Alle Rechte vorbehalten", []),
        (
            "CC BY https://creativecommons.org/licenses/by/4.0/ oder https://creativecommons.org/licenses/by-sa/4.0/",
            ["CC-BY-4.0", "CC-BY-SA-4.0"],
        ),
    ],
)
def test_licences_in_rights_texts(text: str, ids: list[str]) -> None:
    assert licences_in(text) == ids


def test_tullu_parts_and_vcards() -> None:
    line = (
        "„Plakat“ von unbekannt, gemeinfrei (PDM), Quelle: https://archiv.example.org/a, b, Änderungen: zugeschnitten"
    )
    assert tullu_parts(line) == ("https://archiv.example.org/a, b", "zugeschnitten")
    assert tullu_parts("CC BY 4.0") == ("", "")
    person = vcard_person("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Müller\\, Jana\r\nURL:https://example.org/jm\r\nEND:VCARD")
    assert person is not None and (person.name, person.url) == ("Müller, Jana", "https://example.org/jm")
    assert vcard_person("BEGIN:VCARD\nEND:VCARD") is None


@pytest.mark.parametrize(
    ("url", "kind", "target"),
    [
        ("bilder/pizza.png", "file", "seiten/bilder/pizza.png"),
        ("bilder/pizza.png?v=2#oben", "file", "seiten/bilder/pizza.png"),
        ("../bilder/Bild%20eins.png", "file", "bilder/Bild eins.png"),
        ("../../x.png", "outside", "../x.png"),
        ("/bilder/pizza.png", "absolute", ""),
        ("https://example.org/a.png", "external", ""),
        ("mailto:info@example.org", "external", ""),
        ("#anker", "external", ""),
        ("%24IMS-CC-FILEBASE%24/Quiz/a.jpg", "file", "web_resources/Quiz/a.jpg"),
        ("$WIKI_REFERENCE$/pages/x", "canvas", ""),
        ("fehlt.png", "missing", "seiten/fehlt.png"),
    ],
)
def test_resolve_link(url: str, kind: str, target: str) -> None:
    names = {"seiten/bilder/pizza.png", "bilder/Bild eins.png", "web_resources/Quiz/a.jpg"}
    link = resolve_link("seiten/a.html", url, names.__contains__)
    assert (link.kind, link.target) == (kind, target)
    assert link.encoded == ("%20" in url)


# -- Canvas exports ---------------------------------------------------------------------------


def test_canvas_main_export_reads() -> None:
    with read_cartridge(CANVAS / "canvas-cc13-main.imscc") as c:
        col = c.collection
        assert (c.version, col.title, col.licence) == ("1.3", "Course", "PDM-1.0")
        assert c.rights == "Public Domain - http://en.wikipedia.org/wiki/Public_domain"
        sequence, sequence2 = col.modules
        assert outline(sequence.children) == [
            ("Vertical", "page"), ("LTI", "lti"), ("LTI no secure launch URL", "lti"), ("Discussion", "discussion"),
            ("Image File Webcontent", "file"), ("Wiki Content", "page"), ("Canvas Content", "page"),
            ("Video", "page"), ("Video With Other Content", "page"), ("PDF from Web Resources", "file"),
            ("PDF Outside of Web Resources", "file"), ("Web Link Content", "weblink"),
            ("Django for beginners", "weblink"), ("Web Link to PDF file", "weblink"),
            ("Web Link to Google document file", "weblink"), ("Web Link to Google presentation file", "weblink"),
            ("Web Link to Google drawings file", "weblink"), ("Web Link to Google docs home page", "weblink"),
        ]  # fmt: skip
        # Canvas' text headers become empty modules in place.
        assert outline(sequence2.children) == [
            ("Vertical", "page"), ("Sub Header 1", []), ("Vertical", "page"), ("Sub Header 2", []),
            ("Vertical", "page"), ("External Tool Retrieve Iframe", "page"),
        ]  # fmt: skip
        vertical, lti, lti_plain, talk = col.items()[:4]
        assert vertical.assets == ["web_resources/QuizImages/fractal.jpg"]  # via $IMS-CC-FILEBASE$
        assert (lti.url, lti_plain.url) == ("https://lti.local/launch", "https://lti.local/start")
        assert talk.text.startswith('<p style="text-align: center;">')
        not_carried = {f.location.split(" ")[-1]: f.message for f in c.findings if f.code == "not-carried-over"}
        assert {k for k, v in not_carried.items() if v.startswith(("QTI quiz", "assignment"))} == {
            "item[@identifier='qti']", "item[@identifier='qti_no_items']",
            "item[@identifier='assignment_1']", "item[@identifier='assignment_2']",
        }  # fmt: skip
        assert [f.code for f in c.findings if "external_tool'" in f.location] == ["identifierref"]


def test_canvas_corner_cases_read() -> None:
    with read_cartridge(CANVAS / "canvas-cc13-corner_cases.imscc") as c:
        assert (c.collection.title, c.collection.language, c.collection.licence) == (
            "Corner cases Common Cartridge", "en-US", "",
        )  # fmt: skip
        assert outline(c.collection.modules) == [
            ("Wild animals world", [("Survival Strategies: How Wild Animals Avoid Predators", "file")])
        ]
        assert sorted((f.code, f.location.split(" ")[-1]) for f in c.findings) == [
            ("missing-file", "item[@identifier='migration_patterns']"),
            ("not-carried-over", "item[@identifier='unknown_qti_assessment']"),
            ("not-carried-over", "item[@identifier='unknown_resource_with_link']"),
            ("not-carried-over", "item[@identifier='unknown_resource_without_link']"),
        ]


def test_inspect_canvas_main() -> None:
    inspection = inspect_cartridge(CANVAS / "canvas-cc13-main.imscc")
    assert (inspection.version, inspection.title, inspection.licence) == ("1.3", "Course", "PDM-1.0")
    assert inspection.licence_counts() == {"PDM-1.0": 27}
    text = render(inspection)
    assert text.startswith("Course\nCommon Cartridge 1.3 · ")
    assert "    - QTI  [not carried over · imsqti_xmlv1p2/imscc_xmlv1p1/assessment]  PDM-1.0 (inherited)" in text
    assert "    Sub Header 1\n" in text
    assert "\n    27  PDM-1.0 (Public Domain Mark 1.0)\n" in text
    assert "Findings (6 errors, " in text


def test_inspect_json_of_the_good_cartridge(tmp_path: Path) -> None:
    path = write(tmp_path, good_cc11())
    result = CliRunner().invoke(inspect_command, [str(path), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["version"], data["valid"], data["findings"]) == ("1.1", True, [])
    assert data["licences"] == {"CC-BY-4.0": 5, "CC-BY-SA-4.0": 1, "CC0-1.0": 1}
    first = data["outline"][1]["children"][2]
    assert first == {
        "identifier": "I_loesungen", "title": "Lösungen zum Arbeitsblatt", "kind": "file",
        "identifierref": "R_loesungen", "type": "webcontent", "licence": "CC-BY-4.0",
        "licence_inherited": False, "instructor_only": True,
    }  # fmt: skip


def test_inspect_text_shows_types_licences_and_teacher_items(tmp_path: Path) -> None:
    result = CliRunner().invoke(inspect_command, [str(write(tmp_path, good_cc11()))])
    assert result.exit_code == 0
    assert "  Brüche verstehen\n    - Was ist ein Bruch?  [page · webcontent]  CC-BY-4.0\n" in result.output
    assert "- Lösungen zum Arbeitsblatt  [file · webcontent · teachers only]  CC-BY-4.0" in result.output
    assert "\n     5  CC-BY-4.0 (CC BY 4.0)\n" in result.output
    assert "Findings (0 errors, 0 warnings, 0 info)" in result.output


def test_inspect_cli_refuses_unreadable_input_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.imscc"
    path.write_bytes(b"kein zip")
    result = CliRunner().invoke(inspect_command, [str(path)])
    assert result.exit_code == 1
    assert "refused:" in result.output and "not a readable zip archive" in result.output
    assert "Traceback" not in result.output


# -- round trip with the builder ---------------------------------------------------------------


def summary(col: Collection) -> list[tuple[Any, ...]]:
    """What a round trip must keep: outline, kinds, titles, effective licences and attribution."""

    def walk(children: list[Item | Module], depth: int) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for c in children:
            if isinstance(c, Module):
                out += [(depth, "module", c.title), *walk(c.children, depth + 1)]
            else:
                a = col.effective(c)
                out.append(
                    (
                        depth,
                        c.kind.value,
                        c.title,
                        a.licence,
                        [p.name for p in a.authors],
                        a.source,
                        a.changes,
                        c.url,
                        c.custom,
                        c.instructor_only,
                        c.description,
                    )
                )
        return out

    return [
        (col.title, col.description, col.language, col.keywords, [p.name for p in col.authors], col.licence, col.source)
    ] + [row for m in col.modules for row in [(0, "module", m.title), *walk(m.children, 1)]]


def test_build_read_build_keeps_outline_metadata_and_licences(tmp_path: Path) -> None:
    original, source, _ = load_collection(FIXTURE)
    build(original, source, tmp_path / "eins.imscc", allow_non_oer=True)
    with read_cartridge(tmp_path / "eins.imscc") as first:
        assert first.version == "1.1"
        assert summary(first.collection) == summary(original)
        talk = next(i for i in first.collection.items() if i.kind is ItemKind.DISCUSSION)
        assert "Welche drei Apps nutzt ihr jeden Tag?" in talk.text
        # Content paths come back relative to the builder's content folder: no nesting on rebuild.
        assert first.source.root == "web_resources/"
        build(first.collection, first.source, tmp_path / "zwei.imscc", allow_non_oer=True)
    with read_cartridge(tmp_path / "zwei.imscc") as second, read_cartridge(tmp_path / "eins.imscc") as again:
        assert summary(second.collection) == summary(original)
        assert [(i.path, i.assets) for i in second.collection.items()] == [
            (i.path, i.assets) for i in again.collection.items()
        ]
