"""Delivering a cartridge through the companion plugin: moodle_sync.delivery against the fake Moodle.

The fake plays ``local_lmsbridge`` as the real answers of a Moodle 4.5 with the plugin show
(``tests/sync_plugin/recordings``); the first tests replay those recordings against it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from moodle_sync.client import MoodleClient
from moodle_sync.delivery import (
    DeliveryReport,
    DeliveryState,
    FallbackNeeded,
    NewCourse,
    deliver_cartridge,
    follow_up,
    wanted_names,
)
from moodle_sync.errors import AccessDenied, AlreadyExists, ConfigurationError, TransportError
from tests.sync.fakemoodle import PLUGIN_FUNCTIONS, FakeMoodle, load_plugin_recordings

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "oer" / "fixtures" / "collection-medienkompetenz"
CC13 = ROOT.parent / "shared" / "fixtures" / "cartridges" / "canvas-cc13-main.imscc"
TITLES = ["Über diese Sammlung", "Mein Smartphone und ich", "Passwörter und Datenschutz", "Reflexion"]
RECORDED_SITE = "http://127.0.0.1:8081"


@pytest.fixture(scope="module")
def cartridge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from oer_packager.builder import build
    from oer_packager.collection import load_collection

    collection, source, _findings = load_collection(COLLECTION)
    out = tmp_path_factory.mktemp("cc") / "medienkompetenz-7.imscc"
    build(collection, source, out, cc_version="1.1")
    return out


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        site.seed_plugin_lab()
        yield site
        assert not site.crashes


@pytest.fixture
def client(fake: FakeMoodle) -> Iterator[MoodleClient]:
    with MoodleClient(fake.url, fake.token or "", timeout=(2, 0.5), sleep=lambda s: None) as moodle:
        yield moodle


class Clock:
    """A clock the delivery's sleep advances: no real waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def deliver(client: MoodleClient, cartridge: Path, clock: Clock | None = None, **kw: Any) -> DeliveryReport:
    clock = clock or Clock()
    kw.setdefault("section_titles", TITLES)
    if "course_id" not in kw:
        kw.setdefault("new_course", NewCourse(1, "Medienkompetenz Klasse 7", "MK7-OER"))
    return deliver_cartridge(client, cartridge, poll_interval=5, timeout=60, sleep=clock.sleep, clock=clock, **kw)


def plugin_calls(fake: FakeMoodle) -> list[str]:
    return [c.function for c in fake.calls]


# -- the fake answers like the lab Moodle ------------------------------------------------------------------

