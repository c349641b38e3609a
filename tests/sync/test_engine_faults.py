"""Faults during a sync: each ends without duplicates and with a clear report; a re-run finishes the job."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest

from moodle_sync.client import MoodleClient
from moodle_sync.desired import DesiredNetwork
from moodle_sync.engine import ApplyReport, apply, sync
from moodle_sync.errors import ConfigurationError, TransportError
from moodle_sync.mapping import InMemoryMappingStore
from moodle_sync.plan import plan
from tests.sync.fakemoodle import FakeMoodle, build_network


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


def connect(fake: FakeMoodle, **kw: object) -> MoodleClient:
    options: dict = {"timeout": (2, 0.5), "sleep": lambda s: None, **kw}
    return MoodleClient(fake.url, fake.token or "", **options)


@pytest.fixture
def client(fake: FakeMoodle) -> Iterator[MoodleClient]:
    with connect(fake) as moodle:
        yield moodle


@pytest.fixture
def store() -> InMemoryMappingStore:
    return InMemoryMappingStore()


@pytest.fixture
def network() -> DesiredNetwork:
    return build_network(schools=3, people_per_school=4)


def run(client: MoodleClient, network: DesiredNetwork, store: InMemoryMappingStore) -> ApplyReport:
    report = sync(client, network, store).report
    assert report is not None
    return report


def assert_no_duplicates(fake: FakeMoodle, network: DesiredNetwork) -> None:
    """Every key exists exactly once in Moodle, and so does every wanted enrolment and membership."""
    assert Counter(u["username"] for u in fake.state.users.values()).most_common(1)[0][1] == 1
    assert [c["idnumber"] for c in fake.state.categories.values()].count(network.category_idnumber) == 1
    courses = [c for c in fake.state.courses.values() if c["idnumber"] == network.course.idnumber]
    assert len(courses) == 1
    course = courses[0]
    groups = [g["idnumber"] for g in fake.state.groups.values() if g["courseid"] == course["id"]]
    assert sorted(groups) == sorted(network.group_idnumber(s.key) for s in network.schools)
    assert len([s for s in fake.state.sections.values() if s["course"] == course["id"]]) == len(network.sections) + 1
    for person in network.people:
        uid = fake.user_by_username(person.username)["id"]  # type: ignore[index]
        assert fake.roles_of(course["id"], uid) == {person.role}


def assert_rerun_is_silent(
    fake: FakeMoodle, client: MoodleClient, network: DesiredNetwork, store: InMemoryMappingStore
) -> None:
    fake.clear_log()
    report = run(client, network, store)
    assert report.ok and fake.writes() == [], report.render()


@pytest.mark.parametrize(
    "function",
    [
        "core_course_create_categories",
        "core_course_create_courses",
        "core_group_create_groups",
        "core_user_create_users",
        "enrol_manual_enrol_users",
        "core_group_add_group_members",
    ],
)
def test_connection_reset_after_a_create_is_looked_up_not_repeated(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork, function: str
) -> None:
    fake.inject(function, "reset_after")
    report = run(client, network, store)
    assert report.ok, report.render()
    assert fake.functions_called().count(function) == 1  # found by the look-up: not sent again
    assert any("the answer was lost" in line and "no duplicate" in line for line in report.recovered)
    assert "recovered:" in report.render()
    assert_no_duplicates(fake, network)
    assert_rerun_is_silent(fake, client, network, store)


def test_a_timeout_after_applying_is_looked_up(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_user_create_users", "timeout_after", delay=1.0)
    report = run(client, network, store)
    assert report.ok and fake.functions_called().count("core_user_create_users") == 1
    assert any("timed out" in line for line in report.recovered)
    assert_no_duplicates(fake, network)


def test_a_5xx_before_applying_creates_after_looking_up(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_group_create_groups", "status", status=502)
    report = run(client, network, store)
    assert report.ok
    calls = fake.functions_called()
    assert calls.count("core_group_create_groups") == 2
    assert calls.index("core_group_get_course_groups") < len(calls) - calls[::-1].index("core_group_create_groups") - 1
    assert any("created after looking them up" in line for line in report.recovered)
    assert_no_duplicates(fake, network)


def test_a_lock_error_on_a_write_is_recovered(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_course_create_courses", "lock")
    report = run(client, network, store)
    assert report.ok and fake.functions_called().count("core_course_create_courses") == 2
    assert_no_duplicates(fake, network)


def test_lock_errors_and_5xx_on_reads_are_retried_transparently(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    run(client, network, store)
    fake.inject("core_course_get_contents", "lock", times=2)
    fake.inject("core_user_get_users_by_field", "status", status=504)
    fake.inject("core_enrol_get_enrolled_users", "reset_before")
    fake.clear_log()
    report = run(client, network, store)
    assert report.ok and fake.writes() == []
    assert client.stats.retries == 4


def test_persistent_5xx_stops_with_a_report_and_the_rerun_finishes(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_user_create_users", "status", times=2, status=503)
    report = run(client, network, store)
    assert not report.complete and isinstance(report.error, TransportError)
    assert report.aborted and report.aborted.startswith("creating users")
    assert report.pending == 13 + 13 + 12  # users, enrolments, memberships not reached
    text = report.render()
    assert "STOPPED" in text and "resumes where it stopped" in text
    assert not any(u["username"].startswith("lmsb-") for u in fake.state.users.values())
    assert report.count("created")["group"] == 3
    fake.clear_log()
    again = run(client, network, store)
    assert again.ok
    assert "core_course_create_courses" not in fake.functions_called()  # done before: not repeated
    assert_no_duplicates(fake, network)


def test_an_expired_token_stops_the_run_and_a_new_token_resumes_it(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_group_create_groups", "expire_token")
    report = run(client, network, store)
    assert not report.complete and isinstance(report.error, ConfigurationError)
    assert report.error.errorcode == "invalidtoken"
    assert "STOPPED: creating groups" in report.render()
    assert report.count("created") == {"category": 1, "course": 1, "section": 9}
    fake.new_token()
    fake.clear_log()
    with connect(fake) as renewed:
        again = run(renewed, network, store)
    assert again.ok, again.render()
    assert fake.functions_called("write")[0] == "core_group_create_groups"
    assert_no_duplicates(fake, network)


def test_input_cut_by_max_input_vars_ends_complete_with_smaller_batches() -> None:
    big = build_network(schools=12, people_per_school=30)
    with FakeMoodle(max_input_vars=1000) as fake, connect(fake) as client:
        store = InMemoryMappingStore()
        report = run(client, big, store)
        assert report.ok, report.render()
        assert any("requests are now kept under" in w for w in report.warnings)
        cut = [c for c in fake.calls if c.truncated]
        assert cut and all(c.outcome == "error:invalidparameter" for c in cut)  # refused as a whole, never half-applied
        assert client.budget < 1000
        assert_no_duplicates(fake, big)
        assert_rerun_is_silent(fake, client, big, store)


def test_a_refused_person_is_isolated_and_the_others_go_through(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    bad = "lmsb-nrw1-s01-02"
    broken = replace(
        network, people=[replace(p, email="kein-mail") if p.username == bad else p for p in network.people]
    )
    report = run(client, broken, store)
    assert report.complete and not report.ok
    assert [(f.kind, f.key, f.errorcode) for f in report.failed] == [("user", bad, "invalidparameter")]
    assert {(a.kind, a.key) for a, _ in report.skipped} == {
        ("enrolment", f"lmsb-net-nrw1-ws/{bad}"),
        ("membership", f"lmsb-net-nrw1-school-s01/{bad}"),
    }
    assert fake.user_by_username(bad) is None
    assert len([u for u in fake.state.users.values() if u["username"].startswith("lmsb-")]) == 12
    assert fake.functions_called("write").count("core_user_create_users") <= 2 * 4 + 1  # halving, not one by one
    assert f"user {bad}: Invalid parameter value detected [invalidparameter]" in report.render()


def test_a_user_made_between_plan_and_apply_is_adopted(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    early = plan(client, network, store)
    uid = fake.add_user(
        "lmsb-nrw1-s00-01",
        firstname="Vorname01",
        lastname="Nachname Schule 00",
        email="lmsb-nrw1-s00-01@lms-bridge.invalid",
        auth="nologin",
    )
    report = apply(early, client, store)
    assert report.ok, report.render()
    assert any("already in Moodle" in line for line in report.recovered)
    mapped = store.get(fake.url, "user", "lmsb-nrw1-s00-01")
    assert mapped is not None and mapped.moodle_id == uid and mapped.created is False
    assert_no_duplicates(fake, network)


def test_an_account_that_already_exists_is_adopted_not_duplicated(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.add_user("lmsb-nrw1-manager", firstname="Maria", lastname="Moderatorin", auth="oauth2")
    the_plan = plan(client, network, store)
    manager = the_plan.find("user", "lmsb-nrw1-manager")
    assert manager and manager.op == "update" and manager.reason.startswith("found by its key")
    assert "auth 'oauth2' -> 'nologin'" in manager.reason
    report = apply(the_plan, client, store)
    assert report.ok and report.count("created")["user"] == 12 and report.count("updated")["user"] == 1
    assert_no_duplicates(fake, network)


def test_a_reset_while_titling_sends_the_title_once_more(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.inject("core_update_inplace_editable", "reset_after")
    report = run(client, network, store)
    assert report.ok and fake.functions_called().count("core_update_inplace_editable") == 10
    assert_no_duplicates(fake, network)


def test_a_reset_while_adding_a_section_adds_no_second_one(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    from moodle_sync.desired import DesiredSection

    run(client, network, store)
    grown = replace(network, sections=[*network.sections, DesiredSection("extra", "Extra")])
    fake.inject("core_courseformat_update_course", "reset_after")
    report = run(client, grown, store)
    assert report.ok and fake.functions_called().count("core_courseformat_update_course") == 1
    assert any("section added although the answer was lost" in line for line in report.recovered)
    assert_no_duplicates(fake, grown)
