"""LOM metadata in the manifest — only what the official CC 1.1 profiles allow.

The CC 1.1 schemas restrict LOM sharply:

* cartridge level (``metadata/lomimscc:lom``, LOM *manifest* profile):
  general (title, language, description, keyword), lifeCycle/contribute
  (role from the LOMv1.0 vocabulary — no ``source`` element —, entity as a
  vCard), rights (cost, copyrightAndOtherRestrictions, description);
* resource level (``resource/metadata/lom:lom``, LOM *resource* profile):
  *only* ``educational`` with ``intendedEndUserRole`` (IMSGLC_CC_Rolesv1p1:
  Instructor, Learner, Mentor). Moodle hides Instructor and Mentor items.

So an item's own title, authors and licence cannot go into its resource's
LOM. They go into the organization item's ``<metadata>`` (the CP schema
allows any element of a declared namespace there) as a LOM *manifest*
profile record, next to the item's title — valid, and read by nobody who
does not look for it. Moodle drops LOM rights anyway; the visible TULLU
footer in every page (see :mod:`oer_packager.pages`) is what its users see.

Rights: ``copyrightAndOtherRestrictions`` is "no" for CC0 and the Public
Domain Mark and "yes" for every licence with conditions; the description
is the licence's short name and URL (the form Canvas writes), for a
non-open licence what restricts it, and the full TULLU line (last).
"""

from __future__ import annotations

import re

from lxml import etree

from oer_packager.licences import get as get_licence
from oer_packager.licences import restriction_note, text_lang, tullu
from oer_packager.model import Attribution, Collection, Person

ROLE_SOURCE = "IMSGLC_CC_Rolesv1p1"


def add_cartridge_lom(parent: etree._Element, ns: str, collection: Collection) -> etree._Element:
    """Append the cartridge's LOM record (manifest profile) to ``parent``."""
    lang = collection.language or "de"
    attribution = Attribution(
        title=collection.title, authors=list(collection.authors), licence=collection.licence, source=collection.source
    )
    lom = etree.SubElement(parent, f"{{{ns}}}lom")
    general = etree.SubElement(lom, f"{{{ns}}}general")
    _langstring(general, ns, "title", collection.title, lang)
    etree.SubElement(general, f"{{{ns}}}language").text = xml_text(lang)
    if collection.description.strip():
        _langstring(general, ns, "description", collection.description.strip(), lang)
    for keyword in collection.keywords:
        _langstring(general, ns, "keyword", keyword, lang)
    _add_life_cycle(lom, ns, collection.authors)
    _add_rights(lom, ns, attribution, lang)
    return lom


def add_item_lom(
    parent: etree._Element, ns: str, attribution: Attribution, *, description: str, lang: str
) -> etree._Element:
    """Append an item's LOM record (manifest profile): title, authors, rights."""
    lom = etree.SubElement(parent, f"{{{ns}}}lom")
    general = etree.SubElement(lom, f"{{{ns}}}general")
    _langstring(general, ns, "title", attribution.title, lang)
    if description.strip():
        _langstring(general, ns, "description", description.strip(), lang)
    _add_life_cycle(lom, ns, attribution.authors)
    _add_rights(lom, ns, attribution, lang)
    return lom


def add_role_lom(parent: etree._Element, ns: str, role: str = "Instructor") -> etree._Element:
    """Append a resource LOM record that names the intended end user role."""
    lom = etree.SubElement(parent, f"{{{ns}}}lom")
    educational = etree.SubElement(lom, f"{{{ns}}}educational")
    intended = etree.SubElement(educational, f"{{{ns}}}intendedEndUserRole")
    etree.SubElement(intended, f"{{{ns}}}source").text = ROLE_SOURCE
    etree.SubElement(intended, f"{{{ns}}}value").text = role
    return lom


def rights_description(attribution: Attribution, lang: str) -> str:
    """Licence name and URL, any restriction, and the TULLU line — one per line."""
    lic = get_licence(attribution.licence)
    if lic:
        first = f"{lic.short} - {lic.url}"
    else:
        first = attribution.licence.strip() or (
            "keine Lizenzangabe" if text_lang(lang) == "de" else "no licence stated"
        )
    lines = [first]
    if lic and not lic.is_open:
        lines.append(restriction_note(lic, lang))
    lines.append(tullu(attribution, lang=lang))  # last, so a reader can take it up to the end
    return "\n".join(lines)


def vcard(person: Person) -> str:
    """A vCard 3.0 for ``person`` (FN, N and, if known, URL), as LOM wants entities."""
    name = " ".join(person.name.split())
    given, _, family = name.rpartition(" ")
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{_vcard_escape(name)}",
        f"N:{_vcard_escape(family)};{_vcard_escape(given)};;;",
    ]
    if person.url:
        lines.append(f"URL:{person.url}")
    lines.append("END:VCARD")
    return "\n".join(lines)


def _vcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def _add_life_cycle(lom: etree._Element, ns: str, authors: list[Person]) -> None:
    people = [p for p in authors if p.name.strip()]
    if not people:  # lifeCycle needs at least one contribute
        return
    contribute = etree.SubElement(etree.SubElement(lom, f"{{{ns}}}lifeCycle"), f"{{{ns}}}contribute")
    etree.SubElement(etree.SubElement(contribute, f"{{{ns}}}role"), f"{{{ns}}}value").text = "author"
    for person in people:
        etree.SubElement(contribute, f"{{{ns}}}entity").text = xml_text(vcard(person))


def _add_rights(lom: etree._Element, ns: str, attribution: Attribution, lang: str) -> None:
    lic = get_licence(attribution.licence)
    rights = etree.SubElement(lom, f"{{{ns}}}rights")
    etree.SubElement(etree.SubElement(rights, f"{{{ns}}}cost"), f"{{{ns}}}value").text = "no"
    restricted = "no" if lic and lic.public_domain else "yes"
    etree.SubElement(
        etree.SubElement(rights, f"{{{ns}}}copyrightAndOtherRestrictions"), f"{{{ns}}}value"
    ).text = restricted
    _langstring(rights, ns, "description", rights_description(attribution, lang), lang)


def _langstring(parent: etree._Element, ns: str, name: str, text: str, lang: str) -> None:
    holder = etree.SubElement(parent, f"{{{ns}}}{name}")
    string = etree.SubElement(holder, f"{{{ns}}}string", language=xml_text(lang))
    string.text = xml_text(text)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters)."""
    return _NOT_XML.sub("", text)
