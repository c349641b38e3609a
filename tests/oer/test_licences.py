"""The licence registry, lenient lookup and the TULLU line."""

from __future__ import annotations

import pytest

from oer_packager import licences
from oer_packager.model import Attribution, Person

ISSUE_IDS = [
    "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0",
    "PDM-1.0", "CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-3.0-DE", "CC-BY-SA-3.0-DE", "CC-BY-NC-SA-3.0-DE",
]  # fmt: skip


@pytest.mark.parametrize("ident", ISSUE_IDS)
def test_every_licence_the_issue_names_is_registered(ident: str) -> None:
    lic = licences.get(ident)
    assert lic is not None and lic.id == ident
    assert lic.url.startswith("https://creativecommons.org/") and lic.url.endswith("/")


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
        ("CC BY-SA 4.0", "CC-BY-SA-4.0"),
        ("  CC BY SA 4.0 ", "CC-BY-SA-4.0"),
        ("BY-NC-ND 4.0", "CC-BY-NC-ND-4.0"),
        ("CC BY-SA 3.0 DE", "CC-BY-SA-3.0-DE"),
        ("cc_by_3.0_de", "CC-BY-3.0-DE"),
        ("CC0", "CC0-1.0"),
        ("CC0 1.0", "CC0-1.0"),
        ("PDM", "PDM-1.0"),
        ("Public Domain Mark 1.0", "PDM-1.0"),
        ("https://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0"),
        ("http://creativecommons.org/licenses/by-sa/4.0/deed.de", "CC-BY-SA-4.0"),
        ("https://creativecommons.org/licenses/by/4.0/legalcode.de", "CC-BY-4.0"),
        ("https://creativecommons.org/licenses/by-sa/3.0/de/", "CC-BY-SA-3.0-DE"),
        ("https://creativecommons.org/licenses/by-nd/3.0/deed.en", "CC-BY-ND-3.0"),
        ("https://www.creativecommons.org/publicdomain/zero/1.0/deed.de", "CC0-1.0"),
        ("creativecommons.org/publicdomain/mark/1.0/", "PDM-1.0"),
    ],
)
def test_lookup_accepts_usual_spellings(text: str, ident: str) -> None:
    assert licences.canonical_id(text) == ident
    assert licences.get(text).id == ident  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    ["", "  ", "CC-BY-SA-5.0", "MIT", "GPL-3.0", "Alle Rechte vorbehalten",
     "https://creativecommons.org/licenses/by-sa/2.0/", "https://example.org/licenses/by/4.0/"],
)  # fmt: skip
def test_lookup_refuses_what_it_does_not_know(text: str) -> None:
    assert licences.get(text) is None


@pytest.mark.parametrize(
    ("ident", "is_open", "restrictions"),
    [
        ("CC0-1.0", True, ()),
        ("PDM-1.0", True, ()),
        ("CC-BY-4.0", True, ()),
        ("CC-BY-SA-3.0-DE", True, ()),
        ("CC-BY-ND-4.0", False, ("ND",)),
        ("CC-BY-NC-4.0", False, ("NC",)),
        ("CC-BY-NC-SA-4.0", False, ("NC",)),
        ("CC-BY-NC-ND-3.0-DE", False, ("NC", "ND")),
    ],
)
def test_nc_and_nd_are_known_but_not_open(ident: str, is_open: bool, restrictions: tuple[str, ...]) -> None:
    lic = licences.LICENCES[ident]
    assert (lic.is_open, lic.restrictions) == (is_open, restrictions)
    assert bool(licences.restriction_note(lic, "de")) is not is_open


def test_registry_entries_carry_names_versions_and_deeds() -> None:
    by_sa = licences.LICENCES["CC-BY-SA-4.0"]
    assert (by_sa.short, by_sa.version) == ("CC BY-SA 4.0", "4.0")
    assert by_sa.name == "Creative Commons Attribution-ShareAlike 4.0 International"
    assert by_sa.name_de == "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International"
    assert by_sa.deed("de") == "https://creativecommons.org/licenses/by-sa/4.0/deed.de"
    assert by_sa.deed("en-GB") == "https://creativecommons.org/licenses/by-sa/4.0/deed.en"
    de_port = licences.LICENCES["CC-BY-3.0-DE"]
    assert (de_port.short, de_port.url) == ("CC BY 3.0 DE", "https://creativecommons.org/licenses/by/3.0/de/")
    assert de_port.name == "Creative Commons Attribution 3.0 Germany"
    assert licences.LICENCES["CC-BY-ND-3.0"].name == "Creative Commons Attribution-NoDerivs 3.0 Unported"
    assert licences.LICENCES["CC0-1.0"].url == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert licences.LICENCES["PDM-1.0"].url == "https://creativecommons.org/publicdomain/mark/1.0/"


def test_restriction_note_names_what_restricts() -> None:
    note = licences.restriction_note(licences.LICENCES["CC-BY-NC-ND-4.0"], "de")
    assert (
        note
        == "Keine offene Lizenz im Sinne von OER: nur nicht-kommerzielle Nutzung (NC), keine Bearbeitungen erlaubt (ND)."
    )
    assert "non-commercial" in licences.restriction_note(licences.LICENCES["CC-BY-NC-4.0"], "en")


AUTHORS = [Person("Autorin A"), Person("Autor B", "https://example.org/b")]


def test_tullu_german_with_source_and_changes() -> None:
    line = licences.tullu(
        Attribution("Titel", AUTHORS, "CC-BY-SA-4.0", "https://example.org/original", "gekürzt"), lang="de"
    )
    assert line == (
        "„Titel“ von Autorin A, Autor B, Lizenz: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/deed.de), "
        "Quelle: https://example.org/original, Änderungen: gekürzt"
    )


def test_tullu_english() -> None:
    line = licences.tullu(Attribution("Title", AUTHORS, "CC BY 3.0 DE", "Schulbuch S. 12"), lang="en")
    assert line == (
        "“Title” by Autorin A, Autor B, licensed under CC BY 3.0 DE "
        "(https://creativecommons.org/licenses/by/3.0/de/deed.en), source: Schulbuch S. 12"
    )


def test_tullu_phrases_cc0_and_public_domain_mark() -> None:
    assert licences.tullu(Attribution("Foto", [Person("Kim")], "CC0-1.0")) == (
        "„Foto“ von Kim, freigegeben unter CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/deed.de)"
    )
    assert licences.tullu(Attribution("Plakat", [], "PDM-1.0"), lang="en") == (
        "“Plakat”, public domain (Public Domain Mark 1.0, https://creativecommons.org/publicdomain/mark/1.0/deed.en)"
    )


def test_tullu_quotes_inside_titles_become_single_quotes() -> None:
    assert licences.tullu(Attribution("Podcast „Handyfrei“", [], "CC-BY-4.0")).startswith("„Podcast ‚Handyfrei‘“,")


def test_tullu_names_unknown_and_missing_licences_as_such() -> None:
    assert licences.tullu(Attribution("X", [], "Alle Rechte vorbehalten")) == "„X“, Lizenz: Alle Rechte vorbehalten"
    assert licences.tullu(Attribution("X", [], "")) == "„X“, Lizenz: keine Angabe"
    assert licences.tullu(Attribution("X", [], ""), lang="en") == "“X”, licence: not stated"
