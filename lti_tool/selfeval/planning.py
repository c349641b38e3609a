"""Action plan from a school report (SELFIE-style): focus criteria become goals on the board.

On the school report, network managers and that school's leaders and media
coordinators pick one to three focus criteria. For each they write a goal
(Handlungsfeld, success indicators) with measures (owner, due date). The plan
lands on the network's Zukunftswerkstatt board: a ``BoardGoal`` per focus bound
to the school, with its ``BoardIndicator`` and ``BoardMeasure`` rows, and a
school-internal ``BoardNote`` in the Bestandsaufnahme (``source="selfeval"``)
that sums up the school's criterion means – only values the report itself
shows; suppressed criteria are named without numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from flask import abort, g, redirect, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select

from lti_tool import web
from lti_tool.db import db_session
from lti_tool.selfeval.aggregate import Scope
from lti_tool.selfeval.instruments import Instrument
from lti_tool.selfeval.models import SelfevalRound
from lti_tool.selfeval.reports import ReportData, _lang, _school_access, school_report
from lti_tool.selfeval.views import bp
from lti_tool.workspaces import activity
from lti_tool.workspaces.access import Viewer
from lti_tool.workspaces.board.models import PHASE_BESTAND, BoardGoal, BoardIndicator, BoardMeasure, BoardNote
from lti_tool.workspaces.board.views import BoardError, _due, _handlungsfeld, _text, owner_choices
from lti_tool.workspaces.models import MemberSchool
from lti_tool.workspaces.roles import HANDLUNGSFELDER, LEADER, MEDIA
from lti_tool.workspaces.text import TextError, clean_html
from lti_tool.workspaces.views import post_guard

SOURCE = "selfeval"
MAX_FOCUS = 3
MEASURE_ROWS = 2
MAX_INDICATORS = 5
PLANNERS = frozenset({LEADER, MEDIA})


class PlanError(ValueError):
    """Invalid plan input; the message is for the user (answered with 400)."""


def may_plan(v: Viewer, school_id: int) -> bool:
    return v.can("board.goals") and (v.is_manager or (v.role in PLANNERS and v.school_id == school_id))


@dataclass
class Measure:
    title: str
    owner_id: int
    due: date


@dataclass
class Focus:
    criterion: str
    title: str
    handlungsfeld: str
    indicators: list[str]
    measures: list[Measure] = field(default_factory=list)


def _owners(v: Viewer, school_id: int) -> list[tuple[int, str]]:
    return [(p.id, p.display_name or "–") for p, _m in owner_choices(v, cast(BoardGoal, SimpleNamespace(school_id=school_id)))]


@bp.app_template_global("selfeval_plan")
def plan_context(v: Viewer | None, school_id: int) -> dict[str, Any] | None:
    """What the plan form needs, or None when the viewer may not plan for this school."""
    if v is None or not may_plan(v, school_id):
        return None
    return {
        "owners": _owners(v, school_id), "handlungsfelder": HANDLUNGSFELDER, "max_focus": MAX_FOCUS,
        "measure_rows": MEASURE_ROWS, "error": g.get("selfeval_plan_error"),
        "form": g.get("selfeval_plan_form") or {}, "saved": request.args.get("plan") == "saved",
    }


def _field(fn: Any, *args: Any, **kw: Any) -> Any:
    """Run a board form-field parser; its error becomes a :class:`PlanError`."""
    try:
        return fn(*args, **kw)
    except (BoardError, TextError) as exc:
        raise PlanError(str(exc)) from exc


def parse_plan(form: Any, instrument: Instrument, owners: set[int]) -> list[Focus]:
    criteria = {section.id for section in instrument.sections}
    out: list[Focus] = []
    seen: set[str] = set()
    for i in range(1, MAX_FOCUS + 1):
        criterion = (form.get(f"f{i}_criterion") or "").strip()
        if not criterion:
            continue
        if criterion not in criteria:
            raise PlanError(_("Unknown criterion."))
        if criterion in seen:
            raise PlanError(_("Please choose each focus criterion only once."))
        seen.add(criterion)
        title = _field(_text, form.get(f"f{i}_title"), _("Goal for focus %(n)d", n=i))
        hf = _field(_handlungsfeld, form.get(f"f{i}_handlungsfeld"), required=True)
        indicators = [line for line in (" ".join(t.split()) for t in (form.get(f"f{i}_indicators") or "").splitlines())
                      if line]
        if not indicators:
            raise PlanError(_("Please describe how you will know that goal %(n)d is reached (success indicator).",
                              n=i))
        if len(indicators) > MAX_INDICATORS:
            raise PlanError(_("A goal can have at most %(n)d success indicators.", n=MAX_INDICATORS))
        indicators = [_field(_text, t, _("Success indicator")) for t in indicators]
        focus = Focus(criterion, title, hf, indicators)
        for j in range(1, MEASURE_ROWS + 1):
            prefix = f"f{i}_m{j}_"
            raw = {k: (form.get(prefix + k) or "").strip() for k in ("title", "owner", "due")}
            if not any(raw.values()):
                continue
            m_title = _field(_text, raw["title"], _("Measure"))
            if not raw["owner"].isdigit() or int(raw["owner"]) not in owners:
                raise PlanError(_("Please choose who owns measure %(j)d of goal %(n)d.", j=j, n=i))
            due = _field(_due, raw["due"])
            if due is None:
                raise PlanError(_("Please enter a due date for measure %(j)d of goal %(n)d.", j=j, n=i))
            focus.measures.append(Measure(m_title, int(raw["owner"]), due))
        if not focus.measures:
            raise PlanError(_("Please add at least one measure to goal %(n)d.", n=i))
        out.append(focus)
    if not out:
        raise PlanError(_("Please choose at least one focus criterion."))
    return out


def criterion_means(data: ReportData, school_id: int) -> list[tuple[str, str, float | None, int | None]]:
    """(criterion id, title, mean, n) of the school as a whole; mean/n None where the report shows no number."""
    scope = Scope(school_id, None)
    shown = data.report.shown(scope)
    out: list[tuple[str, str, float | None, int | None]] = []
    for section in data.instrument.sections:
        agg = data.report.get(scope, section.id, "criterion")
        if shown and agg is not None and not agg.suppressed and agg.mean is not None:
            out.append((section.id, section.title.get(data.lang), agg.mean, agg.n))
        elif shown and (agg is None or agg.mean is None):
            out.append((section.id, section.title.get(data.lang), None, 0))  # nobody answered: nothing to hide
        else:
            out.append((section.id, section.title.get(data.lang), None, None))
    return out


def _fmt(mean: float) -> str:
    return f"{mean:.2f}"


def _summary(data: ReportData, rnd: SelfevalRound, school_id: int,
             means: list[tuple[str, str, float | None, int | None]], focus: set[str]) -> str:
    items = []
    for cid, title, mean, n in means:
        if mean is not None:
            value = _("mean %(mean)s (n = %(n)d)", mean=_fmt(mean), n=n or 0)
        else:
            value = _("no answers") if n == 0 else data.fewer_text()
        mark = f" – <strong>{escape(_('focus'))}</strong>" if cid in focus else ""
        items.append(f"<li>{escape(title)}: {escape(value)}{mark}</li>")
    intro = _("Criterion means of the whole school in the self-evaluation round “%(round)s” (%(instrument)s).",
              round=rnd.title, instrument=data.instrument.title.get(data.lang))
    respondents = data.report.respondents(Scope(school_id, None))
    if respondents is not None:
        intro += " " + _("Respondents: %(n)d.", n=respondents)
    return clean_html(f"<p>{escape(intro)}</p><ul>{''.join(items)}</ul>")


def save_plan(v: Viewer, rnd: SelfevalRound, school: MemberSchool, data: ReportData, plan: list[Focus]) -> list[int]:
    s = db_session()
    means = {cid: (title, mean) for cid, title, mean, _n in criterion_means(data, school.id)}
    goal_ids = []
    for focus in plan:
        title, mean = means[focus.criterion]
        text = _("Focus criterion of the self-evaluation “%(round)s”: %(criterion)s.", round=rnd.title, criterion=title)
        if mean is not None:
            text += " " + _("School mean: %(mean)s.", mean=_fmt(mean))
        goal = BoardGoal(network_id=rnd.network_id, title=focus.title, description=clean_html(f"<p>{escape(text)}</p>"),
                         handlungsfeld=focus.handlungsfeld, school_id=school.id, created_by=v.person.id)
        goal.indicators = [BoardIndicator(text=t) for t in focus.indicators]
        goal.measures = [BoardMeasure(title=m.title, owner_id=m.owner_id, due=m.due) for m in focus.measures]
        s.add(goal)
        s.flush()
        goal_ids.append(goal.id)
        activity.record(rnd.network_id, v.person.id, "board.goal", focus.title,
                        f"/w/{rnd.network_id}/board/goals/{goal.id}")
    note_title = _("Self-evaluation: %(round)s", round=rnd.title)[:255]
    body = _summary(data, rnd, school.id, criterion_means(data, school.id), {f.criterion for f in plan})
    note = s.scalar(select(BoardNote).where(
        BoardNote.network_id == rnd.network_id, BoardNote.school_id == school.id, BoardNote.source == SOURCE,
        BoardNote.phase == PHASE_BESTAND, BoardNote.title == note_title))
    if note is None:
        # school-internal, like the school report it comes from
        note = BoardNote(network_id=rnd.network_id, phase=PHASE_BESTAND, school_id=school.id, title=note_title,
                         internal=True, source=SOURCE, author_id=v.person.id)
        s.add(note)
    note.body = body
    s.commit()
    return goal_ids


@bp.post("/rounds/<int:round_id>/school/<int:school_id>/plan")
def school_plan(round_id: int, school_id: int) -> Any:
    post_guard()
    rnd, v, school, instrument = _school_access(round_id, school_id)
    if not may_plan(v, school_id):
        abort(403, description=_("Only this school's leaders and media coordinators and the network managers "
                                 "can make an action plan."))
    data = ReportData(db_session(), rnd, instrument, _lang(v))
    try:
        plan = parse_plan(request.form, instrument, {pid for pid, _name in _owners(v, school_id)})
    except PlanError as exc:
        db_session().rollback()
        g.selfeval_plan_error = str(exc)
        g.selfeval_plan_form = dict(request.form)
        return school_report(round_id, school_id), 400
    save_plan(v, rnd, school, data, plan)
    return redirect(web.lurl("selfeval.school_report", round_id=rnd.id, school_id=school.id, plan="saved")
                    + "#plan", code=303)