#: (recording, the user who made it) in the order of the lab run; None: a call without recording
REPLAY = [
    ("get_site_info_with_plugin", "lbservice"),
    ("upload_cartridge", "lbservice"),
    ("restore_cartridge_new", "lbservice"),
    ("get_restore_status_queued", "lbservice"),
    ("get_restore_status_running", "lbservice"),  # recorded in a later lab run (ids differ)
    ("cron", None),
    ("get_restore_status_done", "lbservice"),
    ("set_section_names", "lbservice"),
    ("set_section_names_clear_summary", "lbservice"),
    ("set_section_names_warning", "lbservice"),
    ("get_restore_status_done_named", "lbservice"),
    ("upload:cartridge", "teacher1"),
    ("restore_cartridge_merge", "teacher1"),
    ("cron", None),
    ("get_restore_status_done_merge", "teacher1"),
    ("upload:cartridge", "teacher1"),
    ("restore_cartridge_replace", "teacher1"),
    ("cron", None),
    ("get_restore_status_done_replace", "teacher1"),
    ("restore_cartridge_error_nodraft", "lbservice"),
    ("restore_cartridge_error_shortnametaken", "lbservice"),
    ("restore_cartridge_error_badmode", "lbservice"),
    ("restore_cartridge_error_names", "lbservice"),
    ("restore_cartridge_error_nopermission", "student1"),
    ("restore_cartridge_error_nocoursecreate", "teacher1"),
    ("get_restore_status_error_unknown", "lbservice"),
    ("get_restore_status_error_nopermission", "student1"),
    ("set_section_names_error_nopermission", "student1"),
    ("upload:cc13", "teacher1"),
    ("restore:15", "teacher1"),
    ("upload:cc13", "lbservice"),
    ("restore:CC13NEW", "lbservice"),
    ("upload:notazip", "teacher1"),
    ("restore:15", "teacher1"),
    ("cron", None),
    ("get_restore_status_failed_cc13", "teacher1"),
    ("get_restore_status_failed_cc13_newcourse", "lbservice"),
    ("get_restore_status_failed_notzip", "teacher1"),
    # a later lab run: the named course delivered again with mode replace – the names are gone again
    ("upload:cartridge", "lbservice"),
    ("restore:16:replace", "lbservice"),
    ("cron", None),
    ("get_restore_status_done_replace_named", "lbservice"),
]
#: recordings of later lab runs, whose task, course and module ids come from that run
OTHER_IDS = {"get_restore_status_running", "get_restore_status_done_replace_named"}
#: what the lab's users lacked: lbservice is manager of category 1, teacher1 editing teacher of course 15
DENIED = {
    "lbservice": set(),
    "teacher1": {"moodle/course:create"},
    "student1": {
        "moodle/course:create",
        "moodle/restore:restorecourse",
        "local/lmsbridge:restorecartridge",
        "moodle/course:update",
    },
}
#: recordings whose draft item id was Moodle's random number: the replay passes its own upload's
DRAFT_RECORDINGS = {"restore_cartridge_new", "restore_cartridge_merge", "restore_cartridge_replace"}


