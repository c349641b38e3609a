"""Delivering a collection of the OER library into a Moodle course from the workspace and the CLI.

The fake Moodle (``tests/sync/fakemoodle.py``) plays the companion plugin; runs go through
the real background thread (``delivery.wait`` joins it – no sleeps in the tests).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from lti_tool.bridge import bridge
from lti_tool.oer import delivery as dl
from lti_tool.oer.cartridges import import_cartridge
from lti_tool.oer.cli import deliver as deliver_command
from lti_tool.sync.models import SyncRun, SyncTarget
from lti_tool.sync.service import add_target
from lti_tool.sync.store import DbTargetLock
from lti_tool.workspaces.models import Network
from tests.sync.fakemoodle import PLUGIN_FUNCTIONS, FakeMoodle
from tests.world import NETWORK_ROLES, PERSONAS

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = ROOT / "tests" / "oer" / "fixtures" / "collection-medienkompetenz"
TITLES = ["Über diese Sammlung", "Mein Smartphone und ich", "Passwörter und Datenschutz", "Reflexion"]
ALL = list(PERSONAS)


@pytest.fixture(scope="module")
def cartridge_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from oer_packager.builder import build
    from oer_packager.collection import load_collection

    collection, source, _ = load_collection(COLLECTION)
    out = tmp_path_factory.mktemp("cc") / "medienkompetenz-7.imscc"
    build(collection, source, out, cc_version="1.1")
    return out.read_bytes()


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        site.add_functions(*PLUGIN_FUNCTIONS)
        site.accept_placeholder_cartridges = False
        yield site
        assert not site.crashes


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl, "POLL_INTERVAL", 0.01)
    monkeypatch.setattr(dl, "TIMEOUT", 5.0)


def import_collection(world: Any, data: bytes, network_id: int, persona: str = "manager") -> int:
    with world.app.app_context():
        from lti_tool.db import db_session

        s = db_session()
        result = import_cartridge(
            s,
            network_id,
            world.as_(persona).person_id,
            FileStorage(io.BytesIO(data), filename="medienkompetenz-7.imscc"),
        )
        return result.collection.id


def make_target(world: Any, url: str, token: str, network_id: int, name: str = "Moodle Musterstadt") -> int:
    with world.app.app_context():
        from lti_tool.db import db_session

        s = db_session()
        target = add_target(
            s, bridge().box, s.get(Network, network_id), name=name, site_url=url, token=token, allow_http=True
        )
        s.commit()
        return target.id


@pytest.fixture
def setup(world: Any, fake: FakeMoodle, cartridge_bytes: bytes) -> dict[str, int]:
    coll = import_collection(world, cartridge_bytes, world.network_id)
    other_coll = import_collection(world, cartridge_bytes, world.other_network_id, persona="outsider")
    target = make_target(world, fake.url, fake.token or "", world.network_id)
    other_target = make_target(world, fake.url, fake.token or "", world.other_network_id, name="Anderes Moodle")
    return {"coll": coll, "other_coll": other_coll, "target": target, "other_target": other_target}


def page(world: Any, coll: int, suffix: str = "", network_id: int | None = None) -> str:
    return f"/oer/networks/{network_id or world.network_id}/collections/{coll}{suffix}"


def new_course(target: int, shortname: str = "MK7-OER") -> dict[str, str]:
    return {
        "target_id": str(target),
        "destination": "new",
        "shortname": shortname,
        "fullname": "Medienkompetenz Klasse 7",
        "category_id": "1",
    }


def start(world: Any, ids: dict[str, int], data: dict[str, str], by: str = "manager") -> int:
    resp = world.as_(by).post(page(world, ids["coll"], "/deliver"), data)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]
    run_id = int(re.search(r"/deliveries/(\d+)", resp.headers["Location"]).group(1))
    assert dl.wait(run_id, 60), "the delivery thread did not end"
    return run_id


def run_row(world: Any, run_id: int) -> SyncRun:
    with bridge(world.app).db.sessions() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


def runs(world: Any) -> int:
    with bridge(world.app).db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(SyncRun)))


def html(resp: Any) -> str:
    return resp.get_data(as_text=True)


# -- who may do what ------------------------------------------------------------------------------------


def expected(persona: str, manager_only: bool, ok: int) -> int:
    if persona not in NETWORK_ROLES:
        return 404
    if manager_only and persona != "manager":
        return 403
    return ok


@pytest.mark.parametrize("persona", ALL)
def test_deliver_page_and_check_are_for_managers(world: Any, setup: dict[str, int], persona: str) -> None:
    actor = world.as_(persona)
    assert actor.get(page(world, setup["coll"], "/deliver")).status_code == expected(persona, True, 200)
    resp = actor.post(page(world, setup["coll"], "/deliver/check"), {"target_id": str(setup["target"])})
    assert resp.status_code == expected(persona, True, 303)


@pytest.mark.parametrize("persona", ALL)
def test_starting_a_delivery_is_for_managers(world: Any, setup: dict[str, int], fake: FakeMoodle, persona: str) -> None:
    resp = world.as_(persona).post(page(world, setup["coll"], "/deliver"), new_course(setup["target"]))
    assert resp.status_code == expected(persona, True, 303)
    if resp.status_code == 303:
        dl.wait(int(re.search(r"/deliveries/(\d+)", resp.headers["Location"]).group(1)), 60)
    else:
        assert runs(world) == 0 and fake.writes() == []


@pytest.mark.parametrize("persona", ALL)
def test_the_delivery_page_is_for_managers(world: Any, setup: dict[str, int], persona: str) -> None:
    run_id = start(world, setup, new_course(setup["target"]))
    actor = world.as_(persona)
    assert actor.get(page(world, setup["coll"], f"/deliveries/{run_id}")).status_code == expected(persona, True, 200)
    again = actor.post(page(world, setup["coll"], f"/deliveries/{run_id}/again"))
    assert again.status_code == expected(persona, True, 400)  # a finished delivery is not waiting for Moodle


@pytest.mark.parametrize("persona", ALL)
def test_the_instructions_page_is_for_every_member(world: Any, setup: dict[str, int], persona: str) -> None:
    resp = world.as_(persona).get(page(world, setup["coll"], "/get-into-lms"))
    assert resp.status_code == expected(persona, False, 200)


@pytest.mark.parametrize("through", ["own network", "network 1"])
def test_an_outsider_cannot_reach_deliveries_of_network_1_by_guessing_ids(
    world: Any, setup: dict[str, int], through: str
) -> None:
    run_id = start(world, setup, new_course(setup["target"]))
    outsider = world.as_("outsider")
    net = world.other_network_id if through == "own network" else world.network_id
    for suffix in ("/deliver", f"/deliveries/{run_id}", "/get-into-lms"):
        assert outsider.get(page(world, setup["coll"], suffix, net)).status_code == 404
    assert outsider.post(page(world, setup["coll"], "/deliver", net), new_course(setup["target"])).status_code == 404
    # their own collection, but network 1's target or run
    own = page(world, setup["other_coll"], "", world.other_network_id)
    assert outsider.post(own + "/deliver", new_course(setup["target"], "X")).status_code == 404
    assert outsider.post(own + "/deliver/check", {"target_id": str(setup["target"])}).status_code == 404
    assert outsider.get(own + f"/deliveries/{run_id}").status_code == 404
    assert outsider.post(own + f"/deliveries/{run_id}/again").status_code == 404


def test_a_manager_cannot_use_another_networks_target_or_mix_collections(
    world: Any, setup: dict[str, int], fake: FakeMoodle, cartridge_bytes: bytes
) -> None:
    cartridge = cartridge_bytes
    manager = world.as_("manager")
    resp = manager.post(page(world, setup["coll"], "/deliver"), new_course(setup["other_target"]))
    assert resp.status_code == 404 and runs(world) == 0
    assert (
        manager.post(
            page(world, setup["coll"], "/deliver/check"), {"target_id": str(setup["other_target"])}
        ).status_code
        == 404
    )
    run_id = start(world, setup, new_course(setup["target"]))
    # the run belongs to collection coll: under another collection id of the network it does not exist
    second = import_collection(world, cartridge, world.network_id)
    assert manager.get(page(world, second, f"/deliveries/{run_id}")).status_code == 404
    assert manager.post(page(world, second, f"/deliveries/{run_id}/again")).status_code == 404
    # and another network's collection is not there at all
    assert manager.get(page(world, setup["other_coll"], "/deliver")).status_code == 404


# -- delivering ----------------------------------------------------------------------------------------------


def test_a_delivery_runs_in_the_background_and_shows_what_arrived(
    world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    run_id = start(world, setup, new_course(setup["target"]))
    run = run_row(world, run_id)
    assert run.mode == "deliver" and run.status == "done" and run.progress_done == 100
    report = run.report["delivery"]
    assert report["state"] == "done" and report["mode"] == "new"
    assert [s["name"] for s in report["sections"]] == TITLES
    assert len(report["activities"]) == 13
    course = fake.state.courses[report["course_id"]]
    assert course["shortname"] == "MK7-OER" and fake.section_names(course["id"]) == TITLES
    upload = next(c for c in fake.calls if c.function == "webservice/upload.php")
    assert upload.outcome == "ok"
    with bridge(world.app).db.sessions() as s:
        assert s.scalar(select(SyncTarget.id).where(SyncTarget.id == setup["target"])) is not None
    body = html(world.as_("manager").get(page(world, setup["coll"], f"/deliveries/{run_id}")))
    assert 'data-state="done"' in body and f'data-course-id="{course["id"]}"' in body
    assert body.count("<tr data-section=") == 4 and 'data-modname="lti"' in body
    assert fake.token not in body


def test_delivering_again_proposes_and_uses_replace_into_the_same_course(
    world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    first = run_row(world, start(world, setup, new_course(setup["target"]))).report["delivery"]
    form = html(world.as_("manager").get(page(world, setup["coll"], "/deliver")))
    assert re.search(r'id="dl-existing" name="destination" value="existing" checked', form)
    assert f'name="course_id" inputmode="numeric" pattern="[0-9]+" value="{first["course_id"]}"' in form
    second = run_row(
        world,
        start(
            world,
            setup,
            {
                "target_id": str(setup["target"]),
                "destination": "existing",
                "course_id": str(first["course_id"]),
                "mode": "replace",
            },
        ),
    )
    report = second.report["delivery"]
    assert report["mode"] == "replace" and report["course_id"] == first["course_id"]
    assert len(report["activities"]) == 13  # replaced, not duplicated
    assert len([c for c in fake.state.courses.values() if c["shortname"] == "MK7-OER"]) == 1


def test_a_taken_short_name_fails_readably_and_creates_nothing(
    world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    start(world, setup, new_course(setup["target"]))
    run = run_row(world, start(world, setup, new_course(setup["target"])))
    assert run.status == "failed" and dl.delivery_state(run) == "failed"
    assert "Short name is already used for another course (MK7-OER)" in run.message and "replace" in run.message
    assert len(fake.state.tasks) == 1


def test_a_restore_still_running_in_moodle_is_asked_about_again_without_a_second_restore(
    world: Any, setup: dict[str, int], fake: FakeMoodle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dl, "TIMEOUT", 0.05)
    fake.cron = False
    run_id = start(world, setup, new_course(setup["target"]))
    run = run_row(world, run_id)
    assert run.status == "done" and dl.delivery_state(run) == "moodle_running"
    body = html(world.as_("manager").get(page(world, setup["coll"], f"/deliveries/{run_id}")))
    assert 'data-state="moodle_running"' in body and "/again" in body
    fake.run_restore_tasks()
    resp = world.as_("manager").post(page(world, setup["coll"], f"/deliveries/{run_id}/again"))
    assert resp.status_code == 303
    again = int(re.search(r"/deliveries/(\d+)", resp.headers["Location"]).group(1))
    assert dl.wait(again, 60)
    follow = run_row(world, again)
    assert follow.report["follow_up_of"] == run_id and follow.report["delivery"]["state"] == "done"
    assert [c.function for c in fake.calls].count("local_lmsbridge_restore_cartridge") == 1
    assert fake.section_names(follow.report["delivery"]["course_id"]) == TITLES


def test_a_site_without_the_plugin_shows_the_fallback_instead_of_starting(
    world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    for name in PLUGIN_FUNCTIONS:
        fake.remove_function(name)
    manager = world.as_("manager")
    assert (
        manager.post(page(world, setup["coll"], "/deliver/check"), {"target_id": str(setup["target"])}).status_code
        == 303
    )
    listing = html(manager.get(page(world, setup["coll"], "/deliver")))
    assert f'data-target-id="{setup["target"]}" data-plugin="no"' in listing
    resp = manager.post(page(world, setup["coll"], "/deliver"), new_course(setup["target"]))
    body = html(resp)
    assert resp.status_code == 200 and f'data-fallback-target="{setup["target"]}"' in body
    for name in PLUGIN_FUNCTIONS:
        assert name in body
    assert runs(world) == 0 and fake.writes() == []


def test_a_plugin_that_vanished_after_the_check_ends_as_a_fallback_run(
    world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    world.as_("manager").post(page(world, setup["coll"], "/deliver/check"), {"target_id": str(setup["target"])})
    fake.remove_function("local_lmsbridge_restore_cartridge")
    run = run_row(world, start(world, setup, new_course(setup["target"])))
    assert run.status == "failed" and dl.delivery_state(run) == "fallback"
    assert run.report["fallback"]["missing"] == ["local_lmsbridge_restore_cartridge"]
    body = html(world.as_("manager").get(page(world, setup["coll"], f"/deliveries/{run.id}")))
    assert 'data-fallback="yes"' in body and "/get-into-lms" in body


def test_a_delivery_that_moodle_refuses_fails_readably(world: Any, setup: dict[str, int], fake: FakeMoodle) -> None:
    fake.deny("moodle/course:create")
    run = run_row(world, start(world, setup, new_course(setup["target"])))
    assert run.status == "failed" and "(Create courses)" in run.message
    assert fake.state.tasks == {}


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"destination": "new", "shortname": "", "fullname": "A", "category_id": "1"},
        {"destination": "new", "shortname": "x" * 101, "fullname": "A", "category_id": "1"},
        {"destination": "new", "shortname": "A", "fullname": "", "category_id": "1"},
        {"destination": "new", "shortname": "A", "fullname": "A", "category_id": "zero"},
        {"destination": "existing", "course_id": "abc"},
        {"destination": "existing", "course_id": "0"},
        {"destination": "existing", "course_id": "15", "mode": "new"},
        {"destination": "elsewhere"},
    ],
)
def test_bad_forms_are_refused_with_a_message_and_nothing_is_written(
    world: Any, setup: dict[str, int], fake: FakeMoodle, form: dict[str, str]
) -> None:
    resp = world.as_("manager").post(
        page(world, setup["coll"], "/deliver"), {"target_id": str(setup["target"]), **form}
    )
    assert resp.status_code == 400 and 'role="alert"' in html(resp)
    assert runs(world) == 0 and fake.writes() == []


def test_a_missing_target_is_refused(world: Any, setup: dict[str, int]) -> None:
    resp = world.as_("manager").post(
        page(world, setup["coll"], "/deliver"), {"destination": "existing", "course_id": "15"}
    )
    assert resp.status_code == 400 and runs(world) == 0


def test_a_busy_target_refuses_a_second_run(world: Any, setup: dict[str, int], fake: FakeMoodle) -> None:
    lock = DbTargetLock(bridge(world.app).db.sessions)
    assert lock.acquire(setup["target"], "someone-else", ttl=600)
    resp = world.as_("manager").post(page(world, setup["coll"], "/deliver"), new_course(setup["target"]))
    assert resp.status_code == 409 and runs(world) == 0 and fake.writes() == []


# -- the fallback page -----------------------------------------------------------------------------------------


def test_the_fallback_page_links_the_cc11_file_and_gives_the_steps(world: Any, setup: dict[str, int]) -> None:
    teacher = world.as_("teacher_a")
    body = html(teacher.get(page(world, setup["coll"], "/get-into-lms")))
    link = re.search(r'data-download="cc11" href="([^"]+)"', body)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert "cc_version=1.1" in href and "launch=" in href
    download = teacher.client.get(href)
    try:
        data = download.get_data()
    finally:
        download.close()
    assert download.status_code == 200 and data[:2] == b"PK"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"imsccv1p1" in archive.read("imsmanifest.xml")[:4096]
    for lms in ("moodle", "logineo", "itslearning"):
        assert f'data-lms="{lms}"' in body
    assert body.count('data-route="restore"') == 2 and body.count('data-route="course_importer"') == 1
    assert body.count('data-route="deep_linking"') == 3
    assert len(re.findall(r"<li>", body)) > 20
    assert "Über diese Sammlung" in body  # the section names a teacher gives by hand
    only = html(teacher.get(page(world, setup["coll"], "/get-into-lms?lms=itslearning")))
    assert 'data-lms="itslearning"' in only and 'data-lms="moodle"' not in only


# -- the CLI ----------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(world: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = bridge(world.app).settings
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", settings.instance_dir)
    monkeypatch.setenv("LMS_BRIDGE_BASE_URL", settings.base_url)
    monkeypatch.setenv("LMS_BRIDGE_ALLOW_INSECURE_PLATFORMS", "1")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(deliver_command, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_cli_delivers_then_replaces_into_the_same_course(
    cli: Any, world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    out = cli(str(setup["coll"]), "--target", "Moodle Musterstadt", "--new-course", "MK7-CLI").output
    assert "done (mode new)" in out and "section 3: Reflexion" in out
    course = next(c for c in fake.state.courses.values() if c["shortname"] == "MK7-CLI")
    again = cli(str(setup["coll"]), "--target", str(setup["target"]), "--json").output
    assert f"delivering again into course {course['id']}" in again
    assert '"state": "done"' in again and '"mode": "replace"' in again
    assert len(fake.activities(course["id"])) == 13 and fake.token not in out + again


def test_cli_refuses_wrong_usage_and_other_networks_targets(cli: Any, world: Any, setup: dict[str, int]) -> None:
    cli(str(setup["coll"]), "--target", str(setup["target"]), "--course-id", "3", "--new-course", "X", code=2)
    cli(str(setup["coll"]), "--target", str(setup["target"]), "--new-course", "X", "--mode", "merge", code=2)
    out = cli(str(setup["coll"]), "--target", str(setup["other_target"]), code=1).output
    assert "no sync target" in out
    cli("999999", "--target", str(setup["target"]), code=1)
    lock = DbTargetLock(bridge(world.app).db.sessions)
    assert lock.acquire(setup["target"], "someone-else", ttl=600)
    busy = cli(str(setup["coll"]), "--target", str(setup["target"]), code=1).output
    assert "Another run of this target" in busy and runs(world) == 0


def test_cli_exit_codes_for_fallback_and_still_running(
    cli: Any, world: Any, setup: dict[str, int], fake: FakeMoodle
) -> None:
    fake.cron = False
    out = cli(str(setup["coll"]), "--target", str(setup["target"]), "--timeout", "0.05", code=3).output
    assert "running" in out
    fake.remove_function("local_lmsbridge_set_section_names")
    out = cli(str(setup["coll"]), "--target", str(setup["target"]), "--new-course", "OTHER", code=1).output
    assert "local_lmsbridge_set_section_names" in out and "Kurse wiederverwenden" in out


def test_without_targets_the_deliver_page_points_to_the_sync_and_the_fallback(
    world: Any, cartridge_bytes: bytes
) -> None:
    coll = import_collection(world, cartridge_bytes, world.network_id)
    body = html(world.as_("manager").get(page(world, coll, "/deliver")))
    assert 'data-targets="none"' in body and "/sync/networks/" in body and "/get-into-lms" in body
    assert "<form" not in body.split('id="dl-runs"')[0].split('id="dl-sites"')[1]



@pytest.mark.parametrize("persona", ["manager", "leader_a", "teacher_a", "authority"])
def test_collection_page_links_to_delivery_for_managers_and_to_the_steps_for_everyone(
        world: Any, setup: dict[str, int], persona: str) -> None:
    html = world.as_(persona).get(page(world, setup["coll"], "")).get_data(as_text=True)
    assert 'id="oer-fallback-link"' in html and "/get-into-lms?" in html
    assert ('id="oer-deliver-link"' in html) is (persona == "manager")
