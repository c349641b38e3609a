"""collection.yaml → Collection: the outline, defaults, and findings with line and field."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from oer_packager.collection import FolderSource, load_collection
from oer_packager.errors import CollectionError
from oer_packager.findings import Severity
from oer_packager.model import ItemKind, Module

FIXTURE = Path(__file__).parent / "fixtures" / "collection-medienkompetenz"


def write_collection(folder: Path, yaml_text: str, files: dict[str, bytes] | None = None) -> Path:
    """A collection folder with ``yaml_text`` as collection.yaml and the given files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "collection.yaml").write_text(textwrap.dedent(yaml_text).lstrip(), encoding="utf-8")
    for name, data in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def refused(folder: Path) -> list[tuple[str, str, str]]:
    """(code, severity, location) of every finding of a refused collection."""
    with pytest.raises(CollectionError) as info:
        load_collection(folder)
    return [(f.code, f.severity.value, f.location) for f in info.value.findings]


HEAD = """
title: Bruchrechnung Klasse 6
licence: CC-BY-SA-4.0
modules:
  - module: Grundlagen
    items:
"""  # items start on line 6


# -- the fixture -----------------------------------------------------------------


def test_fixture_loads_with_its_outline_and_metadata() -> None:
    collection, source, findings = load_collection(FIXTURE)
    assert collection.title == "Medienkompetenz Klasse 7"
    assert collection.language == "de"
    assert collection.keywords == ["Medienkompetenz", "Datenschutz", "Passwörter", "Fake News", "Klasse 7"]
    assert [(p.name, p.url) for p in collection.authors] == [
        ("Anna Schmidt", "https://example.org/anna-schmidt"),
        ("Jonas Weber", ""),
    ]
    assert collection.description.startswith("Materialien für vier Doppelstunden")
    assert [m.title for m in collection.modules] == [
        "Mein Smartphone und ich",
        "Passwörter und Datenschutz",
        "Reflexion",
    ]
    kinds = [(i.kind, i.title) for i in collection.items()]
    assert kinds == [
        (ItemKind.PAGE, "Einstieg – Wie viel Zeit verbringe ich am Smartphone?"),
        (ItemKind.FILE, "Podcast-Intro „Handyfrei“"),
        (ItemKind.WEBLINK, "klicksafe – Smartphones"),
        (ItemKind.DISCUSSION, "Austausch: Meine Apps"),
        (ItemKind.PAGE, "Passwörter sicher wählen"),  # default title: the original file name
        (ItemKind.FILE, "Arbeitsblatt Datenschutz – Übungen (Klasse 7)"),
        (ItemKind.PAGE, "Fake News erkennen"),
        (ItemKind.FILE, "Werbeplakat von 1910"),
        (ItemKind.LTI, "Selbsteinschätzung Medienkompetenz"),
        (ItemKind.PAGE, "Hinweise für Lehrkräfte"),
    ]
    nested = collection.modules[1].children[2]
    assert isinstance(nested, Module) and nested.title == "Vertiefung: Falschmeldungen erkennen"
    assert isinstance(source, FolderSource)
    # The one finding: the ND licence of a web link is reported, with its line.
    assert [(f.code, f.severity, f.location) for f in findings] == [
        ("non-open-licence", Severity.WARNING, "collection.yaml:27 modules[0].items[2].licence")
    ]


def test_fixture_items_keep_their_own_attribution_and_options() -> None:
    collection, _source, _findings = load_collection(FIXTURE)
    items = {i.title: i for i in collection.items()}
    page = items["Passwörter sicher wählen"]
    assert page.path == "seiten/Passwörter sicher wählen.html"
    assert page.assets == ["bilder/passwort-tresor.png"]
    assert page.attribution.licence == "CC-BY-SA-3.0-DE"
    assert page.attribution.changes == "gekürzt und an Klasse 7 angepasst"
    assert [p.name for p in page.attribution.authors] == ["Landesinstitut für Schule Beispielland"]
    assert items["Werbeplakat von 1910"].attribution.licence == "PDM-1.0"  # given as URL
    assert items["klicksafe – Smartphones"].attribution.licence == "CC-BY-ND-4.0"  # given as "CC BY-ND 4.0"
    lti = items["Selbsteinschätzung Medienkompetenz"]
    assert lti.url == "https://lms-bridge.example.org/lti/launch"
    assert lti.custom == {"instrument": "medienkompetenz-7", "round": "2025"}
    assert items["Hinweise für Lehrkräfte"].instructor_only is True
    assert not any(i.instructor_only for t, i in items.items() if t != "Hinweise für Lehrkräfte")
    assert items["Austausch: Meine Apps"].text.startswith("Welche drei Apps nutzt ihr jeden Tag?")
    # Inherited values come from the collection.
    inherited = collection.effective(items["Fake News erkennen"])
    assert (inherited.licence, inherited.source) == (
        "CC-BY-SA-4.0",
        "https://oer.example.org/sammlungen/medienkompetenz-7",
    )


