"""The LMS sync pages in a real browser: a network manager plans and syncs; axe's WCAG 2.1 A/AA rules pass,
also at phone width (360 px), and the run page works without JavaScript (meta refresh)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.sync import jobs
from lti_tool.sync.service import add_target, run_preflight, start_run
from lti_tool.sync.store import DbTargetLock
from lti_tool.workspaces.models import Network
from tests.sync.fakemoodle import FakeMoodle
from tests.test_demo import GY, LiveDemo, live_demo  # noqa: F401  (fixture)
from tests.test_demo_browser import chromium_page, pytestmark, wcag_violations  # noqa: F401
from tests.test_ws_browser import open_workspace


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


def overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_manager_plans_and_syncs_with_accessible_pages(live_demo: LiveDemo, chromium_page: Any,  # noqa: F811
                                                       fake: FakeMoodle) -> None:
    from playwright.sync_api import expect

    page = chromium_page
    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    network_id = int(re.search(r"/w/(\d+)/", frame.url).group(1))
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    with live_demo.app.app_context():
        s = db_session()
        b = bridge(live_demo.app)
        # the fake site speaks plain http on loopback, which the form refuses outside tests
        target = add_target(s, b.box, s.get(Network, network_id), name="LOGINEO NRW LMS <Test>", site_url=fake.url,
                            token=fake.token, allow_http=True)
        run_preflight(s, b.box, target)
        s.commit()
        target_id = target.id
    tool = live_demo.tool
    listing = f"{tool}/sync/networks/{network_id}?launch={launch}"
    page.goto(listing)
    expect(page.locator("main h1")).to_be_visible()
    assert wcag_violations(page) == []
    page.get_by_role("link", name="LOGINEO NRW LMS <Test>").click()
    expect(page.locator("[data-preflight]")).to_be_visible()
    assert wcag_violations(page) == []
    assert fake.token not in page.content()

    page.locator("form:has(input[name=mode][value=plan]) button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/runs/\d+\?launch=.*"))
    run_id = int(re.search(r"/runs/(\d+)", page.url).group(1))
    assert jobs.wait(run_id, 120)
    page.reload()
    expect(page.locator("#run-status")).to_have_attribute("data-state", "done")
    assert page.locator("table[data-plan-op=create] tbody tr").count() > 0
    assert wcag_violations(page) == []
    plan_url = page.url

    page.goto(f"{tool}/sync/networks/{network_id}/targets/{target_id}?launch={launch}")
    page.locator("#apply-confirm").check()
    page.locator("form:has(input[name=mode][value=apply]) button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/runs/\d+\?launch=.*"))
    sync_id = int(re.search(r"/runs/(\d+)", page.url).group(1))
    assert jobs.wait(sync_id, 120)
    page.reload()
    expect(page.locator("#run-status")).to_have_attribute("data-state", "done")
    assert page.locator("table[data-report=counts]").count() == 1
    assert wcag_violations(page) == []
    assert fake.course_by_idnumber(f"lmsb-net-{network_id}-ws") is not None

    page.set_viewport_size({"width": 360, "height": 740})
    for url in (listing, f"{tool}/sync/networks/{network_id}/targets/{target_id}?launch={launch}", plan_url,
                page.url):
        page.goto(url)
        assert overflow(page) <= 1, (url, overflow(page))
        assert wcag_violations(page) == [], url


def _queued_run(demo: LiveDemo, target_id: int) -> int:
    from lti_tool.sync.models import SyncTarget

    with demo.app.app_context():
        s = db_session()
        run = start_run(s, DbTargetLock(bridge(demo.app).db.sessions), s.get(SyncTarget, target_id), mode="plan")
        return run.id


def _carry_out(demo: LiveDemo, run_id: int) -> None:
    with demo.app.app_context():
        assert jobs.execute(run_id) is not None


def test_the_run_page_follows_a_run_with_and_without_javascript(live_demo: LiveDemo, chromium_page: Any,  # noqa: F811
                                                                fake: FakeMoodle) -> None:
    from playwright.sync_api import expect

    page = chromium_page
    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    network_id = int(re.search(r"/w/(\d+)/", frame.url).group(1))
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    with live_demo.app.app_context():
        s = db_session()
        b = bridge(live_demo.app)
        target = add_target(s, b.box, s.get(Network, network_id), name="Moodle", site_url=fake.url,
                            token=fake.token, allow_http=True)
        s.commit()
        target_id = target.id

    # with JavaScript: no reload while queued (the meta refresh sits in <noscript>), the status updates in place
    run_id = _queued_run(live_demo, target_id)
    page.goto(f"{live_demo.tool}/sync/networks/{network_id}/runs/{run_id}?launch={launch}")
    expect(page.locator("#run-status")).to_have_attribute("data-state", "queued")
    assert page.locator("head meta[http-equiv=refresh]").count() == 0
    assert wcag_violations(page) == []
    _carry_out(live_demo, run_id)
    expect(page.locator("#run-status")).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("table[data-plan-op=create]")).to_be_visible()

    # without JavaScript: the page reloads itself until the run has finished
    context = page.context.browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        plain = context.new_page()
        second = _queued_run(live_demo, target_id)
        plain.goto(f"{live_demo.tool}/sync/networks/{network_id}/runs/{second}?launch={launch}")
        expect(plain.locator("#run-status")).to_have_attribute("data-state", "queued")
        _carry_out(live_demo, second)
        expect(plain.locator("#run-status")).to_have_attribute("data-state", "done", timeout=20_000)
    finally:
        context.close()