def _normalise(value: Any, ids: bool = False) -> Any:
    hidden = {"timemodified", "taskid", "courseid", "cmid"} if ids else {"timemodified"}
    if isinstance(value, dict):
        return {k: (f"<{k}>" if k in hidden else _normalise(v, ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, ids) for v in value]
    return value


@pytest.fixture(scope="module")
def replayed(cartridge: Path) -> dict[str, tuple[Any, Any]]:
    if not CC13.is_file():
        pytest.fail(f"the CC 1.3 fixture is missing: {CC13}")
    recordings = load_plugin_recordings()
    files = {"cartridge": cartridge.read_bytes(), "cc13": CC13.read_bytes(), "notazip": b"not a zip\n"}
    names = {"cartridge": "medienkompetenz-7.imscc", "cc13": "canvas-cc13-main.imscc", "notazip": "notazip.imscc"}
    answers: dict[str, tuple[Any, Any]] = {}
    with FakeMoodle() as fake, requests.Session() as http:
        fake.seed_plugin_lab()
        fake.cron = False
        fake.restore_polls = ["queued", "running"]  # what the lab's polls saw before cron ran the task
        rest = fake.url + "/webservice/rest/server.php"
        draft = task = 0
        for step, user in REPLAY:
            fake.denied = set(DENIED[user]) if user else set()
            if step == "cron":
                fake.run_restore_tasks()
                continue
            if step.startswith("upload:") or step == "upload_cartridge":
                kind = step.split(":", 1)[1] if ":" in step else "cartridge"
                answer = http.post(
                    fake.url + "/webservice/upload.php",
                    data={"token": fake.token, "filearea": "draft", "itemid": "0", "filepath": "/"},
                    files={"file_1": (names[kind], files[kind])},
                ).json()
                draft = answer[0]["itemid"]
                if step == "upload_cartridge":
                    answers[step] = (recordings[step]["response"], answer)
                continue
            if step.startswith("restore:"):
                _, target, *mode = step.split(":")
                params = {
                    "draftitemid": draft,
                    **(
                        {"courseid": target, "mode": mode[0] if mode else ""}
                        if target.isdigit()
                        else {"categoryid": 1, "fullname": "Canvas 1.3", "shortname": target}
                    ),
                }
                queued = http.post(
                    rest,
                    data={
                        "wstoken": fake.token,
                        "moodlewsrestformat": "json",
                        "wsfunction": "local_lmsbridge_restore_cartridge",
                        **params,
                    },
                ).json()
                task = queued["taskid"]
                continue
            rec = recordings[step]
            params = {k: str(v) for k, v in rec["params"].items()}
            if step in DRAFT_RECORDINGS:
                params["draftitemid"] = str(draft)
            if step in OTHER_IDS:
                params["taskid"] = str(task)
            response = http.post(rest, data=[("wstoken", fake.token), *params.items()])
            assert response.status_code == rec["http_status"]
            text = response.text.replace(fake.url.replace("/", "\\/"), RECORDED_SITE.replace("/", "\\/"))
            answers[step] = (rec["response"], json.loads(text))
            if step == "restore_cartridge_new":
                task = answers[step][1]["taskid"]
        assert not fake.crashes
    assert set(answers) == set(recordings), "a recording is not replayed"
    return answers


@pytest.mark.parametrize("name", sorted(load_plugin_recordings()))
def test_fake_plugin_answers_like_the_lab_moodle(replayed: dict[str, tuple[Any, Any]], name: str) -> None:
    recorded, answered = replayed[name]
    if name == "get_site_info_with_plugin":
        assert [f["name"] for f in answered["functions"]] == [f["name"] for f in recorded["functions"]]
        assert {k: answered[k] for k in ("release", "version", "uploadfiles", "username")} == {
            k: recorded[k] for k in ("release", "version", "uploadfiles", "username")
        }
    elif name == "upload_cartridge":  # Moodle picks a random draft item id
        assert [sorted(e) for e in answered] == [sorted(e) for e in recorded]
        assert {k: answered[0][k] for k in ("filename", "filesize", "filearea", "userid", "contextid")} == {
            k: recorded[0][k] for k in ("filename", "filesize", "filearea", "userid", "contextid")
        }
    else:
        assert _normalise(answered, name in OTHER_IDS) == _normalise(recorded, name in OTHER_IDS)


# -- the happy path ----------------------------------------------------------------------------------------


def test_delivery_into_a_new_course_uploads_restores_polls_names_and_reports(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.restore_polls = ["queued", "running"]
    steps: list[tuple[str, float]] = []
    clock = Clock()
    report = deliver(client, cartridge, clock, progress=lambda step, f: steps.append((step, f)))

    assert plugin_calls(fake) == [
        "core_webservice_get_site_info",
        "webservice/upload.php",
        "local_lmsbridge_restore_cartridge",
        "local_lmsbridge_get_restore_status",  # queued
        "local_lmsbridge_get_restore_status",  # running
        "local_lmsbridge_get_restore_status",  # cron ran: done
        "local_lmsbridge_set_section_names",
        "local_lmsbridge_get_restore_status",  # what Moodle reports after naming
    ]
    assert clock.sleeps == [5, 5]
    upload = fake.calls[1]
    assert upload.params["filearea"] == "draft"
    restore = fake.calls[2].params
    assert restore["draftitemid"] == str(report.draftitemid) and restore["shortname"] == "MK7-OER"
    names = fake.calls[6].params["sections"]
    assert names == [{"section": str(i), "name": t, "summary": ""} for i, t in enumerate(TITLES)]

    assert report.state is DeliveryState.DONE and report.ok
    assert report.course_id == 16 and report.course_url == f"{fake.url}/course/view.php?id=16"
    assert report.message == "Restore finished: the course has 4 sections and 13 activities."
    assert [(s.number, s.name, s.summary) for s in report.sections] == [(i, t, "") for i, t in enumerate(TITLES)]
    assert [(a.section, a.modname) for a in report.activities] == [
        (0, "page"),
        (0, "page"),
        (1, "page"),
        (1, "resource"),
        (1, "url"),
        (1, "forum"),
        (2, "page"),
        (2, "resource"),
        (2, "label"),
        (2, "page"),
        (2, "resource"),
        (3, "lti"),
        (3, "page"),
    ]
    assert report.activities[5].name == "Austausch: Meine Apps"
    assert report.named == [0, 1, 2, 3] and report.warnings == []
    assert fake.section_names(16) == TITLES
    assert [s for s, _ in steps] == ["preflight", "upload", "restore", "poll", "poll", "poll", "names", "report"]
    assert steps[-1] == ("report", 1.0)


def test_report_survives_json_and_renders(fake: FakeMoodle, client: MoodleClient, cartridge: Path) -> None:
    report = deliver(client, cartridge)
    again = DeliveryReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    text = again.render()
    assert "done" in text and again.course_url in text and "section 2: Passwörter und Datenschutz" in text
    assert "lti: Selbsteinschätzung Medienkompetenz" in text


def test_a_second_delivery_replaces_the_content_of_the_course_delivered_before(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    first = deliver(client, cartridge)
    second = deliver(client, cartridge, course_id=first.course_id)
    assert second.mode == "replace" and second.state is DeliveryState.DONE
    restores = [c.params for c in fake.calls if c.function == "local_lmsbridge_restore_cartridge"]
    assert [r.get("mode") for r in restores] == ["", "replace"]
    assert len(second.activities) == 13  # no duplicates
    assert [a.name for a in second.activities] == [a.name for a in first.activities]
    assert [s.name for s in second.sections] == TITLES
    assert len(fake.state.courses) == 2  # TEACH1 and the delivered course


def test_merge_is_only_used_when_asked_and_warns_about_duplicates(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    report = deliver(client, cartridge, course_id=15, mode="merge")
    assert report.state is DeliveryState.DONE
    assert any("duplicates" in w for w in report.warnings)
    assert [a.name for a in report.activities if a.section == 1][:1] == ["Vorhandene Seite"]
    assert len(report.activities) == 15  # Announcements and the existing page stay


def test_the_same_new_course_twice_is_refused_by_moodle_and_names_the_course(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.add_functions("core_course_get_courses_by_field")
    first = deliver(client, cartridge)
    with pytest.raises(AlreadyExists) as caught:
        deliver(client, cartridge)
    assert caught.value.errorcode == "shortnametaken"
    assert f"course {first.course_id}" in (caught.value.hint or "") and "replace" in (caught.value.hint or "")
    assert sum(1 for c in fake.state.courses.values() if c["shortname"] == "MK7-OER") == 1


def test_a_new_course_keeps_its_names_when_another_course_has_the_same_full_name(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    # Moodle's restore appends " copy 1" / "_1" here; local_lmsbridge 0.1.1 writes the names back (lab-proven).
    fake.add_functions("core_course_get_courses_by_field")
    first = deliver(client, cartridge, new_course=NewCourse(1, "Lehrerkurs (Merge-Test)", "MK7-A"))  # TEACH1's
    course = fake.state.courses[first.course_id]
    assert (course["fullname"], course["shortname"]) == ("Lehrerkurs (Merge-Test)", "MK7-A")
    assert first.renamed_to == "" and not any("renamed the course" in w for w in first.warnings)
    again = deliver(client, cartridge, course_id=first.course_id)  # replace leaves the names alone
    assert again.renamed_to == "" and again.state is DeliveryState.DONE
    assert (fake.state.courses[first.course_id]["fullname"], fake.state.courses[first.course_id]["shortname"]) == (
        "Lehrerkurs (Merge-Test)",
        "MK7-A",
    )
    with pytest.raises(AlreadyExists):  # the short name stays taken: the plugin's guard holds again
        deliver(client, cartridge, new_course=NewCourse(1, "Lehrerkurs (Merge-Test)", "MK7-A"))


def test_the_report_says_so_when_moodle_renamed_the_course(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.plugin_keeps_course_names = False  # local_lmsbridge 0.1.0: the names Moodle's restore made unique stay
    fake.add_functions("core_course_get_courses_by_field")
    first = deliver(client, cartridge, new_course=NewCourse(1, "Lehrerkurs (Merge-Test)", "MK7-A"))  # TEACH1's
    course = fake.state.courses[first.course_id]
    assert (course["fullname"], course["shortname"]) == ("Lehrerkurs (Merge-Test) copy 1", "MK7-A_1")
    assert first.renamed_to == "Lehrerkurs (Merge-Test) copy 1 (MK7-A_1)"
    assert any("renamed the course" in w for w in first.warnings)
    again = deliver(client, cartridge, course_id=first.course_id)  # replace keeps the names it finds
    assert again.renamed_to == "" and again.fullname == "Lehrerkurs (Merge-Test) copy 1"
    assert DeliveryReport.from_dict(json.loads(json.dumps(first.to_dict()))).renamed_to == first.renamed_to


def test_a_section_summary_of_the_teacher_is_kept_and_named_sections_are_not_sent_again() -> None:
    sections = [
        {"section": 0, "name": "Über diese Sammlung", "summary": ""},
        {"section": 1, "name": "", "summary": "Mein Smartphone und ich"},
        {"section": 2, "name": "", "summary": "Eigene Notiz der Lehrkraft"},
    ]
    wanted, warnings = wanted_names(sections, TITLES)
    assert wanted == [
        {"section": 1, "name": "Mein Smartphone und ich", "summary": ""},
        {"section": 2, "name": "Passwörter und Datenschutz"},
    ]
    assert warnings == ["Moodle made no section 3 for the module 'Reflexion'"]


# -- without the plugin ------------------------------------------------------------------------------------


def test_without_the_plugin_functions_the_delivery_falls_back_naming_them(cartridge: Path) -> None:
    with FakeMoodle() as fake, MoodleClient(fake.url, fake.token or "") as client:
        with pytest.raises(FallbackNeeded) as caught:
            deliver(client, cartridge)
        assert caught.value.missing == PLUGIN_FUNCTIONS
        for name in PLUGIN_FUNCTIONS:
            assert name in caught.value.reason
        assert plugin_calls(fake) == ["core_webservice_get_site_info"]  # nothing uploaded


def test_a_service_without_uploads_falls_back(cartridge: Path) -> None:
    with FakeMoodle(uploadfiles=False) as fake, MoodleClient(fake.url, fake.token or "") as client:
        fake.add_functions(*PLUGIN_FUNCTIONS)
        with pytest.raises(FallbackNeeded) as caught:
            deliver(client, cartridge)
        assert caught.value.missing == ("(service setting) Can upload files",)
        assert fake.writes() == []


# -- Moodle's task fails -----------------------------------------------------------------------------------


def test_a_cc13_cartridge_fails_with_moodles_message_and_the_new_course_is_gone(
    fake: FakeMoodle, client: MoodleClient, tmp_path: Path
) -> None:
    if not CC13.is_file():
        pytest.fail(f"the CC 1.3 fixture is missing: {CC13}")
    report = deliver(client, CC13, new_course=NewCourse(1, "Canvas", "CC13NEW"))
    assert report.state is DeliveryState.FAILED and not report.ok
    assert report.message.startswith('The file "canvas-cc13-main.imscc" is a Common Cartridge 1.3 package.')
    assert report.message.endswith("The empty course created for this restore was deleted again.")
    assert report.course_id == 0 and report.course_url == ""
    assert not any(c["shortname"] == "CC13NEW" for c in fake.state.courses.values())
    assert "local_lmsbridge_set_section_names" not in plugin_calls(fake)


def test_a_file_that_is_no_zip_fails_with_moodles_message(
    fake: FakeMoodle, client: MoodleClient, tmp_path: Path
) -> None:
    bad = tmp_path / "notazip.imscc"
    bad.write_bytes(b"not a zip\n")
    report = deliver(client, bad, course_id=15)
    assert report.state is DeliveryState.FAILED
    assert report.message == 'The file "notazip.imscc" is not a ZIP archive, so it is no Common Cartridge.'
    assert report.course_id == 15
    assert [a["name"] for a in fake.activities(15)] == ["Announcements", "Vorhandene Seite"]  # untouched


# -- waiting, lost answers -----------------------------------------------------------------------------------


def test_a_restore_still_running_at_the_timeout_is_reported_as_running_not_failed(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.cron = False
    clock = Clock()
    report = deliver(client, cartridge, clock)
    assert report.state is DeliveryState.RUNNING and not report.ok
    assert report.taskid == 1 and report.course_id == 16
    assert any("still queued" in w and "not a failure" in w for w in report.warnings)
    assert clock.now == 60 and plugin_calls(fake).count("local_lmsbridge_get_restore_status") == 13

    fake.run_restore_tasks()  # cron came by
    done = follow_up(client, report, section_titles=TITLES, sleep=clock.sleep, clock=clock)
    assert done.state is DeliveryState.DONE and fake.section_names(16) == TITLES
    assert plugin_calls(fake).count("local_lmsbridge_restore_cartridge") == 1


def test_a_lost_restore_answer_is_looked_up_and_never_sent_again(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.add_functions("core_course_get_courses_by_field")
    fake.inject("local_lmsbridge_restore_cartridge", "reset_after")
    report = deliver(client, cartridge)
    assert report.state is DeliveryState.UNKNOWN
    assert report.course_id == 16 and report.taskid == 0
    assert any("was not sent again" in w for w in report.warnings)
    assert any("created course 16" in w for w in report.warnings)
    calls = plugin_calls(fake)
    assert calls.count("local_lmsbridge_restore_cartridge") == 1
    assert calls[calls.index("local_lmsbridge_restore_cartridge") + 1] == "core_course_get_courses_by_field"
    assert fake.calls[-1].params == {"field": "shortname", "value": "MK7-OER"}


def test_a_lost_restore_answer_without_a_lookup_function_says_what_to_check(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.inject("local_lmsbridge_restore_cartridge", "reset_after")
    report = deliver(client, cartridge)
    assert report.state is DeliveryState.UNKNOWN
    assert any("'MK7-OER'" in w and "before delivering again" in w for w in report.warnings)
    assert plugin_calls(fake).count("local_lmsbridge_restore_cartridge") == 1


def test_a_lost_restore_into_an_existing_course_is_not_repeated(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.inject("local_lmsbridge_restore_cartridge", "timeout_after", delay=1.0)
    report = deliver(client, cartridge, course_id=15)
    assert report.state is DeliveryState.UNKNOWN and report.course_id == 15
    assert any("course 15" in w for w in report.warnings)
    assert plugin_calls(fake).count("local_lmsbridge_restore_cartridge") == 1
    assert len(fake.state.tasks) == 1  # Moodle did queue it once


def test_a_restore_that_never_reached_moodle_is_safe_to_send_again(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.add_functions("core_course_get_courses_by_field")
    fake.inject("local_lmsbridge_restore_cartridge", "reset_before")
    with pytest.raises(TransportError) as caught:
        deliver(client, cartridge)
    assert not caught.value.maybe_applied and "safe to deliver again" in str(caught.value)
    assert plugin_calls(fake).count("local_lmsbridge_restore_cartridge") == 1
    assert fake.state.tasks == {}


def test_a_lost_upload_answer_uploads_once_more_into_a_fresh_draft(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.inject("webservice/upload.php", "reset_after")
    report = deliver(client, cartridge)
    assert report.ok
    assert plugin_calls(fake).count("webservice/upload.php") == 2
    assert fake.calls[3].params["draftitemid"] == str(report.draftitemid)


def test_a_lost_naming_answer_reads_the_status_and_does_not_rename_twice(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.inject("local_lmsbridge_set_section_names", "reset_after")
    report = deliver(client, cartridge)
    assert report.ok and fake.section_names(16) == TITLES
    calls = plugin_calls(fake)
    assert calls.count("local_lmsbridge_set_section_names") == 1  # applied before the reset: nothing left
    assert calls[-2:] == ["local_lmsbridge_get_restore_status", "local_lmsbridge_get_restore_status"]


def test_naming_that_did_not_arrive_is_sent_once_more(fake: FakeMoodle, client: MoodleClient, cartridge: Path) -> None:
    fake.inject("local_lmsbridge_set_section_names", "reset_before")
    report = deliver(client, cartridge)
    assert report.ok and [s.name for s in report.sections] == TITLES
    assert plugin_calls(fake).count("local_lmsbridge_set_section_names") == 2


# -- typed errors ----------------------------------------------------------------------------------------------


def test_an_invalid_token_is_a_configuration_error(fake: FakeMoodle, cartridge: Path) -> None:
    with MoodleClient(fake.url, "wrong") as client, pytest.raises(ConfigurationError) as caught:
        deliver(client, cartridge)
    assert caught.value.errorcode == "invalidtoken"
    assert fake.writes() == []


def test_a_token_that_expires_during_the_delivery_is_a_configuration_error(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.inject("local_lmsbridge_restore_cartridge", "expire_token")
    with pytest.raises(ConfigurationError) as caught:
        deliver(client, cartridge)
    assert caught.value.wsfunction == "local_lmsbridge_restore_cartridge"
    assert "local_lmsbridge_restore_cartridge" in (caught.value.hint or "")
    assert fake.state.tasks == {}


@pytest.mark.parametrize(
    ("denied", "target", "capability"),
    [
        ("moodle/course:create", {}, "Create courses"),
        ("moodle/restore:restorecourse", {"course_id": 15}, "Restore courses"),
        (
            "local/lmsbridge:restorecartridge",
            {"course_id": 15},
            "Restore Common Cartridges through the LMS Bridge web service",
        ),
    ],
)
def test_missing_capabilities_are_access_denied_naming_them(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path, denied: str, target: dict[str, Any], capability: str
) -> None:
    fake.deny(denied)
    with pytest.raises(AccessDenied) as caught:
        deliver(client, cartridge, **target)
    assert caught.value.errorcode == "nopermissions" and caught.value.capability == capability
    assert fake.state.tasks == {} and len(fake.state.courses) == 1


def test_without_course_update_the_content_arrives_and_the_report_says_the_titles_stay_summaries(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path
) -> None:
    fake.deny("moodle/course:update")
    report = deliver(client, cartridge)
    assert report.state is DeliveryState.DONE
    assert any("Update course settings" in w and "stay section summaries" in w for w in report.warnings)
    assert [s.summary for s in report.sections] == TITLES and [s.name for s in report.sections] == [""] * 4


@pytest.mark.parametrize(
    "kw",
    [
        {"course_id": 15, "new_course": NewCourse(1, "A", "B")},
        {"new_course": None},
        {"course_id": 15, "mode": "new"},
        {"new_course": NewCourse(1, "A", "B"), "mode": "replace"},
        {"new_course": NewCourse(0, "A", "B")},
        {"course_id": 0},
    ],
)
def test_impossible_targets_are_refused_before_any_call(
    fake: FakeMoodle, client: MoodleClient, cartridge: Path, kw: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        deliver_cartridge(client, cartridge, **kw)
    assert fake.calls == []


def test_the_fake_reads_cartridges_like_moodle(cartridge: Path) -> None:
    from tests.sync.fakemoodle import _read_cartridge

    outline = _read_cartridge("x.imscc", cartridge.read_bytes(), False)
    assert outline is not None and [title for title, _ in outline] == TITLES
    assert outline[2][1][2] == ("label", "Vertiefung: Falschmeldungen erkennen")
    assert _read_cartridge("x.imscc", b"placeholder", True) is None
    assert io.BytesIO(cartridge.read_bytes()).read(2) == b"PK"
