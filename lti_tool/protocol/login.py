"""OIDC third-party initiated login (LTI 1.3 Core §5.1.1, Security Framework §5.1.1).

The platform (Moodle POSTs, others GET) names itself; we find the
registration, mint a single-use ``state`` and ``nonce`` kept in the shared
store, and send the browser to the platform's auth endpoint. When the
platform offers LTI client-side storage (``lti_storage_target``), the state
is also put there so the launch can complete without any cookie.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from lti_tool.protocol.errors import LoginError
from lti_tool.protocol.registry import Registry
from lti_tool.store import Store

LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
    "lti_storage_target",
)


@dataclass(frozen=True)
class LoginPlan:
    auth_url: str
    state: str
    nonce: str
    storage_target: str | None
    auth_origin: str


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc.lower()) == (pb.scheme, pb.netloc.lower())


def is_ours(url: str, base_url: str) -> bool:
    """True when ``url`` points into this tool (same origin, under the base path)."""
    if not same_origin(url, base_url):
        return False
    base_path = urlsplit(base_url).path.rstrip("/")
    return urlsplit(url).path.startswith(base_path + "/") or urlsplit(url).path == base_path


def begin_login(
    params: Mapping[str, str],
    *,
    registry: Registry,
    store: Store,
    base_url: str,
    launch_url: str,
    state_ttl: int,
) -> LoginPlan:
    iss = (params.get("iss") or "").strip()
    if not iss:
        raise LoginError("The LMS did not send its issuer (iss).", code="login_issuer_missing")
    login_hint = params.get("login_hint") or ""
    if not login_hint:
        raise LoginError("The LMS did not send a login_hint.", code="login_hint_missing")
    target = params.get("target_link_uri") or ""
    if not target:
        raise LoginError("The LMS did not send a target_link_uri.", code="login_target_missing")
    if not is_ours(target, base_url):
        raise LoginError(
            "The target_link_uri does not point to this tool.", code="target_link_uri_foreign"
        )
    info = registry.find(iss, params.get("client_id") or None)

    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    storage_target = params.get("lti_storage_target") or None
    parts = urlsplit(info.auth_login_url)
    auth_origin = f"{parts.scheme}://{parts.netloc}"
    record: dict[str, Any] = {
        "iss": info.issuer,
        "client_id": info.client_id,
        "nonce": nonce,
        "storage": bool(storage_target),
        "storage_target": storage_target,
        # postMessage storage answers only from the platform's OIDC auth origin.
        "auth_origin": auth_origin,
        "created": time.time(),
        # Enough to restart the login in a new window when cookies are blocked.
        "login": {k: params[k] for k in LOGIN_PARAMS if params.get(k) and k != "lti_storage_target"},
    }
    store.put("state:" + state, record, state_ttl)

    query: dict[str, str] = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": info.client_id,
        "redirect_uri": launch_url,
        "state": state,
        "nonce": nonce,
        "login_hint": login_hint,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if "?" in info.auth_login_url else "?"
    return LoginPlan(
        auth_url=info.auth_login_url + sep + urlencode(query),
        state=state,
        nonce=nonce,
        storage_target=storage_target,
        auth_origin=auth_origin,
    )
