"""Self-evaluation aggregates: numbers per scope, not applicable, criteria, and
the database aggregation (GROUP BY) against the load-everything baseline."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import create_engine, insert

from lti_tool.selfeval.aggregate import (
    PrivacyPolicy,
    Response,
    Scope,
    aggregate_naive,
    aggregate_responses,
    aggregate_sql,
    metadata,
    selfeval_answer,
)

ITEMS = [f"c{c}.{x}" for c in range(1, 4) for x in "abcd"]
CRITERIA = {f"c{c}": [f"c{c}.{x}" for x in "abcd"] for c in range(1, 4)}


def test_numbers_per_scope_and_not_applicable():
    responses = [Response(f"t{i}", "s", "T", {"i": v}) for i, v in enumerate([1, 2, 2, 5, None, 4])]
    responses += [Response(f"l{i}", "s", "L", {"i": v}) for i, v in enumerate([5, 5, 4, 4, 4])]
    r = aggregate_responses(responses)
    t = r.get(Scope("s", "T"), "i")
    assert (t.n, t.n_not_applicable, t.mean, t.distribution) == (5, 1, 14 / 5, {1: 1, 2: 2, 4: 1, 5: 1})
    school = r.get(Scope("s", None), "i")
    assert (school.n, school.n_not_applicable, school.mean) == (10, 1, 36 / 10)
    assert r.get(Scope(None, None), "i") == school.__class__(**{**vars(school), "scope": Scope(None, None)})
    assert r.respondents(Scope("s", "T")) == 5  # the n/a-only respondent does not count


def test_not_applicable_does_not_count_towards_the_minimum():
    responses = [Response(f"a{i}", "s", "A", {"i": 3}) for i in range(4)]
    responses.append(Response("na", "s", "A", {"i": None, "j": None}))
    assert aggregate_responses(responses).get(Scope("s", "A"), "i").suppressed


def test_item_mostly_not_applicable_in_a_shown_scope():
    responses = [Response(f"a{i}", "s", "A", {"i": 3, "j": None if i else 2}) for i in range(6)]
    j = aggregate_responses(responses).get(Scope("s", "A"), "j")
    assert (j.suppressed, j.n, j.n_not_applicable, j.mean) == (False, 1, 5, 2)


def test_criteria_pool_their_items():
    responses = [Response(f"r{i}", "s", "A", {"c1.a": 4, "c1.b": 2, "c1.c": None}) for i in range(5)]
    c1 = aggregate_responses(responses, criteria=CRITERIA).get(Scope("s", None), "c1", kind="criterion")
    assert (c1.n, c1.n_not_applicable, c1.mean, c1.distribution) == (10, 5, 3.0, {2: 5, 4: 5})


def random_responses(seed: int, schools: int = 5, respondents: int = 120) -> list[Response]:
    rng = random.Random(seed)
    groups = ["teachers", "leaders", "media", "authority"]
    out = []
    for i in range(respondents):
        school = rng.randrange(1, schools + 1)
        group = rng.choices(groups, weights=[20, 3, 3, 1])[0]
        answers = {item: rng.choice([1, 2, 3, 4, 5, None]) for item in ITEMS if rng.random() < 0.9}
        out.append(Response(f"key{seed}-{i:05d}", school, group, answers))
    return out


def load(engine, round_id: int, responses: list[Response]) -> None:
    rows = [
        {
            "round_id": round_id,
            "school_id": r.school_id,
            "group_id": r.group_id,
            "respondent_key": r.respondent_key,
            "item_id": item,
            "value": value,
        }
        for r in responses
        for item, value in r.answers.items()
    ]
    with engine.begin() as conn:
        conn.execute(insert(selfeval_answer), rows)


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'answers.sqlite3'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_sql_aggregation_equals_naive_and_in_memory(engine, seed):
    responses = random_responses(seed)
    load(engine, 7, responses)
    load(engine, 8, random_responses(seed + 100))  # another round must not leak in
    policy = PrivacyPolicy(min_group=5)
    with engine.connect() as conn:
        sql = aggregate_sql(conn, 7, policy, CRITERIA)
        naive = aggregate_naive(conn, 7, policy, CRITERIA)
    memory = aggregate_responses(responses, policy, CRITERIA)
    assert sql.numbers() == naive.numbers() == memory.numbers()
    assert sql.hidden == naive.hidden == memory.hidden
    assert sql.hidden  # the random data do exercise suppression
    assert any(not a.suppressed for a in sql.cells.values())
    assert sum(1 for a in sql.cells.values() if a.kind == "criterion" and not a.suppressed) > 0


def test_sql_and_naive_agree_on_not_applicable_only_groups(engine):
    responses = [Response(f"t{i}", 1, "T", {"i": 4}) for i in range(12)]
    responses += [Response(f"n{i}", 1, "N", {"i": None}) for i in range(3)]
    load(engine, 1, responses)
    with engine.connect() as conn:
        sql, naive = aggregate_sql(conn, 1), aggregate_naive(conn, 1)
    assert sql.numbers() == naive.numbers() == aggregate_responses(responses).numbers()
    assert not sql.shown(Scope(1, "N")) and not sql.shown(Scope(1, "T"))
    assert sql.get(Scope(1, None), "i").n_not_applicable == 3
