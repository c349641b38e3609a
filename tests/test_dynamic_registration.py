"""LTI Dynamic Registration against a fake Moodle served over real HTTP.

``FakeMoodle`` answers like Moodle's ``mod/lti/openid-configuration.php``
(the captured Moodle 5.1 document, its URLs moved to the test server) and
``mod/lti/openid-registration.php``: bearer registration token required
(401 ``missing_registration_token`` / ``token_already_used``), the posted
client registration checked field by field (400 with a plain-text reason),
answer = the registration echoed with ``client_id`` and the new tool type id
as ``deployment_id`` in the lti-tool-configuration.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from lti_tool.bridge import bridge
from lti_tool.models import Deployment, Platform, Registration
from tests.conftest import LAUNCH_URL, TOOL_URL, Launcher, count_rows
from tests.ltiplatform import FakePlatform

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "moodle-lti"
CAPTURED_SITE = "http://127.0.0.1:8081"
CONFIG_PATH = "/mod/lti/openid-configuration.php"
REGISTRATION_PATH = "/mod/lti/openid-registration.php"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONF = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CLOSE_MESSAGE = 'postMessage({subject: "org.imsglobal.lti.close"}, "*")'
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZWctdG9rZW4ifQ.c2lnbmF0dXJlLW9mLXRoZS1yZWctdG9rZW4"
ALL_TOOL_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
TABLES = (Platform, Registration, Deployment)
NOTHING = {"platform": 0, "registration": 0, "deployment": 0}


def _domain(url: str) -> str:
    """Moodle's domain of a URL: scheme and a leading ``www.`` dropped, up to the first slash."""
    m = re.match(r"(?:https?://)?(?:www\.)?([^/]+)(?:/|$)", url, re.I)
    return m.group(1) if m else ""


