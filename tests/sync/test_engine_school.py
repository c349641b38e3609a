"""A per-school target: the network goes into a school's existing course (LOGINEO: one site per school)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from moodle_sync.client import MoodleClient
from moodle_sync.desired import (
    DesiredCourse,
    DesiredNetwork,
    DesiredSchool,
    network_group_name,
    network_section,
    person,
)
from moodle_sync.engine import sync
from moodle_sync.errors import PlanError
from moodle_sync.mapping import InMemoryMappingStore, InMemoryTargetLock
from moodle_sync.plan import LEAVE, plan
from tests.sync.fakemoodle import FakeMoodle

NAME = "Medien Ruhr"


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


@pytest.fixture
def client(fake: FakeMoodle) -> Iterator[MoodleClient]:
    with MoodleClient(fake.url, fake.token or "", timeout=(2, 1), sleep=lambda s: None) as moodle:
        yield moodle


def school_network(course_id: int, *, school: str = "7", people: int = 3) -> DesiredNetwork:
    members = [
        person(f"p-{school}-{j}", f"Vorname{j}", "Schule", ("leader", "media", "teacher")[j % 3], school)
        for j in range(people)
    ]
    return DesiredNetwork(
        key="42",
        name=NAME,
        category_name=None,
        course=None,
        sections=[network_section(NAME)],
        schools=[DesiredSchool(school, network_group_name(NAME))],
        people=members,
        existing_course_id=course_id,
    )


def test_first_sync_adds_only_section_group_accounts_enrolments_and_memberships(
    fake: FakeMoodle, client: MoodleClient
) -> None:
    course_id = fake.add_course("Klasse 8a", "8A", sections=3)
    before = fake.course(course_id)
    courses_before = len(fake.state.courses)
    categories_before = len(fake.state.categories)
    store, lock = InMemoryMappingStore(), InMemoryTargetLock()
    desired = school_network(course_id)

    result = sync(client, desired, store, lock=lock)

    report = result.report
    assert report is not None and report.ok, report.render() if report else ""
    written = {c.function for c in fake.writes()}
    assert written <= {
        "core_courseformat_update_course",
        "core_update_inplace_editable",
        "core_group_create_groups",
        "core_user_create_users",
        "enrol_manual_enrol_users",
        "core_group_add_group_members",
    }, written
    assert report.count("created") == {"section": 1, "group": 1, "user": 3, "enrolment": 3, "membership": 3}
    assert report.count("mapped") == {"course": 1}
    assert len(fake.state.courses) == courses_before and len(fake.state.categories) == categories_before
    assert fake.course(course_id) == before  # never updated
    names = fake.section_names(course_id)
    assert names[:4] == ["General", "Thema der Schule 1", "Thema der Schule 2", "Thema der Schule 3"]
    assert names[4:] == [f"Schulnetzwerk {NAME}"]
    groups = [g for g in fake.state.groups.values() if g["courseid"] == course_id]
    assert [(g["name"], g["idnumber"]) for g in groups] == [(f"Netzwerk {NAME}", "lmsb-net-42-school-7")]
    assert len(fake.state.members[groups[0]["id"]]) == 3
    assert store.get(client.site_url, "course", desired.course_key).created is False  # type: ignore[union-attr]

    fake.clear_log()
    again = sync(client, desired, store, lock=lock)
    assert again.plan.is_noop, again.plan.render()
    assert again.report is not None and again.report.ok
    assert fake.writes() == []
    assert fake.section_names(course_id)[4:] == [f"Schulnetzwerk {NAME}"]


def test_existing_accounts_are_adopted_and_the_section_is_found_by_title(
    fake: FakeMoodle, client: MoodleClient
) -> None:
    course_id = fake.add_course("Klasse 8a", "8A", sections=2)
    desired = school_network(course_id)
    fake.add_user(desired.people[0].username)
    store, lock = InMemoryMappingStore(), InMemoryTargetLock()
    sync(client, desired, store, lock=lock)
    assert len([u for u in fake.state.users.values() if u["username"] == desired.people[0].username]) == 1

    fresh = InMemoryMappingStore()  # mappings lost: nothing is created twice
    fake.clear_log()
    result = sync(client, desired, fresh, lock=lock)
    assert fake.writes() == [], result.plan.render()
    assert fake.section_names(course_id).count(f"Schulnetzwerk {NAME}") == 1


def test_the_course_is_never_updated_nor_pruned(fake: FakeMoodle, client: MoodleClient) -> None:
    course_id = fake.add_course("Klasse 8a", "8A", sections=1)
    store, lock = InMemoryMappingStore(), InMemoryTargetLock()
    desired = school_network(course_id)
    sync(client, desired, store, lock=lock)
    fake.state.courses[course_id]["fullname"] = "Umbenannt von Hand"
    the_plan = plan(client, replace(desired, people=[], schools=[]), store, prune=True)
    course = the_plan.find("course", desired.course_key)
    assert course is not None and course.op == LEAVE and not course.does_something
    assert all(a.kind != "course" or a.op == LEAVE for a in the_plan.actions)
    fake.clear_log()
    sync(client, replace(desired, people=[], schools=[]), store, lock=lock, prune=True)
    assert "core_course_update_courses" not in fake.functions_called()
    assert "core_course_delete_courses" not in fake.functions_called()
    assert fake.state.courses[course_id]["fullname"] == "Umbenannt von Hand"


def test_a_missing_course_is_a_clear_error_without_writes(fake: FakeMoodle, client: MoodleClient) -> None:
    with pytest.raises(PlanError, match="course id 999 does not exist"):
        sync(client, school_network(999), InMemoryMappingStore(), lock=InMemoryTargetLock())
    assert fake.writes() == []


def test_an_existing_course_goes_without_category_and_course_of_the_tool() -> None:
    desired = school_network(5)
    with pytest.raises(PlanError, match="without a category"):
        replace(desired, category_name="X").validate()
    with pytest.raises(PlanError, match="without a category"):
        replace(desired, course=DesiredCourse("A", "A", "a")).validate()
    with pytest.raises(PlanError, match="give a Moodle course id"):
        replace(desired, existing_course_id=1).validate()
    with pytest.raises(PlanError, match="needs a course"):
        replace(desired, existing_course_id=None).validate()


def test_members_with_their_own_account_on_the_site_are_not_given_a_second_one(
    fake: FakeMoodle, client: MoodleClient
) -> None:
    """On a school's own site the members already have accounts (their LTI ``sub`` is the
    Moodle user id): those are used as they are; only people without one get a tool account."""
    course_id = fake.add_course("Klasse 8a", "8A", sections=3)
    tina = fake.add_user("tina.lehrer", firstname="Tina", lastname="Lehrer")
    fake.enrol(course_id, tina, 3)  # editing teacher of the school's course
    sam = fake.add_user("sam.schueler", firstname="Sam", lastname="Schüler")  # not enrolled yet
    desired = school_network(course_id)
    people = list(desired.people)
    people[0] = replace(people[0], moodle_user_id=tina)  # leader → would be "teacher"
    people[2] = replace(people[2], moodle_user_id=sam)
    desired = replace(desired, people=people)
    users_before = len(fake.state.users)
    store, lock = InMemoryMappingStore(), InMemoryTargetLock()

    report = sync(client, desired, store, lock=lock).report
    assert report is not None and report.ok, report.render() if report else ""

    created = [c for c in fake.writes() if c.function == "core_user_create_users"]
    assert len(fake.state.users) == users_before + 1  # only the member without an account
    assert all("tina.lehrer" not in str(c.params) and "sam.schueler" not in str(c.params) for c in created)
    assert fake.state.users[tina]["firstname"] == "Tina"  # never changed
    assert fake.state.enrolments[(course_id, tina)] == frozenset({3})  # her roles are the school's business
    assert (course_id, sam) in fake.state.enrolments  # enrolled with the mapped role
    group = next(g for g in fake.state.groups.values() if g["courseid"] == course_id)
    assert {tina, sam} <= set(fake.state.members[group["id"]])

    writes = len(fake.writes())
    again = plan(client, desired, store)
    assert again.is_noop, again.render()
    assert len(fake.writes()) == writes
