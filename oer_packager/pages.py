"""HTML for the cartridge: the TULLU footer in author pages, the generated pages.

Moodle keeps only the ``<body>`` of an HTML page and drops LOM rights, so the
attribution has to be *in* the body: :func:`with_footer` appends
``<p class="oer-attribution" lang="…">`` at its end. The author's HTML is kept
as written — no parser re-serialises it and no link is rewritten — with two
exceptions: the page is re-encoded as UTF-8 (and its charset declaration
says so), and a missing ``<body>`` is added around the content.

The insertion is textual: the footer goes before the *last* ``</body>``.
A page whose script contains the string ``</body>`` after the real end tag
would get the footer inside that script; authoring tools do not write that.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from html import escape

from oer_packager.licences import get as get_licence
from oer_packager.licences import restriction_note, text_lang, tullu
from oer_packager.model import Attribution, Collection, Item, Module, Person

#: Pages are read whole to insert the footer; larger "pages" are refused.
MAX_PAGE_BYTES = 20 * 1024 * 1024

TEXTS = {
    "de": {
        "about": "Über diese Sammlung",
        "overview": "Überblick",
        "attribution": "Lizenzen und Quellen",
        "authors": "Autorinnen und Autoren",
        "licence": "Lizenz",
        "source": "Quelle",
        "keywords": "Schlagwörter",
        "collection": "Sammlung",
        "oer": "Diese Sammlung ist eine offene Bildungsressource (OER). Die Lizenz jedes Inhalts "
        "steht unter dem Inhalt und auf der Seite „Lizenzen und Quellen“.",
        "list": "Alle Inhalte dieser Sammlung mit Titel, Urheber, Lizenz und Quelle (TULLU):",
        "teachers": "nur für Lehrkräfte",
    },
    "en": {
        "about": "About this collection",
        "overview": "Overview",
        "attribution": "Licences and sources",
        "authors": "Authors",
        "licence": "Licence",
        "source": "Source",
        "keywords": "Keywords",
        "collection": "Collection",
        "oer": "This collection is an open educational resource (OER). The licence of each item is "
        "shown below the item and on the page “Licences and sources”.",
        "list": "Every item of this collection with title, author, licence and source:",
        "teachers": "for teachers only",
    },
}

_URL = re.compile(r"https?://[^\s<>\"'()]+")
_BODY_END = re.compile(r"</body\s*>", re.I)
_BODY_START = re.compile(r"<body\b[^>]*>", re.I)
_HTML_START = re.compile(r"<html\b[^>]*>", re.I)
_HTML_END = re.compile(r"</html\s*>", re.I)
_HEAD_START = re.compile(r"<head\b[^>]*>", re.I)
_HEAD_END = re.compile(r"</head\s*>", re.I)
# Charset declarations: <?xml … encoding="…"?>, <meta charset="…">,
# <meta http-equiv="Content-Type" content="text/html; charset=…">.
_XML_DECL = re.compile(r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""", re.I)
# Exactly the paragraph footer_html() writes.
_OUR_FOOTER = re.compile(r'<p class="oer-attribution" lang="[^"<>]*">.*?</p>\n?', re.S)
_META_CHARSET = re.compile(r"""(<meta\b[^>]*?\bcharset\s*=\s*["']?)([A-Za-z0-9._:-]+)""", re.I)


@dataclass
class Page:
    """An HTML page ready for the cartridge, and what was done to it."""

    data: bytes
    notes: list[str] = field(default_factory=list)


def footer_html(attribution: Attribution, lang: str) -> str:
    """The visible attribution paragraph for one item."""
    return f'<p class="oer-attribution" lang="{escape(lang)}">{linkify(tullu(attribution, lang=lang))}</p>'


def linkify(text: str) -> str:
    """Escape ``text`` for HTML and turn its http(s) URLs into links."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:")
        out.append(escape(text[pos : m.start()]))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        pos = m.start() + len(url)
    out.append(escape(text[pos:]))
    return "".join(out)


def decode(raw: bytes) -> tuple[str, list[str]]:
    """Decode an HTML page: BOM, declared charset, UTF-8, else Windows-1252."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(codec, errors="replace"), []
    head = raw[:4096].decode("ascii", errors="replace")
    declared = _XML_DECL.search(head) or _META_CHARSET.search(head)
    if declared:
        try:
            codec = codecs.lookup(declared.group(2)).name
        except LookupError:
            codec = ""
        if codec:
            try:
                return raw.decode(codec), []
            except UnicodeDecodeError:
                pass
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        # Legacy German pages are almost always Windows-1252 (a superset of Latin-1).
        return raw.decode("cp1252", errors="replace"), ["not UTF-8; read as Windows-1252 and re-encoded as UTF-8"]


def declare_utf8(text: str) -> str:
    """Make every charset declaration say UTF-8; add one to <head> if there is none."""
    text, n_xml = _XML_DECL.subn(r"\g<1>UTF-8\g<3>", text, count=1)
    text, n_meta = _META_CHARSET.subn(r"\g<1>utf-8", text)
    if not (n_xml or n_meta):
        head = _HEAD_START.search(text)
        if head:
            text = f'{text[: head.end()]}\n<meta charset="utf-8">{text[head.end() :]}'
    return text


