"""A launch produced end to end by the PyPI platform implementation ``lti1p3platform``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from sqlalchemy import select

from lti_tool.bridge import bridge
from lti_tool.models import LtiContext, Membership
from lti_tool.platforms import PlatformSpec, add_platform
from tests.conftest import LAUNCH_URL, TOOL_URL

ISSUER = "https://lms.gymnasium-beispielburg.example"


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        private, public = _keypair()
        self._registration = (
            Registration()
            .set_iss(ISSUER)
            .set_client_id("bridge-client")
            .set_deployment_id("dep-1")
            .set_launch_url(LAUNCH_URL)
            .set_oidc_login_url(TOOL_URL + "/lti/login")
            .set_platform_public_key(public)
            .set_platform_private_key(private)
            .set_tool_key_set_url(TOOL_URL + "/lti/jwks.json")
        )

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        import json

        self._lti_message_hint = json.dumps(kwargs)

    def get_redirect(self, url: str) -> str:
        return url


class Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class PlainRequest(Request):
    def build_metadata(self, request: Any) -> dict[str, Any]:
        return request


def test_launch_from_lti1p3platform(app, client):
    conf = Conf()
    reg = conf.get_registration()
    with bridge(app).db.sessions() as s:
        add_platform(s, PlatformSpec(issuer=ISSUER, client_id="bridge-client",
                                     auth_login_url=ISSUER + "/auth", auth_token_url=ISSUER + "/token",
                                     key_set={"keys": reg.get_jwks()}, deployment_ids=["dep-1"]))

    login = Login(PlainRequest({"get_data": {}, "form_data": {}}), conf)
    login.set_lti_message_hint(resource_link="rl-42")
    login_url = login.initiate_login("user-17")
    parts = urlsplit(login_url)
    tool_resp = client.get(parts.path, query_string=parts.query)
    assert tool_resp.status_code == 302, tool_resp.headers.get("X-LTI-Error")
    preflight = dict(parse_qsl(urlsplit(tool_resp.headers["Location"]).query))

    launch = Launch(PlainRequest({"get_data": preflight, "form_data": {}}), conf)
    launch.set_user_data("user-17", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                         full_name="Kim Lehrerin")
    launch.set_resource_link_claim("rl-42", title="Netzwerk")
    launch.set_launch_context_claim("course-9", context_title="Deutsch 7b", context_label="D7b",
                                    context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"])
    data = launch.lti_launch()
    assert data["launch_url"] == LAUNCH_URL

    resp = client.post("/lti/launch", data={"id_token": data["id_token"], "state": data["state"]})
    assert resp.status_code == 303, resp.headers.get("X-LTI-Error")
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(LtiContext.title)) == "Deutsch 7b"
        assert s.scalar(select(Membership.role)) == "instructor"
