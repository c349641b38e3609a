"""LTI Dynamic Registration (1EdTech "LTI Dynamic Registration" 1.0), tool side.

The platform opens ``/lti/register?openid_configuration=…&registration_token=…``.
The tool then

1. fetches the platform's OpenID configuration and checks it (§3.5.1: the
   issuer must have the origin of the configuration URL);
2. POSTs its client registration to the platform's ``registration_endpoint``
   with the registration token, when given, as bearer token;
3. reads ``client_id`` and ``deployment_id`` from the answer.

Framework-free: the caller passes a ``requests.Session``, settings values and
the tool configuration dict from :func:`lti_tool.toolconfig.tool_configuration`,
and stores the returned :class:`Registered`. Every failure is a
:class:`DynamicRegistrationError` with a stable code. Neither the registration
token nor the configuration URL's query (some platforms put a token there)
ends up in messages or logs.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from lti_tool.protocol import claims as c
from lti_tool.protocol.errors import DynamicRegistrationError

log = logging.getLogger("lms_bridge.dynreg")

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
#: Fields of the OpenID configuration the tool needs for registering and launching.
REQUIRED_PLATFORM_FIELDS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)
#: Where teachers pick the tool for deep linking, asked for only when offered.
DEEP_LINKING_PLACEMENTS = ("ContentArea",)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: Upper bound for documents read from a platform.
MAX_BODY_BYTES = 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


# -- results ------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformConfiguration:
    """What the tool uses from a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    #: None when the platform does not list its scopes.
    scopes_supported: tuple[str, ...] | None = None
    product_family: str | None = None
    version: str | None = None
    #: message type -> placements; None when the platform does not list messages.
    messages_supported: dict[str, tuple[str, ...]] | None = None

    def supports_message(self, message_type: str) -> bool:
        return self.messages_supported is None or message_type in self.messages_supported

    def placements(self, message_type: str) -> tuple[str, ...]:
        return (self.messages_supported or {}).get(message_type, ())


@dataclass(frozen=True)
class Registered:
    """A finished registration: everything the tool stores about the platform."""

    issuer: str
    client_id: str
    deployment_id: str | None
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    name: str
    product_family: str | None
    platform_version: str | None
    #: Scopes the platform granted (its answer's ``scope``), else those asked for.
    scopes: tuple[str, ...] = field(default_factory=tuple)


# -- URLs ---------------------------------------------------------------------


def origin(url: str) -> str:
    """``scheme://host:port`` with lower-case scheme/host and explicit port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        return None


def safe_url(url: str) -> str:
    """A URL fit for messages and logs: no query, fragment or user info."""
    parts = urlsplit(url)
    port = _port(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{port}' if port else ''}{parts.path}"


def check_url(
    name: str,
    url: Any,
    *,
    allow_insecure: bool,
    code: str = "registration_config_invalid",
    status: int = 502,
) -> str:
    """An absolute http(s) URL; plain http only for this machine or when allowed."""
    if not isinstance(url, str) or not url.strip():
        raise DynamicRegistrationError(f"The {name} is missing.", code=code, status=status)
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        _ = parts.port  # raises on a port that is not a number in range
        valid_port = True
    except ValueError:
        valid_port = False
    if scheme not in ("http", "https") or not parts.hostname or not valid_port:
        raise DynamicRegistrationError(f"The {name} is not an absolute http(s) URL.", code=code, status=status)
    local = parts.hostname.lower() in LOCAL_HOSTS
    if scheme == "http" and not (allow_insecure or local):
        raise DynamicRegistrationError(
            f"The {name} must use https: {safe_url(url)}",
            code="registration_insecure_url",
            status=400,
        )
    return url


# -- HTTP ---------------------------------------------------------------------


def _read_body(resp: requests.Response, code: str) -> bytes:
    """The body, at most ``MAX_BODY_BYTES``; network trouble while reading is ``code``."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise DynamicRegistrationError("The platform's answer is too large.", code=code, status=502)
            chunks.append(chunk)
    except requests.RequestException:
        raise DynamicRegistrationError("The platform's answer broke off.", code=code, status=502) from None
    finally:
        resp.close()
    return b"".join(chunks)


