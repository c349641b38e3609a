"""validate(): the good cartridges pass; every rule fails on its own mutation.

Each case mutates a copy of the known-good CC 1.1 (or 1.3) cartridge from
tests/oer/cartridges.py and asserts the exact code, severity and location
of the finding the rule must produce.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from oer_packager.cli_read import validate as validate_command
from oer_packager.findings import Finding, Severity, has_errors
from oer_packager.rules import archive
from oer_packager.validator import ARCHIVE_RULES, CARTRIDGE_RULES, validate
from tests.oer.cartridges import (
    Files,
    RawEntry,
    good_cc10,
    good_cc11,
    good_cc13,
    line_of,
    raw_zip,
    replace,
    write_cartridge,
)

M = "imsmanifest.xml"
ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def run(tmp_path: Path, files: Files, name: str = "brueche.imscc") -> list[Finding]:
    return validate(write_cartridge(tmp_path / name, files))


def at(files: Files, needle: str, path: str) -> str:
    """The location the validator gives a manifest element that starts with ``needle``."""
    return f"{M}:{line_of(files, M, needle)} {path}"


def manifest(old: str, new: str, *, base: Callable[[], Files] = good_cc11) -> Callable[[], Files]:
    return lambda: replace(base(), M, old, new)


def add_files(mutate: Callable[[], Files], extra: Files) -> Callable[[], Files]:
    return lambda: {**mutate(), **extra}


# -- the good cartridges --------------------------------------------------------------


def test_good_cc11_has_no_findings_at_all(tmp_path: Path) -> None:
    assert run(tmp_path, good_cc11()) == []


def test_good_cc13_has_no_findings_at_all(tmp_path: Path) -> None:
    assert run(tmp_path, good_cc13()) == []


def test_good_cc10_is_valid(tmp_path: Path) -> None:
    findings = run(tmp_path, good_cc10())
    assert not has_errors(findings)
    assert [(f.code, f.severity) for f in findings] == [("licence-inherited", INFO)]


def test_canvas_exports_are_read_and_judged() -> None:
    """The real Canvas exports have real defects; the validator names them."""
    fixtures = Path("/work/shared/fixtures/cartridges")
    main = validate(fixtures / "canvas-cc13-main.imscc")
    errors = {(f.code, f.location) for f in main if f.severity is ERROR}
    assert errors == {
        ("identifier-duplicate", f"{M}:69 item[@identifier='video']"),
        ("identifier-invalid", f"{M}:224 resource[@identifier='resource_module-|-introduction']"),
        ("identifierref", f"{M}:117 item[@identifier='external_tool']"),
        ("missing-file", f"{M}:225 resource[@identifier='resource_module-|-introduction']"
                         "/file[@href='wiki_content/module-|-introduction.html']"),
        ("resource-href", f"{M}:177 resource[@identifier='discussion_topic_dependency']"),
        ("resource-href", f"{M}:221 resource[@identifier='resource_external_tool_retrieve']"),
    }  # fmt: skip
    lost = {f.location for f in main if f.code == "unreferenced-file"}
    assert lost == {
        "resource_4_qti_no_items/assessment_meta.xml",
        "web_resources/QuizImages/fractal.jpg",
        "web_link_content.xml",
        "wiki_content/module-_-introduction.html",
    }
    corner = validate(fixtures / "canvas-cc13-corner_cases.imscc")
    assert ("missing-file", ERROR) in {(f.code, f.severity) for f in corner}
    assert ("resource-type", WARNING) in {(f.code, f.severity) for f in corner}


def test_every_rule_has_a_docstring_naming_its_codes() -> None:
    for rule in (*ARCHIVE_RULES, *CARTRIDGE_RULES):
        assert rule.__doc__ and ":" in rule.__doc__.split("\n")[0], rule.__name__


# -- one failing fixture per rule ---------------------------------------------------------


@dataclass
class Case:
    id: str
    files: Callable[[], Files]
    code: str
    severity: Severity
    location: Callable[[Files], str]


def item_loc(ident: str) -> Callable[[Files], str]:
    return lambda f: at(f, f'<item identifier="{ident}"', f"item[@identifier='{ident}']")


def resource_loc(ident: str) -> Callable[[Files], str]:
    return lambda f: at(f, f'<resource identifier="{ident}"', f"resource[@identifier='{ident}']")


def fixed(location: str) -> Callable[[Files], str]:
    return lambda _f: location


LONG_COMMENT = "<!-- " + "Diese Sammlung wurde von Hand erstellt. " * 15 + "-->\n"
FOREIGN = '<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Brüche</dc:title>\n      '
AUTHORIZATIONS = (
    '<authorizations xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imsccauth_v1p1" access="cartridge">'
    '<authorization cartridgeId="brueche" webservice="https://auth.example.org"/></authorizations>\n</manifest>'
)
BANK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2">'
    '<objectbank ident="bank"/></questestinterop>\n'
)
BANK_RESOURCE = (
    '  <resource identifier="R_bank" type="imsqti_xmlv1p2/imscc_xmlv1p1/question-bank"><file href="bank.xml"/>'
    "</resource>\n  </resources>"
)
ITEM_RIGHTS_LTI = """<metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
        </item>
      </item>"""


def _cartridge_rights_removed() -> Files:
    files = good_cc11()
    text = files[M].decode()
    start = text.index("      <lomimscc:rights>")
    end = text.index("</lomimscc:rights>", start) + len("</lomimscc:rights>\n")
    files[M] = (text[:start] + text[end:]).encode()
    return files


def _no_rights_anywhere_for_lti() -> Files:
    return replace(_cartridge_rights_removed(), M, ITEM_RIGHTS_LTI, "</item>\n        </item>\n      </item>")


def _lti_rights(text: str) -> Files:
    rights = "Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
    return replace(good_cc11(), M, ITEM_RIGHTS_LTI, ITEM_RIGHTS_LTI.replace(rights, text))


def _latin1_page() -> Files:
    files = good_cc11()
    files["brueche/einfuehrung.html"] = files["brueche/einfuehrung.html"].decode().encode("cp1252")
    return files


def _corrupt_page() -> Files:
    files = good_cc11()
    entries = [RawEntry(n, d) for n, d in files.items()]
    entries[2].crc = 0  # brueche/einfuehrung.html
    return {"__raw__": raw_zip(entries)}


def _nested() -> Files:
    return {f"brueche/{n}": d for n, d in good_cc11().items()}


CASES = [
    # archive
    Case("zip-corrupt-entry", _corrupt_page, "zip", ERROR, fixed("brueche/einfuehrung.html")),
    Case("manifest-missing", _nested, "manifest-missing", ERROR, fixed(M)),
    # manifest
    Case(
        "xml",
        manifest("</organizations>", "</organisations>"),
        "xml",
        ERROR,
        lambda f: f"{M}:{line_of(f, M, '</organisations>')}",
    ),
    Case(
        "version-namespace",
        manifest('xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"', 'xmlns="http://example.org/kein-cc"'),
        "version",
        ERROR,
        fixed(f"{M}:2"),
    ),
    Case(
        "version-schemaversion",
        manifest("<schemaversion>1.3.0</schemaversion>", "<schemaversion>1.2.0</schemaversion>", base=good_cc13),
        "version",
        WARNING,
        fixed(f"{M} metadata/schemaversion"),
    ),
    Case(
        "xsd",
        manifest('structure="rooted-hierarchy"', 'structure="tree"'),
        "xsd",
        ERROR,
        lambda f: f"{M}:{line_of(f, M, '<organization ')}",
    ),
    Case(
        "structure-1.3",
        manifest('structure="rooted-hierarchy"', 'structure="tree"', base=good_cc13),
        "structure",
        ERROR,
        lambda f: at(f, "<organization ", "organization"),
    ),
    Case(
        "structure-1.3-title",
        manifest("<title>Lösungen zum Arbeitsblatt</title>", "", base=good_cc13),
        "structure",
        ERROR,
        item_loc("I_loesungen"),
    ),
    Case(
        "moodle-namespace",
        manifest('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n' + LONG_COMMENT),
        "moodle-namespace",
        ERROR,
        fixed(f"{M}:1"),
    ),
    Case(
        "foreign-metadata",
        manifest(
            "<lomimscc:lom>\n                <lomimscc:lifeCycle>",
            FOREIGN + "<lomimscc:lom>\n                <lomimscc:lifeCycle>",
        ),
        "foreign-metadata",
        ERROR,
        lambda f: f"{M}:{line_of(f, M, '<dc:title')} <title>",
    ),
    Case(
        "foreign-metadata-1.3",
        manifest(
            "<lomimscc:lom>\n                <lomimscc:lifeCycle>",
            FOREIGN + "<lomimscc:lom>\n                <lomimscc:lifeCycle>",
            base=good_cc13,
        ),
        "foreign-metadata",
        WARNING,
        lambda f: f"{M}:{line_of(f, M, '<dc:title')} <title>",
    ),
    Case(
        "authorizations",
        manifest("</manifest>", AUTHORIZATIONS),
        "authorizations",
        ERROR,
        lambda f: f"{M}:{line_of(f, M, '<authorizations')} authorizations",
    ),
    # references
    Case(
        "identifier-duplicate",
        manifest('<item identifier="I_lti"', '<item identifier="I_video"'),
        "identifier-duplicate",
        ERROR,
        lambda f: at(f, '<item identifier="I_video" identifierref="R_lti"', "item[@identifier='I_video']"),
    ),
    Case(
        "identifier-invalid",
        lambda: replace(
            replace(good_cc11(), M, 'identifier="R_lti"', 'identifier="1 R_lti"'),
            M,
            'identifierref="R_lti"',
            'identifierref="1 R_lti"',
        ),
        "identifier-invalid",
        ERROR,
        resource_loc("1 R_lti"),
    ),
    Case(
        "identifierref",
        manifest('identifierref="R_lti"', 'identifierref="R_nix"'),
        "identifierref",
        ERROR,
        item_loc("I_lti"),
    ),
    Case(
        "dependency-unresolved",
        manifest('<dependency identifierref="R_arbeitsblatt"/>', '<dependency identifierref="R_fehlt"/>'),
        "dependency",
        ERROR,
        lambda f: at(
            f,
            '<dependency identifierref="R_fehlt"',
            "resource[@identifier='R_einfuehrung']/dependency[@identifierref='R_fehlt']",
        ),
    ),
    Case(
        "dependency-prohibited",
        manifest('<dependency identifierref="R_arbeitsblatt"/>', '<dependency identifierref="R_diskussion"/>'),
        "dependency",
        ERROR,
        lambda f: at(
            f,
            '<dependency identifierref="R_diskussion"',
            "resource[@identifier='R_einfuehrung']/dependency[@identifierref='R_diskussion']",
        ),
    ),
    Case(
        "path",
        manifest('<file href="brueche/bilder/pizza.png"/>', '<file href="../brueche/bilder/pizza.png"/>'),
        "path",
        ERROR,
        lambda f: at(
            f,
            '<file href="../brueche',
            "resource[@identifier='R_einfuehrung']/file[@href='../brueche/bilder/pizza.png']",
        ),
    ),
    Case(
        "path-backslash",
        manifest('<file href="brueche/bilder/pizza.png"/>', '<file href="brueche\\bilder\\pizza.png"/>'),
        "path",
        ERROR,
        lambda f: at(
            f, '<file href="brueche\\', "resource[@identifier='R_einfuehrung']/file[@href='brueche\\bilder\\pizza.png']"
        ),
    ),
    Case(
        "missing-file",
        lambda: {k: v for k, v in good_cc11().items() if k != "material/Lösungen.pdf"},
        "missing-file",
        ERROR,
        lambda f: at(
            f,
            '<file href="material/Lösungen.pdf"',
            "resource[@identifier='R_loesungen']/file[@href='material/Lösungen.pdf']",
        ),
    ),
    Case(
        "missing-file-percent-encoded",
        lambda: replace(
            good_cc11(), M, "material/Arbeitsblatt Brüche.pdf", "material/Arbeitsblatt%20Br%C3%BCche.pdf", count=2
        ),
        "missing-file",
        ERROR,
        lambda f: at(
            f,
            '<file href="material/Arbeitsblatt%20',
            "resource[@identifier='R_arbeitsblatt']/file[@href='material/Arbeitsblatt%20Br%C3%BCche.pdf']",
        ),
    ),
    Case(
        "resource-href",
        manifest('href="ueber/ueber-diese-sammlung.html">', 'href="ueber/anders.html">'),
        "resource-href",
        ERROR,
        resource_loc("R_ueber"),
    ),
    Case(
        "duplicate-file",
        manifest(
            '<file href="brueche/bilder/pizza.png"/>',
            '<file href="brueche/bilder/pizza.png"/><file href="brueche/bilder/pizza.png"/>',
        ),
        "duplicate-file",
        ERROR,
        lambda f: at(
            f,
            '<file href="brueche/bilder/pizza.png"',
            "resource[@identifier='R_einfuehrung']/file[@href='brueche/bilder/pizza.png']",
        ),
    ),
    Case(
        "unreferenced-file",
        lambda: {**good_cc11(), "material/vergessen.pdf": b"%PDF-1.4"},
        "unreferenced-file",
        WARNING,
        fixed("material/vergessen.pdf"),
    ),
    Case(
        "unreferenced-file-canvas",
        lambda: {**good_cc11(), "course_settings/canvas_export.txt": b"Q: A:"},
        "unreferenced-file",
        INFO,
        fixed("course_settings/canvas_export.txt"),
    ),
    # types and the CC profile rules
    Case(
        "resource-type",
        manifest('type="imsdt_xmlv1p1"', 'type="imsdt_xmlv1p3"'),
        "resource-type",
        ERROR,
        resource_loc("R_diskussion"),
    ),
    Case(
        "resource-type-unknown-1.3",
        manifest('type="imswl_xmlv1p3"', 'type="imsvideo_xmlv1p3"', base=good_cc13),
        "resource-type",
        WARNING,
        resource_loc("R_video"),
    ),
    Case(
        "descriptor-resource",
        add_files(
            manifest(
                '<file href="diskussion/brueche-im-alltag.xml"/>',
                '<file href="diskussion/brueche-im-alltag.xml"/><file href="diskussion/bild.png"/>',
            ),
            {"diskussion/bild.png": b"png"},
        ),
        "descriptor-resource",
        ERROR,
        resource_loc("R_diskussion"),
    ),
    Case(
        "descriptor-resource-href",
        manifest('type="imswl_xmlv1p1">', 'type="imswl_xmlv1p1" href="links/erklaervideo.xml">'),
        "descriptor-resource",
        ERROR,
        resource_loc("R_video"),
    ),
    Case(
        "question-bank",
        add_files(
            lambda: replace(
                replace(good_cc11(), M, "</resources>", BANK_RESOURCE),
                M,
                'identifierref="R_lti"',
                'identifierref="R_bank"',
            ),
            {"bank.xml": BANK.encode()},
        ),
        "question-bank",
        ERROR,
        item_loc("I_lti"),
    ),
    Case(
        "item-structure",
        manifest(
            "<title>Lösungen zum Arbeitsblatt</title>",
            "<title>Lösungen zum Arbeitsblatt</title>\n            "
            '<item identifier="I_kind"><title>Kind</title></item>',
        ),
        "item-structure",
        ERROR,
        item_loc("I_loesungen"),
    ),
    Case(
        "descriptor-xsd",
        lambda: replace(
            good_cc11(),
            "links/erklaervideo.xml",
            '<url href="https://video.example.org/brueche-vergleichen" target="_blank"/>',
            '<url target="_blank"/>',
        ),
        "descriptor",
        ERROR,
        fixed("links/erklaervideo.xml:4"),
    ),
    Case(
        "descriptor-namespace",
        lambda: replace(
            good_cc11(), "diskussion/brueche-im-alltag.xml", "imsccv1p1/imsdt_v1p1", "imsccv1p3/imsdt_v1p3"
        ),
        "descriptor",
        ERROR,
        fixed("diskussion/brueche-im-alltag.xml:2"),
    ),
    Case(
        "descriptor-1.3-lti",
        lambda: replace(
            good_cc13(),
            "lti/selbsteinschaetzung.xml",
            "<blti:launch_url>https://lms-bridge.example.org/lti/launch</blti:launch_url>",
            "",
        ),
        "descriptor",
        ERROR,
        fixed("lti/selbsteinschaetzung.xml:2"),
    ),
    Case(
        "descriptor-not-xml",
        lambda: {**good_cc11(), "links/erklaervideo.xml": b"<webLink><title>kaputt</webLink>"},
        "descriptor",
        ERROR,
        fixed("links/erklaervideo.xml:1"),
    ),
    # HTML pages
    Case("html-encoding", _latin1_page, "html-encoding", ERROR, fixed("brueche/einfuehrung.html:6")),
    Case(
        "html-link-missing",
        lambda: replace(good_cc11(), "brueche/einfuehrung.html", 'src="bilder/pizza.png"', 'src="bilder/salami.png"'),
        "html-link",
        ERROR,
        fixed("brueche/einfuehrung.html:7"),
    ),
    Case(
        "html-link-outside",
        lambda: replace(good_cc11(), "brueche/einfuehrung.html", 'src="bilder/pizza.png"', 'src="../../pizza.png"'),
        "html-link",
        ERROR,
        fixed("brueche/einfuehrung.html:7"),
    ),
    Case(
        "html-link-absolute",
        lambda: replace(
            good_cc11(), "brueche/einfuehrung.html", 'src="bilder/pizza.png"', 'src="/brueche/bilder/pizza.png"'
        ),
        "html-link",
        ERROR,
        fixed("brueche/einfuehrung.html:7"),
    ),
    Case(
        "html-link-encoded",
        lambda: replace(
            good_cc11(),
            "brueche/einfuehrung.html",
            'href="../material/Arbeitsblatt Brüche.pdf"',
            'href="../material/Arbeitsblatt%20Br%C3%BCche.pdf"',
        ),
        "html-link-encoded",
        WARNING,
        fixed("brueche/einfuehrung.html:8"),
    ),
    Case(
        "html-link-canvas",
        lambda: replace(
            good_cc11(), "brueche/einfuehrung.html", 'href="#aufgaben"', 'href="%24WIKI_REFERENCE%24/pages/aufgaben"'
        ),
        "html-link-canvas",
        WARNING,
        fixed("brueche/einfuehrung.html:9"),
    ),
    # licences
    Case("licence-missing", _cartridge_rights_removed, "licence-missing", WARNING, fixed(f"{M} metadata/lom/rights")),
    Case("licence-missing-item", _no_rights_anywhere_for_lti, "licence-missing", WARNING, item_loc("I_lti")),
    Case(
        "licence-inherited",
        lambda: replace(good_cc11(), M, ITEM_RIGHTS_LTI, "</item>\n        </item>\n      </item>"),
        "licence-inherited",
        INFO,
        fixed(f"{M} metadata/lom/rights"),
    ),
    Case(
        "licence-unknown", lambda: _lti_rights("Alle Rechte vorbehalten"), "licence-unknown", WARNING, item_loc("I_lti")
    ),
    Case(
        "licence-not-open",
        manifest(
            "https://creativecommons.org/licenses/by-sa/4.0/deed.de",
            "https://creativecommons.org/licenses/by-nc/4.0/deed.de",
        ),
        "licence-not-open",
        WARNING,
        item_loc("I_arbeitsblatt"),
    ),
    Case(
        "licence-conflict-two-in-one",
        manifest(
            "Lizenz: CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/deed.de)",
            "Lizenz: CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/) "
            "oder CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
        ),
        "licence-conflict",
        ERROR,
        item_loc("I_ueber"),
    ),
    Case(
        "licence-conflict-two-items",
        manifest(
            '<item identifier="I_m3">',
            '<item identifier="I_nochmal" identifierref="R_arbeitsblatt"><title>Noch'
            "mal</title><metadata><lomimscc:lom><lomimscc:rights><lomimscc:description>"
            "<lomimscc:string>CC BY 4.0 https://creativecommons.org/licenses/by/4.0/"
            "</lomimscc:string></lomimscc:description></lomimscc:rights></lomimscc:lom>"
            '</metadata></item>\n        <item identifier="I_m3">',
        ),
        "licence-conflict",
        ERROR,
        item_loc("I_nochmal"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_fails_on_its_fixture(tmp_path: Path, case: Case) -> None:
    files = case.files()
    if "__raw__" in files:
        path = tmp_path / "brueche.imscc"
        path.write_bytes(files["__raw__"])
        findings = validate(path)
    else:
        findings = run(tmp_path, files)
    expected = (case.code, case.severity, case.location(files))
    assert expected in [(f.code, f.severity, f.location) for f in findings], "\n".join(map(str, findings))
    assert all(f.message for f in findings)
    assert all(f.hint for f in findings if f.severity is ERROR)


def test_every_code_has_a_failing_fixture() -> None:
    codes = {c.code for c in CASES} | {"unsafe-archive"}
    documented = {
        "unsafe-archive", "zip", "manifest-missing", "xml", "version", "xsd", "structure", "moodle-namespace",
        "foreign-metadata", "authorizations", "identifier-duplicate", "identifier-invalid", "identifierref",
        "dependency", "path", "missing-file", "resource-href", "duplicate-file", "unreferenced-file", "resource-type",
        "descriptor-resource", "question-bank", "item-structure", "descriptor", "html-encoding", "html-link",
        "html-link-encoded", "html-link-canvas", "licence-missing", "licence-inherited", "licence-unknown",
        "licence-not-open", "licence-conflict",
    }  # fmt: skip
    assert codes == documented


def test_hostile_archive_is_one_finding(tmp_path: Path) -> None:
    path = tmp_path / "boese.imscc"
    path.write_bytes(raw_zip([RawEntry("imsmanifest.xml", b"<manifest/>"), RawEntry("../evil.html", b"x")]))
    [finding] = validate(path)
    assert (finding.code, finding.severity, finding.location) == ("unsafe-archive", ERROR, "boese.imscc")
    assert "'../evil.html'" in finding.message


def test_not_a_zip_is_one_finding(tmp_path: Path) -> None:
    path = tmp_path / "text.imscc"
    path.write_text("kein zip")
    [finding] = validate(path)
    assert (finding.code, finding.location) == ("zip", "text.imscc")


def test_manifest_missing_hint_names_the_nested_manifest(tmp_path: Path) -> None:
    [finding] = [f for f in run(tmp_path, _nested()) if f.code == "manifest-missing"]
    assert "'brueche/imsmanifest.xml'" in finding.hint


def test_corrupt_manifest_ends_the_chain(tmp_path: Path) -> None:
    entries = [RawEntry(n, d) for n, d in good_cc11().items()]
    entries[0].crc = 1
    path = tmp_path / "x.imscc"
    path.write_bytes(raw_zip(entries))
    assert [(f.code, f.location) for f in validate(path)] == [("zip", M)]


def test_xxe_manifest_is_an_xml_finding(tmp_path: Path) -> None:
    files = replace(
        good_cc11(),
        M,
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    )
    [finding] = run(tmp_path, files)
    assert (finding.code, finding.location) == ("xml", f"{M}:2")
    assert "entity declarations are not allowed" in finding.message


def test_integrity_rule_is_first(tmp_path: Path) -> None:
    assert ARCHIVE_RULES[0] is archive.entries_intact


# -- lms-bridge cc validate --------------------------------------------------------------


def test_cli_validate_good_exits_0(tmp_path: Path) -> None:
    path = write_cartridge(tmp_path / "brueche.imscc", good_cc11())
    result = CliRunner().invoke(validate_command, [str(path)])
    assert result.exit_code == 0
    assert result.output.strip() == f"valid: {path} (0 errors, 0 warnings, 0 info)"


def test_cli_validate_bad_exits_1_with_readable_findings(tmp_path: Path) -> None:
    files = replace(good_cc11(), M, 'identifierref="R_lti"', 'identifierref="R_nix"')
    path = write_cartridge(tmp_path / "brueche.imscc", files)
    result = CliRunner().invoke(validate_command, [str(path)])
    assert result.exit_code == 1
    line = line_of(files, M, '<item identifier="I_lti"')
    assert f"ERROR   {M}:{line} item[@identifier='I_lti']: identifierref 'R_nix' names no resource" in result.output
    assert "fix: point it at a resource/@identifier" in result.output
    assert result.output.rstrip().endswith("INVALID: " + str(path) + " (1 errors, 0 warnings, 0 info)")
    assert "Traceback" not in result.output


def test_cli_validate_json(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.imscc"
    path.write_bytes(b"PK nicht wirklich")
    result = CliRunner().invoke(validate_command, [str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("zip", "error")]


def test_cli_validate_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(validate_command, [str(tmp_path / "fehlt.imscc")])
    assert result.exit_code == 2
