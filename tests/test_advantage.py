"""Deep Linking 2.0, AGS and NRPS against a platform served over real HTTP.

The platform side checks what the tool sends the way a real LMS does:
signatures are verified with PyJWT against the tool's published JWKS.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from werkzeug import Request, Response

from lti_tool.bridge import bridge
from tests.conftest import LAUNCH_URL
from tests.ltiplatform import LEARNER, LTI

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def tool_key(client, token: str) -> Any:
    kid = jwt.get_unverified_header(token)["kid"]
    jwks = client.get("/lti/jwks.json").get_json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    return jwt.PyJWK(jwk).key


def follow(client, resp):
    assert resp.status_code in (302, 303), resp.headers.get("X-LTI-Error")
    return client.get(resp.headers["Location"])


def form_fields(html: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', html))


# -- Deep Linking --------------------------------------------------------------


def deep_link_page(launcher):
    resp = launcher.resource_launch(message_type="LtiDeepLinkingRequest", **{AGS: {
        "scope": [LINEITEM, SCORE], "lineitems": launcher.platform.issuer + "/mod/lti/services.php/2/lineitems?type_id=6"}})
    page = follow(launcher.client, resp)
    assert page.request.path == "/lti/deep-link"
    return page


def test_deep_linking_returns_signed_resource_links(app, launcher, school_lms):
    page = deep_link_page(launcher)
    fields = form_fields(page.get_data(as_text=True))
    resp = launcher.client.post("/lti/deep-link", data={
        "launch": fields["launch"], "csrf": fields["csrf"], "feature": "welcome", "action": "add"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'action="' + school_lms.issuer + "/mod/lti/contentitem_return.php?course=2&amp;id=6" in html
    token = form_fields(html)["JWT"]
    msg = jwt.decode(token, tool_key(launcher.client, token), algorithms=["RS256"], audience=school_lms.issuer)
    assert msg["iss"] == school_lms.client_id
    assert msg[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert msg[LTI + "version"] == "1.3.0"
    assert msg[LTI + "deployment_id"] == school_lms.deployment_id
    assert msg["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    items = msg["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == LAUNCH_URL
    assert item["custom"] == {"feature": "welcome"}
    assert item["lineItem"]["scoreMaximum"] == 1 and item["lineItem"]["tag"] == "completion"
    assert item["title"]


def test_cancelled_deep_linking_returns_errormsg(app, launcher, school_lms):
    fields = form_fields(deep_link_page(launcher).get_data(as_text=True))
    resp = launcher.client.post("/lti/deep-link", data={"launch": fields["launch"], "csrf": fields["csrf"], "action": "cancel"})
    token = form_fields(resp.get_data(as_text=True))["JWT"]
    msg = jwt.decode(token, tool_key(launcher.client, token), algorithms=["RS256"], audience=school_lms.issuer)
    assert msg["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] == []
    assert msg["https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"]


def test_learner_cannot_deep_link(app, launcher):
    resp = launcher.resource_launch(message_type="LtiDeepLinkingRequest", roles=[LEARNER])
    assert follow(launcher.client, resp).status_code == 403


# -- AGS ------------------------------------------------------------------------------


class Gradebook:
    """The platform's token and AGS endpoints, verifying what the tool sends."""

    def __init__(self, httpserver, client, platform) -> None:
        self.client = client
        self.platform = platform
        self.token_calls: list[dict[str, str]] = []
        self.scores: list[dict[str, Any]] = []
        self.lineitems: list[dict[str, Any]] = []
        base = platform.issuer
        httpserver.expect_request("/mod/lti/token.php", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/mod/lti/services.php/2/lineitems/11/lineitem/scores", method="POST").respond_with_handler(self.score)
        httpserver.expect_request("/mod/lti/services.php/2/lineitems", method="GET").respond_with_handler(
            lambda r: Response(json.dumps(self.lineitems), content_type="application/vnd.ims.lis.v2.lineitemcontainer+json"))
        httpserver.expect_request("/mod/lti/services.php/2/lineitems", method="POST").respond_with_handler(self.create)
        httpserver.expect_request("/mod/lti/services.php/2/lineitems/13/lineitem/scores", method="POST").respond_with_handler(self.score)
        self.base = base

    def token(self, request: Request) -> Response:
        form = request.form.to_dict()
        assertion = form["client_assertion"]
        claims = jwt.decode(assertion, tool_key(self.client, assertion), algorithms=["RS256"],
                            audience=self.platform.auth_token_url)
        assert claims["iss"] == claims["sub"] == self.platform.client_id
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        self.token_calls.append(form)
        return Response(json.dumps({"access_token": f"tok-{len(self.token_calls)}", "token_type": "Bearer",
                                    "expires_in": 3600, "scope": form["scope"]}), content_type="application/json")

    def score(self, request: Request) -> Response:
        assert request.headers["Authorization"].startswith("Bearer tok-")
        assert request.content_type == "application/vnd.ims.lis.v1.score+json"
        assert request.args.get("type_id") == "5"
        self.scores.append(json.loads(request.data))
        return Response("", status=200)

    def create(self, request: Request) -> Response:
        body = json.loads(request.data)
        body["id"] = self.base + "/mod/lti/services.php/2/lineitems/13/lineitem?type_id=5"
        self.lineitems.append(body)
        return Response(json.dumps(body), status=201, content_type="application/vnd.ims.lis.v2.lineitem+json")


@pytest.fixture
def gradebook(httpserver, client, school_lms):
    return Gradebook(httpserver, client, school_lms)


def ags_claim(platform, with_lineitem: bool = True) -> dict[str, Any]:
    claim = {"scope": [LINEITEM, SCORE], "lineitems": platform.issuer + "/mod/lti/services.php/2/lineitems?type_id=5"}
    if with_lineitem:
        claim["lineitem"] = platform.issuer + "/mod/lti/services.php/2/lineitems/11/lineitem?type_id=5"
    return claim


def test_learner_completion_arrives_in_gradebook_and_token_is_cached(app, launcher, school_lms, gradebook):
    for _ in range(2):
        resp = launcher.resource_launch(roles=[LEARNER], sub="4", **{
            LTI + "custom": {"feature": "welcome"}, AGS: ags_claim(school_lms)})
        page = follow(launcher.client, resp)
        fields = form_fields(page.get_data(as_text=True))
        done = launcher.client.post("/lti/welcome/complete", data={"launch": fields["launch"], "csrf": fields["csrf"]})
        assert done.status_code == 303
        assert "done=1" in done.headers["Location"]
    assert [s["userId"] for s in gradebook.scores] == ["4", "4"]
    score = gradebook.scores[0]
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, 1)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"].endswith("+00:00")
    assert len(gradebook.token_calls) == 1  # the access token was reused