def _excerpt(body: bytes, *secrets: str | None) -> str:
    """A short, single-line piece of a platform's error body, never a secret."""
    text = body[:400].decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if any(s and s in text for s in secrets) or re.search(r"eyJ[\w-]{10,}\.", text):
        return ""
    return text[:200]


# -- step 1: the platform's OpenID configuration ------------------------------


def fetch_platform_configuration(
    http: requests.Session, url: str, *, timeout: float, allow_insecure: bool
) -> PlatformConfiguration:
    """GET and check the platform's OpenID configuration."""
    url = check_url(
        "openid_configuration URL",
        url,
        allow_insecure=allow_insecure,
        code="registration_config_invalid",
        status=400,
    )
    where = safe_url(url)
    try:
        # No redirects: a redirect could lead from https to plain http.
        resp = http.get(
            url,
            timeout=timeout,
            headers={"Accept": "application/json"},
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException as exc:
        log.info("dynamic registration: configuration at %s unreachable (%s)", where, type(exc).__name__)
        raise DynamicRegistrationError(
            f"The platform configuration could not be fetched from {where}.",
            code="registration_config_unreachable",
            status=502,
        ) from None
    body = _read_body(resp, "registration_config_unreachable")
    if not 200 <= resp.status_code < 300:
        raise DynamicRegistrationError(
            f"The platform configuration at {where} answered HTTP {resp.status_code}.",
            code="registration_config_unreachable",
            status=502,
        )
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise DynamicRegistrationError(
            f"The platform configuration at {where} is not a JSON object.",
            code="registration_config_invalid",
            status=502,
        )
    return parse_platform_configuration(doc, url, allow_insecure=allow_insecure)


def _platform_block(doc: dict[str, Any]) -> dict[str, Any]:
    block = doc.get(PLATFORM_CONFIGURATION)
    if block is None:
        # Moodle 3.10 published the key with a trailing blank.
        block = next((v for k, v in doc.items() if str(k).strip() == PLATFORM_CONFIGURATION), None)
    return block if isinstance(block, dict) else {}


def _messages(block: dict[str, Any]) -> dict[str, tuple[str, ...]] | None:
    raw = block.get("messages_supported")
    if not isinstance(raw, list):
        return None
    out: dict[str, tuple[str, ...]] = {}
    for entry in raw:
        if isinstance(entry, str):  # early Moodle: plain type names
            out.setdefault(entry, ())
        elif isinstance(entry, dict) and isinstance(entry.get("type"), str):
            placements = entry.get("placements")
            if not isinstance(placements, list):
                placements = []
            names = tuple(p for p in placements if isinstance(p, str))
            out[entry["type"]] = out.get(entry["type"], ()) + names
    return out


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _is_moodle(doc: dict[str, Any]) -> bool:
    return str(_platform_block(doc).get("product_family_code", "")).strip().lower() == "moodle"


def parse_platform_configuration(
    doc: dict[str, Any], config_url: str, *, allow_insecure: bool
) -> PlatformConfiguration:
    """Check an OpenID configuration document fetched from ``config_url``."""
    if _text(doc.get("authorization_endpoint")) is None and _text(doc.get("issuer")) and _is_moodle(doc):
        # Moodle 3.10/3.11 omit it; their OIDC endpoint has always been /mod/lti/auth.php.
        doc = {**doc, "authorization_endpoint": doc["issuer"].rstrip("/") + "/mod/lti/auth.php"}
    missing = [f for f in REQUIRED_PLATFORM_FIELDS if _text(doc.get(f)) is None]
    if missing:
        raise DynamicRegistrationError(
            "The platform configuration lacks: %(fields)s.",
            code="registration_config_invalid",
            status=502,
            fields=", ".join(missing),
        )
    # §3.5.1: a site may only speak for its own issuer. Kept exactly as
    # published, since launches must carry the same ``iss``.
    issuer = doc["issuer"].strip()
    if origin(issuer) != origin(config_url):
        raise DynamicRegistrationError(
            "The platform's issuer does not belong to the site the configuration came from (%(issuer)s vs. %(site)s).",
            code="registration_issuer_mismatch",
            status=400,
            issuer=safe_url(issuer),
            site=safe_url(config_url),
        )
    urls = {f: check_url(f, doc[f], allow_insecure=allow_insecure) for f in REQUIRED_PLATFORM_FIELDS}
    listed = doc.get("scopes_supported")
    scopes = tuple(s for s in listed if isinstance(s, str)) if isinstance(listed, list) else None
    block = _platform_block(doc)
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=urls["authorization_endpoint"],
        token_endpoint=urls["token_endpoint"],
        jwks_uri=urls["jwks_uri"],
        registration_endpoint=urls["registration_endpoint"],
        scopes_supported=scopes,
        product_family=_text(block.get("product_family_code")),
        version=_text(block.get("version")),
        messages_supported=_messages(block),
    )


