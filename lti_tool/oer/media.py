"""What files the library takes, how they are checked, and how HTML pages are made safe.

Uploads are checked by content like workspace uploads (``workspaces.uploads``),
with the media types OER needs on top: HTML pages, audio and video. HTML is
cleaned with nh3 on the way *in* (uploads and imports), so a stored page is
always safe; the viewer cleans again when it resolves the page's links.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import nh3
from flask import current_app
from flask_babel import gettext as _
from markupsafe import escape

from lti_tool.workspaces.uploads import TYPES as WORKSPACE_TYPES

#: At most this much per uploaded file or cartridge, and never more than the app's MAX_CONTENT_LENGTH.
MAX_UPLOAD = 200 * 1024 * 1024
#: An HTML page is read into memory to be cleaned.
MAX_PAGE = 5 * 1024 * 1024
HTML_EXTENSIONS = frozenset({"html", "htm"})


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _prefix(*magics: bytes) -> Callable[[bytes], bool]:
    return lambda head: any(head.startswith(m) for m in magics)


def _mp4(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


#: extension -> (media type, check of the first bytes; None: UTF-8 text)
OER_TYPES: dict[str, tuple[str, Callable[[bytes], bool] | None]] = {
    ext: (ctype, _prefix(magic) if magic else None) for ext, (ctype, magic) in WORKSPACE_TYPES.items()
}
OER_TYPES.update({
    "html": ("text/html", None),
    "htm": ("text/html", None),
    "webp": ("image/webp", _riff(b"WEBP")),
    "mp3": ("audio/mpeg", _prefix(b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "ogg": ("audio/ogg", _prefix(b"OggS")),
    "oga": ("audio/ogg", _prefix(b"OggS")),
    "wav": ("audio/wav", _riff(b"WAVE")),
    "m4a": ("audio/mp4", _mp4),
    "mp4": ("video/mp4", _mp4),
    "ogv": ("video/ogg", _prefix(b"OggS")),
    "webm": ("video/webm", _prefix(b"\x1a\x45\xdf\xa3")),
})

#: Shown inside the page (img/audio/video) or opened in the browser; everything else is a download.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "audio/mpeg", "audio/ogg",
                          "audio/wav", "audio/mp4", "video/mp4", "video/ogg", "video/webm", "application/pdf"})


class MediaError(ValueError):
    """The file is refused; the message is for the user."""


def upload_limit() -> int:
    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(MAX_UPLOAD, int(configured)) if configured else MAX_UPLOAD


def safe_filename(name: str) -> str:
    """The last path part, with the characters the LMSs keep (originals survive as titles)."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.() -]+", "_", base).strip(" .") or "datei"
    return cleaned[:120]


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(name: str, head: bytes) -> str:
    """The media type of an uploaded file, or MediaError when its name or first bytes do not fit."""
    ext = extension(name)
    if ext not in OER_TYPES:
        raise MediaError(_("This file type is not allowed. Allowed: %(types)s.", types=", ".join(sorted(OER_TYPES))))
    if not head:
        raise MediaError(_("The file is empty."))
    media_type, check = OER_TYPES[ext]
    if check is not None and not check(head):
        raise MediaError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
    return media_type


def guess_type(path: str) -> str:
    """Media type of a file in a cartridge, from its name."""
    ext = extension(path)
    if ext in OER_TYPES:
        return OER_TYPES[ext][0]
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def is_page(name: str) -> bool:
    return extension(name) in HTML_EXTENSIONS


# -- HTML pages -------------------------------------------------------------------------------

PAGE_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark", "abbr", "cite", "q", "code",
    "pre", "kbd", "blockquote", "del", "ins", "span", "div", "section", "article", "header", "footer", "aside",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "figure", "figcaption",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col", "audio", "video", "source",
    "track", "details", "summary",
}
PAGE_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start", "type"},
    "audio": {"src", "controls"},
    "video": {"src", "controls", "width", "height"},
    "source": {"src", "type"},
    "track": {"src", "kind", "srclang", "label"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_BODY = re.compile(r"<body\b[^>]*>(.*?)(?:</body\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_HEAD = re.compile(r"<head\b[^>]*>.*?</head\s*>", re.IGNORECASE | re.DOTALL)
#: The attribution paragraph the packager's builder writes into every page; the library shows its own
#: TULLU line and the builder writes a fresh one on export, so an imported one is dropped.
_BUILDER_FOOTER = re.compile(r'<p\s+class="oer-attribution"[^>]*>.*?</p>', re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


def decode_html(data: bytes, *, strict: bool) -> str:
    """Text of an HTML file: UTF-8; imports also accept the charset the page declares."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if strict:
            raise MediaError(_("HTML pages must be UTF-8.")) from None
    declared = _CHARSET.search(data[:4096])
    try:
        return data.decode(declared.group(1).decode() if declared else "cp1252", errors="replace")
    except LookupError:
        return data.decode("cp1252", errors="replace")


def body_of(html: str) -> str:
    """The page's ``<body>`` content (what Moodle keeps), or the whole fragment."""
    found = _BODY.search(html)
    return found.group(1) if found else _HEAD.sub("", html)


def clean_body(html: str, attribute_filter: Callable[[str, str, str], str | None] | None = None) -> str:
    return nh3.clean(_BUILDER_FOOTER.sub("", body_of(html)), tags=PAGE_TAGS, attributes=PAGE_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     attribute_filter=attribute_filter, link_rel="noopener noreferrer nofollow")


def clean_page(data: bytes, *, title: str, lang: str = "de", strict: bool = False) -> bytes:
    """A stored page: a small UTF-8 document around the cleaned body."""
    body = clean_body(decode_html(data, strict=strict))
    doc = (f'<!DOCTYPE html>\n<html lang="{escape(lang or "de")}">\n<head>\n<meta charset="utf-8">\n'
           f"<title>{escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
    return doc.encode("utf-8")


def resolve(page_path: str, ref: str) -> str | None:
    """The package path a relative link of a page points to, or None for absolute/odd links."""
    ref = ref.strip()
    if not ref or ref.startswith(("#", "//")):
        return None
    ref = re.sub("%24IMS-CC-FILEBASE%24", "$IMS-CC-FILEBASE$", ref, flags=re.IGNORECASE)
    if "$IMS-CC-FILEBASE$" in ref:
        # Canvas: files of the cartridge's web_resources folder
        ref = "web_resources/" + urlsplit(ref.split("$IMS-CC-FILEBASE$", 1)[1]).path.lstrip("/")
        base = ""
    else:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            return None
        base = posixpath.dirname(page_path)
        ref = parts.path
    path = posixpath.normpath(posixpath.join(base, unquote(ref)))
    if path.startswith(("../", "/")) or path in ("..", "."):
        return None
    return path
