"""Small helpers every feature's pages use inside the LMS iframe.

Third-party cookies may be blocked, so a page finds its launch session by the
``launch`` id it carries in links and forms; ``lurl`` adds it to every URL and
``form_fields`` adds it (plus a CSRF token bound to that launch) to every form.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Flask, abort, g, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lti_tool.bridge import bridge


def _launch_id() -> str | None:
    ls = g.get("launch_session")
    return ls.id if ls is not None else None


def lurl(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the current launch session."""
    launch_id = _launch_id()
    if launch_id and "launch" not in values:
        values["launch"] = launch_id
    return url_for(endpoint, **values)


def csrf_token(launch_id: str) -> str:
    key = bridge().settings.secret_key.encode()
    return hmac.new(key, ("csrf:" + launch_id).encode(), hashlib.sha256).hexdigest()


def form_fields() -> Markup:
    """Hidden inputs for a POST form: the launch id and its CSRF token."""
    launch_id = _launch_id() or ""
    return Markup(
        f'<input type="hidden" name="launch" value="{escape(launch_id)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf_token(launch_id))}">'
    )


def check_csrf(launch_id: str) -> None:
    if not hmac.compare_digest(request.form.get("csrf", ""), csrf_token(launch_id)):
        abort(400, description=_("The form has expired. Please reload the page."))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(lurl=lurl, form_fields=form_fields)