def test_line_item_is_created_when_link_has_none(app, school_lms, gradebook):
    from lti_tool.protocol.services import post_score

    b = bridge(app)
    with app.app_context():
        connector = b.connector(b.registry.find(school_lms.issuer, school_lms.client_id))
        url = post_score(connector, ags_claim(school_lms, with_lineitem=False), user_sub="4", score_given=1,
                         score_maximum=1, lineitem={"scoreMaximum": 1, "label": "Selbstevaluation", "tag": "completion"})
    assert url.endswith("/lineitems/13/lineitem?type_id=5")
    assert gradebook.lineitems[0]["label"] == "Selbstevaluation"
    assert gradebook.scores[0]["userId"] == "4"


def test_platform_refusing_score_is_a_clear_502(app, launcher, school_lms, httpserver):
    httpserver.expect_request("/mod/lti/token.php", method="POST").respond_with_data("nope", status=401)
    resp = launcher.resource_launch(roles=[LEARNER], **{LTI + "custom": {"feature": "welcome"}, AGS: ags_claim(school_lms)})
    fields = form_fields(follow(launcher.client, resp).get_data(as_text=True))
    done = launcher.client.post("/lti/welcome/complete", data={"launch": fields["launch"], "csrf": fields["csrf"]})
    assert done.status_code == 502
    assert done.headers["X-LTI-Error"] == "token_refused"
    assert "Traceback" not in done.get_data(as_text=True)


# -- NRPS --------------------------------------------------------------------------


