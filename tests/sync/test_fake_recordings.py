"""The fake Moodle answers like the real one: replaying every recording gives the recorded answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sync.fakemoodle import RECORDINGS, FakeMoodle, load_recordings, php_parse, recorded_service

pytestmark = pytest.mark.skipif(not RECORDINGS.is_dir(), reason="the Moodle recordings are not available")

RECORDED_SITE = "http://127.0.0.1:8081"
#: Replayed in this order the recordings build on each other (ids match the recording site's).
ORDER = [
    "site_info",
    "create_categories",
    "create_courses",
    "get_courses_by_field_idnumber",
    "get_courses_by_field_missing",
    "create_courses_shortnametaken",
    "get_contents",
    "courseformat_update_course_section_add",
    "create_users",
    "create_users_duplicate",
    "get_users_by_field",
    "enrol_manual_enrol_users",
    "get_enrolled_users",
    "create_groups",
    "add_group_members",
    "update_courses",
    "update_courses_warning",
    "update_inplace_editable_sectionname",
    "error_invalidparameter",
    "error_missing_record",
    "error_not_in_service",
    "error_invalidtoken",
    "login_token_error",
    "upload",
]
#: Answers with time stamps or per-site values: compared by shape (keys and types) only.
SHAPE_ONLY = {"site_info", "get_courses_by_field_idnumber"}


def shape(value: Any) -> Any:
    """Keys and value types, recursively; a list by its first element."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.fixture(scope="module")
def replayed() -> Iterator[dict[str, tuple[Any, Any]]]:
    """Replay every recording against one fake site; map name -> (recorded answer, fake answer)."""
    recordings = load_recordings()
    assert set(ORDER) == set(recordings), "a recording is neither replayed nor skipped on purpose"
    with FakeMoodle(functions=recorded_service()) as fake, requests.Session() as http:
        answers = {}
        for name in ORDER:
            rec = recordings[name]
            answers[name] = (rec["response"], _replay(http, fake, rec))
        assert not fake.crashes
        yield answers


def _replay(http: requests.Session, fake: FakeMoodle, rec: dict[str, Any]) -> Any:
    params = {k: str(v) for k, v in rec["params"].items()}
    endpoint = rec["endpoint"]
    if endpoint == "/webservice/upload.php":
        response = http.post(
            fake.url + endpoint,
            data={"token": fake.token, "filearea": "draft", "itemid": "0", "filepath": params["filepath"]},
            files={"file_1": ("oer-sample.imscc", b"x" * 22)},
        )
    elif endpoint == "/login/token.php":
        response = http.post(fake.url + endpoint, data={**params, "password": "wrong"})
    else:
        response_ = rec["response"]
        invalid_token = isinstance(response_, dict) and response_.get("errorcode") == "invalidtoken"
        token = "not-a-token" if invalid_token else fake.token
        response = http.post(fake.url + endpoint, data=[("wstoken", token), *params.items()])
    assert response.status_code == rec["http_status"]
    return json.loads(response.text.replace(fake.url.replace("/", "\\/"), RECORDED_SITE.replace("/", "\\/")))


@pytest.mark.parametrize("name", ORDER)
def test_fake_answers_like_the_recording(replayed: dict[str, tuple[Any, Any]], name: str) -> None:
    recorded, answered = replayed[name]
    if isinstance(recorded, str):  # core_courseformat_update_course answers a JSON string
        assert isinstance(answered, str)
        recorded, answered = json.loads(recorded), json.loads(answered)
    assert shape(answered) == shape(recorded)
    if name not in SHAPE_ONLY:
        assert answered == recorded


def test_site_info_lists_the_service_functions(replayed: dict[str, tuple[Any, Any]]) -> None:
    recorded, answered = replayed["site_info"]
    assert [f["name"] for f in answered["functions"]] == [f["name"] for f in recorded["functions"]]
    assert (answered["release"], answered["version"]) == (recorded["release"], recorded["version"])


def test_course_by_idnumber_carries_the_created_values(replayed: dict[str, tuple[Any, Any]]) -> None:
    recorded, answered = replayed["get_courses_by_field_idnumber"]
    fields = ("id", "fullname", "shortname", "idnumber", "categoryid", "categoryname", "summary", "format")
    assert {k: answered["courses"][0][k] for k in fields} == {k: recorded["courses"][0][k] for k in fields}


def test_php_parse_builds_nested_lists_like_php() -> None:
    parsed = php_parse(
        [
            ("courses[0][fullname]", "A"),
            ("courses[1][fullname]", "B"),
            ("courses[0][numsections]", "3"),
            ("values[0]", "x"),
            ("field", "username"),
        ]
    )
    assert parsed == {
        "courses": [{"fullname": "A", "numsections": "3"}, {"fullname": "B"}],
        "values": ["x"],
        "field": "username",
    }


def test_fake_truncates_like_php_and_moodle_refuses_the_rest() -> None:
    with FakeMoodle(max_input_vars=8, debug=True) as fake, requests.Session() as http:
        pairs = [("wstoken", fake.token), ("wsfunction", "core_user_create_users"), ("moodlewsrestformat", "json")]
        pairs += [
            ("users[0][firstname]", "A"),
            ("users[0][lastname]", "B"),
            ("users[0][email]", "a@example.org"),
            ("users[0][password]", "Aa1!aaaa"),
            ("users[0][auth]", "manual"),
            ("users[0][username]", "a"),
        ]
        answer = http.post(fake.url + "/webservice/rest/server.php", data=pairs).json()
        assert answer["errorcode"] == "invalidparameter"
        assert "Missing required key in single structure: username" in answer["debuginfo"]
        assert fake.calls[-1].truncated and fake.calls[-1].nvars == 9
        assert fake.user_by_username("a") is None


def test_a_failed_batch_create_leaves_nothing_behind() -> None:
    with FakeMoodle() as fake, requests.Session() as http:
        fake.add_user("taken")
        pairs = [("wstoken", fake.token), ("wsfunction", "core_user_create_users"), ("moodlewsrestformat", "json")]
        for i, name in enumerate(["fresh", "taken"]):
            pairs += [
                (f"users[{i}][username]", name),
                (f"users[{i}][password]", "Aa1!aaaa"),
                (f"users[{i}][firstname]", "A"),
                (f"users[{i}][lastname]", "B"),
                (f"users[{i}][email]", f"{name}@other.example.org"),
            ]
        answer = http.post(fake.url + "/webservice/rest/server.php", data=pairs).json()
        assert answer == {
            "exception": "core\\exception\\invalid_parameter_exception",
            "errorcode": "invalidparameter",
            "message": "Invalid parameter value detected",
        }
        assert fake.user_by_username("fresh") is None
