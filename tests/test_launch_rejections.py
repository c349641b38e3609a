"""Every bad launch is refused with a 4xx page, a stable X-LTI-Error code, and no rows.

Covers the twelve 1EdTech certification "bad payload" cases and what
pylti1p3 2.0.0 lets through. Tokens are raw PyJWT-signed by the test
platform in tests/ltiplatform.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from lti_tool.models import LtiContext, LtiUser, Membership, ResourceLink
from tests.conftest import LAUNCH_URL, Launcher, count_rows
from tests.ltiplatform import LTI, FakePlatform, rsa_key

DOMAIN_TABLES = (LtiUser, LtiContext, ResourceLink, Membership)
EMPTY = {"lti_user": 0, "lti_context": 0, "resource_link": 0, "membership": 0}


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for k in keys:
            body.pop(k, None)

    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body[key] = value

    return change


def _not_lti(body: dict[str, Any]) -> None:
    for k in list(body):
        if k.startswith(LTI):
            del body[k]


def _no_resource_link_id(body: dict[str, Any]) -> None:
    body[LTI + "resource_link"] = {"title": "no id"}


def _old_timestamps(body: dict[str, Any]) -> None:
    body["iat"] = int(time.time()) - 10 * 365 * 86400
    body["exp"] = body["iat"] + 60


# (case id, body change, expected code, expected status)
BODY_CASES = [
    # 1EdTech certification bad payloads
    ("wrong_lti_version", _set(LTI + "version", "1.2.0"), "version_wrong", 400),
    ("no_lti_version", _drop(LTI + "version"), "version_missing", 400),
    ("not_an_lti_message", _not_lti, "not_lti_message", 400),
    ("missing_required_claims", _drop("iat", LTI + "resource_link"), "claim_missing_iat", 400),
    ("bad_timestamps", _old_timestamps, "token_expired", 400),
    ("missing_message_type", _drop(LTI + "message_type"), "message_type_missing", 400),
    ("missing_roles_claim", _drop(LTI + "roles"), "roles_missing", 400),
    ("missing_deployment_id", _drop(LTI + "deployment_id"), "deployment_missing", 400),
    ("missing_resource_link_id", _no_resource_link_id, "resource_link_missing", 400),
    ("missing_sub", _drop("sub"), "sub_missing", 400),
    # what pylti1p3 2.0.0 lets through
    ("no_exp", _drop("exp"), "claim_missing_exp", 400),
    ("azp_not_our_client", _set("azp", "someone-else"), "azp_mismatch", 400),
    ("aud_list_without_us", _set("aud", ["other-tool"]), "aud_mismatch", 400),
    ("aud_list_without_azp", lambda b: b.update(aud=[b["aud"], "other-tool"]), "azp_missing", 400),
    ("foreign_target_link_uri", _set(LTI + "target_link_uri", "https://evil.example/lti/launch"), "target_link_uri_foreign", 400),
    ("unknown_issuer", _set("iss", "https://unknown.example"), "issuer_unknown", 403),
    ("unknown_client_id", _set("aud", "not-registered"), "client_unknown", 403),
    ("unknown_deployment", _set(LTI + "deployment_id", "999"), "deployment_unknown", 403),
    ("unknown_message_type", _set(LTI + "message_type", "LtiSubmissionReviewRequest"), "message_type_unknown", 400),
    ("iat_in_future", lambda b: b.update(iat=int(time.time()) + 600, exp=int(time.time()) + 660), "token_not_yet_valid", 400),
    ("nonce_of_another_login", _set("nonce", "forged-nonce"), "nonce_mismatch", 400),
    ("no_nonce", _drop("nonce"), "nonce_missing", 400),
]


def _assert_refused(app: Any, resp: Any, code: str, status: int) -> None:
    assert resp.status_code == status, (resp.status_code, resp.headers.get("X-LTI-Error"))
    assert resp.headers.get("X-LTI-Error") == code
    assert resp.mimetype == "text/html"
    body = resp.get_data(as_text=True)
    assert code in body  # the page names the problem
    assert "Traceback" not in body
    assert count_rows(app, *DOMAIN_TABLES) == EMPTY


@pytest.mark.parametrize("case,change,code,status", BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_bad_payload_is_refused(app, launcher: Launcher, school_lms: FakePlatform, case, change, code, status):
    auth = launcher.login()
    body = school_lms.claims(auth["nonce"], LAUNCH_URL)
    change(body)
    resp = launcher.launch(school_lms.sign(body), auth["state"])
    _assert_refused(app, resp, code, status)


def test_no_kid_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL), kid=None)
    _assert_refused(app, launcher.launch(token, auth["state"]), "kid_missing", 400)


def test_unknown_kid_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    other, _ = rsa_key()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL), kid="not-published", key=other)
    _assert_refused(app, launcher.launch(token, auth["state"]), "kid_unknown", 400)


def test_wrong_signature_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    forger, _ = rsa_key()  # a key the platform never published, under its real kid
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL), key=forger)
    _assert_refused(app, launcher.launch(token, auth["state"]), "signature_invalid", 400)


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_symmetric_or_unsigned_tokens_are_refused(app, launcher, school_lms, alg):
    import jwt

    auth = launcher.login()
    body = school_lms.claims(auth["nonce"], LAUNCH_URL)
    key = None if alg == "none" else "shared-secret-" + "x" * 32
    token = jwt.encode(body, key, algorithm=alg, headers={"kid": school_lms.kid})
    _assert_refused(app, launcher.launch(token, auth["state"]), "alg_unsupported", 400)


def test_replayed_launch_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))
    first = launcher.launch(token, auth["state"])
    assert first.status_code == 303
    before = count_rows(app, *DOMAIN_TABLES)
    again = launcher.launch(token, auth["state"])
    assert again.status_code == 400
    assert again.headers["X-LTI-Error"] == "launch_replayed"
    assert count_rows(app, *DOMAIN_TABLES) == before


def test_replayed_id_token_under_a_new_login_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))
    assert launcher.launch(token, auth["state"]).status_code == 303
    fresh = launcher.login()
    again = launcher.launch(token, fresh["state"])
    assert again.status_code == 400
    assert again.headers["X-LTI-Error"] == "nonce_mismatch"


def test_deactivated_deployment_is_refused(app, launcher, school_lms):
    from lti_tool.bridge import bridge
    from lti_tool.platforms import set_deployment_active

    with bridge(app).db.sessions() as s:
        set_deployment_active(s, school_lms.issuer, school_lms.deployment_id, False)
    auth = launcher.login()
    resp = launcher.launch(school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL)), auth["state"])
    _assert_refused(app, resp, "deployment_inactive", 403)


def test_missing_state_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))
    resp = launcher.client.post("/lti/launch", data={"id_token": token})
    _assert_refused(app, resp, "state_missing", 400)


def test_tampered_state_is_refused(app, launcher, school_lms):
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))
    resp = launcher.launch(token, auth["state"][:-2] + "xx")
    _assert_refused(app, resp, "state_not_found", 400)


def test_missing_id_token_is_refused(app, launcher):
    auth = launcher.login()
    _assert_refused(app, launcher.launch("", auth["state"]), "id_token_missing", 400)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "e30.e30"])
def test_malformed_id_token_is_refused(app, launcher, token):
    auth = launcher.login()
    _assert_refused(app, launcher.launch(token, auth["state"]), "jwt_malformed", 400)


def test_state_from_another_browser_is_refused(app, launcher, school_lms):
    """A state cookie is the browser binding: another browser cannot finish the login."""
    auth = launcher.login()
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))
    other_browser = app.test_client()
    resp = other_browser.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert resp.status_code == 400
    assert resp.headers["X-LTI-Error"] == "state_cookie_missing"
    assert b"new_window=1" in resp.data  # offers to finish the launch in a new window
    assert count_rows(app, *DOMAIN_TABLES) == EMPTY


def test_token_for_another_registered_platform_is_refused(app, launcher, school_lms):
    """A token from a second registered site cannot complete the first site's login."""
    from lti_tool.bridge import bridge
    from lti_tool.platforms import PlatformSpec, add_platform

    other = FakePlatform(issuer="https://gym.example", client_id="c2", deployment_id="1", jwks_url="https://gym.example/jwks")
    with bridge(app).db.sessions() as s:
        add_platform(s, PlatformSpec(issuer=other.issuer, client_id="c2", auth_login_url=other.auth_login_url,
                                     auth_token_url=other.auth_token_url, key_set=other.jwks(), deployment_ids=["1"]))
    auth = launcher.login()
    resp = launcher.launch(other.sign(other.claims(auth["nonce"], LAUNCH_URL)), auth["state"])
    _assert_refused(app, resp, "state_mismatch", 400)


