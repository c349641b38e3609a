"""Self-evaluation aggregation and the network report page against loading every answer.

    .venv/bin/python bench/selfeval_aggregate.py     # --schools 12 --respondents 8300 --rounds 3

Builds the tool as in production on an SQLite file in a temporary directory
(Alembic migrations, ``create_app``), with one network of 12 member schools, a
round of the shipped ``selbstevaluationsraster`` instrument and a network
manager whose launch session is opened by the tool's own launch code
(``record_launch``). Then generates that round's data — 12 schools × 8,300
respondents ≈ 100,000 submitted responses × the instrument's 23 items ≈ 2.3
million answer rows, fixed seed, ~8 % "not applicable", the instrument's four
respondent groups with a few small ones so suppression has work to do,
respondent keys made like the answer form makes them — with ``executemany`` in
one transaction, and times, in the same run and alternating, best of 3 each:

* ``aggregate_sql``: two GROUP BY queries over covering indexes, Python adds
  the integer counts up the levels and applies the privacy rules;
* the network report page: ``GET /s/rounds/<id>/network?launch=<id>`` as the
  manager through ``app.test_client()`` (access checks, the submitted-only
  check, the aggregation, free text, charts, tables, template);
* ``aggregate_naive``: SELECT every answer row, aggregate in Python.

Exits non-zero unless both aggregations give the same numbers and suppression
and the page answers 200 with every school's name, its number of respondents
and its criterion means as the SQL aggregation has them. Prints markdown
tables. No network; everything is bounded.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import escape
from sqlalchemy.dialects import sqlite as sqlite_dialect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lti_tool.selfeval.aggregate import (  # noqa: E402
    NETWORK,
    PrivacyPolicy,
    Report,
    Scope,
    aggregate_naive,
    aggregate_sql,
    selfeval_answer,
)
from lti_tool.selfeval.instruments import list_instruments  # noqa: E402
from lti_tool.selfeval.models import SUBMITTED, SelfevalResponse  # noqa: E402

RASTER = next(i for i in list_instruments() if i.id == "selbstevaluationsraster")
#: the instrument's respondent groups with their share of respondents
GROUPS = [("teacher", 90), ("media_coordinator", 6), ("school_leader", 3), ("school_authority", 1)]
FREE_TEXTS = {
    "staerken": ["Die Lernplattform läuft stabil", "Gute Zusammenarbeit im Kollegium", "Tablets in allen Klassen"],
    "handlungsbedarf": ["WLAN im Altbau fehlt", "Mehr Fortbildung zu Datenschutz", "Support dauert zu lange"],
}
TOWNS = [
    "Musterstadt",
    "Beispielburg",
    "Nordstadt",
    "Südheim",
    "Ostfeld",
    "Westhafen",
    "Altdorf",
    "Neuberg",
    "Lindental",
    "Bergheim",
    "Seeburg",
    "Auenwald",
    "Hohenau",
    "Talbach",
    "Kirchrode",
    "Wiesental",
]
KINDS = ["Gesamtschule", "Gymnasium", "Realschule", "Grundschule"]

ISSUER, CLIENT_ID, DEPLOYMENT_ID = "https://lms.bench.example", "bench-client", "1"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
MAX_SCHOOLS = 16  # a network's hard limit (lti_tool.workspaces.services.add_school)


# -- the tool: app, network, schools, round, manager -----------------------------------------


@dataclass
class Tool:
    app: Any
    round_id: int
    schools: dict[int, str]  # id -> name
    launch_id: str


def build_tool(tmp: Path, db_path: Path, n_schools: int) -> Tool:
    """Migrated SQLite file, the app on it, a network with its schools, a round, a manager's launch."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from config import load_settings
    from lti_tool import create_app
    from lti_tool.bridge import bridge
    from lti_tool.db import db_session, upgrade
    from lti_tool.lti.launches import record_launch
    from lti_tool.platforms import PlatformSpec, add_platform
    from lti_tool.protocol import claims as c
    from lti_tool.protocol.launch import ValidatedLaunch
    from lti_tool.protocol.roles import primary_role, tool_roles
    from lti_tool.selfeval.models import SelfevalRound
    from lti_tool.workspaces.access import person_for_user
    from lti_tool.workspaces.roles import MANAGER
    from lti_tool.workspaces.services import add_school, create_network, ensure_member

    url = f"sqlite:///{db_path}"
    upgrade(url)
    app = create_app(
        load_settings(
            {},
            database_url=url,
            instance_dir=str(tmp / "instance"),
            secret_key="bench-secret-" + "x" * 32,
            base_url="http://localhost",
        )
    )
    b = bridge(app)
    # the LMS the manager comes from (operator path, inline key set; no token is verified here)
    jwk = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))
    jwk.update({"kid": "bench", "alg": "RS256", "use": "sig"})
    with b.db.sessions() as s:
        add_platform(
            s,
            PlatformSpec(
                issuer=ISSUER,
                client_id=CLIENT_ID,
                auth_login_url=ISSUER + "/mod/lti/auth.php",
                auth_token_url=ISSUER + "/mod/lti/token.php",
                key_set={"keys": [jwk]},
                deployment_ids=[DEPLOYMENT_ID],
                name="Bench Moodle",
            ),
        )
    registration = b.registry.find(ISSUER, CLIENT_ID)
    found = b.registry.deployment(registration.pk, DEPLOYMENT_ID)
    assert found is not None
    roles = [INSTRUCTOR, ADMIN]
    # the claims a validated launch of the manager carries (the validator's output; see bench/launches.py
    # for the whole signed login + launch); record_launch writes user, course, membership, link and the
    # launch session exactly as after a real launch
    launch = ValidatedLaunch(
        claims={
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "manager-1",
            "name": "Netzwerk Koordination",
            c.DEPLOYMENT_ID: DEPLOYMENT_ID,
            c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
            c.VERSION: "1.3.0",
            c.ROLES: roles,
            c.RESOURCE_LINK: {"id": "bench-link", "title": "Selbstevaluation"},
            c.CONTEXT: {"id": "bench-network-course", "label": "NW", "title": "Netzwerk"},
            c.CUSTOM: {"feature": "workspace"},
            c.LAUNCH_PRESENTATION: {"locale": "de", "document_target": "iframe"},
            c.TOOL_PLATFORM: {"product_family_code": "moodle", "version": "2025100600"},
        },
        registration=registration,
        deployment_pk=found[0],
        message_type=c.RESOURCE_LINK_REQUEST,
        roles=tool_roles(roles),
        role=primary_role(roles),
    )
    now = datetime.now(UTC)
    with app.test_request_context("/lti/launch", method="POST"):
        ls = record_launch(launch)
        s = db_session()
        person = person_for_user(ls.user_pk)
        assert person is not None
        net = create_network(
            s, name="Lernen 25", region="Musterstadt", school_authority="Stadt Musterstadt", school_years="2026/27"
        )
        schools = {}
        for i in range(n_schools):
            school = add_school(
                s,
                net,
                name=f"{KINDS[i % len(KINDS)]} {TOWNS[i]}",
                school_number=f"{100001 + i}",
                school_type=KINDS[i % len(KINDS)],
            ).school
            schools[school.id] = school.name
        ensure_member(s, net.id, person, MANAGER)
        rnd = SelfevalRound(
            network_id=net.id,
            instrument_key=RASTER.key,
            title="Herbst 2026",
            opens_at=now - timedelta(days=21),
            closes_at=now - timedelta(days=1),
            created_by=person.id,
        )
        s.add(rnd)
        s.commit()
        round_id = rnd.id
    b.db.engine.dispose()  # the generator below writes the file alone
    return Tool(app, round_id, schools, ls.id)


