"""The demo LMS end to end: the Flask test client plays the browser, while
the server-to-server calls (key sets, tokens, scores, rosters) go over real
HTTP to the same app served on a loopback port."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import lxml.html
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server

from config import load_settings
from lti_tool import create_app
from lti_tool.bridge import bridge
from lti_tool.demo.models import DemoCourse, DemoLineItem, DemoLink, DemoScore, DemoSite, DemoUser
from lti_tool.demo.platform import demo_origin
from lti_tool.demo.seed import seed
from lti_tool.i18n import role_label
from lti_tool.models import Registration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
GE = "gesamtschule-musterstadt"
GY = "gymnasium-beispielburg"
SECRET = "demo-test-secret-" + "x" * 32


@dataclass
class LiveDemo:
    """The app with the demo on, served on 127.0.0.1:<port>; demo pages on localhost:<port>."""

    app: Flask
    port: int

    @property
    def tool(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def demo(self) -> str:
        return f"http://localhost:{self.port}"

    def site(self, slug: str) -> DemoSite:
        with bridge(self.app).db.sessions() as s:
            site = s.scalar(select(DemoSite).where(DemoSite.slug == slug))
            assert site is not None
            return site

    def course(self, slug: str, shortname: str) -> DemoCourse:
        with bridge(self.app).db.sessions() as s:
            course = s.scalar(
                select(DemoCourse).join(DemoSite).where(DemoSite.slug == slug, DemoCourse.shortname == shortname)
            )
            assert course is not None
            return course

    def user(self, slug: str, role: str) -> DemoUser:
        with bridge(self.app).db.sessions() as s:
            user = s.scalars(
                select(DemoUser)
                .join(DemoSite)
                .where(DemoSite.slug == slug, DemoUser.role == role)
                .order_by(DemoUser.id)
            ).first()
            assert user is not None
            return user

    def links(self, course: DemoCourse) -> list[DemoLink]:
        with bridge(self.app).db.sessions() as s:
            return list(s.scalars(select(DemoLink).where(DemoLink.course_id == course.id).order_by(DemoLink.id)))


@pytest.fixture
def live_demo(tmp_path: Path, database_url: str) -> Iterator[LiveDemo]:
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    settings = load_settings(
        {},
        database_url=database_url,
        instance_dir=str(tmp_path / "instance"),
        base_url=f"http://127.0.0.1:{server.port}",
        secret_key=SECRET,
        demo=True,
    )
    app = holder["app"] = create_app(settings)
    app.config["TESTING"] = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seed(app)
    try:
        yield LiveDemo(app, server.port)
    finally:
        server.shutdown()
        thread.join()
        bridge(app).db.engine.dispose()


def page(resp: Any) -> Any:
    return lxml.html.fromstring(resp.get_data(as_text=True))


def form_fields(form: Any) -> dict[str, str]:
    return {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@type='hidden']")}


class Browser:
    """The browser side of the demo, driven through the Flask test client."""

    def __init__(self, client: FlaskClient, live: LiveDemo) -> None:
        self.client = client
        self.live = live
        self.id_tokens: list[str] = []

    def follow(self, resp: Any, url: str) -> tuple[Any, str]:
        while resp.status_code in (302, 303):
            url = urljoin(url, resp.headers["Location"])
            resp = self.client.get(url)
        return resp, url

    def course_url(self, slug: str, course: DemoCourse) -> str:
        return f"{self.live.demo}/demo/sites/{slug}/courses/{course.id}"

    def launch(self, slug: str, course: DemoCourse, user: DemoUser, link: DemoLink | None = None) -> tuple[Any, str]:
        """Click a link (or "Add content") on the course page; return the tool's page in the iframe."""
        url = self.course_url(slug, course) + "/launch"
        data = {"user": str(user.id), **({"link": str(link.id)} if link else {"deep_link": "1"})}
        resp, url = self.follow(self.client.post(url, data=data), url)
        assert resp.status_code == 200
        login = page(resp).get_element_by_id("lti-login")
        assert login.get("target") == "lti-tool"
        # 1. OIDC third-party login initiation, POSTed into the iframe.
        login_url = login.get("action")
        resp = self.client.post(login_url, data=form_fields(login))
        assert resp.status_code == 200, resp.data  # the tool's storage page (lti_storage_target was sent)
        auth_url = page(resp).xpath("//noscript//a/@href")[0]
        assert auth_url.startswith(self.live.demo + f"/demo/sites/{slug}/auth?")
        # 2. The platform's auth endpoint answers with the signed id_token.
        resp = self.client.get(auth_url)
        assert resp.status_code == 200, resp.data
        autopost = page(resp).get_element_by_id("autopost")
        fields = form_fields(autopost)
        self.id_tokens.append(fields["id_token"])
        # 3. The tool's launch endpoint (the state cookie came back: the test client keeps cookies).
        target = autopost.get("action")
        assert target == self.live.tool + "/lti/launch"
        return self.follow(self.client.post(target, data=fields), target)


