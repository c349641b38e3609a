"""The ``selfeval`` blueprint: rounds (Erhebungen) for network managers, answering for respondents.

Answering is launched from a resource link with custom ``feature=selfeval``,
``round=<id>`` (optionally ``group=<respondent group>``). The respondent's
school is the member school whose bound course is the launch's context.
Answers are stored against a keyed hash of (round, issuer, sub), never the
user id; they stay drafts until submitted and are changeable until the round
closes. On submit, completion goes to the LMS gradebook when the link carries
a line item.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import delete, select

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, utcnow
from lti_tool.features import DEEP_LINK_PROVIDERS, DeepLinkChoice
from lti_tool.lti.launches import LaunchSession, current_launch
from lti_tool.models import LtiUser
from lti_tool.protocol.roles import INSTRUCTOR, at_least
from lti_tool.selfeval import library
from lti_tool.selfeval.instruments import Instrument
from lti_tool.selfeval.models import DRAFT, SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.workspaces.access import person_for_user, viewer
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, SchoolContext
from lti_tool.workspaces.roles import AUTHORITY, LEADER, MEDIA, TEACHER
from lti_tool.workspaces.views import post_guard, render

log = logging.getLogger(__name__)

bp = Blueprint("selfeval", __name__, url_prefix="/s")

LOCAL = ZoneInfo("Europe/Berlin")
STUDENT = "student"
#: network role -> respondent group of the instrument
ROLE_GROUPS = {LEADER: "school_leader", MEDIA: "media_coordinator", TEACHER: "teacher", AUTHORITY: "school_authority"}
NOT_APPLICABLE = "na"
MAX_FREE_TEXT = 5000
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


# -- helpers ---------------------------------------------------------------------------


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def local(dt: datetime | None) -> str:
    return _aware(dt).astimezone(LOCAL).strftime("%d.%m.%Y %H:%M") if dt else ""


def _input_value(dt: datetime | None) -> str:
    return _aware(dt).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M") if dt else ""


def instruments(network_id: int | None = None, *, for_new_rounds: bool = False) -> dict[str, Instrument]:
    """By key: the shipped instruments, plus the network's own uploads (not withdrawn ones for new rounds)."""
    return library.available(network_id, for_new_rounds=for_new_rounds)


def instrument_of(rnd: SelfevalRound) -> Instrument:
    """The exact version a round asks, from the shipped library or the round's own network's uploads."""
    found = library.resolve(rnd.instrument_key, rnd.network_id)
    if found is None:
        abort(404, description=_("The instrument of this round is not available."))
    return found


@bp.app_template_filter("selfeval_local")
def _local_filter(dt: datetime | None) -> str:
    return local(dt)


class RoundError(ValueError):
    pass


def _parse_time(raw: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise RoundError(_("Please enter a valid date and time for %(what)s.", what=what)) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL)
    return value.astimezone(UTC)


def _round_from_form(rnd: SelfevalRound, form: Any, *, new: bool) -> None:
    title = " ".join(form.get("title", "").split())
    if not title:
        raise RoundError(_("A round needs a title."))
    if new:
        key = form.get("instrument_key", "")
        if key not in instruments(rnd.network_id, for_new_rounds=True):
            raise RoundError(_("Please choose an instrument."))
        rnd.instrument_key = key
    opens = _parse_time(form.get("opens_at", ""), _("opens"))
    closes = _parse_time(form.get("closes_at", ""), _("closes"))
    if closes <= opens:
        raise RoundError(_("The round must close after it opens."))
    rnd.title, rnd.opens_at, rnd.closes_at = title[:255], opens, closes


