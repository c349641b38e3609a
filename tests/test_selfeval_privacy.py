"""Privacy rules of self-evaluation reports: minimum group, complementary
suppression, free text, agreement between groups, change between rounds."""

from __future__ import annotations

import itertools

import pytest

from lti_tool.selfeval.aggregate import (
    PrivacyPolicy,
    PrivacyPolicyError,
    Response,
    Scope,
    aggregate_responses,
    compare_rounds,
    free_text,
    group_agreement,
)
from lti_tool.selfeval.privacy import _bridges, suppressed_cells

_keys = itertools.count()


def people(school, group, n, value=3, **answers):
    """n respondents of one school and group, all answering item "i1" with value."""
    return [
        Response(f"k{next(_keys)}", school, group, {"i1": value, **answers}, {"q": f"{school}/{group} text {i}"})
        for i in range(n)
    ]


def report_of(*groups, policy=None, criteria=None):
    return aggregate_responses([r for g in groups for r in g], policy or PrivacyPolicy(), criteria)


def assert_no_derivable_hidden_cell(report):
    """Independent audit: no hidden non-empty cell is exactly determined by the shown ones."""
    hidden = {tuple(s) for s in report.hidden}
    assert _bridges(hidden) == []


# -- the policy ---------------------------------------------------------------


def test_default_minimum_is_five():
    assert PrivacyPolicy().min_group == 5


def test_three_is_allowed_two_is_refused():
    assert PrivacyPolicy(min_group=3).min_group == 3
    with pytest.raises(PrivacyPolicyError, match="below the floor"):
        PrivacyPolicy(min_group=2)
    with pytest.raises(PrivacyPolicyError):
        PrivacyPolicy(min_group=0)
    with pytest.raises(PrivacyPolicyError):
        PrivacyPolicy(min_group=4.5)  # type: ignore[arg-type]


def test_threshold_three_shows_a_group_of_three():
    r = report_of(people("s", "A", 3), people("s", "B", 3), policy=PrivacyPolicy(min_group=3))
    assert r.shown(Scope("s", "A")) and r.shown(Scope("s", "B"))
    assert r.get(Scope("s", "A"), "i1").n == 3


# -- primary suppression ------------------------------------------------------


def test_exactly_at_threshold_five_shown_four_hidden():
    five = report_of(people("s", "A", 5))
    agg = five.get(Scope("s", "A"), "i1")
    assert not agg.suppressed and agg.n == 5 and agg.mean == 3 and agg.distribution == {3: 5}
    four = report_of(people("s", "A", 4))
    for scope in [Scope("s", "A"), Scope("s", None), Scope(None, "A"), Scope(None, None)]:
        agg = four.get(scope, "i1")
        assert agg.suppressed
        assert (agg.n, agg.mean, agg.distribution, agg.n_not_applicable) == (None, None, None, None)
        assert four.respondents(scope) is None


def test_suppressed_distribution_shows_no_counts_at_all():
    r = report_of(people("s", "A", 2, value=1), people("s", "A", 2, value=5), people("s", "B", 20))
    hidden = r.get(Scope("s", "A"), "i1")
    assert hidden.suppressed and hidden.distribution is None
    # nothing in any shown cell reveals the hidden group's values either
    for agg in r.cells.values():
        if not agg.suppressed:
            assert agg.n >= 5


# -- complementary suppression -------------------------------------------------


def test_school_of_three_groups_with_one_small_hides_a_second_group():
    r = report_of(
        people("s", "leaders", 4),
        people("s", "teachers", 30),
        people("s", "media", 8),
        people("t", "leaders", 6),
        people("t", "teachers", 40),
        people("t", "media", 9),
    )
    assert r.shown(Scope("s", None))  # the school total is shown ...
    assert not r.shown(Scope("s", "leaders"))  # ... the small group is not ...
    assert not r.shown(Scope("s", "media"))  # ... nor the smallest other group,
    assert r.shown(Scope("s", "teachers"))  # the large one stays.
    # the network column of the small group cannot be used either
    assert r.shown(Scope(None, "leaders")) is False or r.shown(Scope("t", "leaders")) is False
    assert_no_derivable_hidden_cell(r)


def test_two_hidden_groups_pooled_below_threshold_hide_a_third():
    r = report_of(people("s", "A", 2), people("s", "B", 2), people("s", "C", 6), people("s", "D", 50))
    # A + B = 4 people could be derived together from the school total minus C and D
    assert not r.shown(Scope("s", "C"))
    assert r.shown(Scope("s", "D"))