class FakeMoodle:
    """A Moodle 5.1 site's dynamic registration endpoints."""

    def __init__(self, httpserver: HTTPServer, *, client_id: str = "dynReg8kQ2xYz1A", type_id: int = 7) -> None:
        self.server = httpserver
        self.base = httpserver.url_for("").rstrip("/")
        captured = (FIXTURES / "openid_configuration.json").read_text()
        self.config: dict[str, Any] = json.loads(captured.replace(CAPTURED_SITE, self.base))
        self.token = TOKEN
        self.client_id = client_id
        self.type_id = type_id
        self.used_tokens: set[str] = set()
        self.posted: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.config_requests: list[dict[str, Any]] = []
        self.answer_override: Response | None = None
        httpserver.expect_request(CONFIG_PATH, method="GET").respond_with_handler(self._configuration)
        httpserver.expect_request(REGISTRATION_PATH, method="POST").respond_with_handler(self._registration)

    @property
    def config_url(self) -> str:
        return self.base + CONFIG_PATH

    def register_url(self, *, token: str | None = TOKEN, config_url: str | None = None) -> str:
        from urllib.parse import urlencode

        query = {"openid_configuration": config_url or self.config_url}
        if token is not None:
            query["registration_token"] = token
        return "/lti/register?" + urlencode(query)

    # -- openid-configuration.php --------------------------------------------
    def _configuration(self, request: Request) -> Response:
        self.config_requests.append({"authorization": request.headers.get("Authorization")})
        return Response(json.dumps(self.config), content_type="application/json; charset=utf-8")

    # -- openid-registration.php ---------------------------------------------
    def _registration(self, request: Request) -> Response:
        self.requests.append(
            {
                "authorization": request.headers.get("Authorization"),
                "content_type": request.headers.get("Content-Type"),
            }
        )
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return Response("missing_registration_token", status=401)
        token = auth[7:].strip()
        if token != self.token or token in self.used_tokens:
            return Response("token_already_used", status=401)
        payload = json.loads(request.get_data())
        self.posted.append(payload)
        problem = self._check(payload)
        if problem:
            return Response(problem, status=400)
        self.used_tokens.add(token)
        if self.answer_override is not None:
            return self.answer_override
        return Response(json.dumps(self._answer(payload)), content_type="application/json; charset=utf-8")

    @staticmethod
    def _check(payload: dict[str, Any]) -> str | None:
        for key in (
            "response_types",
            "initiate_login_uri",
            "redirect_uris",
            "client_name",
            "jwks_uri",
            "token_endpoint_auth_method",
            TOOL_CONF,
        ):
            if not payload.get(key):
                return "missing required attribute " + key
        conf = payload[TOOL_CONF]
        domain = conf.get("domain")
        if not domain:
            return "missing_domain"
        target = conf.get("target_link_uri") or "https://" + domain
        if _domain(domain) != _domain(target):
            return "domain_targetlinkuri_mismatch"
        if "id_token" not in payload["response_types"]:
            return "invalid_response_types"
        if not isinstance(payload["redirect_uris"], list):
            return "invalid_redirect_uris"
        if payload["token_endpoint_auth_method"] != "private_key_jwt":
            return "invalid_token_endpoint_auth_method"
        if payload.get("application_type") and payload["application_type"] != "web":
            return "invalid_application_type"
        for key in ("client_name", "description"):
            value = payload.get(key) if key == "client_name" else conf.get(key)
            if value is not None and not isinstance(value, str):
                return "invalid " + key
        return None

    def _answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        conf = payload[TOOL_CONF]
        scopes = (payload.get("scope") or "").split()
        granted = [s for s in ALL_TOOL_SCOPES if s in scopes]
        dl = [m for m in conf.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"]
        tool_conf: dict[str, Any] = {
            "version": "1.3.0",
            "deployment_id": str(self.type_id),
            "target_link_uri": conf["target_link_uri"],
            "domain": conf["domain"],
            "description": conf.get("description", ""),
            "claims": ["sub", "iss", "name", "family_name", "given_name"],
        }
        if dl:
            tool_conf["messages"] = [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": dl[0].get("target_link_uri", "")}
            ]
        return {
            "client_id": self.client_id,
            "response_types": ["id_token"],
            "jwks_uri": payload["jwks_uri"],
            "initiate_login_uri": payload["initiate_login_uri"],
            "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": payload["redirect_uris"],
            "application_type": "web",
            "token_endpoint_auth_method": "private_key_jwt",
            "client_name": payload["client_name"],
            "logo_uri": "",
            "scope": " ".join(granted),
            TOOL_CONF: tool_conf,
        }


@pytest.fixture
def moodle(httpserver: HTTPServer) -> FakeMoodle:
    return FakeMoodle(httpserver)


@pytest.fixture
def https_only(app):
    """The production setting: plain http only for this machine."""
    b = bridge(app)
    b.settings = b.settings.with_overrides(allow_insecure_platforms=False)
    return b.settings


def refused(resp, code: str, status: int) -> None:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.headers.get("X-LTI-Error") == code
    assert code in resp.get_data(as_text=True)


# -- success ----------------------------------------------------------------


def test_moodle_registers_the_tool_and_the_window_is_asked_to_close(app, client, moodle, caplog):
    caplog.set_level(logging.DEBUG)
    resp = client.get(moodle.register_url())

    assert resp.status_code == 200, resp.get_data(as_text=True)
    html = resp.get_data(as_text=True)
    assert CLOSE_MESSAGE in html
    assert "(window.opener || window.parent)" in html
    assert moodle.client_id in html
    assert resp.headers["Cache-Control"] == "no-store"
    assert TOKEN not in html
    assert TOKEN not in caplog.text

    # The token goes to the registration endpoint only: one POST, bearer, JSON.
    assert moodle.config_requests == [{"authorization": None}]
    assert moodle.requests == [{"authorization": "Bearer " + TOKEN, "content_type": "application/json"}]
    [posted] = moodle.posted
    assert posted == {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": TOOL_URL + "/lti/login",
        "redirect_uris": [TOOL_URL + "/lti/launch"],
        "client_name": "LMS Bridge",
        "jwks_uri": TOOL_URL + "/lti/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(ALL_TOOL_SCOPES),
        TOOL_CONF: {
            "domain": "localhost",
            "target_link_uri": TOOL_URL + "/lti/launch",
            "description": "Netzwerk-Arbeitsbereiche, Selbstevaluation und OER-Pakete für Schulnetzwerke.",
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": [
                {
                    "type": "LtiResourceLinkRequest",
                    "target_link_uri": TOOL_URL + "/lti/launch",
                    "label": "LMS Bridge",
                },
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": TOOL_URL + "/lti/launch",
                    "label": "LMS Bridge",
                    "placements": ["ContentArea"],
                },
            ],
        },
    }

    assert count_rows(app, *TABLES) == {"platform": 1, "registration": 1, "deployment": 1}
    with bridge(app).db.sessions() as s:
        platform = s.scalars(select(Platform)).one()
        reg = s.scalars(select(Registration)).one()
        dep = s.scalars(select(Deployment)).one()
        assert platform.issuer == moodle.base
        assert platform.product_family == "moodle"
        assert platform.name
        assert reg.source == "dynamic"
        assert reg.client_id == moodle.client_id
        assert reg.auth_login_url == moodle.base + "/mod/lti/auth.php"
        assert reg.auth_token_url == moodle.base + "/mod/lti/token.php"
        assert reg.key_set_url == moodle.base + "/mod/lti/certs.php"
        assert reg.key_set is None
        assert (dep.deployment_id, dep.active, dep.registration_id) == ("7", True, reg.id)

    info = bridge(app).registry.find(moodle.base, moodle.client_id)
    assert info.client_id == moodle.client_id
    assert bridge(app).registry.deployment(info.pk, "7") == (dep.id, True)