# -- the data -------------------------------------------------------------------------------


def generate(tool: Tool, db_path: Path, respondents: int, items: int, seed: int) -> tuple[int, int]:
    """One round of submitted responses and their answers, one transaction, ``executemany``."""
    from lti_tool.bridge import bridge

    box = bridge(tool.app).box
    rng = random.Random(seed)
    item_ids = [item.id for item in RASTER.items()][:items]
    names, weights = zip(*GROUPS, strict=True)
    values = [1, 2, 3, 4, 5, None]
    value_weights = [8, 17, 30, 28, 9, 8]
    # timestamps stored exactly as the model's DateTime column stores them
    dialect = sqlite_dialect.dialect()
    col = SelfevalResponse.__table__.c.submitted_at
    stamp = col.type.dialect_impl(dialect).bind_processor(dialect)
    assert stamp is not None
    opened = datetime.now(UTC) - timedelta(days=21)
    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        cols = ("round_id", "school_id", "group_id", "respondent_key", "item_id", "value")
        answer_sql = f"INSERT INTO {selfeval_answer.name} ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?)"
        rcols = (
            "round_id",
            "school_id",
            "group_id",
            "respondent_key",
            "status",
            "free_text",
            "updated_at",
            "submitted_at",
        )
        response_sql = (
            f"INSERT INTO {SelfevalResponse.__tablename__} ({', '.join(rcols)}) VALUES ({', '.join('?' * len(rcols))})"
        )
        answers = responses = 0
        with con:  # one transaction
            for n, school in enumerate(sorted(tool.schools)):
                groups = rng.choices(names, weights=weights, k=respondents)
                if n == 0:  # the first school has only 3 leaders: suppression at work
                    groups = [g if g != "school_leader" else "teacher" for g in groups]
                    groups[:3] = ["school_leader"] * 3
                rows: list[tuple[Any, ...]] = []
                resp_rows: list[tuple[Any, ...]] = []
                for r, group in enumerate(groups):
                    # the answer form's key: keyed hash of (round, issuer, sub)
                    key = box.pseudonym("selfeval", str(tool.round_id), ISSUER, f"bench-{seed}-{school}-{r}")
                    picked = rng.choices(values, weights=value_weights, k=len(item_ids))
                    rows.extend(
                        (tool.round_id, school, group, key, item, v) for item, v in zip(item_ids, picked, strict=True)
                    )
                    free = {q: rng.choice(texts) for q, texts in FREE_TEXTS.items() if rng.random() < 0.02}
                    at = stamp(opened + timedelta(seconds=rng.randrange(20 * 24 * 3600)))
                    resp_rows.append(
                        (tool.round_id, school, group, key, SUBMITTED, json.dumps(free, ensure_ascii=False), at, at)
                    )
                con.executemany(answer_sql, rows)
                con.executemany(response_sql, resp_rows)
                answers += len(rows)
                responses += len(resp_rows)
        con.execute("ANALYZE")
    finally:
        con.close()
    return answers, responses


