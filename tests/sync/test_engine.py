"""The sync engine against the fake Moodle: provisioning, zero-write re-runs, single updates, prune, locking."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from moodle_sync.client import MoodleClient
from moodle_sync.desired import DesiredNetwork, DesiredSection, person
from moodle_sync.engine import ApplyReport, apply, sync
from moodle_sync.errors import PlanError, SyncConflict
from moodle_sync.mapping import InMemoryMappingStore, InMemoryTargetLock
from moodle_sync.plan import plan
from tests.sync.fakemoodle import PLUGIN_FUNCTIONS, FakeMoodle, build_network

TITLES = [
    "Nutzung",
    "Unterrichtsentwicklung",
    "Medienkonzept",
    "Medienkompetenz",
    "Leitung/Steuerung",
    "Fortbildung",
    "Kommunikation",
    "Netzwerktreffen",
    "Arbeitsgruppen",
]
READS_OF_A_RESYNC = [
    "core_webservice_get_site_info",
    "core_course_get_categories",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_group_get_course_groups",
    "core_user_get_users_by_field",
    "core_enrol_get_enrolled_users",
    "core_group_get_group_members",
]


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


@pytest.fixture
def client(fake: FakeMoodle) -> Iterator[MoodleClient]:
    with MoodleClient(fake.url, fake.token or "", timeout=(2, 1), sleep=lambda s: None) as moodle:
        yield moodle


@pytest.fixture
def store() -> InMemoryMappingStore:
    return InMemoryMappingStore()


@pytest.fixture
def lock() -> InMemoryTargetLock:
    return InMemoryTargetLock()


@pytest.fixture
def network() -> DesiredNetwork:
    return build_network(schools=3, people_per_school=4)


def course_id(fake: FakeMoodle, idnumber: str = "lmsb-net-nrw1-ws") -> int:
    course = fake.course_by_idnumber(idnumber)
    assert course is not None, idnumber
    return int(course["id"])


def uid(fake: FakeMoodle, username: str) -> int:
    user = fake.user_by_username(username)
    assert user is not None, username
    return int(user["id"])


def provision(client: MoodleClient, network: DesiredNetwork, store: InMemoryMappingStore, **kw: Any) -> ApplyReport:
    report = sync(client, network, store, **kw).report
    assert report is not None
    return report


def resync_writes(
    fake: FakeMoodle, client: MoodleClient, network: DesiredNetwork, store: InMemoryMappingStore, **kw: object
) -> list[str]:
    fake.clear_log()
    report = provision(client, network, store, **kw)
    assert report.ok, report.render()
    return fake.functions_called("write")


# -- provisioning -------------------------------------------------------------------------------------


def test_provisioning_a_three_school_network_from_scratch(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    report = provision(client, network, store)
    assert report.ok, report.render()
    assert fake.functions_called("write") == [
        "core_course_create_categories",
        "core_course_create_courses",
        *["core_update_inplace_editable"] * 9,
        "core_group_create_groups",
        "core_user_create_users",
        "enrol_manual_enrol_users",
        "core_group_add_group_members",
    ]
    assert report.calls.writes == 15 and report.calls.reads == 1  # the new course's sections
    category = fake.category_by_idnumber("lmsb-net-nrw1")
    course = fake.course_by_idnumber("lmsb-net-nrw1-ws")
    assert category and course and course["categoryid"] == category["id"] and course["shortname"] == "NRW1"
    assert fake.section_names(course["id"]) == ["General", *TITLES]
    groups = {g["idnumber"]: g for g in fake.state.groups.values()}
    assert sorted(groups) == [f"lmsb-net-nrw1-school-s0{i}" for i in range(3)]
    manager = fake.user_by_username("lmsb-nrw1-manager")
    assert manager and manager["auth"] == "nologin" and manager["email"] == "lmsb-nrw1-manager@lms-bridge.invalid"
    assert fake.roles_of(course["id"], manager["id"]) == {"editingteacher"}
    for school in range(3):
        group = groups[f"lmsb-net-nrw1-school-s0{school}"]
        ids = {uid(fake, f"lmsb-nrw1-s0{school}-0{j}") for j in range(4)}
        assert fake.state.members[group["id"]] == ids
        roles = [fake.roles_of(course["id"], uid(fake, f"lmsb-nrw1-s0{school}-0{j}")) for j in range(4)]
        assert roles == [{"teacher"}, {"teacher"}, {"student"}, {"student"}]
    assert len([u for u in fake.state.users.values() if u["username"].startswith("lmsb-")]) == 13
    assert report.count("created") == {
        "category": 1,
        "course": 1,
        "section": 9,
        "group": 3,
        "user": 13,
        "enrolment": 13,
        "membership": 12,
    }
    mapped = store.get(fake.url, "course", "lmsb-net-nrw1-ws")
    assert mapped is not None and (mapped.moodle_id, mapped.created) == (course["id"], True)


def test_an_unchanged_resync_makes_zero_writes(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    fake.clear_log()
    result = sync(client, network, store)
    assert result.plan.is_noop and result.plan.counts == {"leave": 52}
    assert fake.writes() == []
    assert fake.functions_called("read") == READS_OF_A_RESYNC
    assert result.report is not None and result.report.calls.total == 0
    assert "Nothing to do" in result.plan.render()


def test_a_dry_run_only_reads(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    result = sync(client, network, store, dry_run=True)
    assert result.report is None and result.plan.counts["create"] == 52
    assert fake.writes() == [] and len(store) == 0


def _rename_school(n: DesiredNetwork) -> DesiredNetwork:
    return replace(n, schools=[replace(n.schools[1], name="Gesamtschule Nord"), n.schools[0], n.schools[2]])


def _rename_person(n: DesiredNetwork) -> DesiredNetwork:
    return replace(n, people=[replace(p, lastname="Neu") if p.username == "lmsb-nrw1-s01-02" else p for p in n.people])


def _retitle_section(n: DesiredNetwork) -> DesiredNetwork:
    return replace(
        n, sections=[DesiredSection(s.key, "Meetings") if s.key == "netzwerktreffen" else s for s in n.sections]
    )


def _new_summary(n: DesiredNetwork) -> DesiredNetwork:
    return replace(n, course=replace(n.course, summary="Neue Beschreibung"))


def _rename_category(n: DesiredNetwork) -> DesiredNetwork:
    return replace(n, category_name="Netzwerk Köln-Nord")


@pytest.mark.parametrize(
    ("change", "kind", "function"),
    [
        (_rename_school, "group", "core_group_update_groups"),
        (_rename_person, "user", "core_user_update_users"),
        (_retitle_section, "section", "core_update_inplace_editable"),
        (_new_summary, "course", "core_course_update_courses"),
        (_rename_category, "category", "core_course_update_categories"),
    ],
)
def test_changing_one_thing_makes_exactly_one_update(
    fake: FakeMoodle,
    client: MoodleClient,
    store: InMemoryMappingStore,
    network: DesiredNetwork,
    change,
    kind: str,
    function: str,
) -> None:
    provision(client, network, store)
    changed = change(network)
    assert [a.op + " " + a.kind for a in plan(client, changed, store).changes] == [f"update {kind}"]
    assert resync_writes(fake, client, changed, store) == [function]
    assert resync_writes(fake, client, changed, store) == []


def test_the_update_reaches_moodle_and_names_the_difference(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    the_plan = plan(client, _rename_school(network), store)
    assert the_plan.changes[0].reason == "name 'Schule 01' -> 'Gesamtschule Nord'"
    apply(the_plan, client, store)
    assert fake.state.groups[int(the_plan.changes[0].moodle_id or 0)]["name"] == "Gesamtschule Nord"


def test_a_new_person_is_created_enrolled_and_grouped(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    grown = replace(network, people=[*network.people, person("neu-1", "Nora", "Neu", "teacher", "s02")])
    assert resync_writes(fake, client, grown, store) == [
        "core_user_create_users",
        "enrol_manual_enrol_users",
        "core_group_add_group_members",
    ]
    group = next(g for g in fake.state.groups.values() if g["idnumber"] == "lmsb-net-nrw1-school-s02")
    assert uid(fake, "lmsb-neu-1") in fake.state.members[group["id"]]


def test_a_role_change_assigns_the_new_role_and_takes_back_the_old(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    promoted = replace(
        network, people=[replace(p, role="teacher") if p.username == "lmsb-nrw1-s00-03" else p for p in network.people]
    )
    assert resync_writes(fake, client, promoted, store) == ["enrol_manual_enrol_users", "core_role_unassign_roles"]
    course = fake.course_by_idnumber("lmsb-net-nrw1-ws")
    assert course is not None and fake.roles_of(course["id"], uid(fake, "lmsb-nrw1-s00-03")) == {"teacher"}


def test_the_companion_plugin_titles_all_sections_in_one_call(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.add_functions(*PLUGIN_FUNCTIONS)
    report = provision(client, network, store)
    assert report.ok
    assert fake.functions_called("write").count("local_lmsbridge_set_section_names") == 1
    assert "core_update_inplace_editable" not in fake.functions_called()
    assert fake.section_names(course_id(fake))[1:] == TITLES


def test_without_a_title_function_sections_stay_untitled_and_it_says_so(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.remove_function("core_update_inplace_editable")
    report = provision(client, network, store)
    assert report.complete and not report.failed
    assert any("left untitled" in w and "core_update_inplace_editable" in w for w in report.warnings)
    assert fake.section_names(course_id(fake))[1:] == ["New section"] * 9
    again = sync(client, network, store)
    assert len(again.plan.blocked) == 9 and again.plan.is_noop
    assert "blocked: titles need core_update_inplace_editable" in again.plan.render()
    fake.clear_log()
    sync(client, network, store)
    assert fake.writes() == []  # blocked titles cost no call


def test_a_section_added_to_the_network_is_appended_and_titled(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    grown = replace(network, sections=[*network.sections, DesiredSection("schulleitungsrunde", "Schulleitungsrunde")])
    assert resync_writes(fake, client, grown, store) == [
        "core_courseformat_update_course",
        "core_update_inplace_editable",
    ]
    assert fake.section_names(course_id(fake)) == ["General", *TITLES, "Schulleitungsrunde"]


def test_a_section_renamed_by_hand_keeps_its_name(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    section = next(s for s in fake.state.sections.values() if s["course"] == course_id(fake) and s["section"] == 1)
    fake.state.sections[section["id"]] = {**section, "name": "Nutzung digitaler Medien"}
    assert resync_writes(fake, client, network, store) == []
    assert fake.section_names(course_id(fake))[1] == "Nutzung digitaler Medien"


def test_objects_deleted_by_hand_are_created_again(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    gid = next(g["id"] for g in fake.state.groups.values() if g["idnumber"] == "lmsb-net-nrw1-school-s01")
    del fake.state.groups[gid]
    del fake.state.members[gid]
    the_plan = plan(client, network, store)
    assert [(a.op, a.kind) for a in the_plan.changes] == [("create", "group")] + [("create", "membership")] * 4
    assert the_plan.changes[0].reason == f"was id {gid}, gone from Moodle: create again"
    apply(the_plan, client, store)
    assert resync_writes(fake, client, network, store) == []


def test_a_lost_mapping_store_is_rebuilt_without_writes(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    fresh = InMemoryMappingStore()
    fake.clear_log()
    result = sync(client, network, fresh)
    assert fake.writes() == []
    assert result.report and result.report.count("mapped")["user"] == 13
    assert len(fresh) == len(store)
    assert resync_writes(fake, client, network, fresh) == []


def test_role_ids_are_taken_from_the_site(store: InMemoryMappingStore, network: DesiredNetwork) -> None:
    with (
        FakeMoodle(roles={13: "editingteacher", 14: "teacher", 15: "student"}) as fake,
        MoodleClient(fake.url, fake.token or "") as client,
    ):
        report = provision(client, network, store, role_ids={"editingteacher": 13, "teacher": 14, "student": 15})
        assert report.ok
        result = sync(client, network, store)
        assert result.plan.role_ids == {"editingteacher": 13, "teacher": 14, "student": 15}
        assert any("role student has id 15" in note for note in result.plan.notes)
        assert result.plan.is_noop


def test_a_taken_shortname_blocks_the_course_and_what_hangs_on_it(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.state.courses[99] = {
        "id": 99,
        "fullname": "Fremd",
        "shortname": "NRW1",
        "categoryid": 1,
        "idnumber": "other",
        "summary": "",
        "summaryformat": 1,
        "format": "topics",
        "visible": 1,
        "contextid": 90,
        "timecreated": 1,
        "timemodified": 1,
    }
    result = sync(client, network, store)
    course = result.plan.find("course", "lmsb-net-nrw1-ws")
    assert course and course.blocked and "shortname 'NRW1' is taken by course id 99" in course.blocked
    report = result.report
    assert report and report.complete and not report.ok
    assert {a.kind for a, _ in report.skipped} == {"course", "section", "group", "enrolment", "membership"}
    assert report.count("created") == {"category": 1, "user": 13}
    assert "core_course_create_courses" not in fake.functions_called()


def test_invalid_desired_state_is_refused_before_any_call(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    broken = replace(
        network,
        people=[
            *network.people,
            replace(network.people[1], school="nowhere"),
            replace(network.people[2], username="Has Space", role="boss"),
        ],
    )
    with pytest.raises(PlanError) as caught:
        plan(client, broken, store)
    message = str(caught.value)
    assert "appears twice" in message and "unknown school 'nowhere'" in message
    assert "username 'Has Space'" in message and "role 'boss'" in message
    assert fake.calls == []


def test_progress_is_reported_until_the_end(
    client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    seen: list[tuple[int, int]] = []
    provision(client, network, store, progress=lambda done, total, message: seen.append((done, total)))
    assert seen[-1] == (52, 52)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# -- prune ----------------------------------------------------------------------------------------------


def test_prune_removes_only_what_the_tool_created(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    fake.add_user("lmsb-nrw1-s02-03", firstname="Vorname03", lastname="Nachname Schule 02")  # exists before the tool
    provision(client, network, store)
    course = fake.course_by_idnumber("lmsb-net-nrw1-ws")
    assert course is not None
    foreign_group = fake.add_group(course["id"], "Steuergruppe", "handmade")
    visitor = fake.add_user("visitor")
    fake.enrol(course["id"], visitor, 5)
    fake.state.members[foreign_group] = frozenset({visitor})
    smaller = replace(network, schools=network.schools[:2], people=[p for p in network.people if p.school != "s02"])

    fake.clear_log()
    kept = sync(client, smaller, store)
    assert fake.writes() == []
    assert kept.plan.counts["remove"] == 0
    assert "kept (run with prune to remove it)" in kept.plan.render(verbose=True)

    fake.clear_log()
    pruned = sync(client, smaller, store, prune=True)
    assert pruned.report and pruned.report.ok, pruned.report.render() if pruned.report else ""
    assert fake.functions_called("write") == ["core_group_delete_groups", "enrol_manual_unenrol_users"]
    assert sorted(g["idnumber"] for g in fake.state.groups.values()) == [
        "handmade",
        "lmsb-net-nrw1-school-s00",
        "lmsb-net-nrw1-school-s01",
    ]
    enrolled = {fake.state.users[uid]["username"] for (cid, uid) in fake.state.enrolments if cid == course["id"]}
    assert "visitor" in enrolled
    assert {f"lmsb-nrw1-s02-0{j}" for j in range(4)}.isdisjoint(enrolled)  # the tool enrolled all four
    assert all(fake.user_by_username(f"lmsb-nrw1-s02-0{j}") for j in range(4))  # accounts are never deleted
    assert fake.state.members[foreign_group] == {visitor}
    assert resync_writes(fake, client, smaller, store, prune=True) == []


def test_prune_keeps_an_enrolment_the_tool_found(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, build_network(schools=1, people_per_school=1), InMemoryMappingStore())  # made "by hand"
    provision(client, network, store)
    course = fake.course_by_idnumber("lmsb-net-nrw1-ws")
    handmade = store.get(fake.url, "enrolment", "lmsb-net-nrw1-ws/lmsb-nrw1-s00-00")
    assert handmade is not None and handmade.created is False
    smaller = replace(network, people=[p for p in network.people if p.username != "lmsb-nrw1-s00-00"])
    result = sync(client, smaller, store, prune=True)
    action = result.plan.find("enrolment", "lmsb-net-nrw1-ws/lmsb-nrw1-s00-00")
    assert action and action.op == "leave" and "the tool did not create it" in action.reason
    assert course is not None and fake.roles_of(course["id"], uid(fake, "lmsb-nrw1-s00-00")) == {"teacher"}


# -- one sync per target --------------------------------------------------------------------------------


def test_a_second_sync_on_the_same_target_is_refused(
    fake: FakeMoodle,
    client: MoodleClient,
    store: InMemoryMappingStore,
    lock: InMemoryTargetLock,
    network: DesiredNetwork,
) -> None:
    assert lock.acquire(fake.url, "worker-1")
    with pytest.raises(SyncConflict) as caught:
        sync(client, network, store, lock=lock, holder="worker-2")
    assert caught.value.holder == "worker-1" and "another sync" in str(caught.value)
    assert fake.calls == []
    lock.release(fake.url, "worker-1")
    assert provision(client, network, store, lock=lock, holder="worker-2").ok
    assert lock.holder(fake.url) is None


def test_concurrent_syncs_one_runs_one_is_refused(
    fake: FakeMoodle,
    client: MoodleClient,
    store: InMemoryMappingStore,
    lock: InMemoryTargetLock,
    network: DesiredNetwork,
) -> None:
    inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def slow_progress(done: int, total: int, message: str) -> None:
        inside.set()
        release.wait(5)

    def first() -> None:
        results["first"] = provision(client, network, store, lock=lock, holder="a", progress=slow_progress)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(5)
    with MoodleClient(fake.url, fake.token or "") as other, pytest.raises(SyncConflict):
        sync(other, network, store, lock=lock, holder="b")
    release.set()
    thread.join(10)
    assert isinstance(results["first"], ApplyReport) and results["first"].ok
    assert len([u for u in fake.state.users.values() if u["username"].startswith("lmsb-")]) == 13


def test_a_stale_plan_is_refused(client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork) -> None:
    early = plan(client, network, store)
    provision(client, network, store)
    with pytest.raises(PlanError, match="plan again"):
        apply(early, client, store)


def test_a_person_moving_school_leaves_the_old_group_only_with_prune(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    mover = "lmsb-nrw1-s00-02"
    moved = replace(network, people=[replace(p, school="s01") if p.username == mover else p for p in network.people])
    mover_id = uid(fake, mover)
    groups = {g["idnumber"]: g["id"] for g in fake.state.groups.values()}
    old, new = groups["lmsb-net-nrw1-school-s00"], groups["lmsb-net-nrw1-school-s01"]
    assert resync_writes(fake, client, moved, store) == ["core_group_add_group_members"]
    assert mover_id in fake.state.members[old] and mover_id in fake.state.members[new]
    assert resync_writes(fake, client, moved, store, prune=True) == ["core_group_delete_group_members"]
    assert mover_id not in fake.state.members[old] and mover_id in fake.state.members[new]
    assert store.get(fake.url, "membership", f"lmsb-net-nrw1-school-s00/{mover}") is None
    assert resync_writes(fake, client, moved, store, prune=True) == []


def test_the_report_is_storable_as_json(
    client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    import json

    report = provision(client, network, store)
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["ok"] is True and stored["complete"] is True and stored["pending"] == 0
    assert stored["calls"] == {"reads": 1, "writes": 15, "retries": 0}
    assert {"op": "create", "kind": "course", "key": "lmsb-net-nrw1-ws", "result": "created"} in stored["done"]


def test_a_group_gone_before_prune_reaches_it_counts_as_removed(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    smaller = replace(network, schools=network.schools[:2], people=[p for p in network.people if p.school != "s02"])
    the_plan = plan(client, smaller, store, prune=True)
    group = the_plan.find("group", "lmsb-net-nrw1-school-s02")
    assert group is not None and group.op == "remove" and group.moodle_id
    del fake.state.groups[group.moodle_id]  # deleted by hand in between
    report = apply(the_plan, client, store)
    assert report.ok, report.render()
    assert report.count("removed")["group"] == 1
    assert store.get(fake.url, "group", "lmsb-net-nrw1-school-s02") is None


def test_prune_without_delete_functions_is_blocked_but_takes_people_out_of_the_group(
    fake: FakeMoodle, client: MoodleClient, store: InMemoryMappingStore, network: DesiredNetwork
) -> None:
    provision(client, network, store)
    fake.remove_function("core_group_delete_groups")
    fake.remove_function("enrol_manual_unenrol_users")
    smaller = replace(network, schools=network.schools[:2], people=[p for p in network.people if p.school != "s02"])
    fake.clear_log()
    result = sync(client, smaller, store, prune=True)
    assert fake.functions_called("write") == ["core_group_delete_group_members"]
    group = next(g["id"] for g in fake.state.groups.values() if g["idnumber"] == "lmsb-net-nrw1-school-s02")
    assert fake.state.members[group] == frozenset()
    blocked = {(a.kind, a.blocked) for a in result.plan.blocked}
    assert blocked == {
        ("group", "needs core_group_delete_groups in the token's service"),
        ("enrolment", "needs enrol_manual_unenrol_users in the token's service"),
    }
    memberships = [a for a in result.plan.by_kind("membership") if a.key.startswith("lmsb-net-nrw1-school-s02/")]
    assert memberships and all(
        a.op == "remove" and a.moodle_id and not a.details.get("forget_only") for a in memberships
    )
    assert result.report is not None and not result.report.ok  # the blocked removals are listed as skipped
    assert {a.kind for a, _ in result.report.skipped} == {"group", "enrolment"}
