"""A real browser: the demo course page on localhost embeds the tool from
127.0.0.1 in a cross-site iframe; the launch completes through LTI
client-side storage, and the pages pass axe's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.demo.models import DemoLink
from tests.test_demo import GE, LiveDemo, expected_role, live_demo  # noqa: F401  (fixture)

CHROMIUM = "/usr/bin/chromium"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.browser,
    # CI sets LMS_BRIDGE_TEST_REQUIRE_SERVICES=1: there a missing browser fails instead of skipping.
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and os.environ.get("LMS_BRIDGE_TEST_REQUIRE_SERVICES") != "1",
        reason="needs Debian chromium at /usr/bin/chromium",
    ),
]


@pytest.fixture
def chromium_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(30_000)
        from playwright.sync_api import expect

        expect.set_options(timeout=30_000)  # CI machines are shared and slow at times
        try:
            yield page
        finally:
            context.close()
            browser.close()


def wcag_violations(target: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(target, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]]


def test_teacher_launch_in_a_cross_site_iframe(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = chromium_page
    course = live_demo.course(GE, "MA-7b")
    teacher = live_demo.user(GE, "teacher")
    link: DemoLink = live_demo.links(course)[0]
    launches: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: (
            launches.append(r.post_data_json or {})
            if r.method == "POST" and r.url == live_demo.tool + "/lti/launch"
            else None
        ),
    )

    page.goto(f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}?user={teacher.id}")
    page.get_by_role("button", name=link.title).click()

    tool = page.frame_locator("iframe[name='lti-tool']")
    expect(tool.get_by_test_id("course")).to_have_text("Mathematik 7b")
    expect(tool.get_by_test_id("role")).to_have_text(expected_role(live_demo.app, "instructor"))

    frame = page.locator("iframe[name='lti-tool']").element_handle().content_frame()
    assert frame is not None
    # Cross-site for real: the course page is on localhost, the tool on 127.0.0.1.
    assert page.url.startswith(live_demo.demo + "/demo/")
    assert frame.url.startswith(live_demo.tool + "/lti/welcome?launch=")
    # The tool's state cookie does not come back into a cross-site iframe: the launch
    # was completed with the state the course page's storage frame kept for the tool.
    assert [bool(f.get("lti_storage_state")) for f in launches] == [False, True]

    # The course page answers lti.capabilities from the tool's origin and names its storage frame.
    answer = frame.evaluate(
        """origin => new Promise(resolve => {
            window.addEventListener("message", e => { if (e.data.message_id === "cap-1") resolve(e.data); });
            window.parent.postMessage({subject: "lti.capabilities", message_id: "cap-1"}, origin);
        })""",
        live_demo.demo,
    )
    assert answer["subject"] == "lti.capabilities.response"
    assert {"subject": "lti.get_data", "frame": "lti_storage"} in answer["supported_messages"]

    assert wcag_violations(page) == []
    assert wcag_violations(frame) == []
