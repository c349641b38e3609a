"""Privacy rules for self-evaluation reports: minimum group size and
complementary suppression.

German school-survey practice (Niedersachsen feedback portal, Baden-Württemberg
regulation, Austrian DIGIcheck): no aggregate for fewer than 5 respondents, and
none that lets a hidden group be worked out by subtracting shown ones.

The table
---------
A round's results form a two-way table with margins. Rows are the schools plus
the network row, columns are the respondent groups plus the "all groups"
column; a *cell* is a scope ``(school_id, group_id)`` where ``None`` means the
margin::

                 group A    group B   ...   all groups (None)
    school 1     (1, A)     (1, B)          (1, None)      <- school total
    school 2     (2, A)     (2, B)          (2, None)
    network      (None, A)  (None, B)       (None, None)   <- network total

Every row and every column is one additive equation (the margin is the sum of
the other cells: counts, sums of values and value counts all add up, because a
respondent belongs to exactly one school and one group in a round). A cell with
0 respondents is known to be empty; it is never hidden and never used to
protect another one.

Algorithm (per round; the same pattern applies to every item, criterion and
free-text list of that round, so no item can be used against another)
--------------------------------------------------------------------------
1. **Primary suppression**: hide every non-empty cell with fewer than
   ``min_group`` respondents (distinct respondents with at least one answer
   other than "not applicable" in that scope; a cell where people answered
   only "not applicable" is non-empty with 0 respondents, so it is hidden).
2. **Line rule** (the "subtract the shown groups" attack): for each row and
   column, in a fixed order, if the margin is shown and the hidden cells of the
   line are exactly one, or together hold fewer than ``min_group`` respondents,
   hide the smallest shown non-margin cell of the line (the margin itself only
   if no other cell is left); if the margin is hidden but every other cell of
   the line is shown, the margin is their sum, so hide the smallest of them.
3. **Cycle rule** (the "combine rows and columns" attack): view the hidden
   cells as edges of a bipartite graph between row nodes and column nodes.
   The hidden values are exactly determined by the shown ones iff their edge
   is a *bridge* (lies on no cycle) — the solution space of the equations is
   the graph's cycle space. For every hidden bridge, hide the smallest shown
   cell (non-margin cells first) in its row or column.
4. Repeat 2–3 until nothing changes. Each pass hides at least one more cell,
   so it ends after at most as many passes as there are cells.

What it guarantees: no hidden cell's numbers can be computed exactly from the
shown cells with any linear combination of the table's equations, and no line
reveals the pooled numbers of fewer than ``min_group`` hidden respondents.
What it does not: bounds (e.g. "at most 3 of them chose 1") can still be
narrowed by combining several lines; that is the accepted residual risk of
cell suppression.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

ABSOLUTE_MIN_GROUP = 3

Cell = tuple[Hashable | None, Hashable | None]  # (school_id or None, group_id or None)


class PrivacyPolicyError(ValueError):
    """A policy that would show groups smaller than the legal floor."""


@dataclass(frozen=True)
class PrivacyPolicy:
    """``min_group``: smallest number of respondents an aggregate may describe
    (default 5, never below 3). ``disagreement_threshold``: |Δ mean| between two
    groups from which they count as disagreeing (1.0 on a 5-point scale)."""

    min_group: int = 5
    disagreement_threshold: float = 1.0
    #: The instrument is answered once per school *for* the school (the Medienhaus):
    #: a school's row is an institutional statement, not personal data, and is
    #: shown as it is; only aggregates across schools (the network row) are
    #: protected, by the number of schools behind them.
    per_school: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.min_group, bool) or not isinstance(self.min_group, int):
            raise PrivacyPolicyError(f"min_group must be an integer, got {self.min_group!r}")
        if self.min_group < ABSOLUTE_MIN_GROUP:
            raise PrivacyPolicyError(
                f"min_group {self.min_group} is below the floor of {ABSOLUTE_MIN_GROUP} respondents"
            )
        if not self.disagreement_threshold > 0:
            raise PrivacyPolicyError("disagreement_threshold must be positive")


def _key(cell: Cell) -> tuple:
    school, group = cell
    return (school is None, str(school), group is None, str(group))


def _is_margin(cell: Cell) -> bool:
    return cell[0] is None or cell[1] is None


def _lines(cells: Iterable[Cell]) -> list[tuple[Cell, list[Cell]]]:
    """Every row and column as (margin cell, other non-empty cells)."""
    rows: dict[object, list[Cell]] = {}
    cols: dict[object, list[Cell]] = {}
    for cell in cells:
        school, group = cell
        if group is not None:
            rows.setdefault(("r", school), []).append(cell)
        if school is not None:
            cols.setdefault(("c", group), []).append(cell)
    lines = []
    for (_, school), members in rows.items():
        lines.append(((school, None), sorted(members, key=_key)))
    for (_, group), members in cols.items():
        lines.append(((None, group), sorted(members, key=_key)))
    lines.sort(key=lambda line: _key(line[0]))
    return lines


def _bridges(hidden: set[Cell]) -> list[Cell]:
    """Hidden cells lying on no cycle of the row/column graph (exactly derivable)."""
    adjacency: dict[tuple, list[tuple[tuple, Cell]]] = {}
    for cell in hidden:
        r, c = ("r", cell[0]), ("c", cell[1])
        adjacency.setdefault(r, []).append((c, cell))
        adjacency.setdefault(c, []).append((r, cell))
    bridges = []
    for cell in sorted(hidden, key=_key):
        start, goal = ("r", cell[0]), ("c", cell[1])
        seen, stack = {start}, [start]
        reached = False
        while stack and not reached:
            node = stack.pop()
            for other, via in adjacency[node]:
                if via == cell or other in seen:
                    continue
                if other == goal:
                    reached = True
                    break
                seen.add(other)
                stack.append(other)
        if not reached:
            bridges.append(cell)
    return bridges


def suppressed_cells(
    sizes: Mapping[Cell, int], policy: PrivacyPolicy, present: Iterable[Cell] | None = None
) -> frozenset[Cell]:
    """The cells of one round's table that must not be shown (see module docstring).

    ``sizes`` maps every scope ``(school_id|None, group_id|None)`` to its number of
    respondents with a real answer. ``present``: the scopes where anyone answered
    anything (also only "not applicable"); defaults to the scopes with a size > 0.
    A present scope of size 0 is hidden too: even its "not applicable" counts
    describe fewer than ``min_group`` people.
    """
    cells = {cell for cell, n in sizes.items() if n > 0} | set(present or ())
    sizes = {cell: sizes.get(cell, 0) for cell in cells}
    if policy.per_school:
        # One answer per school: a network cell's size is its number of schools.
        # School rows are shown, so no line or cycle rule has anything to protect.
        return frozenset(c for c in cells if c[0] is None and sizes[c] < policy.min_group)
    hidden = {cell for cell in cells if sizes[cell] < policy.min_group}
    lines = _lines(cells)

    def smallest(candidates: Iterable[Cell]) -> Cell | None:
        shown = [c for c in candidates if c in cells and c not in hidden]
        if not shown:
            return None
        return min(shown, key=lambda c: (_is_margin(c), sizes[c], _key(c)))

    for _ in range(len(cells) + 1):
        changed = False
        for margin, members in lines:
            hidden_members = [c for c in members if c in hidden]
            margin_shown = margin in cells and margin not in hidden
            if margin_shown and hidden_members:
                pooled = sum(sizes[c] for c in hidden_members)
                if len(hidden_members) == 1 or pooled < policy.min_group:
                    pick = smallest(members) or smallest([margin])
                    if pick is not None:
                        hidden.add(pick)
                        changed = True
            elif margin in hidden and members and not hidden_members:
                hidden.add(smallest(members))  # type: ignore[arg-type]
                changed = True
        for bridge in _bridges(hidden):
            if bridge not in hidden:
                continue
            school, group = bridge
            neighbours = [c for c in cells if c != bridge and (c[0] == school or c[1] == group)]
            pick = smallest(neighbours)
            if pick is not None:
                hidden.add(pick)
                changed = True
                break  # recompute the bridges with the new edge
        if not changed:
            break
    return frozenset(hidden)
