"""The self-evaluation in a real browser, inside the demo LMS's cross-site iframe.

A teacher opens the demo course's "Selbstevaluation" link, answers items with
the keyboard, saves a draft and submits; a network manager then opens the
round's reports and the school report (with the action plan form). The
answering page and the report pass axe's WCAG 2.1 A/AA rules.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from lti_tool.bridge import bridge
from lti_tool.demo import seed_selfeval
from lti_tool.selfeval.models import DRAFT, SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.workspaces.models import MemberSchool
from tests.test_demo import GE, GY, LiveDemo, live_demo  # noqa: F401  (fixture)
from tests.test_demo_browser import chromium_page, pytestmark, wcag_violations  # noqa: F401
from tests.test_ws_browser import open_workspace


def _autumn(demo: LiveDemo) -> SelfevalRound:
    with bridge(demo.app).db.sessions() as s:
        rnd = s.scalar(select(SelfevalRound).where(SelfevalRound.title == seed_selfeval.AUTUMN_TITLE))
        assert rnd is not None
        return rnd


def _own_response(demo: LiveDemo, round_id: int, known: set[str]) -> tuple[SelfevalResponse, dict[str, int | None]]:
    """The one response of this round that the seeding did not create."""
    with bridge(demo.app).db.sessions() as s:
        rows = [r for r in s.scalars(select(SelfevalResponse).where(SelfevalResponse.round_id == round_id))
                if r.respondent_key not in known]
        assert len(rows) == 1
        answers = dict(s.execute(select(SelfevalAnswer.item_id, SelfevalAnswer.value).where(
            SelfevalAnswer.round_id == round_id, SelfevalAnswer.respondent_key == rows[0].respondent_key)).all())
        return rows[0], answers


def test_teacher_answers_and_manager_reads_the_report(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    rnd = _autumn(live_demo)
    with bridge(live_demo.app).db.sessions() as s:
        seeded = set(s.scalars(select(SelfevalResponse.respondent_key).where(SelfevalResponse.round_id == rnd.id)))
        school_id = s.scalar(select(MemberSchool.id).where(MemberSchool.school_type == "Gesamtschule"))

    page = chromium_page
    course = live_demo.course(GE, "MK-8")
    teacher = live_demo.user(GE, "teacher")
    page.goto(f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}?user={teacher.id}")
    page.get_by_role("button", name="Selbstevaluation").click()
    frame = page.wait_for_selector("iframe[name='lti-tool']").content_frame()
    frame.wait_for_url(re.compile(r".*/s/answer\?launch=.*"), wait_until="domcontentloaded")
    assert frame.url.startswith(live_demo.tool + "/s/answer")  # tool on 127.0.0.1 inside a page on localhost
    expect(frame.locator("h1")).to_be_visible()
    expect(frame.get_by_text(seed_selfeval.AUTUMN_TITLE).first).to_be_visible()
    assert wcag_violations(frame) == []

    # Keyboard: focus the first option of an item, Space selects it, an arrow key moves the choice on.
    for item_id, downs in (("k1a", 3), ("k1b", 1), ("k2a", 0)):
        first = frame.locator(f"input[name='item:{item_id}']").first
        first.focus()
        first.press("Space")
        for _ in range(downs):
            frame.locator(f"input[name='item:{item_id}']:focus").press("ArrowDown")
    expect(frame.locator("input[name='item:k1a'][value='4']")).to_be_checked()
    expect(frame.locator("input[name='item:k1b'][value='2']")).to_be_checked()
    expect(frame.locator("input[name='item:k2a'][value='1']")).to_be_checked()

    frame.locator("button[name='action'][value='save']").press("Enter")
    frame.wait_for_url(re.compile(r".*done=saved.*"), wait_until="domcontentloaded")
    expect(frame.get_by_role("status").first).to_be_visible()
    expect(frame.locator("input[name='item:k1a'][value='4']")).to_be_checked()  # the draft comes back
    response, answers = _own_response(live_demo, rnd.id, seeded)
    assert response.status == DRAFT and response.school_id == school_id and response.group_id == "teacher"
    assert answers == {"k1a": 4, "k1b": 2, "k2a": 1}

    frame.locator("input[name='item:k2b']").first.press("Space")
    frame.locator("button[name='action'][value='submit']").press("Enter")
    frame.wait_for_url(re.compile(r".*done=submitted.*"), wait_until="domcontentloaded")
    expect(frame.get_by_role("status").first).to_be_visible()
    response, answers = _own_response(live_demo, rnd.id, seeded)
    assert response.status == SUBMITTED and answers["k2b"] == 1 and len(answers) == 4
    assert wcag_violations(frame) == []

    # The network manager opens the reports of the round from the workspace link on the other site.
    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    frame.goto(f"{live_demo.tool}/s/networks/{rnd.network_id}/rounds/{rnd.id}/reports?launch={launch}")
    expect(frame.locator("main h1")).to_contain_text(seed_selfeval.AUTUMN_TITLE)
    assert wcag_violations(frame) == []
    frame.locator(f"a[href*='/s/rounds/{rnd.id}/school/{school_id}?']").first.click()
    frame.wait_for_url(re.compile(rf".*/s/rounds/{rnd.id}/school/{school_id}\?.*"), wait_until="domcontentloaded")
    expect(frame.locator("main h1")).to_contain_text("Gesamtschule Musterstadt")
    expect(frame.locator("#chart-school")).to_be_visible()
    expect(frame.locator("#plan-title")).to_be_visible()  # managers may make an action plan
    assert wcag_violations(frame) == []


def _round_titled(demo: LiveDemo, title: str) -> SelfevalRound:
    with bridge(demo.app).db.sessions() as s:
        rnd = s.scalar(select(SelfevalRound).where(SelfevalRound.title == title))
        assert rnd is not None
        return rnd


def test_medienhaus_and_reports_fit_a_phone(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    """At 360 px: the school's Medienhaus answer, the rounds page and every report page
    fit without sideways scrolling and pass axe; the network house and the radar are drawn."""
    from playwright.sync_api import expect

    page = chromium_page
    page.set_viewport_size({"width": 360, "height": 740})
    house_round, autumn = _round_titled(live_demo, seed_selfeval.HOUSE_TITLE), _autumn(live_demo)
    course = live_demo.course(GE, "MK-8")
    leader = live_demo.user(GE, "leader")
    page.goto(f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}?user={leader.id}")
    page.get_by_role("button", name=seed_selfeval.HOUSE_LINK_TITLE).click()
    frame = page.wait_for_selector("iframe[name='lti-tool']").content_frame()
    frame.wait_for_url(re.compile(r".*/s/answer\?launch=.*"), wait_until="domcontentloaded")
    expect(frame.locator("#answered-for-school")).to_be_visible()
    assert frame.locator("input[name^='item:']:checked").count() > 0  # the school's seeded answer comes back
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)

    def fits(url: str) -> None:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
            > window.innerWidth + 1 && !e.closest('.mt-scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className
            + '#' + e.id)""")
        assert overflow <= 1, (url, overflow, wide)
        assert wcag_violations(page) == [], url

    fits(f"{live_demo.tool}/s/answer?launch={launch}")

    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    with bridge(live_demo.app).db.sessions() as s:
        school_id = s.scalar(select(MemberSchool.id).where(MemberSchool.school_type == "Gesamtschule"))
    tool = live_demo.tool
    fits(f"{tool}/s/networks/{autumn.network_id}/rounds?launch={launch}")
    fits(f"{tool}/s/rounds/{autumn.id}/network?launch={launch}")
    expect(page.locator("#radar-network")).to_be_visible()
    fits(f"{tool}/s/rounds/{autumn.id}/school/{school_id}?launch={launch}")
    expect(page.locator("#radar-school")).to_be_visible()
    fits(f"{tool}/s/rounds/{house_round.id}/network?launch={launch}")
    expect(page.locator("#house-network")).to_be_visible()  # five schools answered: the network house is lit
    assert page.locator("#house-network [fill='#9e9e9e']").count() == 0