@pytest.mark.parametrize(
    "params,code,status",
    [
        ({"iss": ""}, "login_issuer_missing", 400),
        ({"login_hint": ""}, "login_hint_missing", 400),
        ({"target_link_uri": "https://evil.example/lti/launch"}, "target_link_uri_foreign", 400),
        ({"iss": "https://unknown.example"}, "issuer_unknown", 403),
        ({"client_id": "nope"}, "client_unknown", 403),
    ],
)
def test_bad_login_initiation_is_refused(app, client, school_lms, params, code, status):
    data = school_lms.login_params(LAUNCH_URL)
    data.update(params)
    resp = client.post("/lti/login", data=data)
    assert resp.status_code == status
    assert resp.headers["X-LTI-Error"] == code
    assert "Location" not in resp.headers


def test_expired_token_within_leeway_is_accepted(app, launcher, school_lms):
    """Moodle's tokens live 60 s; a little clock skew must not break launches."""
    auth = launcher.login()
    body = school_lms.claims(auth["nonce"], LAUNCH_URL)
    body["iat"] = int(time.time()) - 90
    body["exp"] = int(time.time()) - 30
    resp = launcher.launch(school_lms.sign(body), auth["state"])
    assert resp.status_code == 303
    assert count_rows(app, LtiUser)["lti_user"] == 1


def test_errors_answer_json_when_asked(app, launcher, school_lms):
    auth = launcher.login()
    resp = launcher.client.post(
        "/lti/launch", data={"id_token": "x", "state": auth["state"]}, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "jwt_malformed", "message": "The id_token is not a JWT."}
