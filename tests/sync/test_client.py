"""MoodleClient against the fake Moodle: arguments, typed errors, null bodies, warnings, retries, batches, files."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from moodle_sync.client import MoodleClient, is_read, section_ids_from_updates, token_for
from moodle_sync.errors import (
    AccessDenied,
    AlreadyExists,
    ConfigurationError,
    InvalidParameter,
    NotFound,
    SiteBusy,
    SyncError,
    TransportError,
    TruncatedRequest,
    classify,
)
from moodle_sync.params import count_vars, flatten, with_tripwire
from tests.sync.fakemoodle import PLUGIN_FUNCTIONS, FakeMoodle


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


@pytest.fixture
def pauses() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeMoodle, pauses: list[float]) -> Iterator[MoodleClient]:
    with MoodleClient(fake.url, fake.token or "", timeout=(2, 0.5), sleep=pauses.append) as moodle:
        yield moodle


def user(name: str) -> dict[str, str]:
    return {
        "username": name,
        "password": "Aa1!aaaa",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": f"{name}@lms-bridge.invalid",
        "auth": "manual",
    }


def new_category(client: MoodleClient) -> int:
    return client.create_categories([{"name": "Netz", "idnumber": "lmsb-net-x", "parent": 0}])[0]


def new_course(client: MoodleClient, shortname: str = "NETX", sections: int = 2) -> int:
    category = new_category(client)
    return client.create_courses(
        [
            {
                "fullname": "Netz X",
                "shortname": shortname,
                "categoryid": category,
                "idnumber": f"lmsb-{shortname}",
                "numsections": sections,
            }
        ]
    )[0]


# -- arguments ----------------------------------------------------------------------------------------


def test_arguments_are_flattened_to_php_bracket_notation() -> None:
    params = {
        "courses": [{"fullname": "A", "visible": True, "options": [{"name": "x", "value": 1}]}],
        "ids": [4, 5],
        "skip": None,
        "flag": False,
    }
    assert flatten(params) == [
        ("courses[0][fullname]", "A"),
        ("courses[0][visible]", "1"),
        ("courses[0][options][0][name]", "x"),
        ("courses[0][options][0][value]", "1"),
        ("ids[0]", "4"),
        ("ids[1]", "5"),
        ("flag", "0"),
    ]
    assert count_vars(params) == 7


def test_a_required_leaf_travels_last_so_a_cut_request_fails_validation() -> None:
    params = {"users": [{"username": "a", "firstname": "A"}, {"username": "b", "firstname": "B"}]}
    pairs, leaf = with_tripwire(flatten(params), params)
    assert leaf == "username"
    assert pairs[-1] == ("users[0][username]", "a")
    scalar = {"field": "username", "values": ["a", "b"]}
    pairs, leaf = with_tripwire(flatten(scalar), scalar)
    assert (leaf, pairs[-1]) == ("field", ("field", "username"))


def test_the_fake_receives_the_nested_arguments(client: MoodleClient, fake: FakeMoodle) -> None:
    category = new_category(client)
    call = fake.calls[-1]
    assert call.function == "core_course_create_categories" and call.kind == "write"
    assert call.params == {"categories": [{"name": "Netz", "idnumber": "lmsb-net-x", "parent": "0"}]}
    assert fake.state.categories[category]["idnumber"] == "lmsb-net-x"


def test_site_info_is_typed_and_names_missing_functions(client: MoodleClient, fake: FakeMoodle) -> None:
    info = client.site_info()
    assert (info.release, info.version, info.version_number) == ("5.1+ (Build: 20251017)", "2025100600.02", 2025100600)
    assert info.siteurl == fake.url and info.username == "admin" and info.userid == 2
    assert "core_user_create_users" in info.functions
    assert info.missing(["core_user_create_users", *PLUGIN_FUNCTIONS]) == list(PLUGIN_FUNCTIONS)


def test_reads_and_writes_are_told_apart() -> None:
    assert is_read("core_course_get_courses_by_field") and is_read("core_webservice_get_site_info")
    assert is_read("local_lmsbridge_get_restore_status")
    assert not is_read("core_course_create_courses") and not is_read("enrol_manual_enrol_users")
    assert not is_read("core_update_inplace_editable")


# -- typed errors from the recordings -------------------------------------------------------------------


def test_invalid_token_is_a_configuration_error(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url, "wrong", sleep=lambda s: None) as moodle, pytest.raises(ConfigurationError) as caught:
        moodle.site_info()
    assert caught.value.errorcode == "invalidtoken"
    assert caught.value.message == "Invalid token - token not found"
    assert "token" in (caught.value.hint or "")
    assert len(fake.calls) == 1  # a configuration error is not retried


def test_function_missing_from_the_service_is_access_denied_naming_it(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.remove_function("core_update_inplace_editable")
    with pytest.raises(AccessDenied) as caught:
        client.set_section_title(6, "Nutzung")
    assert caught.value.errorcode == "accessexception"
    assert caught.value.function == "core_update_inplace_editable"
    assert "add core_update_inplace_editable" in (caught.value.hint or "")


def test_missing_function_answered_as_invalidrecordunknown_is_access_denied(
    client: MoodleClient, fake: FakeMoodle
) -> None:
    fake.remove_function("core_group_delete_groups", answer="invalidrecordunknown")
    with pytest.raises(AccessDenied) as caught:
        client.delete_groups([1])
    assert caught.value.errorcode == "invalidrecordunknown"
    assert caught.value.function == "core_group_delete_groups"
    assert fake.functions_called()[-1] == "core_webservice_get_site_info"  # the client checked the service


def test_missing_record_of_a_function_in_the_service_is_not_found(client: MoodleClient) -> None:
    client.site_info()
    with pytest.raises(NotFound) as caught:
        client.course_contents(999999)
    assert caught.value.errorcode == "invalidrecordunknown"
    assert caught.value.wsfunction == "core_course_get_contents"


def test_function_unknown_to_the_site_is_access_denied(client: MoodleClient, fake: FakeMoodle) -> None:
    with pytest.raises(AccessDenied) as caught:
        client.set_section_names(3, {1: "Nutzung"})  # companion plugin not installed
    assert caught.value.function == "local_lmsbridge_set_section_names"


def test_validation_error_is_invalid_parameter(client: MoodleClient) -> None:
    with pytest.raises(InvalidParameter) as caught:
        client.courses_by_field("nonsense", "x")
    assert caught.value.errorcode == "invalidparameter"
    assert not caught.value.possibly_truncated


def test_duplicate_username_is_only_invalid_parameter(client: MoodleClient, fake: FakeMoodle) -> None:
    client.create_users([user("lk1")])
    with pytest.raises(InvalidParameter) as caught:
        client.create_users([user("lk1") | {"email": "other@lms-bridge.invalid"}])
    assert type(caught.value) is InvalidParameter
    assert caught.value.debuginfo is None  # Moodle gives no detail without debugging


def test_shortname_taken_is_already_exists(client: MoodleClient) -> None:
    new_course(client, "NET1")
    with pytest.raises(AlreadyExists) as caught:
        client.create_courses([{"fullname": "dup", "shortname": "NET1", "categoryid": 1}])
    assert caught.value.errorcode == "shortnametaken"
    assert caught.value.message == "Short name is already used for another course (NET1)"


def test_expired_token_mid_run_is_a_configuration_error(client: MoodleClient, fake: FakeMoodle) -> None:
    client.site_info()
    fake.expire_token()
    with pytest.raises(ConfigurationError) as caught:
        client.create_users([user("lk2")])
    assert caught.value.errorcode == "invalidtoken"
    assert caught.value.wsfunction == "core_user_create_users"
    assert fake.user_by_username("lk2") is None


def test_missing_capability_is_named() -> None:
    payload = {
        "exception": "required_capability_exception",
        "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (Create courses).",
    }
    error = classify(payload, wsfunction="core_course_create_courses")
    assert isinstance(error, AccessDenied) and error.capability == "Create courses"
    error = classify({**payload, "debuginfo": "moodle/course:create"})
    assert isinstance(error, AccessDenied) and error.capability == "moodle/course:create"


def test_transient_lock_error_has_its_own_class() -> None:
    error = classify(
        {"exception": "core\\exception\\moodle_exception", "errorcode": "locktimeout", "message": "error/locktimeout"}
    )
    assert isinstance(error, SiteBusy)


def test_disabled_web_services_answer_403(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.rest_enabled = False
    with pytest.raises(ConfigurationError) as caught:
        client.site_info()
    assert "REST" in (caught.value.hint or "")


def test_wrong_site_url(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url + "/moodle", fake.token or "") as moodle, pytest.raises(ConfigurationError) as caught:
        moodle.site_info()
    assert "HTTP 404" in caught.value.message and "site URL" in (caught.value.hint or "")


def test_html_instead_of_json(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_webservice_get_site_info", "html")
    with pytest.raises(ConfigurationError) as caught:
        client.site_info()
    assert "did not answer JSON" in caught.value.message


# -- null bodies and warnings ---------------------------------------------------------------------------


def test_void_functions_answer_null(client: MoodleClient, fake: FakeMoodle) -> None:
    course = new_course(client)
    uid = client.create_users([user("lk3")])["lk3"]
    assert (
        client.call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": uid, "courseid": course}]})
        is None
    )
    group = client.create_groups([{"courseid": course, "name": "Schule A", "description": "", "idnumber": "g-a"}])[0]
    assert client.call("core_group_add_group_members", {"members": [{"groupid": group.id, "userid": uid}]}) is None
    assert fake.state.members[group.id] == {uid}
    assert client.group_members([group.id]) == {group.id: frozenset({uid})}


def test_update_courses_reports_unknown_ids_as_warnings(client: MoodleClient) -> None:
    course = new_course(client)
    assert client.update_courses([{"id": course, "summary": "Aktualisiert"}]) == []
    warnings = client.update_courses([{"id": 999999, "summary": "x"}])
    assert [(w.item, w.itemid, w.warningcode) for w in warnings] == [("course", 999999, "invalidrecordunknown")]
    assert client.warnings == warnings


# -- retries: reads only ----------------------------------------------------------------------------------


def test_reads_are_retried_on_5xx_with_backoff(client: MoodleClient, fake: FakeMoodle, pauses: list[float]) -> None:
    fake.inject("core_course_get_courses_by_field", "status", times=2, status=503)
    assert client.course_by_idnumber("nothing") is None
    assert fake.functions_called().count("core_course_get_courses_by_field") == 3
    assert pauses == [0.5, 1.0]
    assert client.stats.retries == 2


@pytest.mark.parametrize("fault", ["reset_before", "lock", "timeout_before"])
def test_reads_are_retried_after_resets_lock_errors_and_timeouts(
    client: MoodleClient, fake: FakeMoodle, fault: str
) -> None:
    course = new_course(client)
    fake.inject("core_course_get_contents", fault, delay=1.0)
    assert [s.number for s in client.course_contents(course)] == [0, 1, 2]
    assert fake.functions_called().count("core_course_get_contents") == 2


def test_reads_give_up_after_the_retries(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_course_get_categories", "status", times=10, status=502)
    with pytest.raises(TransportError) as caught:
        client.category_by_idnumber("x")
    assert (caught.value.status, caught.value.attempts, caught.value.maybe_applied) == (502, 4, False)
    assert fake.functions_called().count("core_course_get_categories") == 4


def test_a_write_is_never_retried_on_5xx(client: MoodleClient, fake: FakeMoodle) -> None:
    category = new_category(client)
    fake.inject("core_course_create_courses", "status", times=3, status=503)
    with pytest.raises(TransportError) as caught:
        client.create_courses([{"fullname": "X", "shortname": "X", "categoryid": category}])
    assert caught.value.maybe_applied is True
    assert fake.functions_called().count("core_course_create_courses") == 1


def test_a_write_whose_answer_is_lost_may_have_been_applied(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_course_create_categories", "reset_after")
    with pytest.raises(TransportError) as caught:
        new_category(client)
    assert caught.value.maybe_applied is True
    assert fake.category_by_idnumber("lmsb-net-x") is not None  # it was applied
    assert fake.functions_called().count("core_course_create_categories") == 1


def test_a_write_timing_out_is_not_retried(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_user_create_users", "timeout_after", delay=1.0)
    with pytest.raises(TransportError) as caught:
        client.create_users([user("slow")])
    assert caught.value.maybe_applied is True and "timed out" in str(caught.value)
    assert fake.functions_called().count("core_user_create_users") == 1


def test_a_write_meeting_a_lock_error_is_not_retried(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_user_create_users", "lock")
    with pytest.raises(SiteBusy):
        client.create_users([user("busy")])
    assert fake.functions_called().count("core_user_create_users") == 1


def test_a_write_refused_by_rate_limiting_was_not_applied(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.inject("core_user_create_users", "status", status=429)
    with pytest.raises(TransportError) as caught:
        client.create_users([user("limited")])
    assert caught.value.maybe_applied is False


def test_a_write_to_a_closed_port_cannot_have_been_applied() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        MoodleClient(f"http://127.0.0.1:{port}", "t", timeout=(1, 1)) as moodle,
        pytest.raises(TransportError) as caught,
    ):
        moodle.create_users([user("nobody")])
    assert caught.value.maybe_applied is False


# -- max_input_vars -------------------------------------------------------------------------------------


def test_batches_stay_under_max_input_vars(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url, fake.token or "", max_input_vars=100) as moodle:
        users = [user(f"u{i:03d}") for i in range(40)]
        batches = moodle.batches("core_user_create_users", "users", users)
        assert sum(len(b) for b in batches) == 40 and len(batches) > 1
        assert all(3 + count_vars({"users": b}) <= moodle.budget for b in batches)
        assert moodle.budget == 90
        for batch in batches:
            moodle.create_users(batch)
        assert all(not c.truncated for c in fake.calls)
        assert len(moodle.users_by_username([u["username"] for u in users])) == 40


def test_reads_are_split_to_fit(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url, fake.token or "", max_input_vars=50) as moodle:
        for i in range(60):
            fake.add_user(f"r{i:03d}")
        found = moodle.users_by_username([f"r{i:03d}" for i in range(60)])
        assert len(found) == 60
        assert fake.functions_called().count("core_user_get_users_by_field") == 2


def test_an_object_that_cannot_fit_is_refused_before_sending(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url, fake.token or "", max_input_vars=8) as moodle:
        with pytest.raises(TruncatedRequest) as caught:
            moodle.batches("core_user_create_users", "users", [user("big")])
        assert caught.value.nvars == 9 and caught.value.limit == 7
        with pytest.raises(TruncatedRequest):
            moodle.create_users([user("a"), user("b")])
    assert fake.calls == []


@pytest.mark.parametrize("debug", [True, False])
def test_a_request_cut_by_php_is_refused_as_a_whole(debug: bool) -> None:
    with FakeMoodle(max_input_vars=1000, debug=debug) as fake, MoodleClient(fake.url, fake.token or "") as moodle:
        users = [user(f"cut{i:03d}") for i in range(200)]
        with pytest.raises(SyncError) as caught:
            moodle.create_users(users)
        if debug:
            assert isinstance(caught.value, TruncatedRequest) and caught.value.detected
        else:
            assert isinstance(caught.value, InvalidParameter) and caught.value.possibly_truncated
            assert caught.value.nvars == 1203
        assert fake.calls[-1].truncated
        assert not any(fake.user_by_username(u["username"]) for u in users)  # nothing half-applied


# -- sections, files, tokens, the companion plugin -------------------------------------------------------


def test_sections_are_added_and_titled(client: MoodleClient, fake: FakeMoodle) -> None:
    course = new_course(client, sections=1)
    before = [s.id for s in client.course_contents(course)]
    updates = client.add_section(course)
    order = section_ids_from_updates(updates)
    assert order[:2] == before and len(order) == 3
    assert client.set_section_title(order[2], "Nutzung") == "Nutzung"
    assert fake.section_names(course) == ["General", "New section", "Nutzung"]


def test_upload_puts_the_file_into_a_draft_area(client: MoodleClient, fake: FakeMoodle) -> None:
    uploaded = client.upload("oer.imscc", b"PK\x03\x04 cartridge")
    assert uploaded.filename == "oer.imscc" and uploaded.filesize == 14 and uploaded.itemid > 0
    assert fake.state.drafts[uploaded.itemid][0]["content"] == b"PK\x03\x04 cartridge"
    assert fake.calls[-1].params["filearea"] == "draft"
    with pytest.raises(AlreadyExists) as caught:
        client.upload("oer.imscc", b"again", itemid=uploaded.itemid)
    assert caught.value.errorcode == "filenameexist"


def test_upload_errors_use_the_ajax_format(fake: FakeMoodle) -> None:
    with MoodleClient(fake.url, "wrong") as moodle, pytest.raises(ConfigurationError) as caught:
        moodle.upload("a.imscc", b"x")
    assert caught.value.errorcode == "invalidtoken"
    fake.uploadfiles = False
    with MoodleClient(fake.url, fake.token or "") as moodle, pytest.raises(AccessDenied) as denied:
        moodle.upload("a.imscc", b"x")
    assert "upload" in (denied.value.hint or "")


def test_token_for_asks_login_token_php(fake: FakeMoodle) -> None:
    assert token_for(fake.url, "admin", "Admin#1234", "lmsbridge") == fake.token
    with pytest.raises(ConfigurationError) as caught:
        token_for(fake.url, "admin", "wrong", "lmsbridge")
    assert caught.value.errorcode == "invalidlogin" and caught.value.message == "Invalid login, please try again"


def test_cartridge_upload_restore_and_poll_through_the_plugin(client: MoodleClient, fake: FakeMoodle) -> None:
    fake.add_functions(*PLUGIN_FUNCTIONS)
    course = new_course(client, sections=2)
    draft = client.upload("oer.imscc", b"cartridge").itemid
    taskid, courseid = client.restore_cartridge(draft, courseid=course, mode="merge")
    assert courseid == course
    status = client.restore_status(taskid)
    assert status.finished and status.status == "done" and [s["section"] for s in status.sections] == [0, 1, 2]
    updated, warnings = client.set_section_names(course, {1: "Kapitel 1", 7: "fehlt"})
    assert updated == [1] and [w.warningcode for w in warnings] == ["unknownsection"]