def with_footer(raw: bytes, footer: str, *, title: str, lang: str) -> Page:
    """Return the page as UTF-8 with ``footer`` at the end of its body."""
    text, notes = decode(raw)
    text = declare_utf8(text)
    text, n_old = _OUR_FOOTER.subn("", text)
    if n_old:  # a page from a cartridge this builder wrote: replace, do not repeat
        notes.append("replaced an earlier attribution footer")
    ends = list(_BODY_END.finditer(text))
    closing = f"{footer}\n</body>\n"
    html_start = _HTML_START.search(text)
    if ends:
        at = ends[-1].start()
        text = f"{text[:at]}{footer}\n{text[at:]}"
    elif _BODY_START.search(text):
        text = _before_html_end(text, closing)
        notes.append("no </body> end tag; added one after the attribution")
    elif html_start:
        head_end = _HEAD_END.search(text)
        start = head_end.end() if head_end else html_start.end()
        text = f"{text[:start]}\n<body>\n{_before_html_end(text[start:], closing)}"
        notes.append("no <body>; added one around the content")
    else:
        text = document(title, lang, f"{text}\n{footer}")
        notes.append("an HTML fragment; wrapped in a complete document")
    return Page(text.encode("utf-8"), notes)


def _before_html_end(text: str, insert: str) -> str:
    end = _HTML_END.search(text)
    return f"{text[: end.start()]}{insert}{text[end.start() :]}" if end else f"{text}\n{insert}"


def document(title: str, lang: str, body: str) -> str:
    """A complete UTF-8 HTML document."""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def overview_page(collection: Collection) -> bytes:
    """The first page of the cartridge: title, description, authors, licence."""
    lang = collection.language or "de"
    t = TEXTS[text_lang(lang)]
    parts = [f"<h2>{escape(collection.title)}</h2>"]
    parts += [f"<p>{escape(p.strip())}</p>" for p in collection.description.split("\n\n") if p.strip()]
    facts: list[tuple[str, str]] = []
    if collection.authors:
        facts.append((t["authors"], ", ".join(_person(p) for p in collection.authors)))
    lic = get_licence(collection.licence)
    if lic:
        facts.append((t["licence"], f'<a href="{escape(lic.deed(lang))}">{escape(lic.display_name(lang))}</a>'))
    elif collection.licence:
        facts.append((t["licence"], escape(collection.licence)))
    if collection.source:
        facts.append((t["source"], linkify(collection.source)))
    if collection.keywords:
        facts.append((t["keywords"], escape(", ".join(collection.keywords))))
    if facts:
        parts.append("<dl>\n" + "\n".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "\n</dl>")
    parts.append(f"<p>{escape(t['oer'])}</p>")
    parts.append(footer_html(collection_attribution(collection), lang))
    return document(f"{t['overview']}: {collection.title}", lang, "\n".join(parts)).encode("utf-8")


def attribution_page(collection: Collection) -> bytes:
    """The page "Lizenzen und Quellen": every item's TULLU line, module by module."""
    lang = collection.language or "de"
    t = TEXTS[text_lang(lang)]
    parts = [
        f"<h2>{escape(t['attribution'])}</h2>",
        f"<p>{escape(t['collection'])}: {linkify(tullu(collection_attribution(collection), lang=lang))}</p>",
        f"<p>{escape(t['list'])}</p>",
    ]

    def walk(module: Module, depth: int) -> None:
        level = min(3 + depth, 6)
        parts.append(f"<h{level}>{escape(module.title)}</h{level}>")
        entries = [c for c in module.children if isinstance(c, Item)]
        if entries:
            parts.append('<ul class="oer-attribution-list">')
            parts.extend(f"<li>{_entry(collection, item, lang)}</li>" for item in entries)
            parts.append("</ul>")
        for child in module.children:
            if isinstance(child, Module):
                walk(child, depth + 1)

    for module in collection.modules:
        walk(module, 0)
    return document(f"{t['attribution']}: {collection.title}", lang, "\n".join(parts)).encode("utf-8")


def _entry(collection: Collection, item: Item, lang: str) -> str:
    attribution = collection.effective(item)
    text = linkify(tullu(attribution, lang=lang))
    lic = get_licence(attribution.licence)
    if lic and not lic.is_open:
        text += f" <em>{escape(restriction_note(lic, lang))}</em>"
    if item.instructor_only:
        text += f" ({escape(TEXTS[text_lang(lang)]['teachers'])})"
    return text


def collection_attribution(collection: Collection) -> Attribution:
    return Attribution(
        title=collection.title, authors=list(collection.authors), licence=collection.licence, source=collection.source
    )


def discussion_text(prompt: str, footer: str) -> str:
    """The HTML text of a discussion topic: the prompt and the attribution."""
    if "<" in prompt and ">" in prompt:  # already HTML
        body = prompt.strip()
    else:
        body = "\n".join(f"<p>{escape(p.strip())}</p>" for p in prompt.split("\n\n") if p.strip())
    return f"{_OUR_FOOTER.sub('', body).rstrip()}\n{footer}"


def _person(person: Person) -> str:
    name = escape(person.name)
    return f'<a href="{escape(person.url)}">{name}</a>' if person.url else name
