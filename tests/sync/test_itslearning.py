"""The itslearning client against the fake REST API, and the honest capability report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from moodle_sync.errors import AccessDenied, ConfigurationError, InvalidParameter, NotFound, TransportError
from moodle_sync.instructions import deep_linking_instructions, fallback_routes, restore_instructions
from moodle_sync.itslearning import ItslearningClient, Tokens, capability_report
from tests.sync.fakeitslearning import CLIENT_ID, FakeItslearning


@pytest.fixture
def fake() -> Iterator[FakeItslearning]:
    with FakeItslearning() as site:
        yield site


@pytest.fixture
def teacher(fake: FakeItslearning) -> Iterator[ItslearningClient]:
    access, refresh = fake.token_for(501)
    with ItslearningClient(
        fake.url, access, refresh_token=refresh, client_id=CLIENT_ID, sleep=lambda s: None
    ) as client:
        yield client


def test_a_code_becomes_tokens_and_a_used_code_is_refused(fake: FakeItslearning) -> None:
    tokens = ItslearningClient.exchange_code(fake.url, CLIENT_ID, "code-teacher")
    assert tokens.token_type == "Bearer" and tokens.expires_in == 3600 and tokens.refresh_token
    assert fake.calls[-1].query == {"client_id": CLIENT_ID, "grant_type": "authorization_code"}
    with pytest.raises(ConfigurationError) as caught:
        ItslearningClient.exchange_code(fake.url, CLIENT_ID, "code-teacher")
    assert caught.value.errorcode == "invalid_grant" and "sign in again" in (caught.value.hint or "")


def test_an_unknown_client_id_is_a_configuration_error(fake: FakeItslearning) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ItslearningClient.exchange_code(fake.url, "someone-else", "code-teacher")
    assert caught.value.errorcode == "invalid_client"


def test_profile_courses_and_a_course_with_the_users_role(teacher: ItslearningClient) -> None:
    me = teacher.me()
    assert (me.person_id, me.first_name, me.last_name, me.language) == (501, "Tina", "Lehrer", "de-DE")
    courses = teacher.courses()
    assert [c.course_id for c in courses] == [1001, 1002, 1003]
    assert courses[0].title == "Medienkompetenz 7a" and courses[0].code == "MK7A" and courses[0].has_admin_permissions
    course = teacher.course(1002)
    assert (course.course_id, course.code, course.context_role, course.sync_key) == (1002, "MK7B", 1, "course-1002")


def test_participants_are_read_page_by_page(fake: FakeItslearning, teacher: ItslearningClient) -> None:
    people = teacher.participants(1001, page_size=100)
    assert len(people) == 251 and people[0].full_name == "Tina Lehrer" and people[0].role_id == 1
    assert {p.role for p in people[1:]} == {"Schüler/in"}
    pages = [c.query for c in fake.calls if c.path.endswith("/participants/v1")]
    assert [(q["PageIndex"], q["PageSize"]) for q in pages] == [("0", "100"), ("1", "100"), ("2", "100")]
    assert all(c.method == "GET" for c in fake.calls)  # reads only


def test_a_learner_may_not_list_participants(fake: FakeItslearning) -> None:
    access, _ = fake.token_for(502)
    with ItslearningClient(fake.url, access) as learner:
        assert [c.course_id for c in learner.courses()] == [1002]
        with pytest.raises(AccessDenied) as caught:
            learner.participants(1002)
    assert caught.value.errorcode == "http403" and "may not see" in (caught.value.hint or "")


def test_unknown_course_is_not_found_and_bad_paging_invalid(teacher: ItslearningClient) -> None:
    with pytest.raises(NotFound):
        teacher.course(9999)
    with pytest.raises(InvalidParameter):
        teacher.participants(1001, page_size=0)


def test_an_expired_access_token_is_refreshed_once_and_the_new_tokens_are_handed_on(
    fake: FakeItslearning,
) -> None:
    access, refresh = fake.token_for(501)
    seen: list[Tokens] = []
    with ItslearningClient(
        fake.url, access, refresh_token=refresh, client_id=CLIENT_ID, on_tokens=seen.append
    ) as client:
        fake.expire(access)
        assert client.me().person_id == 501
        assert len(seen) == 1 and client.access_token == seen[0].access_token != access
        assert fake.paths() == ["/restapi/personal/person/v1", "/restapi/oauth2/token", "/restapi/personal/person/v1"]
        fake.expire(client.access_token)
        fake.refresh_tokens.clear()  # the refresh token was revoked as well
        with pytest.raises(ConfigurationError) as caught:
            client.me()
        assert caught.value.errorcode == "invalid_grant"


def test_without_a_refresh_token_a_refused_token_is_a_configuration_error(fake: FakeItslearning) -> None:
    with ItslearningClient(fake.url, "not-a-token") as client, pytest.raises(ConfigurationError) as caught:
        client.me()
    assert caught.value.errorcode == "http401" and "sign in" in (caught.value.hint or "")
    assert caught.value.message == "Authorization has been denied for this request."


def test_reads_are_retried_on_5xx_then_give_a_transport_error(
    fake: FakeItslearning, teacher: ItslearningClient
) -> None:
    fake.fail_next("/restapi/personal/person/v1", 503)
    assert teacher.me().person_id == 501
    fake.fail_next("/restapi/personal/person/v1", 502, times=3)
    with pytest.raises(TransportError) as caught:
        teacher.me()
    assert caught.value.status == 502 and caught.value.attempts == 3


def test_the_capability_report_says_what_needs_the_organisation_api_or_a_person(
    teacher: ItslearningClient,
) -> None:
    report = capability_report(teacher)
    assert report.user is not None and report.error is None
    assert report.get("course_participants").available
    push = report.get("push_content")
    assert not push.available and "Organisation API" in push.via
    assert not report.get("provision").available
    importer = report.get("import_cartridge")
    assert not importer.available and "Course Importer" in importer.via
    assert report.get("resource_links").available and "Deep Linking" in report.get("resource_links").via
    text = report.render()
    assert "push_content: no" in text and "Tina Lehrer" in text


def test_the_capability_report_with_refused_tokens_marks_the_rest_calls_unavailable(fake: FakeItslearning) -> None:
    with ItslearningClient(fake.url, "bad") as client:
        report = capability_report(client)
    assert isinstance(report.error, ConfigurationError)
    assert not report.get("list_courses").available and report.get("resource_links").available


# -- the instructions for the routes without the plugin ----------------------------------------------------


@pytest.mark.parametrize("lms", ["moodle", "logineo"])
def test_moodle_restore_instructions_name_the_menus_in_german_and_english(lms: str) -> None:
    de = restore_instructions(lms, "de", filename="mk7-cc11.imscc", section_titles=["Über diese Sammlung", "A"])
    text = de.render()
    for words in (
        "„Mehr“",
        "„Kurse wiederverwenden“",
        "„Wiederherstellen“",
        "„Wiederherstellung ausführen“",
        "mk7-cc11.imscc",
        "Common Cartridge 1.1",
        "0: Über diese Sammlung; 1: A",
    ):
        assert words in text
    en = restore_instructions(lms, "en-GB", filename="mk7-cc11.imscc").render()
    for words in ("“More”", "“Course reuse”", "“Upload a backup file”", "“Perform restore”"):
        assert words in en
    assert ("LOGINEO" in text) == (lms == "logineo")


def test_itslearning_instructions_use_the_course_importer_and_say_why() -> None:
    route = restore_instructions("itslearning", "de", filename="x.imscc")
    assert route.key == "course_importer" and "Course Importer" in route.render()
    assert "Organisation-API" in route.intro
    routes = fallback_routes("itslearning", "en")
    assert [r.key for r in routes] == ["course_importer", "deep_linking"]
    assert "Organisation API" in routes[0].intro


def test_deep_linking_instructions_and_unknown_values() -> None:
    assert "„Inhalt auswählen“" in deep_linking_instructions("moodle", "de").render()
    assert "“Select content”" in deep_linking_instructions("logineo", "en").render()
    assert restore_instructions("moodle", "fr").lang == "de"
    with pytest.raises(ValueError):
        restore_instructions("canvas")
