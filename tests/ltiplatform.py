"""An independent LTI 1.3 platform for tests: raw PyJWT-signed id_tokens.

Nothing here imports the tool's protocol code: keys are made here, the JWKS
is served over real HTTP (pytest-httpserver), and tokens are built claim by
claim from the IMS specifications, so tests check the tool against the
standard rather than against its own assumptions.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def rsa_key() -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return private, jwk


@dataclass
class FakePlatform:
    """A school's LMS site as the tool sees it."""

    issuer: str
    client_id: str
    deployment_id: str
    jwks_url: str
    kid: str = field(default_factory=lambda: "k-" + uuid.uuid4().hex[:8])
    keys: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.keys:
            self.add_key(self.kid)

    def add_key(self, kid: str) -> None:
        private, jwk = rsa_key()
        jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
        self.keys.append((kid, private, jwk))

    @property
    def private_key(self) -> Any:
        return next(k for kid, k, _ in self.keys if kid == self.kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk for _, _, jwk in self.keys]}

    @property
    def auth_login_url(self) -> str:
        return self.issuer + "/mod/lti/auth.php"

    @property
    def auth_token_url(self) -> str:
        return self.issuer + "/mod/lti/token.php"

    # -- messages -------------------------------------------------------------
    def login_params(self, target_link_uri: str, **extra: str) -> dict[str, str]:
        params = {
            "iss": self.issuer,
            "target_link_uri": target_link_uri,
            "login_hint": "3",
            "lti_message_hint": json.dumps({"cmid": 15, "launchid": "ltilaunch7_1"}),
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        params.update(extra)
        return params

    def claims(
        self,
        nonce: str,
        target_link_uri: str,
        *,
        roles: list[str] | None = None,
        message_type: str = "LtiResourceLinkRequest",
        sub: str = "3",
        **overrides: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        body: dict[str, Any] = {
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": target_link_uri,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "roles": roles if roles is not None else [INSTRUCTOR],
            LTI + "context": {"id": "2", "label": "LAB101", "title": "Lab Course 101", "type": ["CourseSection"]},
            "name": "Terry Teacher",
            "given_name": "Terry",
            "family_name": "Teacher",
            "email": "teacher1@example.org",
            LTI + "launch_presentation": {"locale": "de", "document_target": "iframe"},
            LTI + "tool_platform": {"product_family_code": "moodle", "version": "2025100600.02"},
        }
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": "7", "title": "LMS Bridge", "description": ""}
        if message_type == "LtiDeepLinkingRequest":
            body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["frame", "iframe", "window"],
                "accept_multiple": True,
                "deep_link_return_url": self.issuer + "/mod/lti/contentitem_return.php?course=2&id=6",
                "data": "opaque-platform-data",
            }
        for key, value in overrides.items():
            body[key] = value
        return body

    def sign(self, body: dict[str, Any], *, kid: str | None = "default", key: Any = None, alg: str = "RS256") -> str:
        headers: dict[str, Any] = {}
        if kid == "default":
            headers["kid"] = self.kid
        elif kid is not None:
            headers["kid"] = kid
        return jwt.encode(body, key or self.private_key, algorithm=alg, headers=headers)


def login_redirect_params(location: str) -> dict[str, str]:
    """The query the tool sent the browser to the platform's auth endpoint with."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pem(private: Any) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