@pytest.fixture
def browser(live_demo: LiveDemo) -> Browser:
    return Browser(live_demo.app.test_client(), live_demo)


def expected_role(app: Flask, role: str) -> str:
    with app.test_request_context("/?lang=de"):
        return role_label(role)


def text(doc: Any, testid: str) -> str:
    return doc.xpath(f"//*[@data-testid='{testid}']")[0].text_content().strip()


# -- set-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://127.0.0.1:5077", "http://localhost:5077"),
        ("http://localhost:5000", "http://127.0.0.1:5000"),
        ("https://bridge.example.org", "https://bridge.example.org"),
    ],
)
def test_demo_origin_swaps_loopback_hosts(base_url: str, origin: str) -> None:
    assert demo_origin(load_settings({}, base_url=base_url, secret_key=SECRET, database_url="sqlite://")) == origin


def test_demo_is_off_by_default(client: FlaskClient) -> None:
    assert client.get("/demo/").status_code == 404


def test_seed_registers_both_schools_with_the_tool(live_demo: LiveDemo) -> None:
    with bridge(live_demo.app).db.sessions() as s:
        regs = s.scalars(select(Registration).where(Registration.source == "demo")).all()
        issuers = sorted(r.platform.issuer for r in regs)
        assert issuers == [f"{live_demo.demo}/demo/sites/{GE}", f"{live_demo.demo}/demo/sites/{GY}"]
        assert all(r.key_set_url == r.platform.issuer + "/jwks.json" for r in regs)
        assert [d.deployment_id for r in regs for d in r.deployments] == ["1", "1"]


def test_each_issuer_publishes_its_own_keys(live_demo: LiveDemo, browser: Browser) -> None:
    kids = []
    for slug in (GE, GY):
        resp = browser.client.get(f"{live_demo.demo}/demo/sites/{slug}/jwks.json")
        keys = resp.get_json()["keys"]
        assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
        assert "d" not in keys[0]
        kids.append(keys[0]["kid"])
    assert kids[0] != kids[1]


def test_demo_seed_command_is_idempotent(tmp_path: Path, database_url: str) -> None:
    from lti_tool.cli import main

    env = {
        "LMS_BRIDGE_DATABASE_URL": database_url,
        "LMS_BRIDGE_INSTANCE_DIR": str(tmp_path / "instance"),
        "LMS_BRIDGE_SECRET_KEY": SECRET,
        "LMS_BRIDGE_BASE_URL": "http://127.0.0.1:5077",
    }
    runner = CliRunner()
    counts = []
    for _ in range(2):
        result = runner.invoke(main, ["demo", "seed"], env=env)
        assert result.exit_code == 0, result.output
        assert "http://localhost:5077/demo/" in result.output
        app = create_app(load_settings(env, demo=True))
        with bridge(app).db.sessions() as s:
            counts.append(
                {
                    m.__tablename__: s.scalar(select(func.count()).select_from(m))
                    for m in (DemoSite, DemoUser, DemoCourse, DemoLink, DemoLineItem, Registration)
                }
            )
        bridge(app).db.engine.dispose()
    assert counts[0] == counts[1]
    assert counts[0]["demo_site"] == 2 and counts[0]["registration"] == 2 and counts[0]["demo_course"] == 4