# -- step 2: the tool's client registration -----------------------------------


def _localized(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or next(iter(value.values()), ""))
    return str(value or "")


def client_registration(tool: dict[str, Any], platform: PlatformConfiguration, *, lang: str = "de") -> dict[str, Any]:
    """The OpenID client registration the tool POSTs, built from ``tool``."""
    name = _localized(tool["title"], lang)
    offered = platform.scopes_supported
    scopes = [s for s in tool.get("scopes", []) if offered is None or s in offered]
    messages: list[dict[str, Any]] = []
    # Every LTI 1.3 platform launches resource links (early Moodle even listed
    # them under another name), so only deep linking depends on the platform.
    if c.RESOURCE_LINK_REQUEST in tool["messages"]:
        messages.append(
            {
                "type": c.RESOURCE_LINK_REQUEST,
                "target_link_uri": tool["target_link_uri"],
                "label": name,
            }
        )
    deep_linking = platform.supports_message(c.DEEP_LINKING_REQUEST)
    if c.DEEP_LINKING_REQUEST in tool["messages"] and deep_linking:
        dl: dict[str, Any] = {
            "type": c.DEEP_LINKING_REQUEST,
            "target_link_uri": tool["deep_linking_url"],
            "label": name,
        }
        placements = [p for p in DEEP_LINKING_PLACEMENTS if p in platform.placements(c.DEEP_LINKING_REQUEST)]
        if placements:
            dl["placements"] = placements
        messages.append(dl)
    tool_conf: dict[str, Any] = {
        "domain": tool["domain"],
        "target_link_uri": tool["target_link_uri"],
        "description": _localized(tool.get("description"), lang),
        "claims": list(tool.get("claims", [])),
        "messages": messages,
    }
    if tool.get("custom_parameters"):
        tool_conf["custom_parameters"] = dict(tool["custom_parameters"])
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool["oidc_login_url"],
        "redirect_uris": list(tool["redirect_uris"]),
        "client_name": name,
        "jwks_uri": tool["jwks_url"],
        "token_endpoint_auth_method": "private_key_jwt",
    }
    if tool.get("logo_uri"):
        body["logo_uri"] = tool["logo_uri"]
    if scopes:
        body["scope"] = " ".join(scopes)
    body[TOOL_CONFIGURATION] = tool_conf
    return body