def test_registered_moodle_can_launch_the_tool(app, client, moodle, httpserver):
    assert client.get(moodle.register_url()).status_code == 200

    # The same site now launches with the client_id and deployment it issued.
    site = FakePlatform(
        issuer=moodle.base,
        client_id=moodle.client_id,
        deployment_id=str(moodle.type_id),
        jwks_url=moodle.config["jwks_uri"],
    )
    httpserver.expect_request("/mod/lti/certs.php").respond_with_json(site.jwks())
    launcher = Launcher(client, site)
    auth = launcher.login()
    assert auth["client_id"] == moodle.client_id
    resp = launcher.launch(site.sign(site.claims(auth["nonce"], LAUNCH_URL)), auth["state"])
    assert resp.status_code == 303, (resp.headers.get("X-LTI-Error"), resp.get_data(as_text=True)[:300])
    assert "/lti/home" in resp.headers["Location"]


def test_scopes_and_placements_follow_what_the_platform_offers(app, client, moodle):
    moodle.config["scopes_supported"] = [
        "openid",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ]
    moodle.config[PLATFORM_CONF]["messages_supported"] = [
        {"type": "LtiResourceLinkRequest"},
        {"type": "LtiDeepLinkingRequest"},
    ]
    assert client.get(moodle.register_url()).status_code == 200
    [posted] = moodle.posted
    assert posted["scope"] == (
        "https://purl.imsglobal.org/spec/lti-ags/scope/score "
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
    )
    dl = [m for m in posted[TOOL_CONF]["messages"] if m["type"] == "LtiDeepLinkingRequest"]
    assert dl == [{"type": "LtiDeepLinkingRequest", "target_link_uri": TOOL_URL + "/lti/launch", "label": "LMS Bridge"}]


def test_registering_again_updates_the_registration(app, client, moodle):
    assert client.get(moodle.register_url()).status_code == 200
    moodle.token = TOKEN + "-update"
    moodle.config["jwks_uri"] = moodle.base + "/mod/lti/certs.php?v=2"
    assert client.get(moodle.register_url(token=moodle.token)).status_code == 200
    assert count_rows(app, *TABLES) == {"platform": 1, "registration": 1, "deployment": 1}
    with bridge(app).db.sessions() as s:
        assert s.scalars(select(Registration.key_set_url)).one() == moodle.base + "/mod/lti/certs.php?v=2"


# -- the request from the LMS ---------------------------------------------------


def test_missing_openid_configuration_is_refused(app, client, moodle):
    resp = client.get("/lti/register?registration_token=" + TOKEN)
    refused(resp, "registration_config_missing", 400)
    assert moodle.requests == []
    assert count_rows(app, *TABLES) == NOTHING


def test_openid_configuration_that_is_not_a_url_is_refused(app, client, moodle):
    resp = client.get("/lti/register?openid_configuration=mod/lti/openid-configuration.php")
    refused(resp, "registration_config_invalid", 400)
    assert count_rows(app, *TABLES) == NOTHING


def test_missing_registration_token_is_not_sent_and_moodle_refuses(app, client, moodle):
    resp = client.get(moodle.register_url(token=None))
    refused(resp, "registration_refused", 502)
    assert moodle.requests == [{"authorization": None, "content_type": "application/json"}]
    assert "missing_registration_token" in resp.get_data(as_text=True)
    assert count_rows(app, *TABLES) == NOTHING


# -- the platform's configuration --------------------------------------------


def test_issuer_of_another_origin_is_refused(app, client, moodle):
    port = moodle.server.port
    moodle.config["issuer"] = f"http://127.0.0.1:{port}"  # same port, other host
    resp = client.get(moodle.register_url())
    refused(resp, "registration_issuer_mismatch", 400)
    assert moodle.requests == []
    assert count_rows(app, *TABLES) == NOTHING


def test_issuer_on_another_port_is_refused(app, client, moodle):
    moodle.config["issuer"] = "http://localhost:1"
    refused(client.get(moodle.register_url()), "registration_issuer_mismatch", 400)
    assert moodle.requests == []