def test_start_page_is_german_with_english_available(live_demo: LiveDemo, browser: Browser) -> None:
    de = browser.client.get(live_demo.demo + "/demo/")
    assert de.status_code == 200
    doc = page(de)
    assert doc.get("lang") == "de"
    assert "Gesamtschule Musterstadt" in doc.text_content() and "Gymnasium Beispielburg" in doc.text_content()
    assert "Als erledigt markieren" in doc.text_content()
    en = page(browser.client.get(live_demo.demo + "/demo/?lang=en"))
    assert en.get("lang") == "en"
    assert "Mark as done" in en.text_content()


def test_demo_pages_move_to_the_demo_site(live_demo: LiveDemo, browser: Browser) -> None:
    resp = browser.client.get(live_demo.tool + "/demo/?lang=en")
    assert resp.status_code == 308
    assert resp.headers["Location"] == live_demo.demo + "/demo/?lang=en"


# -- launches ------------------------------------------------------------------------------


def test_teacher_launch_shows_course_and_role(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GE, "MA-7b")
    teacher = live_demo.user(GE, "teacher")
    resp, url = browser.launch(GE, course, teacher, live_demo.links(course)[0])
    assert resp.status_code == 200
    assert urlsplit(url).path == "/lti/welcome"
    doc = page(resp)
    assert text(doc, "course") == "Mathematik 7b"
    assert text(doc, "role") == expected_role(live_demo.app, "instructor")
    assert "Jonas Becker" in doc.text_content()


def test_id_token_is_shaped_like_moodles(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GY, "D-Q1")
    leader = live_demo.user(GY, "leader")
    link = live_demo.links(course)[0]
    browser.launch(GY, course, leader, link)
    site = live_demo.site(GY)
    keys = browser.client.get(f"{live_demo.demo}/demo/sites/{GY}/jwks.json").get_json()
    token = browser.id_tokens[-1]
    claims = jwt.decode(
        token,
        jwt.PyJWK(keys["keys"][0]),
        algorithms=["RS256"],
        audience=site.client_id,
        options={"verify_exp": False},
    )
    issuer = f"{live_demo.demo}/demo/sites/{GY}"
    assert claims["iss"] == issuer and claims["azp"] == site.client_id
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == leader.sub and claims["name"] == leader.name
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest" and claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == "1"
    assert claims[LTI + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    ]
    assert claims[LTI + "context"] == {
        "id": str(course.id),
        "label": "D-Q1",
        "title": "Deutsch Q1",
        "type": ["CourseSection"],
    }
    assert claims[LTI + "resource_link"]["id"] == str(link.id)
    assert claims[LTI + "custom"] == {"feature": "welcome"}
    assert claims[LTI + "launch_presentation"]["locale"] == "de"
    assert claims[LTI + "launch_presentation"]["document_target"] == "iframe"
    assert claims[LTI + "target_link_uri"] == live_demo.tool + "/lti/launch"
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitems"] == f"{issuer}/courses/{course.id}/lineitems"
    assert ags["lineitem"].startswith(ags["lineitems"] + "/")
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in ags["scope"]
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
    assert nrps["context_memberships_url"] == f"{issuer}/courses/{course.id}/memberships"


def start_auth(browser: Browser, live: LiveDemo) -> tuple[str, dict[str, str]]:
    """Start a launch and return the auth URL and query the tool sent the browser to."""
    from urllib.parse import parse_qsl

    course = live.course(GE, "MA-7b")
    url = browser.course_url(GE, course) + "/launch"
    teacher = live.user(GE, "teacher")
    resp, _ = browser.follow(browser.client.post(url, data={"user": teacher.id, "link": live.links(course)[0].id}), url)
    login = page(resp).get_element_by_id("lti-login")
    resp = browser.client.post(login.get("action"), data=form_fields(login))
    auth_url = page(resp).xpath("//noscript//a/@href")[0]
    return auth_url.split("?")[0], dict(parse_qsl(urlsplit(auth_url).query))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"redirect_uri": "http://127.0.0.1:1/evil"}, "invalid_request"),
        ({"login_hint": "someone-else"}, "login_required"),
        ({"client_id": "other-client"}, "unauthorized_client"),
        ({"response_mode": "query"}, "invalid_request"),
        ({"response_type": "code"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"prompt": "login"}, "invalid_request"),
        ({"nonce": ""}, "invalid_request"),
        ({"lti_message_hint": "forged"}, "invalid_request"),
    ],
)
def test_auth_endpoint_refuses_a_tampered_request(
    live_demo: LiveDemo, browser: Browser, change: dict[str, str], code: str
) -> None:
    auth, query = start_auth(browser, live_demo)
    assert browser.client.get(auth, query_string=query).status_code == 200
    resp = browser.client.get(auth, query_string={**query, **change})
    assert resp.status_code == 400
    assert code in resp.get_data(as_text=True)
    assert not page(resp).xpath("//form[@id='autopost']")


