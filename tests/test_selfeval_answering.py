"""Self-evaluation rounds and answering, launched from LMS courses of the network's schools."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.models import LtiContext, LtiUser
from lti_tool.selfeval.instruments import list_instruments
from lti_tool.selfeval.models import SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.workspaces.models import SchoolContext
from tests.ltiplatform import INSTRUCTOR, LEARNER, LTI, login_redirect_params
from tests.world import NETWORK_ROLES, PERSONAS, TOOL_LAUNCH, Actor

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
RASTER = next(i for i in list_instruments() if i.id == "selbstevaluationsraster")
ITEMS = [item.id for item in RASTER.items()]


def _launch(app, site, sub: str, roles: list[str], context_id: str, custom: dict[str, str],
            ags: dict[str, Any] | None = None, message_type: str = "LtiResourceLinkRequest") -> Actor:
    client = app.test_client(use_cookies=True)
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    extra: dict[str, Any] = {LTI + "context": {"id": context_id, "title": f"Kurs {context_id}", "label": context_id},
                             LTI + "custom": custom}
    if message_type == "LtiResourceLinkRequest":
        extra[LTI + "resource_link"] = {"id": "selfeval-" + custom.get("round", "x"), "title": "Selbstevaluation"}
    if ags:
        extra[AGS] = ags
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=roles, sub=sub, message_type=message_type, **extra)
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    assert resp.status_code == 303, resp.headers.get("X-LTI-Error")
    launch_id = re.search(r"launch=([\w-]+)", resp.headers["Location"]).group(1)
    return Actor(app, launch_id, None)


def _round(app, network_id: int, *, opens: timedelta = timedelta(days=-1), closes: timedelta = timedelta(days=7),
           key: str = RASTER.key) -> int:
    now = datetime.now(UTC)
    with bridge(app).db.sessions() as s:
        rnd = SelfevalRound(network_id=network_id, instrument_key=key, title="Schuljahr 2026/27 Herbst",
                            opens_at=now + opens, closes_at=now + closes)
        s.add(rnd)
        s.commit()
        return rnd.id


def _as(app, world, persona: str, round_id: int, context: str | None = None, **kw: Any) -> Actor:
    site, sub, roles, _role, _school = PERSONAS[persona]
    return _launch(app, world.sites[site], sub, roles, context or f"course-{site}",
                   {"feature": "selfeval", "round": str(round_id)}, **kw)


def _rows(app, round_id: int) -> list[SelfevalAnswer]:
    with bridge(app).db.sessions() as s:
        rows = s.scalars(select(SelfevalAnswer).where(SelfevalAnswer.round_id == round_id)).all()
        s.expunge_all()
        return list(rows)


def _responses(app, round_id: int) -> list[SelfevalResponse]:
    with bridge(app).db.sessions() as s:
        rows = s.scalars(select(SelfevalResponse).where(SelfevalResponse.round_id == round_id)).all()
        s.expunge_all()
        return list(rows)


# -- rounds -------------------------------------------------------------------------------


def test_manager_creates_and_closes_a_round_and_no_one_else_can(world, app):
    url = f"/s/networks/{world.network_id}/rounds"
    form = {"title": "Schuljahr 2026/27 Herbst", "instrument_key": "medienhaus@1.0",
            "opens_at": "2026-09-01T08:00", "closes_at": "2026-10-31T18:00"}
    for persona in NETWORK_ROLES:
        if persona == "manager":
            continue
        assert world.as_(persona).get(url).status_code == 200  # members see the list
        assert world.as_(persona).post(url, form).status_code == 403, persona
    assert world.as_("outsider").get(url).status_code == 404
    assert world.as_("outsider").post(url, form).status_code == 404
    assert world.as_("learner").post(url, form).status_code == 404
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SelfevalRound)) == 0

    manager = world.as_("manager")
    bad = manager.post(url, {**form, "closes_at": "2026-08-01T08:00"})
    assert bad.status_code == 400 and "nach ihrem Beginn enden" in bad.get_data(as_text=True)
    assert manager.post(url, {**form, "title": "  "}).status_code == 400
    assert manager.post(url, {**form, "instrument_key": "nope@1"}).status_code == 400
    assert manager.post(url, form).status_code == 303
    with bridge(app).db.sessions() as s:
        rnd = s.scalars(select(SelfevalRound)).one()
        assert (rnd.title, rnd.instrument_key, rnd.network_id) == (form["title"], "medienhaus@1.0", world.network_id)
        opens = rnd.opens_at.replace(tzinfo=rnd.opens_at.tzinfo or UTC)
        assert opens == datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # Berlin summer time, stored in UTC
        round_id = rnd.id
    page = manager.get(url).get_data(as_text=True)
    assert "Schuljahr 2026/27 Herbst" in page and "medienhaus@1.0" in page

    edited = manager.post(url, {**form, "round_id": str(round_id), "title": "Herbst 2026"})
    assert edited.status_code == 303
    assert world.as_("leader_a").post(url, {"round_id": str(round_id), "action": "close"}).status_code == 403
    assert manager.post(url, {"round_id": str(round_id), "action": "close"}).status_code == 303
    with bridge(app).db.sessions() as s:
        rnd = s.get(SelfevalRound, round_id)
        assert rnd.title == "Herbst 2026"
        closes = rnd.closes_at.replace(tzinfo=rnd.closes_at.tzinfo or UTC)
        assert closes <= datetime.now(UTC)


# -- answering ------------------------------------------------------------------------------


def test_teacher_saves_resumes_and_submits(world, app):
    round_id = _round(app, world.network_id)
    teacher = _as(app, world, "teacher_a", round_id)
    page = teacher.get("/s/answer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Gesamtschule Musterstadt" in html and "<details>" in html and "<legend>" in html
    assert 'value="teacher" checked' in html  # the network role decides the default group
    assert f'name="item:{ITEMS[0]}"' in html and 'name="text:staerken"' in html

    draft = teacher.post("/s/answer", {"action": "save", f"item:{ITEMS[0]}": "4", f"item:{ITEMS[1]}": "na",
                                       f"item:{ITEMS[2]}": "", "text:staerken": "Die Lernplattform"})
    assert draft.status_code == 303
    rows = _rows(app, round_id)
    assert sorted((r.item_id, r.value) for r in rows) == sorted([(ITEMS[0], 4), (ITEMS[1], None)])
    [response] = _responses(app, round_id)
    assert response.status == "draft" and response.submitted_at is None
    assert response.school_id == world.schools["A"] and response.group_id == "teacher"
    with bridge(app).db.sessions() as s:
        user_ids = {str(u) for u in s.scalars(select(LtiUser.id))}
        subs = {bridge(app).box.decrypt(u.sub_enc) for u in s.scalars(select(LtiUser))}
    assert len(response.respondent_key) == 64
    assert response.respondent_key not in user_ids | subs
    assert {r.respondent_key for r in rows} == {response.respondent_key}

    # resume: a new launch of the same person shows the saved values
    again = _as(app, world, "teacher_a", round_id)
    html = again.get("/s/answer").get_data(as_text=True)
    assert f'name="item:{ITEMS[0]}" value="4" checked' in html
    assert f'name="item:{ITEMS[1]}" value="na" checked' in html
    assert "Die Lernplattform" in html

    done = again.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "5", f"item:{ITEMS[2]}": "1"})
    assert done.status_code == 303 and "done=submitted" in done.headers["Location"]
    assert "gradebook" not in done.headers["Location"]  # no line item on this link
    rows = _rows(app, round_id)
    assert sorted((r.item_id, r.value) for r in rows) == sorted([(ITEMS[0], 5), (ITEMS[2], 1)])
    [response] = _responses(app, round_id)
    assert response.status == "submitted" and response.submitted_at is not None

    # resubmission changes answers, never duplicates rows or responses
    again.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "3", f"item:{ITEMS[2]}": "1"})
    rows = _rows(app, round_id)
    assert sorted((r.item_id, r.value) for r in rows) == sorted([(ITEMS[0], 3), (ITEMS[2], 1)])
    assert len(_responses(app, round_id)) == 1

    # another respondent of school B gets their own key and rows
    other = _as(app, world, "leader_b", round_id)
    assert other.post("/s/answer", {"action": "submit", "group": "school_leader", f"item:{ITEMS[0]}": "2"}).status_code == 303
    responses = {r.school_id: r for r in _responses(app, round_id)}
    assert responses[world.schools["B"]].group_id == "school_leader"
    assert len({r.respondent_key for r in responses.values()}) == 2


def test_invalid_values_and_unknown_items_are_refused_and_nothing_is_written(world, app):
    round_id = _round(app, world.network_id)
    teacher = _as(app, world, "teacher_a", round_id)
    for bad in ({f"item:{ITEMS[0]}": "9"}, {f"item:{ITEMS[0]}": "abc"}, {"item:not_an_item": "3"},
                {f"item:{ITEMS[0]}": "3", "item:not_an_item": "3"}, {"text:unknown": "x"},
                {"group": "student"}, {"group": "headmaster"}):
        resp = teacher.post("/s/answer", {"action": "submit", **bad})
        assert resp.status_code == 400, bad
    assert _rows(app, round_id) == [] and _responses(app, round_id) == []
    # the CSRF token is checked
    forged = teacher.client.post("/s/answer", data={"launch": teacher.launch_id, "csrf": "x", f"item:{ITEMS[0]}": "3"})
    assert forged.status_code == 400 and _rows(app, round_id) == []


def test_closed_round_is_read_only(world, app):
    round_id = _round(app, world.network_id)
    teacher = _as(app, world, "teacher_a", round_id)
    assert teacher.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "4"}).status_code == 303
    with bridge(app).db.sessions() as s:
        s.get(SelfevalRound, round_id).closes_at = datetime.now(UTC) - timedelta(minutes=1)
        s.commit()
    page = teacher.get("/s/answer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Diese Erhebung ist beendet" in html
    assert "Save draft" not in html and 'value="submit"' not in html
    assert f'name="item:{ITEMS[0]}" value="4" checked' in html
    refused = teacher.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "1"})
    assert refused.status_code == 403
    assert [(r.item_id, r.value) for r in _rows(app, round_id)] == [(ITEMS[0], 4)]


def test_round_not_open_yet_is_refused(world, app):
    round_id = _round(app, world.network_id, opens=timedelta(days=2), closes=timedelta(days=9))
    teacher = _as(app, world, "teacher_a", round_id)
    assert teacher.get("/s/answer").status_code == 403
    assert teacher.post("/s/answer", {"action": "save", f"item:{ITEMS[0]}": "4"}).status_code == 403
    assert _rows(app, round_id) == [] and _responses(app, round_id) == []


def test_course_not_bound_to_a_school_of_the_network_is_refused(world, app):
    round_id = _round(app, world.network_id)
    unbound = _as(app, world, "teacher_a", round_id, context="course-unbound")
    resp = unbound.get("/s/answer")
    assert resp.status_code == 403 and "Traceback" not in resp.get_data(as_text=True)
    assert unbound.post("/s/answer", {"action": "save", f"item:{ITEMS[0]}": "4"}).status_code == 403
    # a round of another network, launched from a course of this network, is refused too
    foreign = _round(app, world.other_network_id)
    assert _as(app, world, "teacher_a", foreign).get("/s/answer").status_code == 403
    # learners cannot answer an instrument without a student group; unknown rounds are 404
    learner = _launch(app, world.sites["A"], "pupil-1", [LEARNER], "course-A",
                      {"feature": "selfeval", "round": str(round_id)})
    assert learner.get("/s/answer").status_code == 403
    assert _as(app, world, "teacher_a", 99999).get("/s/answer").status_code == 404
    assert _rows(app, round_id) == [] and _responses(app, round_id) == []


def test_medienhaus_has_one_group_and_the_link_lands_on_the_form(world, app):
    round_id = _round(app, world.network_id, key="medienhaus@1.0")
    media = _as(app, world, "media_a", round_id)
    landing = media.client.get(f"/lti/home?launch={media.launch_id}")
    assert landing.status_code in (302, 303) and "/s/answer" in landing.headers["Location"]
    html = media.get("/s/answer").get_data(as_text=True)
    assert 'name="group" value="media_coordinator"' in html and 'type="radio" name="group"' not in html
    assert 'id="answered-for-school"' in html  # the form says it answers for the school
    assert media.post("/s/answer", {"action": "save", "item:internetanbindung": "5"}).status_code == 303
    [response] = _responses(app, round_id)
    assert response.group_id == "media_coordinator"

    # one answer per school: the school leader of A opens the same response ...
    leader = _as(app, world, "leader_a", round_id)
    assert 'name="item:internetanbindung" value="5" checked' in leader.get("/s/answer").get_data(as_text=True)
    assert leader.post("/s/answer", {"action": "submit", "item:internetanbindung": "4",
                                     "item:lms": "2"}).status_code == 303
    [response] = _responses(app, round_id)
    assert response.status == "submitted"
    assert sorted((r.item_id, r.value) for r in _rows(app, round_id)) == [("internetanbindung", 4), ("lms", 2)]
    # ... keyed by the school, not by a person; school B gets its own
    with bridge(app).db.sessions() as s:
        subs = {bridge(app).box.decrypt(u.sub_enc) for u in s.scalars(select(LtiUser))}
    assert response.respondent_key == bridge(app).box.pseudonym("selfeval-school", str(round_id),
                                                                str(world.schools["A"]))
    assert response.respondent_key not in subs
    _as(app, world, "teacher_b", round_id).post("/s/answer", {"action": "submit", "item:lms": "5"})
    assert {r.school_id for r in _responses(app, round_id)} == {world.schools["A"], world.schools["B"]}
    # learners never answer for their school
    learner = _as(app, world, "learner", round_id)
    assert learner.get("/s/answer").status_code == 403
    assert len(_responses(app, round_id)) == 2


def test_completion_arrives_in_the_gradebook_when_the_link_has_a_line_item(world, app, httpserver, school_lms):
    from tests.test_advantage import Gradebook, ags_claim

    gradebook = Gradebook(httpserver, app.test_client(), school_lms)
    round_id = _round(app, world.network_id)
    custom = {"feature": "selfeval", "round": str(round_id)}
    teacher = _launch(app, school_lms, "t-9", [INSTRUCTOR], "course-H", custom, ags=ags_claim(school_lms))
    with bridge(app).db.sessions() as s:
        ctx = s.scalar(select(LtiContext).where(LtiContext.context_id == "course-H"))
        s.add(SchoolContext(school_id=world.schools["A"], context_pk=ctx.id))
        s.commit()
    saved = teacher.post("/s/answer", {"action": "save", f"item:{ITEMS[0]}": "4"})
    assert saved.status_code == 303 and gradebook.scores == []  # drafts are not completion
    done = teacher.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "4"})
    assert done.status_code == 303 and "gradebook=sent" in done.headers["Location"]
    [score] = gradebook.scores
    assert score["userId"] == "t-9"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, 1)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")


def test_platform_failure_keeps_the_submission_and_says_so(world, app, httpserver, school_lms):
    from tests.test_advantage import ags_claim

    httpserver.expect_request("/mod/lti/token.php", method="POST").respond_with_data("nope", status=401)
    round_id = _round(app, world.network_id)
    custom = {"feature": "selfeval", "round": str(round_id)}
    teacher = _launch(app, school_lms, "t-9", [INSTRUCTOR], "course-H", custom, ags=ags_claim(school_lms))
    with bridge(app).db.sessions() as s:
        ctx = s.scalar(select(LtiContext).where(LtiContext.context_id == "course-H"))
        s.add(SchoolContext(school_id=world.schools["A"], context_pk=ctx.id))
        s.commit()
    done = teacher.post("/s/answer", {"action": "submit", f"item:{ITEMS[0]}": "4"})
    assert done.status_code == 303 and "gradebook=failed" in done.headers["Location"]
    assert [r.status for r in _responses(app, round_id)] == ["submitted"]
    assert len(_rows(app, round_id)) == 1
    page = teacher.client.get(done.headers["Location"])
    assert page.status_code == 200 and 'role="alert"' in page.get_data(as_text=True)


def test_deep_linking_offers_the_open_rounds_of_my_networks(world, app):
    open_round = _round(app, world.network_id)
    future = _round(app, world.network_id, opens=timedelta(days=3), closes=timedelta(days=10))
    closed = _round(app, world.network_id, opens=timedelta(days=-10), closes=timedelta(days=-1))
    foreign = _round(app, world.other_network_id)
    site = world.sites["A"]
    client = app.test_client()
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["manager"][2], sub="m-1",
                       message_type="LtiDeepLinkingRequest",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"},
                          AGS: {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                                "lineitems": site.issuer + "/lineitems"}})
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'value="selfeval:{open_round}"' in html and f'value="selfeval:{future}"' in html
    assert f'value="selfeval:{closed}"' not in html and f'value="selfeval:{foreign}"' not in html
    fields = dict(re.findall(r'name="(launch|csrf)" value="([^"]*)"', html))
    done = client.post("/lti/deep-link", data={**fields, "feature": f"selfeval:{open_round}", "action": "add"})
    token = re.search(r'name="JWT" value="([^"]+)"', done.get_data(as_text=True)).group(1)
    items = jwt.decode(token, options={"verify_signature": False})[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert items[0]["custom"] == {"feature": "selfeval", "round": str(open_round)}
    assert items[0]["lineItem"]["scoreMaximum"] == 1
