"""Provisioning a 12-school network with 360 people into Moodle: web-service calls and wall time.

    .venv/bin/python bench/sync_provision.py            # --schools 12 --people 360 --rounds 3

Runs against the fake Moodle of the test suite (``tests/sync/fakemoodle.py``: a
real HTTP server on 127.0.0.1 with the answers of a real Moodle 5.1, in-memory
state), so the numbers count *calls*, and time only what the tool and HTTP on
loopback cost – a real Moodle spends far longer per call, which makes the call
count the figure that matters.

Measured per round, each on a fresh site:

* ``moodle_sync.engine.sync`` from scratch (plan + apply): reads, writes, wall time;
* the same sync again, unchanged: must make **0 writes**;
* a naive baseline in the same run: one call per object, each preceded by a
  look-up so that it too can be re-run (category, course, each section title,
  each group, each account, each enrolment, each membership), and its re-run.

Exits non-zero unless both ways end with the same objects in Moodle and the
unchanged re-sync is read-only. Results: a markdown table on stdout and
``bench/results/sync_provision.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from moodle_sync.client import MoodleClient  # noqa: E402
from moodle_sync.desired import DEFAULT_ROLE_IDS, DesiredNetwork  # noqa: E402
from moodle_sync.engine import one_time_password, sync  # noqa: E402
from moodle_sync.mapping import InMemoryMappingStore  # noqa: E402
from tests.sync.fakemoodle import FakeMoodle, build_network  # noqa: E402


@dataclass
class Run:
    reads: int
    writes: int
    seconds: float

    @property
    def calls(self) -> int:
        return self.reads + self.writes


def network_of(schools: int, people: int) -> DesiredNetwork:
    """The network manager plus people spread evenly over the schools, ``people`` in all."""
    per_school = -(-(people - 1) // schools)
    network = build_network(schools=schools, people_per_school=per_school, key="bench")
    network.people = network.people[:people]
    return network


def measure(fake: FakeMoodle, action: Any) -> Run:
    fake.clear_log()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Run(len(fake.reads()), len(fake.writes()), seconds)


def engine_sync(fake: FakeMoodle, network: DesiredNetwork, store: InMemoryMappingStore) -> None:
    with MoodleClient(fake.url, fake.token or "") as client:
        report = sync(client, network, store).report
    if report is None or not report.ok:
        raise SystemExit(f"the sync failed:\n{report.render() if report else 'no report'}")


def naive_sync(fake: FakeMoodle, network: DesiredNetwork) -> None:
    """One call per object, each after a look-up (the obvious loop without batching or planning)."""
    roles = DEFAULT_ROLE_IDS
    with MoodleClient(fake.url, fake.token or "") as client:
        category = client.category_by_idnumber(network.category_idnumber)
        category_id = (
            category.id
            if category
            else client.create_categories(
                [{"name": network.category_name, "idnumber": network.category_idnumber, "parent": 0}]
            )[0]
        )
        course = client.course_by_idnumber(network.course.idnumber)
        c = network.course
        course_id = (
            course.id
            if course
            else client.create_courses(
                [
                    {
                        "fullname": c.fullname,
                        "shortname": c.shortname,
                        "categoryid": category_id,
                        "idnumber": c.idnumber,
                        "summary": c.summary,
                        "format": c.format,
                        "numsections": len(network.sections),
                    }
                ]
            )[0]
        )
        for number, section in enumerate(network.sections, start=1):
            current = {s.number: s for s in client.course_contents(course_id)}[number]
            if current.name != section.title:
                client.set_section_title(current.id, section.title)
        group_ids: dict[str, int] = {}
        for school in network.schools:
            idnumber = network.group_idnumber(school.key)
            found = {g.idnumber: g.id for g in client.course_groups(course_id)}
            group_ids[school.key] = (
                found.get(idnumber)
                or client.create_groups(
                    [{"courseid": course_id, "name": school.name, "description": "", "idnumber": idnumber}]
                )[0].id
            )
        user_ids: dict[str, int] = {}
        for p in network.people:
            found_users = client.users_by_username([p.username])
            user_ids[p.username] = (
                found_users[p.username].id
                if found_users
                else client.create_users(
                    [
                        {
                            "username": p.username,
                            "password": one_time_password(),
                            "firstname": p.firstname,
                            "lastname": p.lastname,
                            "email": p.email_address,
                            "auth": p.auth,
                        }
                    ]
                )[p.username]
            )
        for p in network.people:
            enrolled = {u.id: u for u in client.enrolled_users(course_id)}
            if user_ids[p.username] not in enrolled:
                client.enrol([{"roleid": roles[p.role], "userid": user_ids[p.username], "courseid": course_id}])
        for p in network.people:
            if p.school is None:
                continue
            members = client.group_members([group_ids[p.school]])[group_ids[p.school]]
            if user_ids[p.username] not in members:
                client.add_group_members([{"groupid": group_ids[p.school], "userid": user_ids[p.username]}])


def fingerprint(fake: FakeMoodle) -> dict[str, Any]:
    """What ended up in Moodle, independent of ids."""
    state = fake.state
    users = {u["id"]: u["username"] for u in state.users.values()}
    course = next(iter(c for c in state.courses.values()))
    return {
        "categories": sorted(c["idnumber"] for c in state.categories.values()),
        "course": (course["idnumber"], course["shortname"]),
        "sections": fake.section_names(course["id"]),
        "groups": sorted((g["idnumber"], g["name"]) for g in state.groups.values()),
        "users": sorted(users.values()),
        "enrolments": sorted(
            (users[uid], tuple(sorted(fake.roles[r] for r in roles))) for (_, uid), roles in state.enrolments.items()
        ),
        "members": sorted((state.groups[g]["idnumber"], users[u]) for g, ids in state.members.items() for u in ids),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--people", type=int, default=360)
    parser.add_argument("--rounds", type=int, default=3, help="median of N rounds, each on fresh sites")
    args = parser.parse_args(argv)
    network = network_of(args.schools, args.people)

    rounds: list[dict[str, Run]] = []
    for _ in range(args.rounds):
        with FakeMoodle() as fake:
            store = InMemoryMappingStore()
            provision = measure(fake, lambda: engine_sync(fake, network, store))  # noqa: B023 - called at once
            resync = measure(fake, lambda: engine_sync(fake, network, store))  # noqa: B023
            engine_state = fingerprint(fake)
        with FakeMoodle() as fake:
            naive = measure(fake, lambda: naive_sync(fake, network))  # noqa: B023
            naive_again = measure(fake, lambda: naive_sync(fake, network))  # noqa: B023
            naive_state = fingerprint(fake)
        if engine_state != naive_state:
            print("the engine and the naive loop disagree about the result", file=sys.stderr)
            return 1
        if resync.writes:
            print(f"the unchanged re-sync made {resync.writes} writes", file=sys.stderr)
            return 1
        rounds.append({"provision": provision, "resync": resync, "naive": naive, "naive_again": naive_again})

    def median(name: str) -> Run:
        runs = [r[name] for r in rounds]
        return Run(runs[0].reads, runs[0].writes, statistics.median(r.seconds for r in runs))

    rows = {name: median(name) for name in ("provision", "resync", "naive", "naive_again")}
    labels = {
        "provision": "engine: provision from scratch",
        "resync": "engine: unchanged re-sync",
        "naive": "naive: one call per object",
        "naive_again": "naive: re-run",
    }
    people = len(network.people)
    print(
        f"# Provisioning {len(network.schools)} schools, {people} people, {len(network.sections)} sections "
        f"(median of {args.rounds} rounds, fake Moodle on loopback)\n"
    )
    print("| run | reads | writes | calls | wall time |")
    print("|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {labels[name]} | {row.reads} | {row.writes} | {row.calls} | {row.seconds * 1000:.0f} ms |")
    p, n = rows["provision"], rows["naive"]
    print(
        f"\nNaive / engine: {n.calls / p.calls:.1f} x the calls, {n.writes / p.writes:.1f} x the writes, "
        f"{n.seconds / p.seconds:.1f} x the wall time."
    )
    print(f"Unchanged re-sync: {rows['resync'].reads} reads, {rows['resync'].writes} writes.")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "schools": len(network.schools),
        "people": people,
        "sections": len(network.sections),
        "rounds": args.rounds,
        "python": platform.python_version(),
        "runs": {
            name: {"reads": r.reads, "writes": r.writes, "seconds": round(r.seconds, 4)} for name, r in rows.items()
        },
        "ratio_calls": round(n.calls / p.calls, 2),
        "ratio_seconds": round(n.seconds / p.seconds, 2),
    }
    (RESULTS / "sync_provision.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