# -- problems, each with line and field ------------------------------------------


@pytest.mark.parametrize(
    ("items_yaml", "files", "expected"),
    [
        ("      - file: fehlt.pdf\n", {}, ("missing-file", "collection.yaml:6 modules[0].items[0].file")),
        ("      - file: ../geheim.pdf\n", {}, ("path-outside", "collection.yaml:6 modules[0].items[0].file")),
        ("      - file: /etc/passwd\n", {}, ("path-outside", "collection.yaml:6 modules[0].items[0].file")),
        ("      - file: 'bilder\\\\a.png'\n", {}, ("bad-path", "collection.yaml:6 modules[0].items[0].file")),
        ("      - link: www.ohne-schema.de\n", {}, ("bad-url", "collection.yaml:6 modules[0].items[0].link")),
        ("      - lti: kein-url\n        title: Test\n", {}, ("bad-url", "collection.yaml:6 modules[0].items[0].lti")),
        ("      - discussion: Was meint ihr?\n", {}, ("missing-title", "collection.yaml:6 modules[0].items[0].title")),
        (
            "      - file: a.pdf\n        link: https://example.org\n",
            {"a.pdf": b"%PDF"},
            ("item-kind", "collection.yaml:6 modules[0].items[0]"),
        ),
        ("      - title: Nichts\n", {}, ("item-kind", "collection.yaml:6 modules[0].items[0]")),
        (
            "      - file: a.pdf\n        title: A\n        title: B\n",
            {"a.pdf": b"%PDF"},
            ("duplicate-key", "collection.yaml:8 modules[0].items[0].title"),
        ),
        (
            "      - file: a.pdf\n        instructor_only: vielleicht\n",
            {"a.pdf": b"%PDF"},
            ("bad-value", "collection.yaml:7 modules[0].items[0].instructor_only"),
        ),
        (
            "      - file: s.html\n        assets: [Bilder mit Leerzeichen.png]\n",
            {"s.html": b"<p>x</p>", "Bilder mit Leerzeichen.png": b"png"},
            ("unsafe-asset-name", "collection.yaml:7 modules[0].items[0].assets[0]"),
        ),
        (
            "      - file: a.pdf\n        assets: [b.png]\n",
            {"a.pdf": b"%PDF", "b.png": b"png"},
            ("bad-field", "collection.yaml:6 modules[0].items[0].assets"),
        ),
        (
            "      - lti: https://tool.example.org/launch\n        title: T\n        custom: {'bad name': x}\n",
            {},
            ("bad-custom-name", "collection.yaml:8 modules[0].items[0].custom.bad name"),
        ),
        (
            "      - file: a.pdf\n        authors: [{url: https://example.org}]\n",
            {"a.pdf": b"%PDF"},
            ("missing-field", "collection.yaml:7 modules[0].items[0].authors[0].name"),
        ),
    ],
)
def test_item_problems_name_line_and_field(
    tmp_path: Path, items_yaml: str, files: dict[str, bytes], expected: tuple[str, str]
) -> None:
    folder = write_collection(tmp_path / "c", HEAD, files)
    with (folder / "collection.yaml").open("a", encoding="utf-8") as f:
        f.write(items_yaml)
    found = [(code, loc) for code, severity, loc in refused(folder) if severity == "error"]
    assert expected in found


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    folder = write_collection(tmp_path / "c", "title: X\nmodules:\n  - module: A\n    items: [\n")
    [(code, severity, location)] = refused(folder)
    assert (code, severity) == ("yaml", "error") and location.startswith("collection.yaml:")