def post_registration(
    http: requests.Session,
    platform: PlatformConfiguration,
    body: dict[str, Any],
    registration_token: str | None,
    *,
    timeout: float,
) -> dict[str, Any]:
    """POST the client registration; the platform's JSON answer."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = "Bearer " + registration_token
    where = safe_url(platform.registration_endpoint)
    try:
        resp = http.post(
            platform.registration_endpoint,
            data=json.dumps(body).encode("utf-8"),
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException as exc:
        log.info("dynamic registration: %s unreachable (%s)", where, type(exc).__name__)
        raise DynamicRegistrationError(
            f"The platform's registration endpoint {where} could not be reached.",
            code="registration_endpoint_unreachable",
            status=502,
        ) from None
    answer = _read_body(resp, "registration_answer_invalid")
    if not 200 <= resp.status_code < 300:
        detail = _excerpt(answer, registration_token)
        raise DynamicRegistrationError(
            f"The platform refused the registration (HTTP {resp.status_code})" + (f": {detail}" if detail else "."),
            code="registration_refused",
            status=502,
        )
    try:
        doc = json.loads(answer)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise DynamicRegistrationError(
            "The platform's registration answer is not a JSON object.",
            code="registration_answer_invalid",
            status=502,
        )
    return doc


# -- step 3: the platform's answer --------------------------------------------


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def read_answer(answer: dict[str, Any], platform: PlatformConfiguration, asked_scopes: list[str]) -> Registered:
    """The registration from the platform's answer."""
    client_id = _id(answer.get("client_id"))
    if client_id is None:
        raise DynamicRegistrationError(
            "The platform's registration answer has no client_id.",
            code="registration_answer_invalid",
            status=502,
        )
    tool_conf = answer.get(TOOL_CONFIGURATION)
    deployment_id = _id(tool_conf.get("deployment_id")) if isinstance(tool_conf, dict) else None
    if isinstance(tool_conf, dict) and "deployment_id" in tool_conf and deployment_id is None:
        raise DynamicRegistrationError(
            "The platform's registration answer has an empty deployment_id.",
            code="registration_answer_invalid",
            status=502,
        )
    granted = answer.get("scope")
    scopes = tuple(granted.split()) if isinstance(granted, str) else tuple(asked_scopes)
    host = urlsplit(platform.issuer).netloc
    family = platform.product_family
    return Registered(
        issuer=platform.issuer,
        client_id=client_id,
        deployment_id=deployment_id,
        auth_login_url=platform.authorization_endpoint,
        auth_token_url=platform.token_endpoint,
        key_set_url=platform.jwks_uri,
        name=f"{host} ({family.capitalize()})" if family else host,
        product_family=family,
        platform_version=platform.version,
        scopes=scopes,
    )


def check_allowed(issuer: str, allowed_hosts: tuple[str, ...]) -> None:
    """Refuse sites outside the operator's allow-list (before anything is sent)."""
    if not allowed_hosts:
        return
    host = (urlsplit(issuer).hostname or "").lower()
    if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed_hosts):
        raise DynamicRegistrationError(
            "This LMS site may not register itself with this LMS Bridge. Ask the operator to allow it.",
            code="registration_not_allowed",
            status=403,
        )


def register(
    http: requests.Session,
    openid_configuration: str | None,
    registration_token: str | None,
    tool: dict[str, Any],
    *,
    timeout: float,
    allow_insecure: bool,
    lang: str = "de",
    allowed_hosts: tuple[str, ...] = (),
) -> Registered:
    """Run the whole registration with a platform; nothing is stored here.

    ``allowed_hosts`` (shell patterns such as ``*.logineonrw-lms.de``) limits
    which sites may register; empty means any site may.
    """
    if not openid_configuration or not openid_configuration.strip():
        raise DynamicRegistrationError(
            "The registration link lacks the openid_configuration parameter. Start the registration from your LMS.",
            code="registration_config_missing",
            status=400,
        )
    platform = fetch_platform_configuration(
        http, openid_configuration.strip(), timeout=timeout, allow_insecure=allow_insecure
    )
    check_allowed(platform.issuer, allowed_hosts)
    body = client_registration(tool, platform, lang=lang)
    token = (registration_token or "").strip() or None
    answer = post_registration(http, platform, body, token, timeout=timeout)
    result = read_answer(answer, platform, body.get("scope", "").split())
    log.info(
        "dynamic registration with %s: client_id %s, deployment %s",
        result.issuer,
        result.client_id,
        result.deployment_id or "-",
    )
    return result