# -- deep linking ---------------------------------------------------------------------------


@dataclass
class DeepLinkReturn:
    """The tool's deep linking response as the browser posts it back to the platform."""

    url: str
    fields: dict[str, str]

    @property
    def claims(self) -> dict[str, Any]:
        return jwt.decode(self.fields["JWT"], options={"verify_signature": False})


def deep_link(browser: Browser, live: LiveDemo, course: DemoCourse, action: str) -> tuple[Any, DeepLinkReturn]:
    teacher = live.user(GE, "teacher")
    resp, url = browser.launch(GE, course, teacher)
    assert urlsplit(url).path == "/lti/deep-link"
    form = page(resp).xpath("//form[@method='post']")[0]
    data = {**form_fields(form), "feature": "welcome", "action": action}
    resp = browser.client.post(urljoin(url, form.get("action")), data=data)
    assert resp.status_code == 200
    back = page(resp).get_element_by_id("autopost")
    assert back.get("action").startswith(f"{live.demo}/demo/sites/{GE}/deep-link/")
    sent = DeepLinkReturn(back.get("action"), form_fields(back))
    return browser.client.post(sent.url, data=sent.fields), sent


def test_deep_linking_adds_content_and_a_gradebook_column(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GE, "MK-8")
    before = live_demo.links(course)
    resp, sent = deep_link(browser, live_demo, course, "add")
    assert resp.status_code == 200, resp.data
    assert "1 Inhalt wurde dem Kurs hinzugefügt." in page(resp).text_content()
    added = [link for link in live_demo.links(course) if link.id not in {b.id for b in before}]
    assert len(added) == 1
    assert json.loads(added[0].custom or "{}") == {"feature": "welcome"}
    assert added[0].url == live_demo.tool + "/lti/launch"
    with bridge(live_demo.app).db.sessions() as s:
        column = s.scalar(select(DemoLineItem).where(DemoLineItem.link_id == added[0].id))
        assert column is not None and column.score_maximum == 1 and column.tag == "completion"
    teacher = live_demo.user(GE, "teacher")
    course_page = page(browser.client.get(browser.course_url(GE, course), query_string={"user": teacher.id}))
    assert added[0].title in [b.text_content() for b in course_page.xpath("//button[@class='activity']")]
    # The response is accepted once.
    again = browser.client.post(sent.url, data=sent.fields)
    assert again.status_code == 400
    assert len(live_demo.links(course)) == len(before) + 1


def test_deep_linking_cancel_shows_the_tools_message(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GE, "MK-8")
    before = live_demo.links(course)
    resp, sent = deep_link(browser, live_demo, course, "cancel")
    assert resp.status_code == 200
    errormsg = sent.claims["https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"]
    assert errormsg and sent.claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] == []
    assert errormsg in page(resp).xpath("//*[@role='alert']")[0].text_content()
    assert [link.id for link in live_demo.links(course)] == [link.id for link in before]


