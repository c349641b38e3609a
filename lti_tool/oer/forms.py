"""Reading the library's forms: metadata of collections and items, with messages for the user."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_tool.oer.attribution import offered_ids
from lti_tool.workspaces.text import TextError, clean_html, plain

F_TITLE = _l("Title")
F_AUTHORS = _l("Authors")
F_SOURCE = _l("Source (Ursprungsort)")
F_CHANGES = _l("Changes")
F_DESCRIPTION = _l("Description")
F_ORIGINAL_TITLE = _l("Title of the original")
F_URL = _l("Web address")
F_PROMPT = _l("Discussion prompt")
F_KEYWORDS = _l("Keywords")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_AUTHOR_LINE = re.compile(r"^(.*?)\s+(https?://\S+)$")
MAX_AUTHORS = 30


def multiline(raw: str | None, *, field: object, max_length: int = 5000) -> str:
    """A longer plain text: lines kept, control characters dropped."""
    value = "\n".join(" ".join(line.split()) for line in (raw or "").strip().splitlines()).strip()
    value = re.sub(r"\n{3,}", "\n\n", value)
    if len(value) > max_length:
        raise TextError(_("%(field)s is too long (at most %(n)d characters).", field=field, n=max_length))
    return value


def authors(raw: str | None) -> list[dict[str, str]]:
    """One author per line, optionally followed by a web address."""
    rows = []
    for line in (raw or "").splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        m = _AUTHOR_LINE.match(line)
        name, url = (m.group(1), m.group(2)) if m else (line, "")
        if len(name) > 255 or len(url) > 2048:
            raise TextError(_("%(field)s is too long (at most %(n)d characters).", field=F_AUTHORS, n=255))
        rows.append({"name": name, "url": url})
    if len(rows) > MAX_AUTHORS:
        raise TextError(_("Please name at most %(n)d authors.", n=MAX_AUTHORS))
    return rows


def authors_text(rows: list[dict[str, str]] | None) -> str:
    return "\n".join(f"{r.get('name', '')} {r.get('url', '')}".strip() for r in rows or [])


def licence(raw: str | None, *, required: bool = False, keep: str = "") -> str:
    """A licence identifier the packager knows ("" = as the collection); ``keep`` lets a stored value stay."""
    value = (raw or "").strip()
    if not value:
        if required:
            raise TextError(_("Please choose a licence."))
        return ""
    if value != keep and value not in offered_ids():
        raise TextError(_("Please choose one of the offered licences."))
    return value


def http_url(raw: str | None, *, field: object, required: bool = False) -> str:
    value = (raw or "").strip()
    if not value:
        if required:
            raise TextError(_("Please fill in: %(field)s.", field=field))
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2048:
        raise TextError(_("%(field)s must be a web address starting with https:// or http://.", field=field))
    return value


def attribution(form: Any, *, keep_licence: str = "") -> dict[str, Any]:
    return {
        "authors": authors(form.get("authors")),
        "licence": licence(form.get("licence"), keep=keep_licence),
        "source": plain(form.get("source"), field=str(F_SOURCE), max_length=2048, required=False),
    }


def collection(form: Any, *, keep_licence: str = "") -> dict[str, Any]:
    language = (form.get("language") or "de").strip()
    if not LANGUAGE.match(language):
        raise TextError(_("Please give the language as a code such as de or en."))
    keywords = [k for k in (" ".join(x.split()) for x in (form.get("keywords") or "").split(",")) if k]
    if len(keywords) > 50 or any(len(k) > 100 for k in keywords):
        raise TextError(_("%(field)s is too long (at most %(n)d characters).", field=F_KEYWORDS, n=100))
    return {
        "title": plain(form.get("title"), field=str(F_TITLE)),
        "description": multiline(form.get("description"), field=F_DESCRIPTION),
        "language": language,
        "keywords": keywords,
        **attribution(form, keep_licence=keep_licence),
    }


def item(form: Any, kind: str, *, keep_licence: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"title": plain(form.get("title"), field=str(F_TITLE))}
    if kind == "module":
        return data
    data.update(attribution(form, keep_licence=keep_licence))
    data.update({
        "description": multiline(form.get("description"), field=F_DESCRIPTION, max_length=2000),
        "attribution_title": plain(form.get("attribution_title"), field=str(F_ORIGINAL_TITLE), required=False),
        "changes": multiline(form.get("changes"), field=F_CHANGES, max_length=2000),
        "instructor_only": form.get("instructor_only") == "1",
    })
    if kind == "weblink":
        data["url"] = http_url(form.get("url"), field=F_URL, required=True)
    if kind == "discussion":
        data["text"] = prompt(form.get("text"))
    return data


def plain_optional(raw: str | None) -> str:
    return plain(raw, field=str(F_TITLE), required=False)


def prompt(raw: str | None) -> str:
    from lti_tool.workspaces.meetings.forms import html_to_text

    text = clean_html(raw, max_length=10000)
    if not html_to_text(text):
        raise TextError(_("Please fill in: %(field)s.", field=F_PROMPT))
    return text
