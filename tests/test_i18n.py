"""German by default, English available, and the German catalog complete and compiled."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "lti_tool" / "translations" / "de" / "LC_MESSAGES"
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
    "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
    **{name: (1,) for name in ("LtiError", "LoginError", "LaunchError", "ReplayError",
                               "RegistrationLookupError", "DynamicRegistrationError", "ServiceError", "NetworkError")},
}
METHODS = [("lti_tool/**.py", "python"), ("lti_tool/templates/**.html", "jinja2")]


def _catalog():
    with open(CATALOG / "messages.po", "rb") as fh:
        return read_po(fh, locale="de")


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_ui_string_has_a_german_translation():
    catalog = _catalog()
    found = {(msg if isinstance(msg, str) else msg[0], ctx) for _file, _line, msg, _comments, ctx in
             extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS, options_map={"**.html": {}})}
    missing = sorted(str(i) for i, ctx in found
                     if not catalog.get(i, context=ctx) or not all(_strings(catalog.get(i, context=ctx))))
    assert missing == [], "run `make i18n` and translate: " + repr(missing[:10])


def test_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.mo", "rb") as fh:
        compiled = read_mo(fh)
    def key(m):
        return tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id

    def value(m):
        return tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string

    expected = {key(m): value(m) for m in _catalog() if m.id and m.string}
    actual = {key(m): value(m) for m in compiled if m.id}
    assert actual == expected, "run `make i18n` to recompile messages.mo"


def test_german_is_the_default_and_english_on_request(client):
    german = client.get("/lti/setup").get_data(as_text=True)
    assert '<html lang="de">' in german and "LMS Bridge in Ihrem LMS registrieren" in german
    english = client.get("/lti/setup?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Register LMS Bridge in your LMS" in english
    browser_en = client.get("/lti/setup", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Register LMS Bridge in your LMS" in browser_en


def test_launch_errors_are_shown_in_german(launcher):
    auth = launcher.login()
    resp = launcher.launch("not-a-jwt", auth["state"])
    assert resp.headers["X-LTI-Error"] == "jwt_malformed"
    assert "Das id_token ist kein JWT." in resp.get_data(as_text=True)


def test_error_with_details_is_translated_with_its_details(app):
    from lti_tool.errors import lti_error_response
    from lti_tool.protocol.errors import DynamicRegistrationError

    exc = DynamicRegistrationError("The platform configuration lacks: %(fields)s.", code="x", fields="jwks_uri")
    assert exc.message == "The platform configuration lacks: jwks_uri."
    with app.test_request_context("/"):
        body = lti_error_response(exc).get_data(as_text=True)
    assert "Der Plattformkonfiguration fehlt: jwks_uri." in body


def test_mo_roundtrip_is_byte_stable():
    """`make i18n` output is deterministic, so a stale .mo shows up in review."""
    buf = BytesIO()
    write_mo(buf, _catalog())
    assert buf.getvalue() == (CATALOG / "messages.mo").read_bytes()