def test_deep_linking_response_must_be_signed_by_the_tool(live_demo: LiveDemo, browser: Browser) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    course = live_demo.course(GE, "MK-8")
    links_before = len(live_demo.links(course))
    teacher = live_demo.user(GE, "teacher")
    url = browser.course_url(GE, course) + "/launch"
    resp, _ = browser.follow(browser.client.post(url, data={"user": teacher.id, "deep_link": "1"}), url)
    hint = form_fields(page(resp).get_element_by_id("lti-login"))["lti_message_hint"]
    site = live_demo.site(GE)
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": site.client_id,
            "aud": [f"{live_demo.demo}/demo/sites/{GE}"],
            "iat": now,
            "exp": now + 60,
            "nonce": "n-1",
            LTI + "deployment_id": "1",
            LTI + "message_type": "LtiDeepLinkingResponse",
            LTI + "version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti-dl/claim/data": hint,
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [{"type": "ltiResourceLink", "title": "X"}],
        },
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": bridge(live_demo.app).keyring.signing_key().kid},
    )
    resp = browser.client.post(f"{live_demo.demo}/demo/sites/{GE}/deep-link/{hint}/return", data={"JWT": forged})
    assert resp.status_code == 400
    assert "invalid_jwt" in resp.get_data(as_text=True)
    assert len(live_demo.links(course)) == links_before


# -- grades and roster ------------------------------------------------------------------------


def test_learner_mark_as_done_arrives_in_the_gradebook(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GY, "IF-EF")
    learner = live_demo.user(GY, "learner")
    link = live_demo.links(course)[0]
    resp, url = browser.launch(GY, course, learner, link)
    assert text(page(resp), "role") == expected_role(live_demo.app, "learner")
    form = page(resp).xpath("//form[contains(@action, '/lti/welcome/complete')]")[0]
    resp, url = browser.follow(browser.client.post(urljoin(url, form.get("action")), data=form_fields(form)), url)
    assert resp.status_code == 200 and "done=1" in url

    with bridge(live_demo.app).db.sessions() as s:
        score = s.scalar(select(DemoScore).where(DemoScore.user_id == learner.id))
        assert score is not None
        assert (score.score_given, score.score_maximum) == (1, 1)
        assert (score.activity_progress, score.grading_progress) == ("Completed", "FullyGraded")
        column = s.scalar(select(DemoLineItem).where(DemoLineItem.link_id == link.id))
        assert column is not None
    book = page(browser.client.get(f"{browser.course_url(GY, course)}/gradebook"))
    cell = book.xpath(f"//tr[@data-user='{learner.sub}']/td[@data-item='{column.id}']")[0]
    assert cell.text_content().split()[0] == "1"
    assert "Paul Fischer" in book.get_element_by_id("recent").text_content()


def test_roster_lists_the_course_members_over_nrps(live_demo: LiveDemo, browser: Browser) -> None:
    course = live_demo.course(GE, "MA-7b")
    resp, url = browser.launch(GE, course, live_demo.user(GE, "teacher"), live_demo.links(course)[0])
    roster = browser.client.get(urljoin(url, page(resp).xpath("//a[contains(@href, '/lti/roster')]/@href")[0]))
    assert roster.status_code == 200, roster.data
    names = [row.xpath("./td")[0].text_content() for row in page(roster).xpath("//tbody/tr")]
    # Six members: more than one NRPS page (five), so the tool followed rel="next".
    assert sorted(names) == sorted(
        ["Lena Schmidt", "Yusuf Demir", "Mia Wagner", "Jonas Becker", "Sabine Hoffmann", "Katrin Meyer"]
    )


# -- services as a tool calls them ---------------------------------------------------------------


def client_assertion(live: LiveDemo, site: DemoSite, key: Any = None, kid: str | None = None) -> str:
    signing = bridge(live.app).keyring.signing_key()
    now = int(time.time())
    return jwt.encode(
        {
            "iss": site.client_id,
            "sub": site.client_id,
            "aud": f"{live.demo}/demo/sites/{site.slug}/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        },
        key or signing.private_pem,
        algorithm="RS256",
        headers={"kid": kid or signing.kid},
    )


def get_token(browser: Browser, site: DemoSite, scope: str, assertion: str | None = None) -> Any:
    return browser.client.post(
        f"{browser.live.demo}/demo/sites/{site.slug}/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion or client_assertion(browser.live, site),
            "scope": scope,
        },
    )


NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def test_token_endpoint_checks_the_client_assertion(live_demo: LiveDemo, browser: Browser) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    site = live_demo.site(GE)
    ok = get_token(browser, site, NRPS_SCOPE + " https://example.org/other")
    assert ok.status_code == 200
    body = ok.get_json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, NRPS_SCOPE)
    assertion = client_assertion(live_demo, site)
    assert get_token(browser, site, NRPS_SCOPE, assertion).status_code == 200
    replayed = get_token(browser, site, NRPS_SCOPE, assertion)
    assert replayed.status_code == 400 and replayed.get_json()["error"] == "replayed"
    forged = client_assertion(live_demo, site, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    refused = get_token(browser, site, NRPS_SCOPE, forged)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    other_site = get_token(browser, live_demo.site(GY), NRPS_SCOPE, client_assertion(live_demo, site))
    assert other_site.status_code == 401
    assert get_token(browser, site, "openid").get_json()["error"] == "invalid_scope"


def test_memberships_are_paged_with_link_headers(live_demo: LiveDemo, browser: Browser) -> None:
    site = live_demo.site(GE)
    course = live_demo.course(GE, "MA-7b")
    token = get_token(browser, site, NRPS_SCOPE).get_json()["access_token"]
    url: str | None = f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}/memberships?limit=2"
    members, pages = [], 0
    while url:
        resp = browser.client.get(url, headers={"Authorization": "Bearer " + token})
        assert resp.status_code == 200
        assert resp.mimetype == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        members += resp.get_json()["members"]
        pages += 1
        url = resp.headers.get("Link", "").partition("<")[2].partition(">")[0] or None
    assert pages == 3 and len(members) == 6
    teacher = next(m for m in members if m["name"] == "Jonas Becker")
    assert teacher["user_id"] == live_demo.user(GE, "teacher").sub
    assert teacher["roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
    assert teacher["status"] == "Active"
    learners = browser.client.get(
        f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}/memberships",
        query_string={"role": "Learner"},
        headers={"Authorization": "Bearer " + token},
    ).get_json()["members"]
    assert len(learners) == 3 and "Link" not in resp.headers
    unauthorized = browser.client.get(f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}/memberships")
    assert unauthorized.status_code == 401 and unauthorized.headers["WWW-Authenticate"].startswith("Bearer")


GOOD_SCORE = {
    "scoreGiven": 1,
    "scoreMaximum": 1,
    "activityProgress": "Completed",
    "gradingProgress": "FullyGraded",
    "timestamp": "2026-11-23T10:00:00+00:00",
}