def test_unreachable_configuration(app, client, moodle):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    resp = client.get(moodle.register_url(config_url=f"http://127.0.0.1:{port}{CONFIG_PATH}"))
    refused(resp, "registration_config_unreachable", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_configuration_answering_404(app, client, moodle, httpserver):
    httpserver.expect_request("/mod/lti/nowhere.php").respond_with_data("Not found", status=404)
    resp = client.get(moodle.register_url(config_url=moodle.base + "/mod/lti/nowhere.php"))
    refused(resp, "registration_config_unreachable", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_configuration_that_is_not_json(app, client, moodle, httpserver):
    httpserver.expect_request("/login/index.php").respond_with_data(
        "<!DOCTYPE html><html><body>Moodle login</body></html>", content_type="text/html"
    )
    resp = client.get(moodle.register_url(config_url=moodle.base + "/login/index.php"))
    refused(resp, "registration_config_invalid", 502)
    assert moodle.requests == []
    assert count_rows(app, *TABLES) == NOTHING


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"]
)
def test_configuration_without_a_required_field(app, client, moodle, field):
    del moodle.config[field]
    moodle.config[PLATFORM_CONF]["product_family_code"] = "some-lms"
    resp = client.get(moodle.register_url())
    refused(resp, "registration_config_invalid", 502)
    assert field in resp.get_data(as_text=True)
    assert moodle.requests == []
    assert count_rows(app, *TABLES) == NOTHING


# -- https -------------------------------------------------------------------


def test_plain_http_configuration_url_of_a_remote_host_is_refused(app, client, moodle, https_only):
    resp = client.get(moodle.register_url(config_url="http://moodle.schule.example" + CONFIG_PATH))
    refused(resp, "registration_insecure_url", 400)
    assert count_rows(app, *TABLES) == NOTHING


def test_plain_http_registration_endpoint_of_a_remote_host_is_refused(app, client, moodle, https_only):
    moodle.config["registration_endpoint"] = "http://moodle.schule.example" + REGISTRATION_PATH
    resp = client.get(moodle.register_url())
    refused(resp, "registration_insecure_url", 400)
    assert moodle.requests == []
    assert count_rows(app, *TABLES) == NOTHING


def test_local_http_platform_is_allowed_without_the_insecure_setting(app, client, moodle, https_only):
    assert https_only.allow_insecure_platforms is False
    assert client.get(moodle.register_url()).status_code == 200
    assert count_rows(app, *TABLES) == {"platform": 1, "registration": 1, "deployment": 1}


# -- the platform's answer ---------------------------------------------------


@pytest.mark.parametrize("status,body", [(400, "missing required attribute client_name"), (401, "token_already_used")])
def test_platform_refusal_stores_nothing(app, client, moodle, status, body):
    moodle.answer_override = Response(body, status=status)
    resp = client.get(moodle.register_url())
    refused(resp, "registration_refused", 502)
    assert f"HTTP {status}" in resp.get_data(as_text=True)
    assert body in resp.get_data(as_text=True)
    assert count_rows(app, *TABLES) == NOTHING


def test_token_already_used_is_refused(app, client, moodle):
    moodle.used_tokens.add(TOKEN)
    resp = client.get(moodle.register_url())
    refused(resp, "registration_refused", 502)
    assert "token_already_used" in resp.get_data(as_text=True)
    assert count_rows(app, *TABLES) == NOTHING


def test_refusal_body_echoing_the_token_is_not_shown(app, client, moodle, caplog):
    caplog.set_level(logging.DEBUG)
    moodle.answer_override = Response("invalid token " + TOKEN, status=401)
    resp = client.get(moodle.register_url())
    refused(resp, "registration_refused", 502)
    assert TOKEN not in resp.get_data(as_text=True)
    assert TOKEN not in caplog.text


def test_answer_without_client_id_stores_nothing(app, client, moodle):
    moodle.answer_override = Response(json.dumps({TOOL_CONF: {"deployment_id": "7"}}), content_type="application/json")
    resp = client.get(moodle.register_url())
    refused(resp, "registration_answer_invalid", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_answer_that_is_not_json_stores_nothing(app, client, moodle):
    moodle.answer_override = Response("<html>Fehler</html>", status=200, content_type="text/html")
    refused(client.get(moodle.register_url()), "registration_answer_invalid", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_answer_with_empty_deployment_id_stores_nothing(app, client, moodle):
    moodle.answer_override = Response(
        json.dumps({"client_id": "abc", TOOL_CONF: {"deployment_id": ""}}), content_type="application/json"
    )
    refused(client.get(moodle.register_url()), "registration_answer_invalid", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_registration_endpoint_unreachable_stores_nothing(app, client, moodle):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moodle.config["registration_endpoint"] = f"http://localhost:{port}{REGISTRATION_PATH}"
    refused(client.get(moodle.register_url()), "registration_endpoint_unreachable", 502)
    assert count_rows(app, *TABLES) == NOTHING


def test_close_page_in_english(app, client, moodle):
    resp = client.get(moodle.register_url(), headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "LMS Bridge is registered" in html
    assert CLOSE_MESSAGE in html


# -- protocol details -------------------------------------------------------------


def test_platform_without_deep_linking_gets_no_deep_linking_message(app, client, moodle):
    moodle.config[PLATFORM_CONF]["messages_supported"] = [{"type": "LtiResourceLinkRequest"}]
    assert client.get(moodle.register_url()).status_code == 200
    [posted] = moodle.posted
    assert [m["type"] for m in posted[TOOL_CONF]["messages"]] == ["LtiResourceLinkRequest"]


def test_early_moodle_platform_configuration_is_understood():
    # Moodle 3.10 published the block under a key with a trailing blank and
    # listed messages as plain names, with placements beside them.
    from lti_tool.protocol import dynreg

    site = "https://moodle.schule.example"
    doc = {
        "issuer": site,
        "authorization_endpoint": site + "/mod/lti/auth.php",
        "token_endpoint": site + "/mod/lti/token.php",
        "jwks_uri": site + "/mod/lti/certs.php",
        "registration_endpoint": site + REGISTRATION_PATH,
        PLATFORM_CONF + " ": {
            "product_family_code": "moodle",
            "version": "3.10",
            "messages_supported": ["LtiResourceLink", "LtiDeepLinkingRequest"],
            "placements": ["AddContentMenu"],
        },
    }
    platform = dynreg.parse_platform_configuration(doc, site + CONFIG_PATH, allow_insecure=False)
    assert platform.product_family == "moodle"
    assert platform.scopes_supported is None
    body = dynreg.client_registration(
        {
            "title": "LMS Bridge",
            "description": {"de": "Beschreibung", "en": "Description"},
            "oidc_login_url": TOOL_URL + "/lti/login",
            "redirect_uris": [TOOL_URL + "/lti/launch"],
            "target_link_uri": TOOL_URL + "/lti/launch",
            "deep_linking_url": TOOL_URL + "/lti/launch",
            "jwks_url": TOOL_URL + "/lti/jwks.json",
            "domain": "localhost",
            "scopes": ALL_TOOL_SCOPES,
            "claims": ["sub"],
            "messages": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
            "custom_parameters": {"school": "42"},
        },
        platform,
        lang="en",
    )
    assert body["scope"] == " ".join(ALL_TOOL_SCOPES)  # nothing listed: ask for all
    conf = body[TOOL_CONF]
    assert conf["description"] == "Description"
    assert conf["custom_parameters"] == {"school": "42"}
    assert [m["type"] for m in conf["messages"]] == ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]
    assert all("placements" not in m for m in conf["messages"])


def test_moodle_without_authorization_endpoint_gets_its_known_one(app, client, moodle):
    """Moodle 3.10/3.11 did not publish authorization_endpoint; it is always /mod/lti/auth.php."""
    del moodle.config["authorization_endpoint"]
    assert client.get(moodle.register_url()).status_code == 200
    with bridge(app).db.sessions() as s:
        from lti_tool.models import Registration

        reg = s.query(Registration).one()
    assert reg.auth_login_url == moodle.config["issuer"] + "/mod/lti/auth.php"


@pytest.mark.parametrize("settings_overrides", [{"registration_hosts": ("*.logineonrw-lms.de",)}])
def test_sites_outside_the_allow_list_cannot_register(app, client, moodle, settings_overrides):
    resp = client.get(moodle.register_url())
    refused(resp, "registration_not_allowed", 403)
    assert moodle.requests == []  # nothing was posted to the platform
    assert count_rows(app, *TABLES) == NOTHING


@pytest.mark.parametrize("settings_overrides", [{"registration_hosts": ("*.logineonrw-lms.de", "localhost")}])
def test_sites_on_the_allow_list_can_register(app, client, moodle, settings_overrides):
    assert client.get(moodle.register_url()).status_code == 200
    assert count_rows(app, *TABLES) == {"platform": 1, "registration": 1, "deployment": 1}