def test_top_level_problems(tmp_path: Path) -> None:
    folder = write_collection(
        tmp_path / "c", "description: ohne Titel\nmodules:\n  - file: a.pdf\n", {"a.pdf": b"%PDF"}
    )
    found = refused(folder)
    assert ("missing-field", "error", "collection.yaml:1 title") in found
    assert ("not-a-module", "error", "collection.yaml:3 modules[0]") in found
    assert ("missing-licence", "warning", "collection.yaml:1 licence") in found
    bad_language = write_collection(
        tmp_path / "e", HEAD.replace("licence:", "language: Deutsch!\nlicence:") + "      - link: https://example.org\n"
    )
    assert refused(bad_language) == [("bad-language", "error", "collection.yaml:2 language")]
    empty = write_collection(tmp_path / "d", "title: Leer\nlicence: CC0-1.0\n")
    assert refused(empty) == [("no-modules", "error", "collection.yaml:1 modules")]


def test_no_collection_yaml(tmp_path: Path) -> None:
    tmp_path.joinpath("x").mkdir()
    assert refused(tmp_path / "x") == [("no-collection-yaml", "error", "collection.yaml")]


def test_warnings_do_not_refuse(tmp_path: Path) -> None:
    folder = write_collection(
        tmp_path / "c",
        """
        title: Bruchrechnung
        licence: CC-BY-NC-4.0
        farbe: blau
        modules:
          - module: Leer
          - module: Grundlagen
            items:
              - file: a.pdf
                license: Eigene Lizenz 1.0
              - file: a.pdf
              - link: https://example.org
              - link: https://example.org
        """,
        {"a.pdf": b"%PDF"},
    )
    collection, _source, findings = load_collection(folder)
    got = [(f.code, f.severity.value, f.location) for f in findings]
    assert got == [
        ("unknown-field", "warning", "collection.yaml:3 farbe"),
        ("non-open-licence", "warning", "collection.yaml:2 licence"),
        ("empty-module", "warning", "collection.yaml:5 modules[0]"),
        ("unknown-licence", "warning", "collection.yaml:9 modules[1].items[0].licence"),
        ("duplicate-item", "warning", "collection.yaml:10 modules[1].items[1].file"),
        ("duplicate-item", "warning", "collection.yaml:12 modules[1].items[3].link"),
    ]
    # An unknown licence is kept as written; "license" is read as "licence".
    assert collection.items()[0].attribution.licence == "Eigene Lizenz 1.0"
    assert collection.licence == "CC-BY-NC-4.0"


def test_page_larger_than_the_cap_is_refused(tmp_path: Path) -> None:
    folder = write_collection(tmp_path / "c", HEAD + "      - file: riesig.html\n")
    with (folder / "riesig.html").open("wb") as f:
        f.truncate(20 * 1024 * 1024 + 1)  # sparse: no 20 MB written
    assert ("page-too-large", "error", "collection.yaml:6 modules[0].items[0].file") in refused(folder)


def test_symlink_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "geheim.pdf"
    outside.write_bytes(b"%PDF")
    folder = write_collection(tmp_path / "c", HEAD + "      - file: link.pdf\n")
    os.symlink(outside, folder / "link.pdf")
    assert ("path-outside", "error", "collection.yaml:6 modules[0].items[0].file") in refused(folder)


# -- the folder source -------------------------------------------------------------


def test_folder_source_serves_files_and_refuses_paths_outside(tmp_path: Path) -> None:
    root = tmp_path / "c"
    (root / "bilder").mkdir(parents=True)
    (root / "bilder" / "a.png").write_bytes(b"PNG-DATA")
    (tmp_path / "geheim.txt").write_text("nope")
    os.symlink(root / "bilder" / "a.png", root / "inside-link.png")
    os.symlink(tmp_path / "geheim.txt", root / "outside-link.txt")
    os.symlink(tmp_path, root / "outside-dir")
    source = FolderSource(root)
    with source.open("bilder/a.png") as f:
        assert f.read() == b"PNG-DATA"
    assert source.size("bilder/a.png") == 8
    assert source.exists("bilder/a.png") and not source.exists("bilder/b.png")
    assert source.exists("inside-link.png")
    for bad in ("../geheim.txt", "/etc/passwd", "bilder/../../geheim.txt", "outside-link.txt",
                "outside-dir/geheim.txt", "bilder\\a.png", ""):  # fmt: skip
        with pytest.raises(CollectionError) as info:
            source.open(bad)
        assert info.value.findings[0].code == "path-outside"
        with pytest.raises(CollectionError):
            source.exists(bad)
