"""The fake Moodle answers like a real Moodle 4.5.5+ to the sync's calls (``tests/sync/recordings_45/``).

The recordings were made while ``lms-bridge sync apply`` provisioned a network into a
lab Moodle 4.5; replayed in order against a fresh fake whose next ids are the lab
site's, every answer matches the recorded one (site-specific values normalised).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from moodle_sync.client import MoodleClient
from tests.sync.fakemoodle import FakeMoodle, php_parse
from tests.sync.test_fake_recordings import shape

RECORDINGS_45 = Path(__file__).parent / "recordings_45"
RECORDED_SITE = "http://127.0.0.1:8081"
#: The lab site's next ids before the first recorded create.
LAB_IDS = {"category": 2, "course": 26, "section": 112, "module": 367, "group": 1, "user": 8, "context": 594}
#: Replayed in this order the recordings build on each other.
ORDER = [
    "site_info",
    "get_categories_missing",
    "get_courses_by_field_missing",
    "get_users_by_field_missing",
    "create_categories",
    "create_courses",
    "get_contents_new_course",
    "update_inplace_editable_sectionname",
    "create_groups",
    "create_users",
    "enrol_manual_enrol_users",
    "add_group_members",
    "get_categories_idnumber",
    "get_courses_by_field_idnumber",
    "get_contents_named",
    "get_course_groups",
    "get_users_by_field",
    "get_enrolled_users_with_groups",
    "get_group_members",
    "enrol_manual_enrol_users_role_change",
    "role_unassign_roles",
    "enrol_manual_unenrol_users",
    "get_group_members_after_unenrol",
    "courseformat_update_course_section_add",
    "update_inplace_editable_new_section",
    "update_users",
    "update_users_unknown",
    "update_inplace_editable_unknown",
]
#: Not replayed: the sync never deletes sections (the fake plays the deletion by removing the record).
NOT_REPLAYED = {"courseformat_update_course_section_delete"}
#: Site-specific or time-dependent values: compared by shape (and the fields the tests below name).
SHAPE_ONLY = {"site_info", "get_categories_idnumber", "get_courses_by_field_idnumber"}
#: Moodle 4.5 has these in the course state; the fake answers like the 5.1 recording (no ``maxsections``).
STATE_FIELDS_45_ONLY = {"maxsections"}


def load() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RECORDINGS_45.glob("*.json"))}


def normalise(value: Any) -> Any:
    """Remove what differs between two sites by nature: theme revisions, time stamps, upload limits, debuginfo."""
    text = json.dumps(value, ensure_ascii=False)
    text = re.sub(r"(/theme/image\.php/boost/\w+/)\d+/", r"\1REV/", text)
    text = re.sub(r'"statekey": "[^"]*"', '"statekey": "KEY"', text)
    text = re.sub(r'"maxbytes": -?\d+', '"maxbytes": 0', text)
    text = re.sub(r'"maxbytestext": "[^"]*"', '"maxbytestext": ""', text)
    text = re.sub(r'"(instance|contextid)": \d+', r'"\1": 0', text)  # a module's instance and context: site ids
    return json.loads(text)


@pytest.fixture(scope="module")
def replayed() -> Iterator[dict[str, tuple[Any, Any]]]:
    recordings = load()
    assert set(ORDER) | NOT_REPLAYED == set(recordings), "a recording is neither replayed nor skipped on purpose"
    functions = [f["name"] for f in recordings["site_info"]["response"]["functions"]]
    with FakeMoodle(functions=tuple(functions), developer_debug=True) as fake, requests.Session() as http:
        fake.state.next_ids.update(LAB_IDS)
        fake.site_info_recording = recordings["site_info"]["response"]
        answers: dict[str, tuple[Any, Any]] = {}
        for name in ORDER:
            if name == "courseformat_update_course_section_add":  # recorded after section 9 (id 121) was deleted
                del fake.state.sections[121]
            rec = recordings[name]
            response = http.post(fake.url + rec["endpoint"], data=[("wstoken", fake.token), *rec["params"].items()])
            assert response.status_code == rec["http_status"]
            text = response.text.replace(fake.url.replace("/", "\\/"), RECORDED_SITE.replace("/", "\\/"))
            answers[name] = (rec["response"], json.loads(text.replace(fake.url, RECORDED_SITE)))
            if name == "update_inplace_editable_sectionname":  # the sync named sections 2..9 with the same call
                for section in recordings["get_contents_named"]["response"][2:]:
                    params = {**rec["params"], "itemid": str(section["id"]), "value": section["name"]}
                    http.post(fake.url + rec["endpoint"], data=[("wstoken", fake.token), *params.items()]).json()
        assert not fake.crashes
        yield answers


@pytest.mark.parametrize("name", ORDER)
def test_fake_answers_like_moodle_45(replayed: dict[str, tuple[Any, Any]], name: str) -> None:
    recorded, answered = replayed[name]
    if isinstance(recorded, str):  # core_courseformat_update_course answers a JSON string
        assert isinstance(answered, str)
        recorded, answered = json.loads(recorded), json.loads(answered)
        for update in recorded:
            for key in STATE_FIELDS_45_ONLY:
                update["fields"].pop(key, None)
    if isinstance(recorded, dict) and "exception" in recorded:  # the SQL in debuginfo is Moodle's own
        assert {k: answered.get(k) for k in ("exception", "errorcode")} == {
            k: recorded[k] for k in ("exception", "errorcode")
        }
        return
    assert shape(normalise(answered)) == shape(normalise(recorded))
    if name not in SHAPE_ONLY:
        assert normalise(answered) == normalise(recorded)


def test_recorded_facts_the_fake_now_plays(replayed: dict[str, tuple[Any, Any]]) -> None:
    """The four answers the fake had only guessed from Moodle's source, as Moodle 4.5 gives them."""
    recorded, _ = replayed["update_inplace_editable_sectionname"]
    assert recorded["displayvalue"] == f'<a href="{RECORDED_SITE}/course/section.php?id=113">Nutzung</a>'
    assert recorded["linkeverything"] == 0 and "editicon" in recorded
    assert replayed["update_users"][0] == {"warnings": []}
    assert replayed["update_users_unknown"][0]["warnings"][0]["warningcode"] == "invaliduserid"
    enrolled, _ = replayed["get_enrolled_users_with_groups"]
    assert {u["id"]: [g["id"] for g in u.get("groups", [])] for u in enrolled} == {
        8: [1],
        9: [1],
        10: [],  # in no group: Moodle leaves the key out
        11: [2],
        12: [2],
    }
    groups, _ = replayed["get_course_groups"]
    assert [g["name"] for g in groups] == sorted(g["name"] for g in groups)
    assert {g["enrolmentkey"] for g in groups} == {None}
    assert replayed["get_group_members_after_unenrol"][0][1] == {"groupid": 2, "userids": [12]}


def test_site_info_lists_the_service(replayed: dict[str, tuple[Any, Any]]) -> None:
    recorded, answered = replayed["site_info"]
    assert [f["name"] for f in answered["functions"]] == [f["name"] for f in recorded["functions"]]
    assert recorded["release"] == "4.5.5+ (Build: 20250613)"


def test_client_reads_the_45_answers() -> None:
    """The client's parsers take the recorded 4.5 answers (update warnings, enrolled users with groups)."""
    recordings = load()
    with FakeMoodle() as fake, MoodleClient(fake.url, str(fake.token)) as client:
        assert client.update_users([{"id": 999999, "firstname": "X"}])[0].warningcode == "invaliduserid"
    from moodle_sync.records import EnrolledUser

    users = [EnrolledUser.from_ws(u) for u in recordings["get_enrolled_users_with_groups"]["response"]]
    assert {u.username: u.role_names for u in users}["lmsb-658d055701ab364c4fcf"] == {"editingteacher"}
    params = php_parse(list(recordings["create_users"]["params"].items()))
    assert all(u["password"] == "Redacted#2025" for u in params["users"])
