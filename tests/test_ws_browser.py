"""The network workspace in a real browser, inside the demo LMS's cross-site iframe.

A network manager opens the workspace from a course on one school's site, walks
the network year's parts, adds a vision to the Zukunftswerkstatt with the
keyboard-accessible form, and every page passes axe's WCAG 2.1 A/AA rules,
also at phone width (360 px).
"""

from __future__ import annotations

import re
from typing import Any

from lti_tool.bridge import bridge
from lti_tool.workspaces.board.models import BoardNote
from tests.test_demo import GE, GY, LiveDemo, live_demo  # noqa: F401  (fixture)
from tests.test_demo_browser import chromium_page, pytestmark, wcag_violations  # noqa: F401

PARTS = ("board", "meetings", "barcamp", "groups", "people")


def open_workspace(page: Any, demo: LiveDemo, slug: str, course_short: str, role: str) -> Any:
    course = demo.course(slug, course_short)
    user = demo.user(slug, role)
    page.goto(f"{demo.demo}/demo/sites/{slug}/courses/{course.id}?user={user.id}")
    page.get_by_role("button", name="Netzwerk-Arbeitsbereich").click()
    return tool_frame(page)


def tool_frame(page: Any) -> Any:
    frame = page.wait_for_selector("iframe[name='lti-tool']").content_frame()
    frame.wait_for_url(re.compile(r".*/w/\d+/\?launch=.*"))
    return frame


def test_manager_walks_the_network_year_in_the_iframe(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = chromium_page
    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Lernen 25")
    assert frame.url.startswith(live_demo.tool + "/w/")  # tool on 127.0.0.1 inside a page on localhost
    assert wcag_violations(frame) == []

    network_id = re.search(r"/w/(\d+)/", frame.url).group(1)
    for part in PARTS:
        frame.goto(f"{live_demo.tool}/w/{network_id}/{part}?launch={re.search(r'launch=([^&]+)', frame.url).group(1)}")
        expect(frame.locator("main h1")).to_be_visible()
        assert wcag_violations(frame) == [], part

    # Add a vision to the Utopiephase with the form (keyboard: fill + Enter-equivalent submit).
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    frame.goto(f"{live_demo.tool}/w/{network_id}/board?launch={launch}")
    frame.locator("#u-title").locator("xpath=ancestor::details/summary").click()  # "Add a vision" disclosure
    frame.fill("#u-title", "Jede Schule teilt ein Praxisbeispiel pro Halbjahr")
    frame.fill("#u-body", "Auch <script>alert(1)</script> bleibt draußen.")
    frame.locator("#u-title").press("Enter")
    expect(frame.get_by_role("heading", name="Jede Schule teilt ein Praxisbeispiel pro Halbjahr")).to_be_visible()
    assert "<script>alert(1)</script>" not in frame.content()
    with bridge(live_demo.app).db.sessions() as s:
        note = s.query(BoardNote).filter_by(title="Jede Schule teilt ein Praxisbeispiel pro Halbjahr").one()
        assert note.phase == "utopie" and "<script" not in note.body


def test_workspace_fits_a_phone(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    page = chromium_page
    page.set_viewport_size({"width": 360, "height": 740})
    course = live_demo.course(GE, "MK-8")
    user = live_demo.user(GE, "teacher")
    page.goto(f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}?user={user.id}")
    page.get_by_role("button", name="Netzwerk-Arbeitsbereich").click()
    frame = tool_frame(page)
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    network_id = re.search(r"/w/(\d+)/", frame.url).group(1)
    # Open the tool page itself at phone width (as the LMS app would in its own view).
    page.goto(f"{live_demo.tool}/w/{network_id}/?launch={launch}")
    for part in ("", "board", "meetings", "barcamp", "groups"):
        page.goto(f"{live_demo.tool}/w/{network_id}/{part}?launch={launch}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (part, overflow)
        assert wcag_violations(page) == [], part
