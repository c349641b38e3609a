"""The OER library in a real browser, with the demo network's seeded collection.

A teacher adds a library page to a demo course through Deep Linking (the
picker runs in the demo LMS's cross-site iframe); a learner then opens it and
sees the page, its image and its TULLU line. The picker and the viewer pass
axe's WCAG 2.1 A/AA rules. At phone width (360 px) the library, the collection
editor with every form opened, an item's edit page, a preview, the licence panel
with problems and the cartridge import (its result and a refused file) fit
without sideways scrolling and pass axe.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lti_tool.bridge import bridge
from lti_tool.demo import seed_oer
from lti_tool.oer.models import OerCollection, OerNode
from oer_packager import builder
from oer_packager.findings import has_errors
from tests.test_demo import GE, GY, LiveDemo, live_demo  # noqa: F401  (fixture)
from tests.test_demo_browser import chromium_page, pytestmark, wcag_violations  # noqa: F401
from tests.test_ws_browser import open_workspace

PAGE_TITLE = "Passwörter sicher wählen"


def _seeded(demo: LiveDemo) -> tuple[OerCollection, dict[str, OerNode]]:
    title = seed_oer.load_sample()[0].title
    with bridge(demo.app).db.sessions() as s:
        coll = s.scalar(select(OerCollection).where(OerCollection.title == title))
        assert coll is not None
        nodes = {n.title: n for n in s.scalars(select(OerNode).where(OerNode.collection_id == coll.id))}
        s.expunge_all()
        return coll, nodes


def _frame(page: Any, url_pattern: str) -> Any:
    frame = page.wait_for_selector("iframe[name='lti-tool']").content_frame()
    frame.wait_for_url(re.compile(url_pattern), wait_until="load")
    return frame


def test_teacher_links_a_library_page_and_a_learner_reads_it(live_demo: LiveDemo, chromium_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    _coll, nodes = _seeded(live_demo)
    chosen = nodes[PAGE_TITLE]
    page = chromium_page
    course = live_demo.course(GE, "MA-7b")  # no library link placed here yet
    teacher, learner = live_demo.user(GE, "teacher"), live_demo.user(GE, "learner")
    course_url = f"{live_demo.demo}/demo/sites/{GE}/courses/{course.id}"

    page.goto(f"{course_url}?user={teacher.id}")
    assert page.get_by_role("button", name=PAGE_TITLE).count() == 0
    page.locator("#add-content").click()
    frame = _frame(page, r".*/lti/deep-link\?launch=.*")
    assert frame.url.startswith(live_demo.tool + "/lti/deep-link")  # tool on 127.0.0.1 inside a page on localhost
    option = frame.locator(f"input[name='feature'][value='oer:{chosen.id}']")
    expect(option).to_be_visible()
    assert frame.locator("input[name='feature'][value^='oer:']").count() == len(nodes)  # modules and items
    assert wcag_violations(frame) == []
    checked = frame.locator("input[name='feature']:checked")
    for i in range(checked.count()):  # the picker preselects its first entry; the demo accepts several
        checked.nth(0).uncheck()
    option.check()
    frame.locator("button[name='action'][value='add']").click()

    # Like an LMS, the demo closes the dialog and shows the course page with the new link.
    page.wait_for_url(re.compile(r".*/courses/\d+\?.*added=1.*"))
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("button", name=PAGE_TITLE)).to_be_visible()

    page.goto(f"{course_url}?user={learner.id}")
    page.get_by_role("button", name=PAGE_TITLE).click()
    frame = _frame(page, r".*/oer/view\?launch=.*")
    assert frame.url.startswith(live_demo.tool + "/oer/view")
    expect(frame.locator("main h1")).to_have_text(PAGE_TITLE)
    expect(frame.locator(".oer-page")).to_contain_text("Ein Passwort ist wie der Schlüssel")
    tullu = frame.locator("[data-tullu]")
    expect(tullu).to_contain_text("„Passwörter sicher wählen“ von Jana Feldmann")
    expect(tullu).to_contain_text("CC BY 4.0")
    expect(tullu).to_contain_text("Quelle: https://example.org/jana-feldmann/passwoerter")
    # the page's image comes from the library through the launch (no cookies in the iframe)
    image = frame.locator(".oer-page img")
    expect(image).to_have_attribute("alt", "Ein blaues Vorhängeschloss")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 64
    assert wcag_violations(frame) == []


def _cartridge(tmp_path: Path) -> Path:
    collection, source = seed_oer.load_sample()
    collection.title = "Datenschutz kompakt (Import)"
    out = tmp_path / "Datenschutz kompakt.imscc"
    assert not has_errors(builder.build(collection, source, out, cc_version="1.1").findings)
    return out


def test_library_pages_fit_a_phone(live_demo: LiveDemo, chromium_page: Any, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    coll, nodes = _seeded(live_demo)
    page = chromium_page
    page.set_viewport_size({"width": 360, "height": 740})
    frame = open_workspace(page, live_demo, GY, "IF-EF", "network_manager")
    launch = re.search(r"launch=([^&]+)", frame.url).group(1)
    base = f"{live_demo.tool}/oer/networks/{coll.network_id}"

    def fits(what: str, *, open_all: bool = False) -> None:
        if open_all:  # every "add …" form and confirmation, as a user would open them
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
            > window.innerWidth + 1 && !e.closest('.oer-scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className
            + '#' + e.id)""")
        assert overflow <= 1, (what, overflow, wide)
        assert wcag_violations(page) == [], what

    # Open the tool pages themselves at phone width (as the LMS app would in its own view).
    page.goto(f"{base}/library?launch={launch}")
    expect(page.locator(f"li[data-collection-id='{coll.id}']")).to_be_visible()
    fits("library")

    page.goto(f"{base}/collections/{coll.id}?launch={launch}")
    expect(page.locator("#licences")).to_have_attribute("data-blocking", "no")
    fits("collection editor", open_all=True)

    page.goto(f"{base}/collections/{coll.id}/nodes/{nodes[PAGE_TITLE].id}?launch={launch}")
    expect(page.locator("#oer-n-title")).to_have_value(PAGE_TITLE)
    fits("item editor")

    page.goto(f"{base}/collections/{coll.id}/nodes/{nodes[PAGE_TITLE].id}/preview?launch={launch}")
    expect(page.locator("[data-tullu]")).to_contain_text("Jana Feldmann")
    fits("preview")

    # A new collection without licence or items: the licence panel lists its problems.
    page.goto(f"{base}/library?launch={launch}")
    page.fill("#oer-new-title", "Unterrichtsideen zur Bildrechte-Frage – noch ohne Lizenz und ohne Inhalte")
    page.locator("#oer-new-title").press("Enter")
    page.wait_for_url(re.compile(r".*/collections/\d+\?launch=.*"))
    panel = page.locator("#licences")
    expect(panel).to_have_attribute("data-blocking", "yes")
    expect(panel.locator("[data-problem='missing-licence']")).to_be_visible()
    fits("licence panel with problems", open_all=True)

    # Import a cartridge: the result page, then a refused file back on the library page.
    page.goto(f"{base}/library?launch={launch}")
    page.set_input_files("#oer-import-file", str(_cartridge(tmp_path)))
    page.locator("#oer-import-file").locator("xpath=ancestor::form").locator("button[type='submit']").click()
    expect(page.locator("[data-imported]")).to_be_visible()
    fits("import result")

    page.goto(f"{base}/library?launch={launch}")
    broken = tmp_path / "kaputt.imscc"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    page.set_input_files("#oer-import-file", str(broken))
    page.locator("#oer-import-file").locator("xpath=ancestor::form").locator("button[type='submit']").click()
    expect(page.get_by_role("alert")).to_be_visible()
    fits("refused import")
    with bridge(live_demo.app).db.sessions() as s:
        titles = set(s.scalars(select(OerCollection.title)))
    assert "Datenschutz kompakt (Import)" in titles and len(titles) == 3