def round_state(rnd: SelfevalRound, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < _aware(rnd.opens_at):
        return "future"
    if now >= _aware(rnd.closes_at):
        return "closed"
    return "open"


# -- rounds (network managers) ------------------------------------------------------------


def _rounds_page(network_id: int, v: Any, *, error: str | None = None, edit: SelfevalRound | None = None,
                 form: Any = None, status: int = 200) -> Any:
    s = db_session()
    rounds = s.scalars(select(SelfevalRound).where(SelfevalRound.network_id == network_id)
                       .order_by(SelfevalRound.opens_at.desc(), SelfevalRound.id.desc())).all()
    page = render("selfeval/rounds.html", v, rounds=rounds, instruments=instruments(network_id),
                  choices=instruments(network_id, for_new_rounds=True), state=round_state,
                  edit=edit, form=form or {}, error=error, input_value=_input_value,
                  can_manage=v.can("network.manage"))
    return page, status


@bp.get("/networks/<int:network_id>/rounds")
def rounds(network_id: int) -> Any:
    v = viewer(network_id, "network.view")
    edit = None
    if request.args.get("edit", "").isdigit() and v.can("network.manage"):
        edit = _round_of(network_id, int(request.args["edit"]))
    return _rounds_page(network_id, v, edit=edit)


def _round_of(network_id: int, round_id: int) -> SelfevalRound:
    rnd = db_session().get(SelfevalRound, round_id)
    if rnd is None or rnd.network_id != network_id:
        abort(404, description=_("This round does not exist."))
    return rnd


@bp.post("/networks/<int:network_id>/rounds")
def rounds_save(network_id: int) -> Any:
    """Create a round, or edit one (``round_id``), or close one now (``action=close``)."""
    post_guard()
    v = viewer(network_id, "network.manage")
    s = db_session()
    form = request.form
    round_id = form.get("round_id", "")
    if round_id:
        if not round_id.isdigit():
            abort(400)
        rnd = _round_of(network_id, int(round_id))
        if form.get("action") == "close":
            now = utcnow()
            if _aware(rnd.closes_at) > now:
                rnd.closes_at = now
                if _aware(rnd.opens_at) > now:
                    rnd.opens_at = now
            s.commit()
            return redirect(web.lurl("selfeval.rounds", network_id=network_id), code=303)
        new = False
    else:
        rnd = SelfevalRound(network_id=network_id, created_by=v.person.id)
        new = True
    try:
        _round_from_form(rnd, form, new=new)
    except RoundError as exc:
        s.rollback()
        return _rounds_page(network_id, v, error=str(exc), edit=None if new else rnd, form=form, status=400)
    if new:
        s.add(rnd)
    s.commit()
    return redirect(web.lurl("selfeval.rounds", network_id=network_id), code=303)


# -- answering ------------------------------------------------------------------------------


class Context:
    """Everything one answering request needs, resolved from the launch."""

    def __init__(self, ls: LaunchSession, rnd: SelfevalRound, instrument: Instrument, school: MemberSchool,
                 respondent_key: str, response: SelfevalResponse | None, default_group: str,
                 group_choices: list[str]) -> None:
        self.ls, self.rnd, self.instrument, self.school = ls, rnd, instrument, school
        self.respondent_key, self.response = respondent_key, response
        self.default_group, self.group_choices = default_group, group_choices

    @property
    def group(self) -> str:
        return self.response.group_id if self.response else self.default_group


class Refused(Exception):
    """A friendly page instead of the form (wrong course, not open yet, staff only)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> Any:
    return render_template("selfeval/refused.html", title=exc.title, message=exc.message), exc.status


def _refuse(template: str, status: int = 403, *, title: str, message: str) -> None:
    raise Refused(status, title, message)


def _context() -> Context:
    ls = current_launch()
    assert ls is not None
    s = db_session()
    custom = ls.custom or {}
    raw_round = str(custom.get("round") or "")
    rnd = s.get(SelfevalRound, int(raw_round)) if raw_round.isdigit() else None
    if rnd is None:
        _refuse("selfeval/refused.html", 404, title=_("Self-evaluation"),
                message=_("This self-evaluation round does not exist. Please ask your teacher to check the link."))
    assert rnd is not None
    instrument = instrument_of(rnd)
    school = s.scalar(
        select(MemberSchool).join(SchoolContext, SchoolContext.school_id == MemberSchool.id)
        .where(SchoolContext.context_pk == ls.context_pk, MemberSchool.network_id == rnd.network_id)
    ) if ls.context_pk else None
    if school is None:
        _refuse("selfeval/refused.html", title=rnd.title,
                message=_("This course is not linked to a school of the network that runs this self-evaluation. "
                          "Please open it from your school's course."))
    assert school is not None
    groups = [g.id for g in instrument.respondent_groups]
    learner = not at_least(ls.role, INSTRUCTOR)
    if learner:
        if STUDENT not in groups:
            _refuse("selfeval/refused.html", title=rnd.title,
                    message=_("This self-evaluation is answered by school staff only."))
        choices, default = [STUDENT], STUDENT
    else:
        choices = [g for g in groups if g != STUDENT] or groups
        person = person_for_user(ls.user_pk, create=False)
        member = s.scalar(select(NetworkMember).where(
            NetworkMember.network_id == rnd.network_id, NetworkMember.person_id == person.id)) if person else None
        wanted = str(custom.get("group") or "")
        by_role = ROLE_GROUPS.get(member.role) if member else None
        default = next((g for g in (wanted, by_role, "teacher") if g and g in choices), choices[0])
    state = round_state(rnd)
    if state == "future":
        _refuse("selfeval/refused.html", title=rnd.title,
                message=_("This self-evaluation is not open yet. It opens on %(date)s.", date=local(rnd.opens_at)))
    user = s.get(LtiUser, ls.user_pk)
    assert user is not None
    if instrument.answered_for == "school":
        if learner:
            _refuse("selfeval/refused.html", title=rnd.title,
                    message=_("This self-evaluation is answered by school staff only."))
        # One answer per school, given for the school: every staff member of the
        # school opens the same response, and it records no person at all.
        key = bridge().box.pseudonym("selfeval-school", str(rnd.id), str(school.id))
    else:
        key = bridge().box.pseudonym("selfeval", str(rnd.id), ls.issuer, bridge().box.decrypt(user.sub_enc))
    response = s.scalar(select(SelfevalResponse).where(SelfevalResponse.round_id == rnd.id,
                                                       SelfevalResponse.respondent_key == key))
    return Context(ls, rnd, instrument, school, key, response, default, choices)


def _saved_answers(ctx: Context) -> dict[str, str]:
    rows = db_session().execute(select(SelfevalAnswer.item_id, SelfevalAnswer.value).where(
        SelfevalAnswer.round_id == ctx.rnd.id, SelfevalAnswer.respondent_key == ctx.respondent_key)).all()
    return {item: (NOT_APPLICABLE if value is None else str(value)) for item, value in rows}


def _render_form(ctx: Context, *, answers: dict[str, str] | None = None, free: dict[str, str] | None = None,
                 error: str | None = None, status: int = 200) -> Any:
    lang = (ctx.ls.locale or "de")[:2]
    saved_free = json.loads(ctx.response.free_text or "{}") if ctx.response else {}
    group_labels = {g.id: g.label.get(lang) for g in ctx.instrument.respondent_groups}
    page = render_template(
        "selfeval/answer.html", ctx=ctx, rnd=ctx.rnd, instrument=ctx.instrument, school=ctx.school, lang=lang,
        answers=answers if answers is not None else _saved_answers(ctx),
        free=free if free is not None else saved_free, group=ctx.group, group_labels=group_labels,
        closed=round_state(ctx.rnd) == "closed", response=ctx.response, error=error,
        done=request.args.get("done"), gradebook=request.args.get("gradebook"), NA=NOT_APPLICABLE,
    )
    return page, status


@bp.get("/answer")
def answer() -> Any:
    return _render_form(_context())


@bp.post("/answer")
def answer_save() -> Any:
    post_guard()
    ctx = _context()
    s = db_session()
    if round_state(ctx.rnd) == "closed":
        return _render_form(ctx, error=_("This round has closed; answers can no longer be changed."), status=403)
    form = request.form
    instrument = ctx.instrument
    group = form.get("group") or ctx.group
    if group not in ctx.group_choices:
        abort(400, description=_("Unknown respondent group."))
    items = {item.id: item for item in instrument.items() if item.asked_of(group)}
    questions = {q.id: q for q in instrument.free_text if q.groups is None or group in q.groups}
    values: dict[str, int | None] = {}
    free: dict[str, str] = {}
    for name in form:
        if name.startswith("item:"):
            item_id = name[5:]
            item = items.get(item_id)
            if item is None:
                abort(400, description=_("Unknown item: %(item)s", item=item_id[:64]))
            raw = form.get(name, "").strip()
            if raw == "":
                continue
            scale = instrument.scale_of(item)
            if raw == NOT_APPLICABLE and scale.not_applicable is not None:
                values[item_id] = None
            elif raw.lstrip("-").isdigit() and scale.accepts(int(raw)):
                values[item_id] = int(raw)
            else:
                abort(400, description=_("Not a valid answer for %(item)s.", item=item_id[:64]))
        elif name.startswith("text:"):
            qid = name[5:]
            if qid not in questions:
                abort(400, description=_("Unknown question: %(q)s", q=qid[:64]))
            text = form.get(name, "").strip()
            if len(text) > MAX_FREE_TEXT:
                abort(400, description=_("The text is too long (at most %(n)d characters).", n=MAX_FREE_TEXT))
            if text:
                free[qid] = text
    submit = form.get("action") == "submit"
    now = utcnow()
    response = ctx.response
    if response is None:
        response = SelfevalResponse(round_id=ctx.rnd.id, respondent_key=ctx.respondent_key, status=DRAFT)
        s.add(response)
    response.school_id, response.group_id = ctx.school.id, group
    response.free_text = json.dumps(free, ensure_ascii=False)
    response.updated_at = now
    if submit:
        response.status, response.submitted_at = SUBMITTED, now
    _store_answers(ctx, group, values)
    s.commit()
    ctx.response = response
    params: dict[str, str] = {"done": "submitted" if submit else "saved"}
    if submit:
        outcome = _post_completion(ctx.ls)
        if outcome:
            params["gradebook"] = outcome
    return redirect(web.lurl("selfeval.answer", **params), code=303)


def _store_answers(ctx: Context, group: str, values: dict[str, int | None]) -> None:
    """Upsert this respondent's answers; items left empty lose their row."""
    s = db_session()
    existing = {a.item_id: a for a in s.scalars(select(SelfevalAnswer).where(
        SelfevalAnswer.round_id == ctx.rnd.id, SelfevalAnswer.respondent_key == ctx.respondent_key))}
    gone = [a.id for item_id, a in existing.items() if item_id not in values]
    if gone:
        s.execute(delete(SelfevalAnswer).where(SelfevalAnswer.id.in_(gone)))
    for item_id, value in values.items():
        row = existing.get(item_id)
        if row is None:
            row = SelfevalAnswer(round_id=ctx.rnd.id, respondent_key=ctx.respondent_key, item_id=item_id)
            s.add(row)
        row.school_id, row.group_id, row.value = ctx.school.id, group, value


def _post_completion(ls: LaunchSession) -> str | None:
    """Completion to the gradebook: "sent", "failed", or None when the link has no line item."""
    ags = ls.ags or {}
    if not isinstance(ags, dict):
        return None
    has_item = bool(ags.get("lineitem")) or (bool(ags.get("lineitems")) and SCORE_SCOPE in (ags.get("scope") or []))
    if not has_item:
        return None
    from lti_tool.protocol.services import post_score

    b = bridge()
    try:
        user = db_session().get(LtiUser, ls.user_pk)
        assert user is not None
        post_score(
            b.connector(b.registry.find(ls.issuer, ls.client_id)), ags,
            user_sub=b.box.decrypt(user.sub_enc), score_given=1, score_maximum=1,
            activity_progress="Completed", grading_progress="FullyGraded",
            lineitem={"scoreMaximum": 1, "label": str(_("Self-evaluation")), "tag": "completion",
                      "resourceId": "selfeval"},
        )
    except Exception:  # the submission is saved either way; the page says the gradebook failed
        log.warning("selfeval: completion could not be posted", exc_info=True)
        return "failed"
    return "sent"


# -- deep linking -------------------------------------------------------------------------


def _deep_link_choices(ls: Any) -> list[DeepLinkChoice]:
    s = db_session()
    person = person_for_user(ls.user_pk, create=False)
    if person is None:
        return []
    now = utcnow()
    rows = s.execute(
        select(SelfevalRound, Network).join(Network, Network.id == SelfevalRound.network_id)
        .join(NetworkMember, NetworkMember.network_id == Network.id)
        .where(NetworkMember.person_id == person.id).order_by(Network.name, SelfevalRound.opens_at)
    ).all()
    by_network: dict[int, dict[str, Instrument]] = {}
    choices = []
    lang = (getattr(ls, "locale", None) or "de")[:2]
    for rnd, net in rows:
        known = by_network.get(net.id)
        if known is None:
            known = by_network[net.id] = instruments(net.id)
        if _aware(rnd.closes_at) <= now or rnd.instrument_key not in known:
            continue
        choices.append(DeepLinkChoice(
            key=f"selfeval:{rnd.id}", title=f"{net.name}: {rnd.title}",
            description=known[rnd.instrument_key].title.get(lang), group=net.name,
            custom={"feature": "selfeval", "round": str(rnd.id)}, graded=True,
        ))
    return choices


if _deep_link_choices not in DEEP_LINK_PROVIDERS:
    DEEP_LINK_PROVIDERS.append(_deep_link_choices)
# Reports and action plans register their routes on ``bp``.
from lti_tool.selfeval import (  # noqa: E402,F401
    instrument_views,  # noqa: E402,F401  (networks' own instruments)
    planning,
    reports,
)