# -- checks ------------------------------------------------------------------------------------


def page_problems(html: str, schools: dict[int, str], report: Report) -> list[str]:
    """What the page lacks: each school's name with its respondents, each shown school criterion mean."""
    problems = []
    for school_id, name in schools.items():
        scope = Scope(school_id, None)
        n = report.respondents(scope)
        if n is None:  # a whole school too small to show (only with tiny --respondents): its name, no numbers
            if f"<li>{escape(name)}: " not in html:
                problems.append(f"{name}: name missing")
            continue
        if f"<li>{escape(name)}: {n}</li>" not in html:
            problems.append(f"{name}: name with {n} respondents missing")
        for section in RASTER.sections:
            agg = report.get(scope, section.id, "criterion")
            if agg is not None and not agg.suppressed and agg.mean is not None:
                if f"<strong>{agg.mean:.2f}</strong>" not in html:
                    problems.append(f"{name}: mean {agg.mean:.2f} of {section.id} missing")
    total = report.respondents(NETWORK)
    if total is None or f": {total}</li>" not in html:
        problems.append(f"network total of {total} respondents missing")
    return problems


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=12, help=f"1 – {MAX_SCHOOLS}")
    parser.add_argument("--respondents", type=int, default=8300, help="per school")
    n_items = len(list(RASTER.items()))
    parser.add_argument("--items", type=int, default=n_items, help=f"first N of the instrument's {n_items} items")
    parser.add_argument("--rounds", type=int, default=3, help="best of N")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    if not 1 <= args.schools <= MAX_SCHOOLS:
        parser.error(f"--schools must be 1 – {MAX_SCHOOLS} (a network's limit)")
    if not 1 <= args.items <= n_items:
        parser.error(f"--items must be 1 – {n_items}")

    from lti_tool.bridge import bridge

    with tempfile.TemporaryDirectory(prefix="selfeval-bench-") as tmp:
        db_path = Path(tmp) / "tool.sqlite3"
        start = time.perf_counter()
        tool = build_tool(Path(tmp), db_path, args.schools)
        setup_s = time.perf_counter() - start
        start = time.perf_counter()
        rows, responses = generate(tool, db_path, args.respondents, args.items, args.seed)
        load_s = time.perf_counter() - start

        from lti_tool.selfeval.reports import criteria_of  # after create_app (the views import it)

        engine = bridge(tool.app).db.engine
        # the page's own policy and criteria, so all three compute the same report
        policy = PrivacyPolicy(min_group=bridge(tool.app).settings.selfeval_min_group)
        criteria = criteria_of(RASTER)
        client = tool.app.test_client(use_cookies=False)
        url = f"/s/rounds/{tool.round_id}/network?launch={tool.launch_id}"

        def run_sql() -> Report:
            with engine.connect() as conn:
                return aggregate_sql(conn, tool.round_id, policy, criteria)

        def run_naive() -> Report:
            with engine.connect() as conn:
                return aggregate_naive(conn, tool.round_id, policy, criteria)

        def run_page() -> tuple[int, str]:
            resp = client.get(url)
            return resp.status_code, resp.get_data(as_text=True)

        try:
            status, html = run_page()  # warm-up (templates, instrument), checked like every timed one
            statuses = {status}
            sql_times, page_times, naive_times = [], [], []
            sql_report = naive_report = None
            for _ in range(args.rounds):  # alternate so machine drift hits all three
                t, sql_report = timed(run_sql)
                sql_times.append(t)
                t, (status, html) = timed(run_page)
                page_times.append(t)
                statuses.add(status)
                t, naive_report = timed(run_naive)
                naive_times.append(t)
        finally:
            engine.dispose()
        db_mb = db_path.stat().st_size / 1e6

    assert sql_report is not None and naive_report is not None
    same = sql_report.numbers() == naive_report.numbers() and sql_report.hidden == naive_report.hidden
    problems = [f"status {s}" for s in sorted(statuses) if s != 200]
    problems += page_problems(html, tool.schools, sql_report)
    sql_ms, page_ms, naive_ms = (min(t) * 1000 for t in (sql_times, page_times, naive_times))
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.machine()}")
    print(
        f"{args.schools} schools × {args.respondents} respondents × {args.items} items = {rows:,} answer rows, "
        f"{responses:,} submitted responses (database file {db_mb:,.0f} MB)"
    )
    print(
        f"tool set up in {setup_s:.1f} s; data generated and indexed in {load_s:.1f} s; "
        f"{len(sql_report.hidden)} scopes suppressed\n"
    )
    print(f"| measurement | best of {args.rounds} | / `aggregate_sql` |")
    print("|---|---:|---:|")
    print(f"| SQL GROUP BY (`aggregate_sql`) | {sql_ms:.0f} ms | 1 × |")
    print(
        f"| network report page, `GET /s/rounds/<id>/network` as manager | {page_ms:.0f} ms "
        f"| {page_ms / sql_ms:.2f} × |"
    )
    print(f"| naive, all rows into Python (`aggregate_naive`) | {naive_ms:.0f} ms | {naive_ms / sql_ms:.1f} × |")
    print(
        f"\npage / aggregate_sql: {page_ms / sql_ms:.2f} ×; naive / page: {naive_ms / page_ms:.1f} ×; "
        f"naive / aggregate_sql: {naive_ms / sql_ms:.1f} ×"
    )
    print(
        "all times (ms): "
        + "; ".join(
            f"{name} " + ", ".join(f"{t * 1000:.0f}" for t in times)
            for name, times in (("sql", sql_times), ("page", page_times), ("naive", naive_times))
        )
    )
    print(f"page: {len(html.encode()) / 1000:,.0f} kB of HTML")
    print(f"\nsame numbers and suppression: {'yes' if same else 'NO'}")
    print(
        f"page 200 with all {len(tool.schools)} schools' names, respondents and criterion means: "
        + ("yes" if not problems else "NO — " + "; ".join(problems[:10]))
    )
    return 0 if same and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
