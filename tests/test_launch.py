"""Valid launches: roles, landing pages, pseudonymous storage, cookie-less launches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.bridge import bridge
from lti_tool.models import LtiContext, LtiUser, Membership, ResourceLink
from tests.conftest import LAUNCH_URL, count_rows
from tests.ltiplatform import INSTRUCTOR, LEARNER, LTI

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "moodle-lti"


def follow(client, resp):
    assert resp.status_code in (302, 303), (resp.status_code, resp.headers.get("X-LTI-Error"))
    return client.get(resp.headers["Location"])


def test_teacher_launch_of_unconfigured_link_offers_setup(app, launcher):
    page = follow(launcher.client, launcher.resource_launch())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lab Course 101" in html
    assert 'name="feature"' in html and 'value="welcome"' in html
    assert count_rows(app, LtiUser, LtiContext, ResourceLink, Membership) == {
        "lti_user": 1, "lti_context": 1, "resource_link": 1, "membership": 1,
    }


def test_teacher_sets_up_link_and_it_stays_set_up(app, launcher):
    page = follow(launcher.client, launcher.resource_launch())
    html = page.get_data(as_text=True)
    launch_id = html.split('name="launch" value="')[1].split('"')[0]
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    resp = launcher.client.post("/lti/link-setup", data={"launch": launch_id, "csrf": csrf, "feature": "welcome"})
    assert resp.status_code == 303
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(ResourceLink.feature)) == "welcome"
    # The next learner launch of the same link lands on the feature.
    learner = launcher.resource_launch(roles=[LEARNER], sub="4")
    assert "/lti/welcome" in learner.headers["Location"]


def test_link_setup_needs_csrf_token(app, launcher):
    page = follow(launcher.client, launcher.resource_launch())
    launch_id = page.get_data(as_text=True).split('name="launch" value="')[1].split('"')[0]
    resp = launcher.client.post("/lti/link-setup", data={"launch": launch_id, "csrf": "forged", "feature": "welcome"})
    assert resp.status_code == 400
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(ResourceLink.feature)) is None


def test_learner_on_unconfigured_link_sees_not_set_up(app, launcher):
    page = follow(launcher.client, launcher.resource_launch(roles=[LEARNER], sub="4"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="feature"' not in html
    assert "Lehrkraft" in html or "teacher" in html.lower()


def test_learner_cannot_set_up_link(app, launcher):
    page = follow(launcher.client, launcher.resource_launch(roles=[LEARNER], sub="4"))
    launch_id = page.request.args["launch"]
    from lti_tool.lti.launches import LaunchSession
    from lti_tool.lti.views import csrf_token

    with app.test_request_context():
        csrf = csrf_token(LaunchSession(launch_id, {}))
    resp = launcher.client.post("/lti/link-setup", data={"launch": launch_id, "csrf": csrf, "feature": "welcome"})
    assert resp.status_code == 403


def test_custom_feature_parameter_lands_on_feature(app, launcher):
    resp = launcher.resource_launch(**{LTI + "custom": {"feature": "welcome"}})
    page = follow(launcher.client, resp)
    assert page.request.path == "/lti/welcome"
    assert page.status_code == 200
    assert "Lab Course 101" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "roles,expected",
    [
        ([INSTRUCTOR], "instructor"),
        ([LEARNER], "learner"),
        (["Instructor"], "instructor"),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], "administrator"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"], "content_developer"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], "instructor"),
        (["urn:example:unknown-role"], "learner"),
        ([], "learner"),
    ],
)
def test_roles_map_to_tool_roles(app, launcher, roles, expected):
    assert launcher.resource_launch(roles=roles).status_code == 303
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(Membership.role)) == expected


def test_user_is_stored_pseudonymously(app, launcher):
    launcher.resource_launch(sub="moodle-user-3")
    with bridge(app).db.sessions() as s:
        user = s.scalars(select(LtiUser)).one()
    assert "moodle-user-3" not in user.sub_hash and "moodle-user-3" not in user.sub_enc
    assert bridge(app).box.decrypt(user.sub_enc) == "moodle-user-3"
    assert user.name == "Terry Teacher"
    # The e-mail address is never stored anywhere in the database.
    db_path = bridge(app).db.engine.url.database
    bridge(app).db.engine.dispose()
    assert b"teacher1@example.org" not in Path(db_path).read_bytes()


def test_same_person_twice_is_one_user_and_other_sites_are_others(app, launcher, school_lms):
    launcher.resource_launch()
    launcher.resource_launch()
    assert count_rows(app, LtiUser)["lti_user"] == 1


def test_real_moodle_claims_are_accepted(app, launcher, school_lms):
    """The claim shapes of a real Moodle 5.1 teacher launch, re-signed by the test platform."""
    recorded = json.loads((FIXTURES / "launch_teacher.json").read_text())["claims"]
    auth = launcher.login()
    import time

    body = dict(recorded)
    body.update(
        iss=school_lms.issuer, aud=school_lms.client_id, nonce=auth["nonce"],
        iat=int(time.time()), exp=int(time.time()) + 60,
    )
    body[LTI + "deployment_id"] = school_lms.deployment_id
    body[LTI + "target_link_uri"] = LAUNCH_URL
    resp = launcher.launch(school_lms.sign(body), auth["state"])
    assert resp.status_code == 303
    with bridge(app).db.sessions() as s:
        ctx = s.scalars(select(LtiContext)).one()
        link = s.scalars(select(ResourceLink)).one()
    assert (ctx.title, ctx.context_id) == ("Lab Course 101", "2")
    assert ctx.nrps_url.endswith("/CourseSection/2/bindings/5/memberships")
    assert link.ags_lineitem_url.endswith("/lineitems/11/lineitem?type_id=5")


def test_moodle_posts_login_and_get_works_too(app, client, school_lms):
    for method in ("post", "get"):
        call = getattr(client, method)
        kwargs = {"data": school_lms.login_params(LAUNCH_URL)} if method == "post" else {"query_string": school_lms.login_params(LAUNCH_URL)}
        resp = call("/lti/login", **kwargs)
        assert resp.status_code == 302
        location = resp.headers["Location"]
        assert location.startswith(school_lms.auth_login_url + "?")
        for part in ("response_mode=form_post", "prompt=none", "scope=openid", "login_hint=3", "lti_message_hint="):
            assert part in location


HTTPS_TOOL = "https://tool.example.org"


@pytest.fixture
def https_tool(tmp_path, migrated_template):
    """The tool behind https (cookies for cross-site frames) with one school site registered."""
    import shutil

    from config import load_settings
    from lti_tool import create_app
    from lti_tool.platforms import PlatformSpec, add_platform
    from tests.ltiplatform import FakePlatform

    db = tmp_path / "t.sqlite3"
    shutil.copy(migrated_template, db)
    app = create_app(load_settings({}, database_url=f"sqlite:///{db}", base_url=HTTPS_TOOL,
                                   instance_dir=str(tmp_path), secret_key="s" * 40))
    p = FakePlatform(issuer="https://school.example", client_id="c", deployment_id="1", jwks_url="https://school.example/k")
    with bridge(app).db.sessions() as s:
        add_platform(s, PlatformSpec(issuer=p.issuer, client_id="c", auth_login_url=p.auth_login_url,
                                     auth_token_url=p.auth_token_url, key_set=p.jwks(), deployment_ids=["1"]))
    yield app, p
    bridge(app).db.engine.dispose()


def test_state_cookie_is_cross_site_ready_over_https(https_tool):
    app, p = https_tool
    resp = app.test_client().post("/lti/login", data=p.login_params(HTTPS_TOOL + "/lti/launch"), base_url=HTTPS_TOOL)
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_cookieless_launch_through_platform_storage(app, client, school_lms):
    """LTI client-side postMessage storage: no cookie ever reaches the tool."""
    resp = client.post("/lti/login", data=school_lms.login_params(LAUNCH_URL, lti_storage_target="lti_storage_frame"))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "lti.put_data" in html
    from tests.ltiplatform import login_redirect_params

    auth_url = json.loads(html.split("var authUrl = ")[1].split(";\n")[0])
    auth = login_redirect_params(auth_url)
    token = school_lms.sign(school_lms.claims(auth["nonce"], LAUNCH_URL))

    cookieless = app.test_client(use_cookies=False)
    relay = cookieless.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert relay.status_code == 200
    relay_html = relay.get_data(as_text=True)
    assert "lti.get_data" in relay_html
    # It asks the platform's named storage frame, and trusts only the platform's auth origin.
    assert 'var targetName = "lti_storage_frame"' in relay_html
    assert f'var origin = "{school_lms.issuer}"' in relay_html
    assert count_rows(app, LtiUser)["lti_user"] == 0  # the relay page writes nothing

    wrong = cookieless.post("/lti/launch", data={"id_token": token, "state": auth["state"], "lti_storage_state": "nope"})
    assert wrong.headers["X-LTI-Error"] == "state_cookie_missing"

    done = cookieless.post("/lti/launch", data={"id_token": token, "state": auth["state"], "lti_storage_state": auth["state"]})
    assert done.status_code == 303
    page = cookieless.get(done.headers["Location"])
    assert page.status_code == 200 and "Lab Course 101" in page.get_data(as_text=True)


def test_launch_session_expires_cleanly(app, client):
    resp = client.get("/lti/welcome?launch=unknown")
    assert resp.status_code == 401
    assert "Traceback" not in resp.get_data(as_text=True)


def test_german_is_default_and_english_follows_launch_locale(app, launcher):
    page = follow(launcher.client, launcher.resource_launch(roles=[LEARNER]))
    assert '<html lang="de">' in page.get_data(as_text=True)
    english = follow(launcher.client, launcher.resource_launch(
        roles=[LEARNER], **{LTI + "launch_presentation": {"locale": "en-GB"}}))
    assert '<html lang="en">' in english.get_data(as_text=True)


def test_login_in_an_iframe_checks_cookies_before_spending_the_message_hint(app, client, school_lms):
    """Moodle's lti_message_hint works once: the cookie check happens before the redirect."""
    params = school_lms.login_params(LAUNCH_URL)
    resp = client.post("/lti/login", data=params, headers={"Sec-Fetch-Dest": "iframe"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "lb_cookie_check=1" in html and "window.location.replace" in html
    cookies = resp.headers.getlist("Set-Cookie")
    assert any(c.startswith("lb_cookie_check=1") for c in cookies)
    # The new-window link repeats the unused login, first-party.
    import html as htmllib
    import re as _re

    link = htmllib.unescape(_re.search(r'href="(/lti/login\?[^"]+)"', html).group(1))
    assert "new_window=1" in link and "lti_message_hint=" in link and "login_hint=3" in link
    top = client.get(link, headers={"Sec-Fetch-Dest": "document"})
    assert top.status_code == 302 and top.headers["Location"].startswith(school_lms.auth_login_url)


def test_https_cookies_are_partitioned_for_iframes(https_tool):
    app, p = https_tool
    resp = app.test_client().post("/lti/login", data=p.login_params(HTTPS_TOOL + "/lti/launch"),
                                  base_url=HTTPS_TOOL, headers={"Sec-Fetch-Dest": "iframe"})
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) == 2  # the state and the cookie check
    for cookie in cookies:
        assert "Partitioned" in cookie and "Secure" in cookie and "SameSite=None" in cookie


def test_get_on_the_launch_url_is_answered(client):
    """Moodle GETs the tool URL when a teacher saves an activity."""
    resp = client.get("/lti/launch")
    assert resp.status_code == 200 and "LTI 1.3" in resp.get_data(as_text=True)


def test_features_that_need_parameters_are_not_offered_bare(app, launcher):
    """A self-evaluation link needs its round: the setup page and picker only offer it through rounds."""
    page = follow(launcher.client, launcher.resource_launch())
    html = page.get_data(as_text=True)
    assert 'value="selfeval"' not in html and 'value="welcome"' in html
    launch_id = html.split('name="launch" value="')[1].split('"')[0]
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    resp = launcher.client.post("/lti/link-setup", data={"launch": launch_id, "csrf": csrf, "feature": "selfeval"})
    assert resp.status_code == 400
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(ResourceLink.feature)) is None
