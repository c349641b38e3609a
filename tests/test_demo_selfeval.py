"""The demo network's self-evaluation rounds: seeded responses give reports with numbers, change and a house."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.demo import seed_selfeval
from lti_tool.demo.models import DemoLink, DemoSite
from lti_tool.demo.seed_network import seed_network
from lti_tool.selfeval.models import SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.workspaces.models import MemberSchool, Network
from tests.test_demo import GE, GY, Browser, LiveDemo, browser, live_demo, page  # noqa: F401  (fixtures)


def _rounds(app) -> dict[str, SelfevalRound]:
    with bridge(app).db.sessions() as s:
        return {r.title: r for r in s.scalars(select(SelfevalRound))}


def _manager_launch(live: LiveDemo, browser: Browser) -> str:  # noqa: F811
    course = live.course(GY, "IF-EF")
    link = next(lk for lk in live.links(course) if "workspace" in (lk.custom or ""))
    _resp, url = browser.launch(GY, course, live.user(GY, "network_manager"), link)
    return parse_qs(urlsplit(url).query)["launch"][0]


def test_seeded_rounds_and_links(live_demo: LiveDemo) -> None:  # noqa: F811
    rounds = _rounds(live_demo.app)
    spring, autumn = rounds[seed_selfeval.SPRING_TITLE], rounds[seed_selfeval.AUTUMN_TITLE]
    house = rounds[seed_selfeval.HOUSE_TITLE]
    assert spring.instrument_key == autumn.instrument_key == "selbstevaluationsraster@1.0"
    assert house.instrument_key == "medienhaus@1.0"
    assert spring.closes_at < autumn.opens_at
    with bridge(live_demo.app).db.sessions() as s:
        per_group = dict(s.execute(select(SelfevalResponse.group_id, func.count()).where(
            SelfevalResponse.round_id == autumn.id).group_by(SelfevalResponse.group_id)).all())
        assert per_group["teacher"] >= 16 and per_group["school_leader"] >= 10
        assert per_group["media_coordinator"] == 25  # five per school, all five schools
        schools_answered = s.scalars(select(SelfevalResponse.school_id).where(SelfevalResponse.round_id == house.id))
        house_answers = list(schools_answered)
        assert len(house_answers) == len(set(house_answers)) == 5  # the Medienhaus: one answer per school
        assert {r.status for r in s.scalars(select(SelfevalResponse))} == {SUBMITTED}
        assert all(len(r.respondent_key) == 64 for r in s.scalars(select(SelfevalResponse)))
        links = [json.loads(lk.custom) for lk in s.scalars(select(DemoLink).where(DemoLink.title == "Selbstevaluation"))]
    assert len(links) == 2 and all(c == {"feature": "selfeval", "round": str(autumn.id)} for c in links)
    with bridge(live_demo.app).db.sessions() as s:
        house_links = [json.loads(lk.custom) for lk in s.scalars(
            select(DemoLink).where(DemoLink.title == seed_selfeval.HOUSE_LINK_TITLE))]
    assert len(house_links) == 2 and all(c == {"feature": "selfeval", "round": str(house.id)} for c in house_links)


def test_seeding_is_idempotent(live_demo: LiveDemo) -> None:  # noqa: F811
    app = live_demo.app
    with bridge(app).db.sessions() as s:
        before = (s.scalar(select(func.count()).select_from(SelfevalAnswer)),
                  s.scalar(select(func.count()).select_from(SelfevalRound)),
                  s.scalar(select(func.count()).select_from(DemoLink)))
    with app.test_request_context(), bridge(app).db.sessions() as s:
        seed_network(s, list(s.scalars(select(DemoSite))))
        s.commit()
    with bridge(app).db.sessions() as s:
        after = (s.scalar(select(func.count()).select_from(SelfevalAnswer)),
                 s.scalar(select(func.count()).select_from(SelfevalRound)),
                 s.scalar(select(func.count()).select_from(DemoLink)))
    assert before == after


def test_seeded_reports_show_numbers_disagreement_change_and_a_house(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    rounds = _rounds(live_demo.app)
    autumn, house = rounds[seed_selfeval.AUTUMN_TITLE], rounds[seed_selfeval.HOUSE_TITLE]
    with bridge(live_demo.app).db.sessions() as s:
        network_id = s.scalar(select(Network.id))
        schools = {sc.school_type: sc.id for sc in s.scalars(select(MemberSchool))}
    launch = _manager_launch(live_demo, browser)
    tool = live_demo.tool

    report = browser.client.get(f"{tool}/s/rounds/{autumn.id}/school/{schools['Gesamtschule']}?launch={launch}&lang=en")
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    assert html.count("<strong>") > 50 and "fewer than 5 answers" not in html
    assert "Groups disagree" in html
    assert "Change since the previous round" in html and seed_selfeval.SPRING_TITLE in html

    network = browser.client.get(f"{tool}/s/rounds/{autumn.id}/network?launch={launch}&lang=en")
    assert network.status_code == 200 and "Gymnasium Beispielburg" in network.get_data(as_text=True)

    for school_type in ("Gesamtschule", "Gymnasium"):
        resp = browser.client.get(f"{tool}/s/rounds/{house.id}/school/{schools[school_type]}?launch={launch}&lang=en")
        house_html = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert 'class="chart house"' in house_html and "The house is not shown" not in house_html
        # red, amber and green parts
        assert "#2e7d32" in house_html and "#f2a900" in house_html and "#c62828" in house_html
        assert "Works well</h3>" in house_html and "Problems</h3>" in house_html

    index = browser.client.get(f"{tool}/s/networks/{network_id}/rounds/{autumn.id}/reports?launch={launch}")
    assert index.status_code == 200


def test_teacher_opens_the_selfeval_link(live_demo: LiveDemo, browser: Browser) -> None:  # noqa: F811
    course = live_demo.course(GE, "MK-8")
    link = next(lk for lk in live_demo.links(course) if lk.title == "Selbstevaluation")
    resp, _url = browser.launch(GE, course, live_demo.user(GE, "teacher"), link)
    assert resp.status_code == 200
    assert seed_selfeval.AUTUMN_TITLE in page(resp).text_content()
