"""German by default, English available: from the LTI launch locale, then the browser."""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

LOCALES = ("de", "en")


def select_locale() -> str:
    from flask import current_app

    chosen = request.args.get("lang") or g.get("launch_locale") or session.get("locale")
    if chosen:
        short = str(chosen).replace("_", "-").split("-")[0].lower()
        if short in LOCALES:
            return short
    return request.accept_languages.best_match(LOCALES) or current_app.config["LMS_BRIDGE"].default_locale


def init_app(app: Flask) -> None:
    settings = app.config["LMS_BRIDGE"]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", settings.default_locale)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["get_locale"] = get_locale


def role_label(role: str) -> str:
    from flask_babel import gettext as _

    return {
        "learner": _("Learner"),
        "instructor": _("Teacher"),
        "content_developer": _("Content developer"),
        "administrator": _("Administrator"),
    }.get(role, role)
