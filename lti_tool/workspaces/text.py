"""User text in workspaces: plain text and sanitised rich text.

Notes, minutes and session descriptions may carry simple formatting. They are
cleaned with nh3 (the Ammonia sanitiser) on the way *in*, so stored HTML is
always safe to render; nothing else is ever marked safe.
"""

from __future__ import annotations

import nh3
from flask_babel import gettext as _
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "h3", "h4", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


class TextError(ValueError):
    """A field's text is missing or too long; the message is for the user."""


def clean_html(raw: str | None, *, max_length: int = 20000) -> str:
    value = (raw or "").strip()
    if len(value) > max_length:
        raise TextError(_("The text is too long (at most %(n)d characters).", n=max_length))
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def rich(stored: str | None) -> Markup:
    """Render HTML that went through ``clean_html`` when it was stored."""
    return Markup(stored or "")


def plain(raw: str | None, *, field: str, max_length: int = 255, required: bool = True) -> str:
    value = " ".join((raw or "").split())
    if required and not value:
        raise TextError(_("Please fill in: %(field)s.", field=field))
    if len(value) > max_length:
        raise TextError(_("%(field)s is too long (at most %(n)d characters).", field=field, n=max_length))
    return value
