"""Action plan from a school report: goals, measures and a results note on the board; validation and access."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.workspaces.board.models import BoardGoal, BoardIndicator, BoardMeasure, BoardNote
from tests.test_selfeval_reports import FIRST, RASTER, _english_pages, _round, filled  # noqa: F401  (fixtures)

SECOND = RASTER.sections[1]
DUE = (date.today() + timedelta(days=30)).isoformat()


def _url(round_id: int, school_id: int) -> str:
    return f"/s/rounds/{round_id}/school/{school_id}/plan?lang=en"


def _plan(owner: int, **extra: str) -> dict[str, str]:
    data = {
        "f1_criterion": FIRST.id, "f1_title": "Team Digitalisierung verstetigen", "f1_handlungsfeld": "leitung",
        "f1_indicators": "Team trifft sich monatlich\nProtokolle im Arbeitsbereich",
        "f1_m1_title": "Team benennen", "f1_m1_owner": str(owner), "f1_m1_due": DUE,
    }
    data.update(extra)
    return data


def _board(app) -> dict[str, int]:
    with bridge(app).db.sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (BoardGoal, BoardIndicator, BoardMeasure, BoardNote)}


def test_leader_adds_a_plan_to_the_board(world, app, filled):  # noqa: F811
    school_a = world.schools["A"]
    leader = world.as_("leader_a")
    report = leader.get(f"/s/rounds/{filled}/school/{school_a}").get_data(as_text=True)
    assert 'id="plan-title"' in report and f'action="/s/rounds/{filled}/school/{school_a}/plan' in report
    second = {"f2_criterion": SECOND.id, "f2_title": "Unterricht gemeinsam planen",
              "f2_handlungsfeld": "unterrichtsentwicklung", "f2_indicators": "Zwei Fachschaften tauschen Material",
              "f2_m1_title": "Fachkonferenz", "f2_m1_owner": str(world.as_("media_a").person_id), "f2_m1_due": DUE,
              "f2_m2_title": "Materialpool", "f2_m2_owner": str(leader.person_id), "f2_m2_due": "31.03.2027"}
    resp = leader.post(_url(filled, school_a), _plan(leader.person_id, **second))
    assert resp.status_code == 303 and "plan=saved" in resp.headers["Location"]
    with bridge(app).db.sessions() as s:
        goals = list(s.scalars(select(BoardGoal).order_by(BoardGoal.id)))
        assert [(gl.title, gl.handlungsfeld, gl.school_id, gl.network_id) for gl in goals] == [
            ("Team Digitalisierung verstetigen", "leitung", school_a, world.network_id),
            ("Unterricht gemeinsam planen", "unterrichtsentwicklung", school_a, world.network_id)]
        assert [i.text for i in goals[0].indicators] == ["Team trifft sich monatlich", "Protokolle im Arbeitsbereich"]
        assert [(m.title, m.owner_id, m.due, m.status) for m in goals[1].measures] == [
            ("Fachkonferenz", world.as_("media_a").person_id, date.fromisoformat(DUE), "open"),
            ("Materialpool", leader.person_id, date(2027, 3, 31), "open")]
        notes = list(s.scalars(select(BoardNote)))
        assert len(notes) == 1
        note = notes[0]
        assert (note.phase, note.source, note.school_id, note.internal) == ("bestand", "selfeval", school_a, True)
    # the school's criterion mean as the report shows it (13 respondents, 26 answers); hidden groups' are not
    assert "mean 2.96 (n = 26)" in note.body and "Respondents: 13." in note.body and "focus" in note.body
    for hidden in ("1.40", "4.50", "(n = 5)", "(n = 2)"):
        assert hidden not in note.body
    page = leader.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Ihr Handlungsplan steht auf der Pinnwand der Zukunftswerkstatt." in page
    board = leader.get(f"/w/{world.network_id}/board").get_data(as_text=True)
    assert "Team Digitalisierung verstetigen" in board
    # a second plan adds goals but keeps one results note per school and round
    assert leader.post(_url(filled, school_a), _plan(leader.person_id)).status_code == 303
    assert _board(app)["ws_board_note"] == 1 and _board(app)["ws_board_goal"] == 3


def test_suppressed_criteria_carry_no_numbers_in_the_note(world, app):
    round_id = _round(app, world.network_id)
    from tests.test_selfeval_reports import I0, _respond

    with bridge(app).db.sessions() as s:  # three teachers only: nothing may be shown
        for i, v in enumerate((1, 2, 5)):
            _respond(s, round_id, world.schools["A"], "teacher", f"few-{i}", {I0: v})
        s.commit()
    leader = world.as_("leader_a")
    assert leader.post(_url(round_id, world.schools["A"]), _plan(leader.person_id)).status_code == 303
    with bridge(app).db.sessions() as s:
        body = s.scalar(select(BoardNote.body))
    assert "fewer than 5 answers" in body and "2.67" not in body and "n = 3" not in body


@pytest.mark.parametrize(("change", "message"), [
    ({"f1_criterion": ""}, "at least one focus criterion"),
    ({"f1_criterion": "nope"}, "Unknown criterion"),
    ({"f2_criterion": FIRST.id, "f2_title": "x", "f2_handlungsfeld": "leitung", "f2_indicators": "y",
      "f2_m1_title": "z", "f2_m1_due": DUE}, "only once"),
    ({"f1_title": "  "}, "Please fill in"),
    ({"f1_handlungsfeld": ""}, "Handlungsfeld"),
    ({"f1_handlungsfeld": "mars"}, "Unknown Handlungsfeld"),
    ({"f1_indicators": " \n "}, "success indicator"),
    ({"f1_m1_title": "", "f1_m1_owner": "", "f1_m1_due": ""}, "at least one measure"),
    ({"f1_m1_owner": "999999"}, "who owns measure 1"),
    ({"f1_m1_due": ""}, "due date for measure 1"),
    ({"f1_m1_due": "tomorrow"}, "due date"),
])
def test_invalid_plans_are_refused_and_nothing_is_written(world, app, filled, change, message):  # noqa: F811
    leader = world.as_("leader_a")
    before = _board(app)
    data = _plan(leader.person_id)
    data.update(change)
    resp = leader.post(_url(filled, world.schools["A"]), data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in html and 'role="alert"' in html
    assert 'value="Team Digitalisierung verstetigen"' in html or "f1_title" in change  # the form keeps the input
    assert _board(app) == before


def test_owner_of_another_school_is_refused(world, app, filled):  # noqa: F811
    leader = world.as_("leader_a")
    resp = leader.post(_url(filled, world.schools["A"]), _plan(world.as_("leader_b").person_id))
    assert resp.status_code == 400 and _board(app)["ws_board_goal"] == 0


def test_access(world, app, filled):  # noqa: F811
    a, b = world.schools["A"], world.schools["B"]
    owner = world.as_("manager").person_id
    expected = {"manager": 303, "leader_a": 303, "media_a": 303, "teacher_a": 403, "authority": 403,
                "guest": 403, "leader_b": 403, "teacher_b": 403, "outsider": 404, "learner": 404}
    for persona, status in expected.items():
        got = world.as_(persona).post(_url(filled, a), _plan(owner)).status_code
        assert got == status, (persona, got)
    assert world.as_("leader_b").post(_url(filled, b), _plan(owner)).status_code == 303
    assert world.as_("manager").post(_url(99999, a), _plan(owner)).status_code == 404
    # the form is shown only to those allowed
    for persona, shown in (("manager", True), ("media_a", True), ("teacher_a", False)):
        html = world.as_(persona).get(f"/s/rounds/{filled}/school/{a}").get_data(as_text=True)
        assert ('id="plan-title"' in html) is shown, persona
    # no CSRF token: refused
    resp = world.as_("leader_a").client.post(_url(filled, a) + f"&launch={world.as_('leader_a').launch_id}",
                                             data=_plan(owner))
    assert resp.status_code in (400, 403)
