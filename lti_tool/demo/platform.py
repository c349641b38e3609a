"""The platform side of LTI 1.3, written from the IMS specifications.

Nothing here imports the tool's ``lti_tool.protocol``: the demo LMS is an
independent counterpart that signs id_tokens with its own keys and checks
the tool's signed messages against the tool's published key set.

- ``demo_origin``: where the demo pages live (the tool's host swapped between
  ``127.0.0.1`` and ``localhost``, so the tool runs in a cross-site iframe);
- site keys (RSA, generated on first use) and their JWKS;
- ``launch_claims``: the id_token body of a launch (shaped like Moodle's);
- ``verify_tool_jwt``: a tool message (deep linking response, client
  assertion) against the tool's JWKS.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, url_for
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from lti_tool.bridge import bridge
from lti_tool.demo.models import DemoCourse, DemoKey, DemoLaunch, DemoLink, DemoNonce, DemoSite, DemoUser

# -- IMS names (LTI 1.3 Core §5, Deep Linking 2.0 §4, AGS 2.0 §3, NRPS 2.0 §3) --
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_RO, SCOPE_RESULT_RO, SCOPE_SCORE]
SERVICE_SCOPES = (*AGS_SCOPES, SCOPE_NRPS)

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

#: LIS roles per demo role.
#: - Schulleitung: teaches in the course and is the school's administration
#:   (LIS "institution Administrator"; the system role is for the LMS operator).
#: - Netzwerkmanager*in: not staff of the school; manages the course for the
#:   network (LIS context role "Manager").
#: - Admin: the site operator, not enrolled; institution and system administrator.
LIS_ROLES: dict[str, list[str]] = {
    "learner": [MEMBERSHIP + "Learner"],
    "teacher": [MEMBERSHIP + "Instructor"],
    "leader": [MEMBERSHIP + "Instructor", INSTITUTION + "Administrator"],
    "network_manager": [MEMBERSHIP + "Manager"],
    "admin": [INSTITUTION + "Administrator", SYSTEM + "Administrator"],
}
#: Roles that may add content (Deep Linking) and see the gradebook.
EDITING_ROLES = frozenset({"teacher", "leader", "network_manager", "admin"})

ID_TOKEN_TTL = 60  # seconds, like Moodle
LAUNCH_TTL = 3600  # a started launch (message hint) stays usable this long
PRODUCT_FAMILY = "lms-bridge-demo"


class DemoRefused(Exception):
    """A request to the demo platform cannot be answered as asked."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


# -- where things are -----------------------------------------------------------


def demo_origin(settings: Settings) -> str:
    """The origin of the demo pages: the tool's base URL with 127.0.0.1 and
    localhost swapped, so that the tool runs in a genuinely cross-site iframe.
    Any other host is kept (then the demo and the tool share one site)."""
    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    swapped = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(host, host)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{swapped}{port}"