def test_roster_follows_paging_links_exactly(app, launcher, school_lms, httpserver):
    gradebook = Gradebook(httpserver, launcher.client, school_lms)
    path = "/mod/lti/services.php/CourseSection/2/bindings/5/memberships"
    page2 = school_lms.issuer + path + "?Page=2&limit=1"

    def members(request: Request) -> Response:
        assert request.headers["Accept"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if request.args.get("Page") == "2":
            body = {"id": "x", "context": {"id": "2"}, "members": [
                {"status": "Active", "roles": ["Learner"], "user_id": "4", "name": "Sam Student"}]}
            return Response(json.dumps(body), content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
        body = {"id": "x", "context": {"id": "2"}, "members": [
            {"status": "Active", "roles": ["Instructor"], "user_id": "3", "name": "Terry Teacher"}]}
        return Response(json.dumps(body), headers={"Link": f'<{page2}>; rel="next"'},
                        content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")

    httpserver.expect_request(path, method="GET").respond_with_handler(members)
    nrps = {"context_memberships_url": school_lms.issuer + path, "service_versions": ["2.0"]}
    resp = launcher.resource_launch(**{LTI + "custom": {"feature": "welcome"}, NRPS: nrps})
    welcome = follow(launcher.client, resp)
    assert "/lti/roster" in welcome.get_data(as_text=True)  # teachers are offered the roster
    roster = launcher.client.get("/lti/roster?launch=" + welcome.request.args["launch"])
    assert roster.status_code == 200, roster.data
    html = roster.get_data(as_text=True)
    assert "Terry Teacher" in html and "Sam Student" in html
    assert len(gradebook.token_calls) == 1
    assert "contextmembership.readonly" in gradebook.token_calls[0]["scope"]


def test_learners_cannot_read_roster(app, launcher, school_lms):
    nrps = {"context_memberships_url": school_lms.issuer + "/m", "service_versions": ["2.0"]}
    resp = launcher.resource_launch(roles=[LEARNER], **{LTI + "custom": {"feature": "welcome"}, NRPS: nrps})
    welcome = follow(launcher.client, resp)
    assert launcher.client.get("/lti/roster?launch=" + welcome.request.args["launch"]).status_code == 403


# -- platform keys ---------------------------------------------------------------------


def jwks_fetches(httpserver) -> int:
    return sum(1 for req, _ in httpserver.log if req.path == "/mod/lti/certs.php")


def test_platform_key_rotation_triggers_one_refetch(app, launcher, school_lms, httpserver):
    assert launcher.resource_launch().status_code == 303
    assert launcher.resource_launch().status_code == 303
    assert jwks_fetches(httpserver) == 1  # cached across launches
    school_lms.add_key("rotated")
    school_lms.kid = "rotated"
    assert launcher.resource_launch().status_code == 303
    assert jwks_fetches(httpserver) == 2


def test_unknown_kid_flood_does_not_hammer_the_platform(app, launcher, school_lms, httpserver):
    from tests.ltiplatform import rsa_key

    assert launcher.resource_launch().status_code == 303
    forger, _ = rsa_key()
    for i in range(5):
        auth = launcher.login()
        token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL), kid=f"forged-{i}", key=forger)
        assert launcher.launch(token, auth["state"]).headers["X-LTI-Error"] == "kid_unknown"
    assert jwks_fetches(httpserver) == 2  # one refetch, then the cool-down holds


# -- tool keys ---------------------------------------------------------------------------


def test_tool_key_rotation_keeps_old_key_published_until_retired(app, client):
    kr = bridge(app).keyring
    first = client.get("/lti/jwks.json").get_json()["keys"]
    assert len(first) == 1 and first[0]["kid"] and first[0]["alg"] == "RS256" and "d" not in first[0]
    new_kid, old = kr.rotate()
    both = {k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]}
    assert both == {new_kid, first[0]["kid"]}
    assert kr.signing_key().kid == new_kid
    kr.retire(first[0]["kid"])
    assert [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]] == [new_kid]
    with pytest.raises(ValueError):
        kr.retire(new_kid)


def test_private_keys_are_encrypted_at_rest(app, client):
    from sqlalchemy import select

    from lti_tool.models import ToolKey

    client.get("/lti/jwks.json")
    with bridge(app).db.sessions() as s:
        stored = s.scalars(select(ToolKey.private_key_enc)).one()
    assert "PRIVATE KEY" not in stored
    assert "PRIVATE KEY" in bridge(app).box.decrypt(stored)
