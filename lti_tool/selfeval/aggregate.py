"""Privacy-safe aggregation of self-evaluation answers — pure, no Flask.

Inputs are plain rows so the real tables can feed it later:

* :class:`Response` — one respondent's submission (keyed respondent hash, school,
  respondent group, ``answers`` item id -> value or ``None`` for "not applicable /
  can't say", ``free_text`` question id -> text);
* or the answer table :data:`selfeval_answer` (one row per respondent and item,
  ``value`` NULL = not applicable), aggregated by the database with ``GROUP BY``
  (:func:`aggregate_sql`) — :func:`aggregate_naive` is the load-everything
  baseline the benchmark compares against.

Scopes are ``Scope(school_id, group_id)`` with ``None`` for "all": school ×
group, school, network × group and network. For each shown scope and each item
(and each criterion, pooling the answers to its items) an :class:`Aggregate`
carries n, mean, distribution and n_not_applicable. Which scopes are shown is
decided once per round by :func:`lti_tool.selfeval.privacy.suppressed_cells`
(minimum group size plus complementary suppression; the algorithm is
documented there). A suppressed cell carries ``suppressed=True`` and no numbers
at all — not even its distribution or its number of respondents.

Counting conventions
--------------------
* A scope's *respondents* are the distinct respondents with at least one answer
  other than "not applicable" in that scope; this number decides suppression.
  A scope where people answered only "not applicable" is present but has 0
  respondents, so it is suppressed (its not-applicable counts stay hidden too).
* Item cell: ``n`` = respondents with a value for the item, ``n_not_applicable``
  = respondents who answered "not applicable", ``distribution`` = count per
  scale value, ``mean`` = sum / n.
* Criterion cell: the answers to the criterion's items pooled, so ``n`` counts
  *answers* (respondent × item), ``n_not_applicable`` likewise.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Table,
    case,
    func,
    select,
)

from lti_tool.selfeval.privacy import PrivacyPolicy, PrivacyPolicyError, suppressed_cells

__all__ = [
    "Aggregate",
    "Agreement",
    "Change",
    "FreeText",
    "PrivacyPolicy",
    "PrivacyPolicyError",
    "Report",
    "Response",
    "Scope",
    "aggregate_naive",
    "aggregate_responses",
    "aggregate_sql",
    "compare_rounds",
    "free_text",
    "group_agreement",
    "metadata",
    "selfeval_answer",
]

# -- the answer table (the migration follows this shape) ---------------------

from lti_tool.db import Base  # noqa: E402
from lti_tool.selfeval.models import SUBMITTED, SelfevalAnswer, SelfevalResponse  # noqa: E402

metadata = Base.metadata
selfeval_answer: Table = SelfevalAnswer.__table__  # type: ignore[assignment]
selfeval_response: Table = SelfevalResponse.__table__  # type: ignore[assignment]


# -- plain data ---------------------------------------------------------------


class Scope(NamedTuple):
    """``school_id`` / ``group_id`` ``None`` = all schools (network) / all groups."""

    school_id: Any = None
    group_id: Any = None

    @property
    def level(self) -> str:
        where = "network" if self.school_id is None else "school"
        return where if self.group_id is None else f"{where}_group"


NETWORK = Scope(None, None)


@dataclass(frozen=True)
class Response:
    respondent_key: str
    school_id: Any
    group_id: Any
    answers: Mapping[str, int | None] = field(default_factory=dict)
    free_text: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Aggregate:
    scope: Scope
    key: str  # item id or criterion id
    kind: str  # "item" | "criterion"
    suppressed: bool
    n: int | None = None
    n_not_applicable: int | None = None
    mean: float | None = None
    distribution: dict[int, int] | None = None


@dataclass(frozen=True)
class FreeText:
    text: str
    group_id: Any = None  # only when that group's cell is shown


@dataclass(frozen=True)
class Agreement:
    school_id: Any  # None = network level
    key: str
    group_a: Any
    group_b: Any
    mean_a: float
    mean_b: float
    delta: float  # mean_a - mean_b
    disagreement: bool


@dataclass(frozen=True)
class Change:
    scope: Scope
    key: str
    kind: str
    earlier: float
    current: float
    delta: float  # current - earlier


@dataclass
class _Counts:
    """Exact integer counts for one (scope, key)."""

    values: Counter = field(default_factory=Counter)
    not_applicable: int = 0
    respondents: int = 0  # items: respondents with a value (= sum of values); criteria: answers


@dataclass
class _Raw:
    """What the database (or the naive loop) delivers before any privacy rule."""

    sizes: dict[Scope, int]  # respondents with a real answer
    items: dict[tuple[Scope, str], _Counts]
    present: frozenset[Scope] = frozenset()  # scopes where anyone answered anything


@dataclass(frozen=True)
class Report:
    policy: PrivacyPolicy
    sizes: Mapping[Scope, int]  # all, including suppressed ones — internal, don't render
    present: frozenset[Scope]
    hidden: frozenset[Scope]
    cells: Mapping[tuple[Scope, str, str], Aggregate]  # (scope, kind, key)

    def shown(self, scope: Scope) -> bool:
        scope = Scope(*scope)
        return scope in self.present and scope not in self.hidden

    def respondents(self, scope: Scope) -> int | None:
        """The number to print next to a scope: ``None`` when suppressed."""
        return self.sizes.get(scope, 0) if self.shown(scope) else None

    def get(self, scope: Scope, key: str, kind: str = "item") -> Aggregate | None:
        return self.cells.get((Scope(*scope), kind, key))

    def scopes(self) -> list[Scope]:
        return sorted(self.present, key=_scope_sort)

    def numbers(self) -> dict:
        """Every shown number, comparable across implementations (tests, benchmark)."""
        return (
            {
                (a.scope, a.key, a.kind): (
                    a.n,
                    a.n_not_applicable,
                    round(a.mean, 9),
                    tuple(sorted(a.distribution.items())),
                )
                for a in self.cells.values()
                if not a.suppressed and a.mean is not None
            }
            | {
                (a.scope, a.key, a.kind): (a.n, a.n_not_applicable, None, ())
                for a in self.cells.values()
                if not a.suppressed and a.mean is None
            }
            | {("respondents", s): self.respondents(s) for s in self.scopes()}
        )


def _scope_sort(scope: Scope) -> tuple:
    return (scope.school_id is None, str(scope.school_id), scope.group_id is None, str(scope.group_id))


# -- building a report from exact counts -------------------------------------


def _report(raw: _Raw, policy: PrivacyPolicy, criteria: Mapping[str, Sequence[str]] | None) -> Report:
    present = frozenset(raw.present) | {s for s, n in raw.sizes.items() if n > 0}
    hidden = frozenset(Scope(*c) for c in suppressed_cells(raw.sizes, policy, present))
    counts = dict(raw.items)
    if criteria:
        by_scope: dict[Scope, list[str]] = defaultdict(list)
        for scope, item in raw.items:
            by_scope[scope].append(item)
        for scope in by_scope:
            for criterion, items in criteria.items():
                pooled = _Counts()
                for item in items:
                    c = raw.items.get((scope, item))
                    if c is not None:
                        pooled.values.update(c.values)
                        pooled.not_applicable += c.not_applicable
                if pooled.values or pooled.not_applicable:
                    pooled.respondents = sum(pooled.values.values())
                    counts[(scope, "criterion:" + criterion)] = pooled
    cells: dict[tuple[Scope, str, str], Aggregate] = {}
    for (scope, key), c in counts.items():
        if scope not in present:
            continue
        kind, name = ("criterion", key.split(":", 1)[1]) if key.startswith("criterion:") else ("item", key)
        if scope in hidden:
            cells[(scope, kind, name)] = Aggregate(scope, name, kind, suppressed=True)
            continue
        n = sum(c.values.values())
        total = sum(v * k for v, k in c.values.items())
        cells[(scope, kind, name)] = Aggregate(
            scope,
            name,
            kind,
            suppressed=False,
            n=n,
            n_not_applicable=c.not_applicable,
            mean=(total / n) if n else None,
            distribution=dict(sorted(c.values.items())),
        )
    return Report(policy, dict(raw.sizes), present, hidden, cells)


def _rollup(
    cells: Mapping[tuple[Any, Any, str], _Counts],
    sizes: Mapping[tuple[Any, Any], int],
    present: Iterable[tuple[Any, Any]],
) -> _Raw:
    """From school × group cells to all four levels by adding exact integer counts
    (valid because a respondent belongs to one school and one group per round)."""
    all_sizes: dict[Scope, int] = defaultdict(int)
    for (school, group), n in sizes.items():
        for scope in (Scope(school, group), Scope(school, None), Scope(None, group), NETWORK):
            all_sizes[scope] += n
    items: dict[tuple[Scope, str], _Counts] = {}
    for (school, group, item), c in cells.items():
        for scope in (Scope(school, group), Scope(school, None), Scope(None, group), NETWORK):
            target = items.get((scope, item))
            if target is None:
                target = items[(scope, item)] = _Counts()
            target.values.update(c.values)
            target.not_applicable += c.not_applicable
    levels = {
        scope
        for school, group in present
        for scope in (Scope(school, group), Scope(school, None), Scope(None, group), NETWORK)
    }
    return _Raw(dict(all_sizes), items, frozenset(levels))


def aggregate_responses(
    responses: Iterable[Response],
    policy: PrivacyPolicy | None = None,
    criteria: Mapping[str, Sequence[str]] | None = None,
) -> Report:
    """Aggregate in-memory responses of one round. ``criteria``: criterion id -> item ids."""
    policy = policy or PrivacyPolicy()
    cells: dict[tuple[Any, Any, str], _Counts] = defaultdict(_Counts)
    members: dict[tuple[Any, Any], set[str]] = defaultdict(set)
    present: set[tuple[Any, Any]] = set()
    for r in responses:
        if r.answers:
            present.add((r.school_id, r.group_id))
        for item, value in r.answers.items():
            c = cells[(r.school_id, r.group_id, item)]
            if value is None:
                c.not_applicable += 1
            else:
                c.values[int(value)] += 1
                members[(r.school_id, r.group_id)].add(r.respondent_key)
    return _report(_rollup(cells, {k: len(v) for k, v in members.items()}, present), policy, criteria)


# -- from the database --------------------------------------------------------


def aggregate_sql(
    conn: Connection,
    round_id: int,
    policy: PrivacyPolicy | None = None,
    criteria: Mapping[str, Sequence[str]] | None = None,
    *,
    skip_drafts: bool = False,
) -> Report:
    """The database counts (two ``GROUP BY`` queries over covering indexes);
    Python only adds the integer counts up the four levels and applies the
    privacy rules. Cost in Python: O(schools × groups × items × scale values).

    ``skip_drafts``: leave out the answers of responses not yet submitted (the
    caller checks cheaply whether there are any; without drafts the queries
    stay index-only scans)."""
    policy = policy or PrivacyPolicy()
    a = selfeval_answer.c
    where = [a.round_id == round_id]
    if skip_drafts:
        r = selfeval_response.c
        where.append(a.respondent_key.not_in(
            select(r.respondent_key).where(r.round_id == round_id, r.status != SUBMITTED)))
    cell_counts = (
        select(a.school_id, a.group_id, a.item_id, a.value, func.count().label("n"))
        .where(*where)
        .group_by(a.school_id, a.group_id, a.item_id, a.value)
    )
    respondents = (
        select(
            a.school_id,
            a.group_id,
            func.count(case((a.value.is_not(None), a.respondent_key)).distinct()).label("n"),
        )
        .where(*where)
        .group_by(a.school_id, a.group_id)
    )
    cells: dict[tuple[Any, Any, str], _Counts] = defaultdict(_Counts)
    for school, group, item, value, n in conn.execute(cell_counts):
        c = cells[(school, group, item)]
        if value is None:
            c.not_applicable += n
        else:
            c.values[value] = n
    sizes = {(school, group): n for school, group, n in conn.execute(respondents)}
    return _report(_rollup(cells, sizes, sizes), policy, criteria)


def aggregate_naive(
    conn: Connection,
    round_id: int,
    policy: PrivacyPolicy | None = None,
    criteria: Mapping[str, Sequence[str]] | None = None,
) -> Report:
    """Baseline: load every answer row and aggregate each level in Python."""
    policy = policy or PrivacyPolicy()
    a = selfeval_answer.c
    rows = conn.execute(
        select(a.school_id, a.group_id, a.respondent_key, a.item_id, a.value).where(a.round_id == round_id)
    ).all()
    items: dict[tuple[Scope, str], _Counts] = defaultdict(_Counts)
    members: dict[Scope, set[str]] = defaultdict(set)
    present: set[Scope] = set()
    for school, group, respondent, item, value in rows:
        for scope in (Scope(school, group), Scope(school, None), Scope(None, group), NETWORK):
            present.add(scope)
            c = items[(scope, item)]
            if value is None:
                c.not_applicable += 1
            else:
                c.values[value] += 1
                members[scope].add(respondent)
    return _report(_Raw({s: len(m) for s, m in members.items()}, dict(items), frozenset(present)), policy, criteria)


# -- free text, agreement, change ---------------------------------------------


def free_text(responses: Iterable[Response], report: Report, scope: Scope, question_id: str) -> list[FreeText]:
    """Free-text answers of a shown school, school × group or network scope.

    Nothing for suppressed scopes. No respondent key or timestamp ever; the group
    only where that school × group cell is shown. Deterministically shuffled,
    seeded by scope and question, so the order says nothing about who or when.
    Network × group lists are refused: intersecting one with a school's list
    would isolate that school's hidden group.
    """
    scope = Scope(*scope)
    if scope.level == "network_group":
        raise ValueError("free text is not listed per group across the network (it could isolate hidden groups)")
    if not report.shown(scope):
        return []
    entries = []
    for r in responses:
        if scope.school_id is not None and r.school_id != scope.school_id:
            continue
        if scope.group_id is not None and r.group_id != scope.group_id:
            continue
        text = (r.free_text.get(question_id) or "").strip()
        if not text:
            continue
        label = r.group_id if scope.school_id is not None and report.shown(Scope(r.school_id, r.group_id)) else None
        entries.append(FreeText(text, label))
    entries.sort(key=lambda e: (e.text, str(e.group_id)))
    seed = hashlib.sha256(f"{scope.school_id!r}|{scope.group_id!r}|{question_id}".encode()).digest()
    random.Random(seed).shuffle(entries)
    return entries


def group_agreement(report: Report, school_id: Any = None, threshold: float | None = None) -> list[Agreement]:
    """Pairwise differences of group means per item/criterion within one school
    (or across the network with ``school_id=None``), only between shown groups."""
    threshold = report.policy.disagreement_threshold if threshold is None else threshold
    by_key: dict[tuple[str, str], list[Aggregate]] = defaultdict(list)
    for (scope, _, _), agg in report.cells.items():
        if scope.school_id == school_id and scope.group_id is not None and not agg.suppressed and agg.mean is not None:
            by_key[(agg.kind, agg.key)].append(agg)
    result = []
    for (_, key), aggs in sorted(by_key.items()):
        aggs.sort(key=lambda a: str(a.scope.group_id))
        for i, first in enumerate(aggs):
            for second in aggs[i + 1 :]:
                delta = first.mean - second.mean  # type: ignore[operator]
                result.append(
                    Agreement(
                        school_id,
                        key,
                        first.scope.group_id,
                        second.scope.group_id,
                        first.mean,  # type: ignore[arg-type]
                        second.mean,  # type: ignore[arg-type]
                        delta,
                        abs(delta) >= threshold - 1e-12,
                    )
                )
    return result


def compare_rounds(earlier: Report, current: Report) -> list[Change]:
    """Δ mean per scope and item/criterion where both rounds show the cell."""
    changes = []
    for cell_key, now in sorted(current.cells.items(), key=lambda kv: (_scope_sort(kv[0][0]), kv[0][1], kv[0][2])):
        before = earlier.cells.get(cell_key)
        if before is None or before.suppressed or now.suppressed or before.mean is None or now.mean is None:
            continue
        changes.append(Change(now.scope, now.key, now.kind, before.mean, now.mean, now.mean - before.mean))
    return changes