def tool_origin(settings: Settings) -> str:
    parts = urlsplit(settings.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def demo_url(endpoint: str, **values: Any) -> str:
    """Absolute URL of a demo endpoint on the demo origin (needs a request context)."""
    return demo_origin(bridge().settings) + url_for(endpoint, **values)


def issuer(site: DemoSite) -> str:
    return demo_url("demo.site", slug=site.slug)


@dataclass(frozen=True)
class ToolEndpoints:
    """The tool as the site's administrator registered it (manual registration)."""

    login: str
    launch: str
    jwks: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolEndpoints:
        base = settings.base_url
        return cls(login=base + "/lti/login", launch=base + "/lti/launch", jwks=base + "/lti/jwks.json")

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return (self.launch,)


def tool() -> ToolEndpoints:
    return ToolEndpoints.from_settings(bridge().settings)


# -- the site's keys ------------------------------------------------------------


def _new_key(site_id: int) -> DemoKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    kid = secrets.token_hex(10)
    public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return DemoKey(
        site_id=site_id,
        kid=kid,
        private_key_enc=bridge().box.encrypt(pem),
        public_jwk=json.dumps(public),
    )


def site_key(s: Session, site: DemoSite) -> DemoKey:
    """The site's key, generated on first use (one per site, even with racing workers)."""
    key = s.scalar(select(DemoKey).where(DemoKey.site_id == site.id))
    if key is not None:
        return key
    key = _new_key(site.id)
    s.add(key)
    try:
        s.commit()
    except IntegrityError:  # another worker made it first
        s.rollback()
        key = s.scalar(select(DemoKey).where(DemoKey.site_id == site.id))
        assert key is not None
    return key


def site_jwks(s: Session, site: DemoSite) -> dict[str, Any]:
    return {"keys": [json.loads(site_key(s, site).public_jwk)]}


def sign(s: Session, site: DemoSite, claims: dict[str, Any]) -> str:
    key = site_key(s, site)
    private = bridge().box.decrypt(key.private_key_enc)
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


# -- the id_token -----------------------------------------------------------------


def launch_claims(
    *,
    site: DemoSite,
    user: DemoUser,
    course: DemoCourse,
    link: DemoLink | None,
    launch: DemoLaunch,
    nonce: str,
    line_item_id: int | None,
    now: int | None = None,
) -> dict[str, Any]:
    """The id_token body of a resource link or deep linking launch (needs a request context)."""
    now = int(time.time()) if now is None else now
    iss = issuer(site)
    endpoints = tool()
    claims: dict[str, Any] = {
        "iss": iss,
        "aud": site.client_id,
        "azp": site.client_id,
        "sub": user.sub,
        "nonce": nonce,
        "iat": now,
        "exp": now + ID_TOKEN_TTL,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        LTI + "deployment_id": site.deployment_id,
        LTI + "message_type": launch.message_type,
        LTI + "version": "1.3.0",
        LTI + "roles": LIS_ROLES[user.role],
        # Moodle (and so LOGINEO) sends the short context type.
        LTI + "context": {
            "id": str(course.id),
            "label": course.shortname,
            "title": course.fullname,
            "type": ["CourseSection"],
        },
        LTI + "target_link_uri": link.url if link is not None else endpoints.launch,
        LTI + "launch_presentation": {
            "locale": launch.locale,
            "document_target": "iframe",
            "return_url": demo_url("demo.course", slug=site.slug, course_id=course.id, user=user.id),
        },
        LTI + "tool_platform": {
            "product_family_code": PRODUCT_FAMILY,
            "version": "1.0",
            "guid": site.slug,
            "name": site.name,
            "description": "LMS Bridge Demo-LMS",
        },
        LTI + "custom": json.loads(link.custom) if link is not None and link.custom else {},
        AGS_ENDPOINT: {
            "scope": AGS_SCOPES,
            "lineitems": demo_url("demo.lineitems", slug=site.slug, course_id=course.id),
        },
        NRPS: {
            "context_memberships_url": demo_url("demo.memberships", slug=site.slug, course_id=course.id),
            "service_versions": ["2.0"],
        },
    }
    if line_item_id is not None:
        claims[AGS_ENDPOINT]["lineitem"] = demo_url(
            "demo.lineitem", slug=site.slug, course_id=course.id, item_id=line_item_id
        )
    if launch.message_type == RESOURCE_LINK_REQUEST:
        assert link is not None
        claims[LTI + "resource_link"] = {"id": str(link.id), "title": link.title, "description": link.text}
    else:
        claims[DL_SETTINGS] = {
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "accept_unsigned": False,
            "auto_create": False,
            "can_confirm": False,
            "deep_link_return_url": demo_url("demo.deep_link_return", slug=site.slug, hint=launch.hint),
            "title": course.fullname,
            "data": launch.hint,
        }
    return claims


# -- the tool's signed messages ----------------------------------------------------


def default_fetch_json(url: str) -> dict[str, Any]:
    settings = bridge().settings
    resp = requests.get(url, timeout=settings.http_timeout, headers={"Accept": "application/json"})
    resp.raise_for_status()
    data = resp.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class DemoExtension:
    """Per-app parts of the demo: how it fetches the tool's key set (replaceable in tests)."""

    def __init__(self, fetch_json: Callable[[str], dict[str, Any]] = default_fetch_json) -> None:
        self.fetch_json = fetch_json


def extension() -> DemoExtension:
    return current_app.extensions["lms_bridge_demo"]


def verify_tool_jwt(token: str, *, audience: str | list[str], client_id: str, require: list[str]) -> dict[str, Any]:
    """Check a JWT the tool signed (iss = client_id) against the tool's JWKS."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise DemoRefused("The tool's message is not a JWT.", "invalid_jwt") from exc
    if header.get("alg") != "RS256" or not header.get("kid"):
        raise DemoRefused("The tool's message must be RS256 with a kid.", "invalid_jwt")
    try:
        keyset = extension().fetch_json(tool().jwks)
    except (requests.RequestException, ValueError) as exc:
        raise DemoRefused("The tool's key set could not be fetched.", "tool_keys_unavailable", 502) from exc
    jwk = next((k for k in keyset.get("keys", []) if isinstance(k, dict) and k.get("kid") == header["kid"]), None)
    if jwk is None:
        raise DemoRefused("The tool's message is signed with an unknown key.", "invalid_signature")
    try:
        return jwt.decode(
            token,
            jwt.PyJWK(jwk, algorithm="RS256"),
            algorithms=["RS256"],
            audience=audience,
            issuer=client_id,
            leeway=bridge().settings.jwt_leeway,
            options={"require": ["iss", "aud", "exp", "iat", *require]},
        )
    except jwt.InvalidTokenError as exc:
        raise DemoRefused(f"The tool's message is not valid: {exc}", "invalid_jwt") from exc


def remember_once(s: Session, value: str, ttl: float) -> None:
    """Record ``value`` as used; refuse it when it was seen before. Commits."""
    now = time.time()
    s.execute(delete(DemoNonce).where(DemoNonce.expires_at < now))
    s.add(DemoNonce(value=value[:255], expires_at=now + ttl))
    try:
        s.commit()
    except IntegrityError as exc:
        s.rollback()
        raise DemoRefused("This message was already used.", "replayed") from exc
