"""Open licences by identifier, and the TULLU attribution line.

The registry knows the Creative Commons licences in their 4.0, 3.0 (unported)
and 3.0 DE (German port) versions, CC0 1.0 and the Public Domain Mark 1.0.
Identifiers follow SPDX where SPDX has one (``CC-BY-SA-4.0``, ``CC0-1.0``,
``CC-BY-SA-3.0-DE``); the Public Domain Mark is ``PDM-1.0``.

*Open* means open in the sense of the UNESCO OER definition and of the
Definition of Free Cultural Works that German OER practice follows: anyone
may reuse, adapt and redistribute, also commercially. CC0, PDM, BY and BY-SA
are open. NC (non-commercial) and ND (no derivatives) licences are known
identifiers but ``is_open`` is False: the builder refuses them unless the
author allows non-OER material, and then names the restriction in the
metadata (:func:`restriction_note`).

TULLU (Titel, Urheber, Lizenz, Link zur Lizenz, Ursprungsort) is the German
attribution convention; :func:`tullu` writes it in German or English,
with what was changed when the item is an adaptation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oer_packager.model import Attribution


@dataclass(frozen=True)
class Licence:
    """One licence. ``url`` is the canonical deed URL without a language suffix."""

    id: str  # "CC-BY-SA-4.0"
    name: str  # "Creative Commons Attribution-ShareAlike 4.0 International"
    version: str  # "4.0"
    url: str  # "https://creativecommons.org/licenses/by-sa/4.0/"
    is_open: bool
    short: str  # "CC BY-SA 4.0"
    name_de: str = ""  # "Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International"
    #: Restricting elements of a non-open licence: ("NC",), ("ND",), ("NC", "ND").
    restrictions: tuple[str, ...] = ()

    @property
    def public_domain(self) -> bool:
        """True for CC0 and the Public Domain Mark (no conditions to attribute under)."""
        return self.id in ("CC0-1.0", "PDM-1.0")

    def deed(self, lang: str = "de") -> str:
        """The human-readable deed in ``lang`` ("de" or "en")."""
        return f"{self.url}deed.{text_lang(lang)}"

    def display_name(self, lang: str = "de") -> str:
        return self.name_de if text_lang(lang) == "de" and self.name_de else self.name


# Element codes of the CC licences, in the order of the identifiers.
_ELEMENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # code: (English name part, German name part, restrictions)
    "by": ("Attribution", "Namensnennung", ()),
    "by-sa": ("Attribution-ShareAlike", "Namensnennung - Weitergabe unter gleichen Bedingungen", ()),
    "by-nd": ("Attribution-NoDerivatives", "Namensnennung - Keine Bearbeitungen", ("ND",)),
    "by-nc": ("Attribution-NonCommercial", "Namensnennung - Nicht kommerziell", ("NC",)),
    "by-nc-sa": (
        "Attribution-NonCommercial-ShareAlike",
        "Namensnennung - Nicht kommerziell - Weitergabe unter gleichen Bedingungen",
        ("NC",),
    ),
    "by-nc-nd": (
        "Attribution-NonCommercial-NoDerivatives",
        "Namensnennung - Nicht kommerziell - Keine Bearbeitungen",
        ("NC", "ND"),
    ),
}

# Version → (URL path suffix, id suffix, English jurisdiction, German jurisdiction, short suffix)
_PORTS = (
    ("4.0", "4.0/", "4.0", "4.0 International", "4.0 International", "4.0"),
    ("3.0", "3.0/", "3.0", "3.0 Unported", "3.0 Unported", "3.0"),
    ("3.0", "3.0/de/", "3.0-DE", "3.0 Germany", "3.0 Deutschland", "3.0 DE"),
)


def _build_registry() -> dict[str, Licence]:
    out: dict[str, Licence] = {}
    for code, (en, de, restrictions) in _ELEMENTS.items():
        for version, path, id_suffix, en_port, de_port, short_suffix in _PORTS:
            # 3.0 used "NoDerivs"; the 4.0 name is "NoDerivatives".
            en_name = en.replace("NoDerivatives", "NoDerivs") if version == "3.0" else en
            lic = Licence(
                id=f"CC-{code.upper()}-{id_suffix}",
                name=f"Creative Commons {en_name} {en_port}",
                version=version,
                url=f"https://creativecommons.org/licenses/{code}/{path}",
                is_open=not restrictions,
                short=f"CC {code.upper()} {short_suffix}",
                name_de=f"Creative Commons {de} {de_port}",
                restrictions=restrictions,
            )
            out[lic.id] = lic
    for lic in (
        Licence(
            id="CC0-1.0",
            name="CC0 1.0 Universal (Public Domain Dedication)",
            version="1.0",
            url="https://creativecommons.org/publicdomain/zero/1.0/",
            is_open=True,
            short="CC0 1.0",
            name_de="CC0 1.0 Universell (Verzicht auf das Urheberrecht)",
        ),
        Licence(
            id="PDM-1.0",
            name="Public Domain Mark 1.0",
            version="1.0",
            url="https://creativecommons.org/publicdomain/mark/1.0/",
            is_open=True,
            short="Public Domain Mark 1.0",
            name_de="Public Domain Mark 1.0 (gemeinfrei)",
        ),
    ):
        out[lic.id] = lic
    return out


LICENCES: dict[str, Licence] = _build_registry()

# Lookup keys: lower case, every run of separators turned into a single "-".
_SEP = re.compile(r"[\s_/.,:-]+")
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?creativecommons\.org/"
    r"(?P<kind>licenses|licences|publicdomain)/(?P<code>[a-z-]+)/(?P<version>\d\.\d)(?:/(?P<port>[a-z]{2}))?"
    r"(?:/.*)?$"
)


def _key(text: str) -> str:
    return _SEP.sub("-", text.strip().lower()).strip("-")


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for lic in LICENCES.values():
        for text in (lic.id, lic.short, lic.url):
            out[_key(text)] = lic.id
        if lic.id.startswith("CC-"):
            # "BY-SA 4.0", "by-sa/4.0" without the "CC" prefix
            out[_key(lic.id[3:])] = lic.id
    out.update(
        {
            "cc0": "CC0-1.0",
            "cc-zero": "CC0-1.0",
            "cc0-1-0-universal": "CC0-1.0",
            "pdm": "PDM-1.0",
            "pdm-1-0": "PDM-1.0",
            "public-domain-mark": "PDM-1.0",
            "public-domain-mark-1-0": "PDM-1.0",
        }
    )
    return out


_ALIASES = _aliases()


def canonical_id(text: str) -> str | None:
    """The registry identifier for ``text`` in any usual spelling, or None.

    Accepts identifiers in any case ("cc-by-sa-4.0"), the short names
    ("CC BY-SA 4.0", "CC BY-SA 3.0 DE"), and creativecommons.org URLs of the
    licence, its deed or legal code (http or https, with or without "www.").
    """
    if not text or not text.strip():
        return None
    m = _URL.match(text.strip().lower())
    if m:
        code, version, port = m["code"], m["version"], m["port"]
        if m["kind"] == "publicdomain":
            return {"zero": "CC0-1.0", "mark": "PDM-1.0"}.get(code) if version == "1.0" else None
        ident = f"CC-{code.upper()}-{version}" + (f"-{port.upper()}" if port else "")
        return ident if ident in LICENCES else None
    return _ALIASES.get(_key(text))


def get(identifier: str) -> Licence | None:
    """The licence for ``identifier`` (lenient, see :func:`canonical_id`) or None."""
    ident = canonical_id(identifier)
    return LICENCES[ident] if ident else None


def restriction_note(licence: Licence, lang: str = "de") -> str:
    """Say what makes a licence not open ("" for an open licence)."""
    if licence.is_open:
        return ""
    parts = {
        "de": {"NC": "nur nicht-kommerzielle Nutzung (NC)", "ND": "keine Bearbeitungen erlaubt (ND)"},
        "en": {"NC": "non-commercial use only (NC)", "ND": "no adaptations allowed (ND)"},
    }[text_lang(lang)]
    what = ", ".join(parts[r] for r in licence.restrictions)
    if text_lang(lang) == "de":
        return f"Keine offene Lizenz im Sinne von OER: {what}."
    return f"Not an open licence in the sense of OER: {what}."


def tullu(attribution: Attribution, *, lang: str = "de") -> str:
    """The TULLU line for ``attribution`` in German ("de") or English ("en").

    ``„Titel“ von A, B, Lizenz: CC BY-SA 4.0 (https://…/deed.de), Quelle: …,
    Änderungen: …`` / ``“Title” by A, B, licensed under CC BY-SA 4.0
    (https://…/deed.en), source: …, changes: …``. CC0 and the Public Domain Mark are phrased as a waiver and
    as public domain. An unknown licence is quoted as written; a missing one
    is named as missing.
    """
    de = text_lang(lang) == "de"
    title = attribution.title.strip()
    parts: list[str] = []
    head = _quote(title, de) if title else ""
    names = ", ".join(p.name.strip() for p in attribution.authors if p.name.strip())
    if names:
        head = f"{head} {'von' if de else 'by'} {names}".strip()
    if head:
        parts.append(head)
    parts.append(_licence_phrase(attribution.licence, de))
    if attribution.source.strip():
        parts.append(f"{'Quelle' if de else 'source'}: {attribution.source.strip()}")
    if attribution.changes.strip():
        parts.append(f"{'Änderungen' if de else 'changes'}: {attribution.changes.strip()}")
    return ", ".join(parts)


def _quote(title: str, de: bool) -> str:
    """Quote a title; quotation marks inside it become the single ones."""
    if de:
        return "„" + title.replace("„", "‚").replace("“", "‘") + "“"
    return "“" + title.replace("“", "‘").replace("”", "’") + "”"


def _licence_phrase(identifier: str, de: bool) -> str:
    lic = get(identifier) if identifier else None
    lang = "de" if de else "en"
    if lic is None:
        if not identifier.strip():
            return "Lizenz: keine Angabe" if de else "licence: not stated"
        return f"{'Lizenz' if de else 'licence'}: {identifier.strip()}"
    if lic.id == "CC0-1.0":
        return f"{'freigegeben unter' if de else 'dedicated to the public domain under'} {lic.short} ({lic.deed(lang)})"
    if lic.id == "PDM-1.0":
        return f"{'gemeinfrei' if de else 'public domain'} ({lic.short}, {lic.deed(lang)})"
    return f"{'Lizenz:' if de else 'licensed under'} {lic.short} ({lic.deed(lang)})"


def text_lang(lang: str) -> str:
    """Map a language tag to the two languages the texts exist in."""
    return "de" if (lang or "de").lower().startswith("de") else "en"
