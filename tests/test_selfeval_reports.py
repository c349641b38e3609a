"""Self-evaluation reports: privacy-safe numbers, access per persona, exports, deletion, CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from markupsafe import escape
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.selfeval.instruments import list_instruments
from lti_tool.selfeval.models import DRAFT, SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound

RASTER = next(i for i in list_instruments() if i.id == "selbstevaluationsraster")
HOUSE = next(i for i in list_instruments() if i.id == "medienhaus")
FIRST = RASTER.sections[0]
I0, I1 = FIRST.items[0].id, FIRST.items[1].id

# (school, group) -> values of I0 per respondent; I1 is always 3
GROUPS = {
    ("A", "teacher"): [4, 4, 4, 4, 3, 3],  # 6: shown, mean 3.67
    ("A", "school_leader"): [1, 1, 1, 2, 2],  # 5: hidden by complementary suppression, mean 1.40
    ("A", "media_coordinator"): [5, 4],  # 2: hidden (too small), mean 4.50
    ("B", "teacher"): [5, 5, 5, 5, 5, 5],  # 6: shown
    ("B", "school_leader"): [2, 2, 2, 2, 2],  # 5: hidden
    ("B", "media_coordinator"): [3, 3, 3],  # 3: hidden
}
FREE = {"A": "Die Lernplattform läuft stabil", "B": "WLAN im Altbau fehlt"}


@pytest.fixture(autouse=True)
def _english_pages(monkeypatch):
    """These tests read the English UI (?lang=en); the German catalog is checked in test_i18n."""
    from tests.world import Actor

    plain_get = Actor.get
    monkeypatch.setattr(Actor, "get", lambda self, path, **kw: plain_get(
        self, path + ("&" if "?" in path else "?") + "lang=en", **kw))


def _round(app, network_id: int, key: str = RASTER.key, title: str = "Herbst 2026",
           opens: timedelta = timedelta(days=-1)) -> int:
    now = datetime.now(UTC)
    with bridge(app).db.sessions() as s:
        rnd = SelfevalRound(network_id=network_id, instrument_key=key, title=title, opens_at=now + opens,
                            closes_at=now + opens + timedelta(days=7))
        s.add(rnd)
        s.commit()
        return rnd.id


def _respond(s, round_id: int, school_id: int, group: str, key: str, answers: dict, status: str = SUBMITTED,
             free: dict | None = None) -> None:
    s.add(SelfevalResponse(round_id=round_id, school_id=school_id, group_id=group, respondent_key=key,
                           status=status, free_text=json.dumps(free or {})))
    for item, value in answers.items():
        s.add(SelfevalAnswer(round_id=round_id, school_id=school_id, group_id=group, respondent_key=key,
                             item_id=item, value=value))


def _fill(app, world, round_id: int, *, shift: int = 0, draft: bool = True) -> None:
    with bridge(app).db.sessions() as s:
        for (school, group), values in GROUPS.items():
            for i, v in enumerate(values):
                free = {"staerken": FREE[school]} if group == "teacher" and i == 0 else None
                _respond(s, round_id, world.schools[school], group, f"{round_id}-{school}-{group}-{i}",
                         {I0: max(1, v - shift), I1: 3}, free=free)
        if draft:  # a draft never counts
            _respond(s, round_id, world.schools["A"], "teacher", f"{round_id}-draft", {I0: 1, I1: 1}, status=DRAFT,
                     free={"staerken": "Entwurf nicht zeigen"})
        s.commit()


@pytest.fixture
def filled(world, app):
    round_id = _round(app, world.network_id)
    _fill(app, world, round_id)
    return round_id


def _school_url(round_id: int, school_id: int, suffix: str = "") -> str:
    return f"/s/rounds/{round_id}/school/{school_id}{suffix}"


def _counts(app, round_id: int) -> dict:
    with bridge(app).db.sessions() as s:
        def by_school(model):
            return dict(s.execute(select(model.school_id, func.count()).where(model.round_id == round_id)
                                  .group_by(model.school_id)).all())
        return {"answers": by_school(SelfevalAnswer), "responses": by_school(SelfevalResponse),
                "round": s.get(SelfevalRound, round_id) is not None}


# -- school report ----------------------------------------------------------------------------


def test_school_report_shows_big_groups_and_hides_small_and_complementary_ones(world, app, filled):
    school_a = world.schools["A"]
    resp = world.as_("leader_a").get(_school_url(filled, school_a))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Gesamtschule Musterstadt" in html and 'class="ws-nav"' in html
    # teachers (6 submitted, the draft does not count) and the whole school (13) are shown
    assert "<strong>3.67</strong>" in html and "(n = 6)" in html and "(n = 13)" in html
    assert "4: 4 · 5: 0" in html or "3: 2 · 4: 4" in html
    # leaders (5, complementary) and media coordinators (2, too small) are not
    assert "fewer than 5 answers" in html
    for hidden in ("1.40", "1,40", "4.50", "4,50", "(n = 5)", "(n = 2)", "(n = 10)", "(n = 4)"):
        assert hidden not in html, hidden
    # criterion rows, chart with title and its data table
    assert "Criterion: " + FIRST.title.get("en") in html
    assert '<svg id="chart-school"' in html and 'aria-labelledby="chart-school-title"' in html
    assert '<title id="chart-school-title">' in html
    table_at = html.index('id="chart-school-data"')
    assert html.index('<svg id="chart-school"') < table_at
    assert "<caption>" in html[table_at - 200:table_at + 200] and 'scope="row"' in html
    # free text of the shown school scope, without drafts and for leaders only
    assert FREE["A"] in html and "Entwurf nicht zeigen" not in html and FREE["B"] not in html
    teacher_html = world.as_("teacher_a").get(_school_url(filled, school_a)).get_data(as_text=True)
    assert "<strong>3.67</strong>" in teacher_html and FREE["A"] not in teacher_html


def test_network_report_side_by_side_with_group_agreement(world, app, filled):
    html = world.as_("manager").get(f"/s/rounds/{filled}/network").get_data(as_text=True)
    assert "Gesamtschule Musterstadt" in html and "Gymnasium Beispielburg" in html
    # network-wide teachers 12 (shown) vs leaders 10 (shown): I0 means 4.33 vs 1.70 disagree
    assert "<strong>4.33</strong>" in html and "<strong>1.70</strong>" in html
    assert "Groups disagree" in html
    assert FREE["A"] in html and FREE["B"] in html  # managers see network free text
    for hidden in ("1.40", "4.50", "(n = 2)", "(n = 3)"):
        assert hidden not in html, hidden

    authority = world.as_("authority").get(f"/s/rounds/{filled}/network")
    a_html = authority.get_data(as_text=True)
    assert authority.status_code == 200 and "<strong>4.33</strong>" in a_html
    assert FREE["A"] not in a_html and FREE["B"] not in a_html and "Free-text answers" not in a_html

    leader = world.as_("leader_a").get(f"/s/rounds/{filled}/network").get_data(as_text=True)
    assert "Gesamtschule Musterstadt" in leader and "Gymnasium Beispielburg" not in leader
    assert FREE["B"] not in leader and "Network-wide per respondent group" not in leader


def test_access_matrix(world, app, filled):
    a, b = world.schools["A"], world.schools["B"]
    expected_school = {"manager": 200, "leader_a": 200, "media_a": 200, "teacher_a": 200, "authority": 403,
                       "guest": 403, "leader_b": 403, "teacher_b": 403, "outsider": 404, "learner": 404}
    for persona, status in expected_school.items():
        for suffix in ("", ".csv", ".json"):
            got = world.as_(persona).get(_school_url(filled, a, suffix)).status_code
            assert got == status, (persona, suffix, got)
    assert world.as_("leader_b").get(_school_url(filled, b)).status_code == 200
    assert world.as_("leader_a").get(_school_url(filled, b)).status_code == 403
    assert world.as_("manager").get(_school_url(filled, 99999)).status_code == 404
    assert world.as_("manager").get(_school_url(99999, a)).status_code == 404
    expected_network = {"manager": 200, "authority": 200, "leader_a": 200, "leader_b": 200, "media_a": 403,
                        "teacher_a": 403, "guest": 403, "outsider": 404, "learner": 404}
    for persona, status in expected_network.items():
        assert world.as_(persona).get(f"/s/rounds/{filled}/network").status_code == status, persona
    # the index lists what each may open
    index = f"/s/networks/{world.network_id}/rounds/{filled}/reports"
    manager = world.as_("manager").get(index).get_data(as_text=True)
    assert _school_url(filled, a) in manager and _school_url(filled, b) in manager
    assert f"/s/rounds/{filled}/network" in manager and f"/s/rounds/{filled}/delete" in manager
    teacher = world.as_("teacher_a").get(index).get_data(as_text=True)
    assert _school_url(filled, a) in teacher and _school_url(filled, b) not in teacher
    assert f"/s/rounds/{filled}/network" not in teacher
    authority = world.as_("authority").get(index).get_data(as_text=True)
    assert f"/s/rounds/{filled}/network" in authority and _school_url(filled, a) not in authority
    assert world.as_("outsider").get(index).status_code == 404


def test_exports_hold_aggregates_only_and_no_hidden_numbers(world, app, filled):
    a = world.schools["A"]
    resp = world.as_("media_a").get(_school_url(filled, a, ".csv"))
    raw = resp.get_data()
    assert raw.startswith("\ufeff".encode()) and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = lines[0]
    assert header[:8] == ["scope", "kind", "key", "label", "group", "n", "mean", "n_not_applicable"]
    assert header[-1] == "suppressed" and "value_1" in header
    rows = [dict(zip(header, line, strict=True)) for line in lines[1:]]
    teacher = next(r for r in rows if r["key"] == I0 and r["group"] == "teacher")
    assert (teacher["n"], teacher["mean"], teacher["value_4"], teacher["suppressed"]) == ("6", "3,67", "4", "")
    hidden = [r for r in rows if r["group"] in ("school_leader", "media_coordinator")]
    assert hidden and all(r["suppressed"] == "suppressed" and r["n"] == r["mean"] == r["value_1"] == "" for r in hidden)
    text = raw.decode("utf-8-sig")
    assert "1,40" not in text and "4,50" not in text and FREE["A"] not in text

    data = json.loads(world.as_("leader_a").get(_school_url(filled, a, ".json")).get_data(as_text=True))
    assert data["school"]["school_number"] == "100001" and data["min_group"] == 5
    cells = {(c["key"], c["kind"], c["group"]): c for c in data["aggregates"]}
    assert cells[(I0, "item", "teacher")]["mean"] == pytest.approx(3.667, abs=1e-3)
    for group in ("school_leader", "media_coordinator"):
        c = cells[(I0, "item", group)]
        assert c["suppressed"] is True and c["n"] is None and c["mean"] is None
        assert set(c["distribution"].values()) == {None}
    dumped = json.dumps(data)
    assert "1.4" not in dumped and "4.5" not in dumped and FREE["A"] not in dumped


def test_change_against_the_previous_round(world, app):
    earlier = _round(app, world.network_id, title="Frühjahr 2026", opens=timedelta(days=-200))
    _fill(app, world, earlier, shift=1, draft=False)  # all-submitted: the database aggregation path
    current = _round(app, world.network_id)
    _fill(app, world, current)
    html = world.as_("leader_a").get(_school_url(current, world.schools["A"])).get_data(as_text=True)
    assert "Frühjahr 2026" in html and "Change since the previous round: +1.00" in html  # teachers 2.67 -> 3.67
    old = world.as_("leader_a").get(_school_url(earlier, world.schools["A"])).get_data(as_text=True)
    assert "<strong>2.67</strong>" in old and "no earlier round" in old


def test_medienhaus_one_answer_per_school_lights_the_house(world, app):
    """The Medienhaus is answered once per school, for the school: its house shows from one answer;
    what stands for several schools (the network house) needs at least min_group schools."""
    from lti_tool.workspaces.models import Network
    from lti_tool.workspaces.services import add_school

    round_id = _round(app, world.network_id, key=HOUSE.key)
    items = [i.id for i in HOUSE.items()]
    answers = dict.fromkeys(items, 3)
    answers["internetanbindung"] = 5
    answers["digitale_verwaltung"] = 1
    with bridge(app).db.sessions() as s:
        _respond(s, round_id, world.schools["A"], "media_coordinator", "school-a", answers)
        s.commit()
    html = world.as_("media_a").get(_school_url(round_id, world.schools["A"])).get_data(as_text=True)
    assert 'class="chart house"' in html and 'aria-labelledby="house-school-title"' in html
    assert "#f2a900" in html  # amber fill ...
    assert ": partly</li>" in html  # ... and the status word in the text legend
    works = html[html.index("Works well</h3>"):html.index("Problems</h3>")]
    problems = html[html.index("Problems</h3>"):html.index("To do</h3>")]
    assert "Internet connection" in works and "Digital administration" in problems
    assert "answered once per school" in html

    # one school is not "several schools": the network house stays grey, for managers and the authority
    manager = world.as_("manager").get(f"/s/rounds/{round_id}/network").get_data(as_text=True)
    assert 'id="house-network"' in manager and "fewer than 5 schools" in manager
    assert "Gesamtschule Musterstadt</h2>" in manager  # the manager sees each school's statement
    authority = world.as_("authority").get(f"/s/rounds/{round_id}/network").get_data(as_text=True)
    assert "fewer than 5 schools" in authority and "Gesamtschule Musterstadt" not in authority
    assert "#2e7d32" not in authority and "#f2a900" not in authority and "#c62828" not in authority

    # five schools answered: the network house lights up for the authority, still without any school
    with bridge(app).db.sessions() as s:
        network = s.get(Network, world.network_id)
        extra = [add_school(s, network, name=f"Grundschule {n}", school_number=f"20000{n}").school.id
                 for n in range(4)]
        s.flush()
        for n, school_id in enumerate(extra):
            _respond(s, round_id, school_id, "media_coordinator", f"school-{n}", answers)
        s.commit()
    authority = world.as_("authority").get(f"/s/rounds/{round_id}/network").get_data(as_text=True)
    assert 'id="house-network"' in authority and "#f2a900" in authority and "fewer than 5 schools" not in authority
    assert "Gesamtschule Musterstadt" not in authority and "Grundschule 0" not in authority


def test_min_group_is_a_setting_never_below_three(tmp_path):
    from config import SettingsError, load_settings

    assert load_settings({}, instance_dir=str(tmp_path)).selfeval_min_group == 5
    env = {"LMS_BRIDGE_SELFEVAL_MIN_GROUP": "3", "LMS_BRIDGE_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(env).selfeval_min_group == 3
    with pytest.raises(SettingsError, match="at least 3"):
        load_settings({**env, "LMS_BRIDGE_SELFEVAL_MIN_GROUP": "2"})


@pytest.mark.parametrize("settings_overrides", [{"selfeval_min_group": 3}])
def test_a_lower_configured_minimum_shows_groups_of_three(world, app):
    round_id = _round(app, world.network_id)
    with bridge(app).db.sessions() as s:
        for school in ("A", "B"):
            for group, value in (("teacher", 4), ("school_leader", 2)):
                for n in range(3):
                    _respond(s, round_id, world.schools[school], group, f"{school}-{group}-{n}", {I0: value, I1: 3})
        s.commit()
    a = world.schools["A"]
    html = world.as_("leader_a").get(_school_url(round_id, a)).get_data(as_text=True)
    assert "Results for fewer than 3 respondents" in html
    data = json.loads(world.as_("leader_a").get(_school_url(round_id, a, ".json")).get_data(as_text=True))
    assert data["min_group"] == 3
    cells = {(c["key"], c["kind"], c["group"]): c for c in data["aggregates"]}
    for group, mean in (("teacher", 4.0), ("school_leader", 2.0)):
        assert cells[(I0, "item", group)]["suppressed"] is False
        assert (cells[(I0, "item", group)]["n"], cells[(I0, "item", group)]["mean"]) == (3, pytest.approx(mean))


def test_groups_of_three_stay_hidden_under_the_default_minimum(world, app):
    round_id = _round(app, world.network_id)
    with bridge(app).db.sessions() as s:
        for n in range(3):
            _respond(s, round_id, world.schools["A"], "teacher", f"t-{n}", {I0: 4, I1: 3})
        s.commit()
    data = json.loads(world.as_("leader_a").get(_school_url(round_id, world.schools["A"], ".json"))
                      .get_data(as_text=True))
    assert data["min_group"] == 5
    cell = next(c for c in data["aggregates"] if (c["key"], c["kind"], c["group"]) == (I0, "item", "teacher"))
    assert cell["suppressed"] is True and cell["n"] is None and cell["mean"] is None


def test_score_profile_radar_shows_the_school_against_the_network(world, app):
    round_id = _round(app, world.network_id)
    with bridge(app).db.sessions() as s:
        for school, value in (("A", 4), ("B", 2)):
            for n in range(6):
                _respond(s, round_id, world.schools[school], "teacher", f"{school}-{n}", {I0: value, I1: 3})
        s.commit()
    a = world.schools["A"]
    html = world.as_("leader_a").get(_school_url(round_id, a)).get_data(as_text=True)
    svg = html[html.index('<svg id="radar-school"'):html.index("</svg>", html.index('<svg id="radar-school"'))]
    assert 'role="img"' in svg and 'aria-labelledby="radar-school-title"' in svg
    assert len(re.findall(r"<line x1=\"[\d.]+\" y1=\"215\"", svg)) == len(RASTER.sections)  # one spoke each
    table = html[html.index('id="radar-school-data"'):]
    table = table[:table.index("</table>")]
    row = table[table.index(f">{FIRST.title.get('en')}</th>"):]
    row = row[:row.index("</tr>")]
    data = json.loads(world.as_("leader_a").get(_school_url(round_id, a, ".json")).get_data(as_text=True))
    school_mean = next(c["mean"] for c in data["aggregates"]
                       if (c["kind"], c["key"], c["group"]) == ("criterion", FIRST.id, ""))
    assert f"<td>{school_mean:.2f}</td>" in row  # the school's outline ...
    assert "<td>3.00</td>" in row  # ... and the network's: (4+3)/2 at A, (2+3)/2 at B
    other = RASTER.sections[1].title.get("en")
    assert "no answers" in table[table.index(other):]  # criteria nobody answered: a gap, not a zero

    # the same profile on the network page; suppressed scopes never give a number
    few = _round(app, world.network_id, title="Wenige")
    with bridge(app).db.sessions() as s:
        for n in range(3):
            _respond(s, few, a, "teacher", f"few-{n}", {I0: 1, I1: 1})
        s.commit()
    html = world.as_("manager").get(f"/s/rounds/{few}/network").get_data(as_text=True)
    table = html[html.index('id="radar-network-data"'):]
    table = table[:table.index("</table>")]
    assert "fewer than 5 answers" in table and "1.00" not in table


def test_radar_chart_leaves_gaps_for_missing_values(app):
    from lti_tool.selfeval.charts import radar_chart

    with app.test_request_context("/?lang=en"):
        whole = str(radar_chart("r", "Profil", ["a", "b", "c", "d"], [("Schule", [1.0, 2.0, 3.0, 4.0])]))
        gap = str(radar_chart("r", "Profil", ["a", "b", "c", "d"], [("Schule", [1.0, None, 3.0, 4.0])]))
    assert whole.count('<polygon points="') == 5 + 1  # five rings and the closed outline
    assert gap.count('<polygon points="') == 5 and gap.count("<polyline") == 1  # c-d joined, a alone
    assert gap.count("<circle") == 3 + 1  # three points and the legend marker
    assert "<td>–</td>" in gap and "<td>2.00</td>" in whole


# -- deletion --------------------------------------------------------------------------------


def test_delete_school_data_removes_exactly_that_school(world, app, filled):
    a, b = world.schools["A"], world.schools["B"]
    before = _counts(app, filled)
    url = _school_url(filled, a, "/delete")
    for persona, status in {"leader_b": 403, "media_a": 403, "teacher_a": 403, "authority": 403,
                            "outsider": 404}.items():
        assert world.as_(persona).post(url, {"confirm": "yes"}).status_code == status, persona
    assert world.as_("leader_a").post(url, {}).status_code == 400
    assert _counts(app, filled) == before
    assert world.as_("leader_a").post(url, {"confirm": "yes"}).status_code == 303
    after = _counts(app, filled)
    assert a not in after["answers"] and a not in after["responses"]
    assert after["answers"][b] == before["answers"][b] and after["responses"][b] == before["responses"][b]
    assert after["round"]


def test_delete_round_only_by_managers_with_confirmation(world, app, filled):
    other = _round(app, world.network_id, title="Andere Runde")
    _fill(app, world, other, draft=False)
    url = f"/s/rounds/{filled}/delete"
    for persona, status in {"leader_a": 403, "authority": 403, "guest": 403, "outsider": 404}.items():
        assert world.as_(persona).post(url, {"confirm": "yes"}).status_code == status, persona
    assert world.as_("manager").post(url, {"confirm": "no"}).status_code == 400
    assert _counts(app, filled)["round"]
    resp = world.as_("manager").post(url, {"confirm": "yes"})
    assert resp.status_code == 303 and f"/s/networks/{world.network_id}/rounds" in resp.headers["Location"]
    assert _counts(app, filled) == {"answers": {}, "responses": {}, "round": False}
    kept = _counts(app, other)
    assert kept["round"] and sum(kept["answers"].values()) == 2 * 27


# -- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli(app, database_url, tmp_path, monkeypatch):
    from lti_tool.cli import main

    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str, code: int = 0, **kw):
        result = runner.invoke(main, list(args), catch_exceptions=False, **kw)
        assert result.exit_code == code, result.output
        return result
    return run


def test_cli_export_and_delete(world, app, filled, cli):
    out = cli("selfeval", "export", "--round", str(filled), "--school-number", "100001", "--format", "csv").output
    assert out.startswith("\ufeff") and "3,67" in out and "1,40" not in out and ";suppressed" in out
    data = json.loads(cli("selfeval", "export", "--round", str(filled), "--school-number", "100002",
                          "--format", "json").output)
    assert data["school"]["school_number"] == "100002"
    cli("selfeval", "export", "--round", str(filled), "--school-number", "999", code=1)

    a, b = world.schools["A"], world.schools["B"]
    cli("selfeval", "delete-school-data", "--round", str(filled), "--school-number", "100002", input="n\n", code=1)
    assert b in _counts(app, filled)["answers"]
    cli("selfeval", "delete-school-data", "--round", str(filled), "--school-number", "100002", "--yes")
    after = _counts(app, filled)
    assert b not in after["answers"] and b not in after["responses"] and a in after["answers"]
    cli("selfeval", "delete-round", "--round", str(filled), "--yes")
    assert _counts(app, filled) == {"answers": {}, "responses": {}, "round": False}
    cli("selfeval", "delete-round", "--round", str(filled), "--yes", code=1)


def test_school_report_flags_disagreement_between_shown_groups(world, app):
    round_id = _round(app, world.network_id)
    with bridge(app).db.sessions() as s:
        for school in ("A", "B"):
            for i in range(6):
                _respond(s, round_id, world.schools[school], "teacher", f"{school}-t{i}", {I0: 5, I1: 3})
                _respond(s, round_id, world.schools[school], "school_leader", f"{school}-l{i}", {I0: 2, I1: 3})
        s.commit()
    html = world.as_("leader_a").get(_school_url(round_id, world.schools["A"])).get_data(as_text=True)
    row = html[html.index(FIRST.items[0].text.get("en")):]
    row = row[:row.index("</tr>")]
    assert "Groups disagree" in row and "School leader / Teacher (Δ -3.00)" in row
    assert "<strong>5.00</strong>" in row and "<strong>2.00</strong>" in row
    other = html[html.index(str(escape(FIRST.items[1].text.get("en")))):]
    assert "no disagreement shown" in other[:other.index("</tr>")]
