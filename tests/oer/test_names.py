"""Safe package paths and stable identifiers."""

from __future__ import annotations

import pytest

from oer_packager.names import (
    MAX_SEGMENT,
    IdentifierAllocator,
    PathAllocator,
    is_identifier,
    is_safe_path,
    safe_path,
    safe_segment,
)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Arbeitsblatt Datenschutz – Übungen (Klasse 7).pdf", "Arbeitsblatt-Datenschutz-Uebungen-Klasse-7.pdf"),
        ("Passwörter sicher wählen.html", "Passwoerter-sicher-waehlen.html"),
        ("Größe & Maße.PNG", "Groesse-Masse.PNG"),
        ("Ärger über Öl.txt", "Aerger-ueber-Oel.txt"),
        ("Crème brûlée.jpg", "Creme-brulee.jpg"),
        ("Yılmaz.docx", "Yilmaz.docx"),
        ("already-safe_name.v2.html", "already-safe_name.v2.html"),
        (".versteckt", "versteckt"),
        ("()[]{}.pdf", "file.pdf"),
        ("CON.txt", "CON-.txt"),
        ("nul", "nul-"),
        ("日本語.pdf", "file.pdf"),
    ],
)
def test_safe_segment(name: str, safe: str) -> None:
    assert safe_segment(name) == safe
    assert is_safe_path(safe)


def test_safe_segment_limits_length_and_keeps_the_extension() -> None:
    name = safe_segment("Ein sehr langer Dateiname " * 10 + ".pdf")
    assert len(name) <= MAX_SEGMENT and name.endswith(".pdf") and not name.endswith("-.pdf")


def test_safe_path_keeps_the_folders_and_their_depth() -> None:
    assert safe_path("Seiten für Klasse 7/Übung 1.html") == "Seiten-fuer-Klasse-7/Uebung-1.html"
    assert safe_path("bilder/foto.png") == "bilder/foto.png"


@pytest.mark.parametrize("path", ["a b.png", "../x.png", "x/../y.png", "ä.png", "-x.png", "a//b.png", ".x"])
def test_unsafe_paths(path: str) -> None:
    assert not is_safe_path(path)


def test_path_allocator_numbers_collisions_case_insensitively_and_in_order() -> None:
    paths = PathAllocator()
    assert paths.claim("Übung.pdf", "Uebung.pdf") == "Uebung.pdf"
    assert paths.claim("uebung.pdf", "uebung.pdf") == "uebung-2.pdf"
    assert paths.claim("UEBUNG.PDF", "UEBUNG.PDF") == "UEBUNG-3.PDF"
    assert paths.claim("Übung.pdf", "ignored") == "Uebung.pdf"  # the same key keeps its path
    assert paths.path_of("uebung.pdf") == "uebung-2.pdf"


def test_path_allocator_keeps_files_and_folders_apart() -> None:
    paths = PathAllocator()
    assert paths.claim("a b", "web/a-b") == "web/a-b"
    assert paths.claim("a-b/x.png", "web/a-b/x.png") == "web/a-b-2/x.png"  # "web/a-b" is a file
    fresh = PathAllocator()
    assert fresh.claim("x", "web/bild/x.png") == "web/bild/x.png"
    assert fresh.claim("y", "web/Bild") == "web/Bild-2"  # "web/bild" is a folder


def test_identifiers_are_ncnames_stable_and_distinct() -> None:
    first, second = IdentifierAllocator(), IdentifierAllocator()
    a = first.make("I", (1, 2), "page", "Einstieg")
    assert a == second.make("I", (1, 2), "page", "Einstieg")
    assert a.startswith("I_1_2_") and is_identifier(a)
    assert first.make("I", (1, 2), "page", "Einstieg") == f"{a}_2"  # asked twice: still unique
    assert first.make("I", (1, 2), "page", "Einstieg (neu)") != a
    assert not is_identifier("1abc") and not is_identifier("a:b") and not is_identifier("")