def test_network_of_three_schools_with_one_small_school():
    r = report_of(
        people("big", "T", 20),
        people("big", "L", 6),
        people("mid", "T", 12),
        people("mid", "L", 5),
        people("tiny", "T", 3),
    )
    assert r.shown(Scope(None, None))
    assert not r.shown(Scope("tiny", None))
    # the network total minus the shown schools would reveal the tiny school
    assert not r.shown(Scope("mid", None))  # the smaller of the other two
    assert r.shown(Scope("big", None))
    # mid's total must not be recomputable from mid's groups either
    assert not (r.shown(Scope("mid", "T")) and r.shown(Scope("mid", "L")))
    assert_no_derivable_hidden_cell(r)


def test_nested_group_and_school_complementarity():
    # school s: teachers 3 (hidden) -> another s group hidden; the network column
    # "teachers" minus the other schools' teachers would reveal s/teachers -> the
    # smallest other school's teachers are hidden too, and so on until no cycle is open.
    r = report_of(
        people("s", "teachers", 3),
        people("s", "leaders", 7),
        people("s", "media", 9),
        people("u", "teachers", 25),
        people("u", "leaders", 6),
        people("u", "media", 5),
        people("v", "teachers", 40),
        people("v", "leaders", 8),
        people("v", "media", 10),
    )
    assert not r.shown(Scope("s", "teachers"))
    assert not r.shown(Scope("s", "leaders"))  # smallest other group in s
    assert not r.shown(Scope("u", "teachers"))  # smallest other school in the column
    assert not r.shown(Scope("u", "leaders"))  # smallest other school in the "leaders" column: closes the cycle
    assert r.hidden == {Scope("s", "teachers"), Scope("s", "leaders"), Scope("u", "teachers"), Scope("u", "leaders")}
    assert r.shown(Scope("v", "teachers")) and r.shown(Scope(None, None)) and r.shown(Scope("s", None))
    assert_no_derivable_hidden_cell(r)
    # every hidden set per line is at least min_group people together
    for line_scopes in (
        [Scope("s", g) for g in ("teachers", "leaders", "media")],
        [Scope(x, "teachers") for x in "suv"],
    ):
        pooled = sum(r.sizes[s] for s in line_scopes if s in r.hidden)
        assert pooled == 0 or pooled >= 5


def test_hidden_total_not_recomputable_from_its_shown_groups():
    sizes = {("a", "T"): 6, ("a", "L"): 6, ("a", None): 12, ("b", "T"): 2, ("b", None): 2}
    sizes |= {(None, "T"): 8, (None, "L"): 6, (None, None): 14}
    hidden = suppressed_cells(sizes, PrivacyPolicy())
    assert ("b", "T") in hidden and ("b", None) in hidden
    assert ("a", None) in hidden  # network minus a = b
    assert ("a", "L") in hidden or ("a", "T") in hidden  # a = a/T + a/L
    assert _bridges(set(hidden)) == []


def test_single_school_network_equals_the_school():
    r = report_of(people("s", "A", 4), people("s", "B", 10), people("s", "C", 12))
    assert not r.shown(Scope(None, "A"))
    assert not r.shown(Scope("s", "B")) and not r.shown(Scope(None, "B"))
    assert r.shown(Scope(None, None)) and r.shown(Scope("s", "C"))
    assert_no_derivable_hidden_cell(r)


@pytest.mark.parametrize("seed", range(25))
def test_random_tables_leave_no_derivable_cell(seed):
    import random

    rng = random.Random(seed)
    sizes = {}
    for school, group in itertools.product(range(rng.randint(1, 6)), "ABCD"):
        n = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 15, 40])
        if n:
            sizes[(school, group)] = n
    for (school, group), n in list(sizes.items()):
        for scope in ((school, None), (None, group), (None, None)):
            sizes[scope] = sizes.get(scope, 0) + n
    policy = PrivacyPolicy(min_group=rng.choice([3, 5, 7]))
    hidden = suppressed_cells(sizes, policy)
    assert all(c in hidden for c, n in sizes.items() if 0 < n < policy.min_group)
    assert _bridges(set(hidden)) == []
    rows = {c[0] for c in sizes} | {None}
    cols = {c[1] for c in sizes} | {None}
    for margin_is_row, key in [(True, r) for r in rows] + [(False, c) for c in cols]:
        margin = (key, None) if margin_is_row else (None, key)
        members = [
            c
            for c in sizes
            if (c[0] == key and c[1] is not None if margin_is_row else c[1] == key and c[0] is not None)
        ]
        if sizes.get(margin) and margin not in hidden:
            pooled = sum(sizes[c] for c in members if c in hidden)
            assert pooled == 0 or pooled >= policy.min_group


# -- not applicable -----------------------------------------------------------


def test_only_not_applicable_group_is_hidden_with_its_counts():
    only_na = [Response(f"na{i}", "s", "A", {"i1": None}) for i in range(2)]
    r = report_of(only_na, people("s", "B", 10), people("s", "C", 10))
    assert r.get(Scope("s", "A"), "i1").suppressed  # 0 respondents, 2 n/a answers
    assert not r.shown(Scope("s", "B")) or not r.shown(Scope("s", "C"))  # complement
    assert r.get(Scope("s", None), "i1").n_not_applicable == 2