@pytest.mark.parametrize(
    "change",
    [
        {"userId": None},
        {"userId": "not-a-member"},
        {"scoreGiven": -1},
        {"scoreGiven": "1"},
        {"scoreMaximum": 0},
        {"scoreMaximum": None},
        {"activityProgress": "Done"},
        {"gradingProgress": "Graded"},
        {"timestamp": "2026-11-23T10:00:00"},
        {"timestamp": "yesterday"},
    ],
)
def test_scores_are_validated(live_demo: LiveDemo, browser: Browser, change: dict[str, Any]) -> None:
    site = live_demo.site(GE)
    course = live_demo.course(GE, "MA-7b")
    learner = live_demo.user(GE, "learner")
    token = get_token(browser, site, SCORE_SCOPE).get_json()["access_token"]
    with bridge(live_demo.app).db.sessions() as s:
        column = s.scalar(select(DemoLineItem).where(DemoLineItem.course_id == course.id))
        assert column is not None
    url = f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}/lineitems/{column.id}/scores"
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/vnd.ims.lis.v1.score+json"}
    good = {**GOOD_SCORE, "userId": learner.sub}
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    resp = browser.client.post(url, data=json.dumps(bad), headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    assert browser.client.post(url, data=json.dumps(good), headers=headers).status_code == 204


def test_line_items_can_be_listed_and_created(live_demo: LiveDemo, browser: Browser) -> None:
    site = live_demo.site(GY)
    course = live_demo.course(GY, "D-Q1")
    scopes = " ".join(
        f"https://purl.imsglobal.org/spec/lti-ags/scope/{s}" for s in ("lineitem", "score", "result.readonly")
    )
    token = get_token(browser, site, scopes).get_json()["access_token"]
    url = f"{live_demo.demo}/demo/sites/{GY}/courses/{course.id}/lineitems"
    headers = {"Authorization": "Bearer " + token}
    created = browser.client.post(
        url,
        json={"label": "Selbstevaluation", "scoreMaximum": 10, "tag": "selfeval", "resourceId": "se-1"},
        headers=headers,
    )
    assert created.status_code == 201
    item = created.get_json()
    assert item["id"].startswith(url + "/") and item["scoreMaximum"] == 10
    listed = browser.client.get(url, query_string={"tag": "selfeval"}, headers=headers).get_json()
    assert listed == [item]
    assert browser.client.get(item["id"], headers=headers).get_json() == item
    assert browser.client.post(url, json={"label": ""}, headers=headers).status_code == 400
    # A score of 1 out of 2 is kept as sent and rescaled to the column's maximum in the results.
    learner = live_demo.user(GY, "learner")
    score = {**GOOD_SCORE, "userId": learner.sub, "scoreGiven": 1, "scoreMaximum": 2, "comment": "gut"}
    assert browser.client.post(item["id"] + "/scores", json=score, headers=headers).status_code == 204
    results = browser.client.get(item["id"] + "/results", headers=headers).get_json()
    assert [(r["userId"], r["resultScore"], r["resultMaximum"], r["comment"]) for r in results] == [
        (learner.sub, 5.0, 10, "gut")
    ]


def test_seeded_network_workspace_opens_from_both_sites(live_demo: LiveDemo, browser: Browser) -> None:
    """The demo's "Lernen 25" network: a teacher of site 1 and the manager from site 2 land in it."""
    from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember

    with bridge(live_demo.app).db.sessions() as s:
        network = s.query(Network).one()
        schools = s.query(MemberSchool).filter_by(network_id=network.id).count()
        managers = s.query(NetworkMember).filter_by(network_id=network.id, role="manager").count()
    assert schools == 5 and managers == 1  # one manager person, with accounts on both sites

    course = live_demo.course(GE, "MK-8")
    link = next(lk for lk in live_demo.links(course) if "workspace" in (lk.custom or ""))
    resp, url = browser.launch(GE, course, live_demo.user(GE, "teacher"), link)
    assert resp.status_code == 200
    assert urlsplit(url).path == f"/w/{network.id}/"
    assert "Lernen 25" in page(resp).text_content()

    course_b = live_demo.course(GY, "IF-EF")
    link_b = next(lk for lk in live_demo.links(course_b) if "workspace" in (lk.custom or ""))
    resp, url = browser.launch(GY, course_b, live_demo.user(GY, "network_manager"), link_b)
    assert urlsplit(url).path == f"/w/{network.id}/"
    assert "Grundschule Am Park" in page(resp).text_content()  # the manager sees all member schools


def test_seeded_network_has_a_filled_board_and_a_planned_barcamp(live_demo: LiveDemo, browser: Browser) -> None:
    from lti_tool.workspaces.models import Network

    with bridge(live_demo.app).db.sessions() as s:
        network_id = s.query(Network).one().id
    course = live_demo.course(GY, "IF-EF")
    link = next(lk for lk in live_demo.links(course) if "workspace" in (lk.custom or ""))
    resp, url = browser.launch(GY, course, live_demo.user(GY, "network_manager"), link)
    launch = parse_qs(urlsplit(url).query)["launch"][0]
    tool = live_demo.tool
    board = browser.client.get(f"{tool}/w/{network_id}/board?launch={launch}")
    assert board.status_code == 200
    assert "Medienkonzepte aller Schulen aktualisieren" in board.get_data(as_text=True)
    camp = browser.client.get(f"{tool}/w/{network_id}/barcamp?launch={launch}")
    assert "Netzwerktreffen Frühjahr" in camp.get_data(as_text=True)
    year = browser.client.get(f"{tool}/w/{network_id}/meetings?launch={launch}").get_data(as_text=True)
    assert "Lenkungsrunde" in year and "Schulleitungsrunde" in year
    groups = browser.client.get(f"{tool}/w/{network_id}/groups?launch={launch}").get_data(as_text=True)
    assert "AG Feedback mit digitalen Werkzeugen" in groups
