"""Settings, health, registration information, proxies, error pages."""

from __future__ import annotations

import pytest
from flask import request

from config import SettingsError, load_settings
from tests.conftest import TOOL_URL


def test_defaults_need_no_configuration(tmp_path):
    s = load_settings({"LMS_BRIDGE_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'lms_bridge.sqlite3'}"
    assert len(s.secret_key) >= 40
    assert load_settings({"LMS_BRIDGE_INSTANCE_DIR": str(tmp_path)}).secret_key == s.secret_key  # persisted
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    assert (s.demo, s.redis_url, s.jwt_leeway, s.default_locale) == (False, "", 60, "de")


def test_environment_overrides(tmp_path):
    s = load_settings({
        "LMS_BRIDGE_INSTANCE_DIR": str(tmp_path), "LMS_BRIDGE_DEMO": "on", "LMS_BRIDGE_BASE_URL": "https://tool.example/",
        "LMS_BRIDGE_JWT_LEEWAY": "30", "LMS_BRIDGE_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    assert (s.demo, s.base_url, s.jwt_leeway, s.redis_url) == (True, "https://tool.example", 30, "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize("env", [{"LMS_BRIDGE_DEMO": "perhaps"}, {"LMS_BRIDGE_JWT_LEEWAY": "9999"},
                                 {"LMS_BRIDGE_DEFAULT_LOCALE": "fr"}])
def test_bad_settings_are_refused(tmp_path, env):
    with pytest.raises(SettingsError):
        load_settings({"LMS_BRIDGE_INSTANCE_DIR": str(tmp_path), **env})


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_config_json_has_everything_for_manual_registration(client):
    cfg = client.get("/lti/config.json").get_json()
    assert cfg["oidc_login_url"] == TOOL_URL + "/lti/login"
    assert cfg["redirect_uris"] == [TOOL_URL + "/lti/launch"]
    assert cfg["target_link_uri"] == TOOL_URL + "/lti/launch"
    assert cfg["jwks_url"] == TOOL_URL + "/lti/jwks.json"
    assert cfg["deep_linking_url"] == TOOL_URL + "/lti/launch"
    assert cfg["dynamic_registration_url"] == TOOL_URL + "/lti/register"
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in cfg["scopes"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in cfg["scopes"]
    assert {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"} <= set(cfg["messages"])
    assert cfg["title"] == "LMS Bridge" and cfg["description"]["de"]


def test_setup_page_shows_urls_with_copy_buttons(client):
    html = client.get("/lti/setup").get_data(as_text=True)
    for url in ("/lti/login", "/lti/launch", "/lti/jwks.json", "/lti/register"):
        assert f'value="{TOOL_URL}{url}"' in html
    assert html.count('class="copy"') >= 6
    assert "itslearning" in html and "Moodle" in html and "LOGINEO" in html


def test_proxy_headers_are_honoured_when_configured(tmp_path, database_url):
    from lti_tool import create_app

    def probe_app(proxies: int):
        app = create_app(load_settings({}, database_url=database_url, instance_dir=str(tmp_path),
                                       secret_key="k" * 40, proxy_fix=proxies))
        app.add_url_rule("/_probe", "probe", lambda: f"{request.scheme}://{request.host}")
        return app.test_client()

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.schule.example"}
    assert probe_app(1).get("/_probe", headers=headers).get_data(as_text=True) == "https://tool.schule.example"
    assert probe_app(0).get("/_probe", headers=headers).get_data(as_text=True) == "http://localhost"


def test_unknown_page_is_a_friendly_404(client):
    resp = client.get("/lti/nothing-here")
    assert resp.status_code == 404
    assert "Traceback" not in resp.get_data(as_text=True)


def test_unexpected_errors_show_no_stack_trace(app, client):
    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/_boom", "boom", boom)
    resp = client.get("/_boom")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body and "internal_error" in body


def test_pages_can_be_embedded_but_do_not_leak_referrers(client):
    resp = client.get("/lti/setup")
    assert "X-Frame-Options" not in resp.headers  # LMSs embed the tool
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