# -- free text ----------------------------------------------------------------


def test_free_text_hidden_below_threshold_and_without_keys():
    small = people("s", "A", 4)
    responses = small + people("s", "B", 12) + people("s", "C", 9)
    r = aggregate_responses(responses)
    assert free_text(responses, r, Scope("s", "A"), "q") == []
    assert free_text(responses, r, Scope("s", "C"), "q") == []  # complementary-hidden
    texts = free_text(responses, r, Scope("s", None), "q")
    assert len(texts) == 25
    for entry in texts:
        assert set(vars(entry)) == {"text", "group_id"}
        assert all(resp.respondent_key not in entry.text for resp in responses)
        if entry.text.startswith("s/B"):
            assert entry.group_id == "B"
        else:  # hidden groups are never named
            assert entry.group_id is None
    assert [e.text for e in free_text(responses, r, Scope("s", "B"), "q")] != sorted(
        e.text for e in free_text(responses, r, Scope("s", "B"), "q")
    )


def test_free_text_shuffle_is_deterministic_and_independent_of_input_order():
    responses = people("s", "A", 12)
    r = aggregate_responses(responses)
    first = free_text(responses, r, Scope("s", "A"), "q")
    assert first == free_text(list(reversed(responses)), r, Scope("s", "A"), "q")
    assert [e.text for e in first] != [x.free_text["q"] for x in responses]


def test_free_text_not_listed_per_group_across_network():
    responses = people("s", "A", 12)
    with pytest.raises(ValueError):
        free_text(responses, aggregate_responses(responses), Scope(None, "A"), "q")


# -- agreement between groups -------------------------------------------------


def test_agreement_flags_only_between_shown_groups():
    r = report_of(
        people("s", "leaders", 6, value=5),
        people("s", "teachers", 30, value=3),
        people("s", "media", 7, value=4),
        people("s", "authority", 2, value=1),
    )
    pairs = {(a.group_a, a.group_b): a for a in group_agreement(r, "s")}
    groups = {g for pair in pairs for g in pair}
    assert "authority" not in groups
    assert all(r.shown(Scope("s", g)) for g in groups)
    shown = sorted(g for g in ("leaders", "teachers", "media") if r.shown(Scope("s", g)))
    assert len(shown) == 2 and "teachers" in shown
    (only,) = pairs.values()
    assert only.disagreement == (abs(only.delta) >= 1.0)


def test_disagreement_threshold_is_inclusive():
    r = report_of(people("s", "A", 5, value=4), people("s", "B", 5, value=3), people("s", "C", 5, value=3))
    flags = {(a.group_a, a.group_b): (a.delta, a.disagreement) for a in group_agreement(r, "s")}
    assert flags[("A", "B")] == (1.0, True)
    assert flags[("B", "C")] == (0.0, False)
    assert group_agreement(r, "s", threshold=1.5)[0].disagreement is False


# -- change between rounds ----------------------------------------------------


def test_change_only_where_both_rounds_are_shown():
    autumn = report_of(people("s", "A", 6, value=2), people("s", "B", 4, value=2), people("s", "C", 6, value=2))
    spring = report_of(people("s", "A", 6, value=4), people("s", "B", 6, value=3), people("s", "C", 6, value=3))
    changes = {(c.scope, c.key): c.delta for c in compare_rounds(autumn, spring)}
    assert (Scope("s", "B"), "i1") not in changes  # hidden in autumn
    for (scope, _), _delta in changes.items():
        assert autumn.shown(scope) and spring.shown(scope)
    school = next(c for c in compare_rounds(autumn, spring) if c.scope == Scope("s", None))
    assert school.earlier == 2 and school.current == pytest.approx(60 / 18)


def test_per_school_instruments_show_each_school_and_protect_only_the_network_row():
    """One answer per school (the Medienhaus): a school's row is its own statement;
    a network cell stands for its number of schools and needs min_group of them."""
    four = {(s, "media"): 1 for s in "abcd"} | {(s, None): 1 for s in "abcd"}
    sizes = four | {(None, "media"): 4, (None, None): 4}
    hidden = suppressed_cells(sizes, PrivacyPolicy(per_school=True))
    assert hidden == {(None, "media"), (None, None)}
    five = {(s, "media"): 1 for s in "abcde"} | {(s, None): 1 for s in "abcde"}
    assert suppressed_cells(five | {(None, "media"): 5, (None, None): 5}, PrivacyPolicy(per_school=True)) == set()
    # the same table answered by persons hides everything
    assert suppressed_cells(sizes, PrivacyPolicy()) == set(sizes)
