"""Self-evaluation aggregation: database GROUP BY against loading every answer.

    .venv/bin/python bench/selfeval_aggregate.py            # --schools 12 --respondents 8300 --items 24

Generates one round of answers (12 schools × 8,300 respondents ≈ 100,000
responses × 24 items ≈ 2.4 million answer rows, fixed seed, ~8 % "not
applicable", four respondent groups with a few small ones so suppression has
work to do) into an SQLite file in a temporary directory — one transaction,
``executemany`` — then times, in the same run and alternating, best of 3 each:

* ``aggregate_sql``: two GROUP BY queries over covering indexes, Python adds
  the integer counts up the levels and applies the privacy rules;
* ``aggregate_naive``: SELECT every answer row, aggregate in Python.

Asserts both give the same numbers and suppression, prints a markdown table and
exits non-zero if they differ. No network; everything is bounded.
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lti_tool.selfeval.aggregate import (  # noqa: E402
    PrivacyPolicy,
    aggregate_naive,
    aggregate_sql,
    metadata,
    selfeval_answer,
)

GROUPS = [("teachers", 90), ("media", 6), ("leaders", 3), ("authority", 1)]


def generate(path: Path, schools: int, respondents: int, items: int, seed: int) -> int:
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(seed)
    item_ids = [f"k{1 + i // 4}.{'abcd'[i % 4]}" for i in range(items)]
    names, weights = zip(*GROUPS, strict=True)
    values = [1, 2, 3, 4, 5, None]
    value_weights = [8, 17, 30, 28, 9, 8]
    # one school gets a tiny authority group, one school has only 3 leaders: suppression at work
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        cols = ("round_id", "school_id", "group_id", "respondent_key", "item_id", "value")
        sql = f"INSERT INTO {selfeval_answer.name} ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?)"
        total = 0
        with con:  # one transaction
            for school in range(1, schools + 1):
                groups = rng.choices(names, weights=weights, k=respondents)
                if school == 1:
                    groups = [g if g != "leaders" else "teachers" for g in groups]
                    groups[:3] = ["leaders"] * 3
                rows = []
                for r, group in enumerate(groups):
                    key = f"{seed:02d}{school:03d}{r:06d}"
                    answers = rng.choices(values, weights=value_weights, k=items)
                    rows.extend((1, school, group, key, item, v) for item, v in zip(item_ids, answers, strict=True))
                con.executemany(sql, rows)
                total += len(rows)
        con.execute("ANALYZE")
    finally:
        con.close()
    return total


def best_of(n: int, fn):
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--respondents", type=int, default=8300, help="per school")
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3, help="best of N")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    policy = PrivacyPolicy(min_group=5)
    with tempfile.TemporaryDirectory(prefix="selfeval-bench-") as tmp:
        path = Path(tmp) / "answers.sqlite3"
        start = time.perf_counter()
        rows = generate(path, args.schools, args.respondents, args.items, args.seed)
        load_s = time.perf_counter() - start
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                sql_times, naive_times = [], []
                sql_report = naive_report = None
                for _ in range(args.rounds):  # alternate so machine drift hits both
                    t, sql_report = best_of(1, lambda: aggregate_sql(conn, 1, policy))
                    sql_times.append(t)
                    t, naive_report = best_of(1, lambda: aggregate_naive(conn, 1, policy))
                    naive_times.append(t)
        finally:
            engine.dispose()
    same = sql_report.numbers() == naive_report.numbers() and sql_report.hidden == naive_report.hidden
    sql_ms, naive_ms = min(sql_times) * 1000, min(naive_times) * 1000
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.machine()}")
    print(f"{args.schools} schools × {args.respondents} respondents × {args.items} items = {rows:,} answer rows")
    print(f"generated and indexed in {load_s:.1f} s; {len(sql_report.hidden)} scopes suppressed\n")
    print(f"| aggregation | best of {args.rounds} | ratio |")
    print("|---|---:|---:|")
    print(f"| SQL GROUP BY (`aggregate_sql`) | {sql_ms:.0f} ms | 1 × |")
    print(f"| naive, all rows into Python (`aggregate_naive`) | {naive_ms:.0f} ms | {naive_ms / sql_ms:.1f} × |")
    print(f"\nsame numbers and suppression: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
