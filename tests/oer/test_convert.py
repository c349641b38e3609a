"""convert(): any readable cartridge → a CC 1.1 cartridge Moodle can restore."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from oer_packager.cc import MOODLE_CC11_DECLARATION
from oer_packager.cli_read import convert as convert_command
from oer_packager.convert import convert
from oer_packager.errors import LicenceError
from oer_packager.findings import Severity, has_errors
from oer_packager.reader import read_cartridge
from oer_packager.validator import validate
from tests.oer.cartridges import good_cc11, good_cc13, replace, write_cartridge

CANVAS = Path("/work/shared/fixtures/cartridges")


def test_canvas_main_export_converts_to_a_valid_cc11(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    report = convert(CANVAS / "canvas-cc13-main.imscc", out)
    assert (report.source_version, report.cc_version, report.valid) == ("1.3", "1.1", True)
    assert not has_errors(validate(out))
    with zipfile.ZipFile(out) as zf:
        assert zf.read("imsmanifest.xml")[:500].count(MOODLE_CC11_DECLARATION) == 1
    with read_cartridge(out) as back:
        assert back.version == "1.1"
        assert back.collection.licence == "PDM-1.0"
        assert [m.title for m in back.collection.modules] == ["Sequence", "Sequence2"]
        kinds = [i.kind.value for i in back.collection.items()]
        assert kinds.count("weblink") == 5 and kinds.count("lti") == 2 and kinds.count("discussion") == 1
    assert report.build.item_count == 20


def test_canvas_main_reports_what_is_not_carried_over(tmp_path: Path) -> None:
    report = convert(CANVAS / "canvas-cc13-main.imscc", tmp_path / "kurs.imscc")
    lost = {(f.severity, f.location.split(" ")[-1]): f.message for f in report.not_carried}
    keys = set(lost)
    for key in [
        (Severity.WARNING, "item[@identifier='qti']"),  # QTI quizzes
        (Severity.WARNING, "item[@identifier='qti_no_items']"),
        (Severity.WARNING, "item[@identifier='assignment_1']"),  # assignments
        (Severity.WARNING, "item[@identifier='assignment_2']"),
        (Severity.WARNING, "item[@identifier='external_tool']"),  # points nowhere
        (Severity.WARNING, "resource[@identifier='resource_8_web_link_content']"),  # "/web-link"
        (Severity.WARNING, "resource[@identifier='resource_9_youtube_web_link']"),  # no scheme
        (Severity.INFO, "resource[@identifier='resource_1_course']"),  # Canvas course settings
        (Severity.WARNING, "web_link_content.xml"),  # a file no resource lists
    ]:
        assert key in keys, key
    assert lost[(Severity.WARNING, "resource[@identifier='resource_9_youtube_web_link']")] == (
        "weblink 'Django for beginners' has no absolute http(s) URL ('youtube.com/watch?v=1234ABCD'); not carried over"
    )
    canvas_links = [f.location for f in report.findings if f.code == "html-link-canvas"]
    assert canvas_links == [
        "wiki_content/wiki_content.html:11",
        "canvas_content/canvas_content.html:11",
        "wiki_content/external_tool_retrieve.html:15",
    ]


def test_filebase_links_become_relative_and_the_file_comes_along(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    convert(CANVAS / "canvas-cc13-main.imscc", out)
    with zipfile.ZipFile(out) as zf:
        page = zf.read("web_resources/vertical.html").decode()
        assert '<img src="web_resources/QuizImages/fractal.jpg"' in page
        assert "IMS-CC-FILEBASE" not in page
        assert zf.read("web_resources/web_resources/QuizImages/fractal.jpg")[:3] == b"\xff\xd8\xff"  # a JPEG


def test_canvas_corner_cases_convert_with_their_missing_licence_allowed(tmp_path: Path) -> None:
    source = CANVAS / "canvas-cc13-corner_cases.imscc"
    with pytest.raises(LicenceError):
        convert(source, tmp_path / "nein.imscc")
    assert list(tmp_path.iterdir()) == []
    report = convert(source, tmp_path / "ecken.imscc", allow_non_oer=True)
    assert report.valid and report.build.item_count == 1
    assert sorted(f.location.split(" ")[-1] for f in report.not_carried) == [
        "item[@identifier='migration_patterns']",
        "item[@identifier='unknown_qti_assessment']",
        "item[@identifier='unknown_resource_with_link']",
        "item[@identifier='unknown_resource_without_link']",
    ]


def test_cc13_cartridge_converts_to_cc11_keeping_outline_and_licences(tmp_path: Path) -> None:
    source = write_cartridge(tmp_path / "b13.imscc", good_cc13())
    report = convert(source, tmp_path / "b11.imscc")
    assert report.valid and report.not_carried == []
    with read_cartridge(source) as before, read_cartridge(tmp_path / "b11.imscc") as after:

        def rows(c):  # type: ignore[no-untyped-def]
            col = c.collection
            return [(i.title, i.kind, col.effective(i).licence, i.instructor_only, i.url) for i in col.items()]

        assert rows(after) == rows(before)
        assert after.collection.title == before.collection.title


def test_convert_to_cc13(tmp_path: Path) -> None:
    report = convert(write_cartridge(tmp_path / "b11.imscc", good_cc11()), tmp_path / "b13.imscc", "1.3")
    assert report.valid
    with read_cartridge(tmp_path / "b13.imscc") as c:
        assert c.version == "1.3"


def test_links_follow_renamed_files_and_unresolvable_ones_stay(tmp_path: Path) -> None:
    page = (
        b"<img src=\"$IMS-CC-FILEBASE$/Bild eins.png\"> <img src='%24IMS-CC-FILEBASE%24/fehlt.png?x=1'>\n"
        b'<a href="../material/Arbeitsblatt%20Br%C3%BCche.pdf#s2">AB</a> <a href="https://example.org/a b">x</a>'
    )
    files = {**good_cc11(), "wiki/seite.html": page, "web_resources/Bild eins.png": b"png"}
    files = replace(files, "imsmanifest.xml", "ueber/ueber-diese-sammlung.html", "wiki/seite.html", count=2)
    report = convert(write_cartridge(tmp_path / "in.imscc", files), tmp_path / "out.imscc")
    with zipfile.ZipFile(tmp_path / "out.imscc") as zf:
        out = zf.read("web_resources/wiki/seite.html").decode()
        assert '<img src="../web_resources/Bild-eins.png">' in out
        assert "<img src='%24IMS-CC-FILEBASE%24/fehlt.png?x=1'>" in out
        assert '<a href="../material/Arbeitsblatt-Brueche.pdf#s2">' in out
        assert '<a href="https://example.org/a b">' in out
        assert "web_resources/web_resources/Bild-eins.png" in zf.namelist()
        assert "web_resources/material/Arbeitsblatt-Brueche.pdf" in zf.namelist()
        line = out[: out.index("fehlt.png")].count("\n") + 1
    # Only the link to a file that was never there stays broken, and validation says so.
    assert [(f.code, f.location) for f in report.validation if f.severity is Severity.ERROR] == [
        ("html-link", f"web_resources/wiki/seite.html:{line}")
    ]
    assert not report.valid


# -- lms-bridge cc convert ---------------------------------------------------------------------


def test_cli_convert_reports_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    result = CliRunner().invoke(convert_command, [str(CANVAS / "canvas-cc13-main.imscc"), str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Not carried over:\n")
    assert "QTI quiz 'QTI'" in result.output
    last = result.output.rstrip().splitlines()[-1]
    assert last.startswith(f"converted {CANVAS / 'canvas-cc13-main.imscc'} (CC 1.3) → {out} (CC 1.1): 20 items, ")
    assert out.exists()


def test_cli_convert_json(tmp_path: Path) -> None:
    out = tmp_path / "kurs.imscc"
    result = CliRunner().invoke(convert_command, [str(CANVAS / "canvas-cc13-main.imscc"), str(out), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["ok"], data["valid"], data["source_version"], data["cc_version"]) == (True, True, "1.3", "1.1")
    assert data["build"]["item_count"] == 20
    assert {f["code"] for f in data["not_carried_over"]} == {"not-carried-over", "identifierref"}


def test_cli_convert_refuses_non_open_licences_without_traceback(tmp_path: Path) -> None:
    files = replace(
        good_cc11(),
        "imsmanifest.xml",
        "https://creativecommons.org/licenses/by-sa/4.0/deed.de",
        "https://creativecommons.org/licenses/by-nc-sa/4.0/deed.de",
    )
    source = write_cartridge(tmp_path / "nc.imscc", files)
    out = tmp_path / "out.imscc"
    result = CliRunner().invoke(convert_command, [str(source), str(out)])
    assert result.exit_code == 1
    assert "refused:" in result.output and "--allow-non-oer" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    allowed = CliRunner().invoke(convert_command, [str(source), str(out), "--allow-non-oer"])
    assert allowed.exit_code == 0 and out.exists()


def test_cli_convert_refuses_unreadable_input(tmp_path: Path) -> None:
    source = tmp_path / "kaputt.imscc"
    source.write_bytes(b"kein zip")
    result = CliRunner().invoke(convert_command, [str(source), str(tmp_path / "out.imscc")])
    assert result.exit_code == 1
    assert "not a readable zip archive" in result.output
