"""Reports of a self-evaluation round: school report, network report, exports, deletion.

Every number goes through the privacy engine (:mod:`lti_tool.selfeval.aggregate`):
a suppressed cell is rendered as "fewer than N answers", never with numbers.
Only *submitted* responses count: when a round has answers of drafts the
aggregation runs over the submitted respondents' answers only
(:func:`round_report`).

Who sees what (roles from :mod:`lti_tool.workspaces.roles`):

* school report and its CSV/JSON export: network managers; the school's leaders,
  media coordinators and teachers (teachers see the aggregates but not the
  free-text answers); the school authority, guests and other schools' people
  get 403; people outside the network 404.
* network report: managers (everything), the school authority (aggregates only,
  no free text), school leaders (the network-wide column and their own school).
* deleting a round: managers; deleting one school's data of a round: managers
  and that school's leaders.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import Response as FlaskResponse
from flask import abort, redirect, request
from flask_babel import gettext as _
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.selfeval import charts
from lti_tool.selfeval.aggregate import (
    NETWORK,
    Aggregate,
    PrivacyPolicy,
    Report,
    Response,
    Scope,
    aggregate_sql,
    compare_rounds,
    free_text,
    group_agreement,
)
from lti_tool.selfeval.instruments import Instrument
from lti_tool.selfeval.instruments.house import Colour, colour_for
from lti_tool.selfeval.instruments.model import Output
from lti_tool.selfeval.models import SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.selfeval.views import bp, instrument_of
from lti_tool.workspaces.access import Viewer, school_of, viewer
from lti_tool.workspaces.models import MemberSchool
from lti_tool.workspaces.roles import AUTHORITY, LEADER, MANAGER, MEDIA, TEACHER
from lti_tool.workspaces.views import post_guard, render

SCHOOL_READERS = frozenset({LEADER, MEDIA, TEACHER})
FREE_TEXT_READERS = frozenset({MANAGER, LEADER, MEDIA})
NETWORK_READERS = frozenset({MANAGER, AUTHORITY, LEADER})


# -- data ------------------------------------------------------------------------------


def policy(instrument: Instrument | None = None) -> PrivacyPolicy:
    """The privacy policy of this installation (``LMS_BRIDGE_SELFEVAL_MIN_GROUP``) for an instrument."""
    per_school = instrument is not None and instrument.answered_for == "school"
    return PrivacyPolicy(min_group=bridge().settings.selfeval_min_group, per_school=per_school)


def criteria_of(instrument: Instrument) -> dict[str, list[str]]:
    return {section.id: [item.id for item in section.items] for section in instrument.sections}


def round_report(s: Session, rnd: SelfevalRound, instrument: Instrument) -> Report:
    """The privacy-safe report of a round over its submitted responses.

    The database aggregates (:func:`aggregate_sql`); drafts are left out in SQL,
    and only when the round has any (a cheap ``EXISTS``), so a closed round's
    report stays two index-only scans."""
    r = SelfevalResponse
    drafts = bool(s.scalar(select(exists().where(r.round_id == rnd.id, r.status != SUBMITTED))))
    return aggregate_sql(s.connection(), rnd.id, policy(instrument), criteria_of(instrument), skip_drafts=drafts)


def previous_round(s: Session, rnd: SelfevalRound) -> SelfevalRound | None:
    return s.scalars(select(SelfevalRound).where(
        SelfevalRound.network_id == rnd.network_id, SelfevalRound.instrument_key == rnd.instrument_key,
        (SelfevalRound.opens_at < rnd.opens_at)
        | ((SelfevalRound.opens_at == rnd.opens_at) & (SelfevalRound.id < rnd.id)),
    ).order_by(SelfevalRound.opens_at.desc(), SelfevalRound.id.desc())).first()


def _free_responses(s: Session, round_id: int) -> list[Response]:
    """Submitted responses that carry free text (only the columns needed)."""
    r = SelfevalResponse
    rows = s.execute(select(r.respondent_key, r.school_id, r.group_id, r.free_text).where(
        r.round_id == round_id, r.status == SUBMITTED, r.free_text.is_not(None),
        r.free_text.not_in(("", "{}")))).all()
    out = []
    for key, school, group, raw in rows:
        try:
            texts = json.loads(raw or "{}")
        except ValueError:
            texts = {}
        if texts:
            out.append(Response(key, school, group, {}, texts))
    return out


@dataclass
class Cell:
    """One rendered cell: numbers, or ``suppressed`` (no numbers at all), or no data."""

    scope: Scope
    suppressed: bool = False
    empty: bool = False
    n: int | None = None
    n_not_applicable: int | None = None
    mean: float | None = None
    distribution: list[tuple[int, int]] = field(default_factory=list)
    change: float | None = None

    @classmethod
    def of(cls, agg: Aggregate | None, scope: Scope, values: tuple[int, ...], change: float | None,
           shown: bool = True) -> Cell:
        if not shown or (agg is not None and agg.suppressed):  # a hidden scope says nothing, not even "empty"
            return cls(scope, suppressed=True)
        if agg is None:
            return cls(scope, empty=True)
        dist = agg.distribution or {}
        return cls(scope, n=agg.n, n_not_applicable=agg.n_not_applicable, mean=agg.mean,
                   distribution=[(v, dist.get(v, 0)) for v in values], change=change)


@dataclass
class Row:
    key: str
    kind: str  # "criterion" | "item"
    label: str
    cells: list[Cell]
    disagreements: list[Any] = field(default_factory=list)


@dataclass
class SectionData:
    id: str
    title: str
    rows: list[Row]


class ReportData:
    """Everything a school or network report shows, already privacy-filtered."""

    def __init__(self, s: Session, rnd: SelfevalRound, instrument: Instrument, lang: str = "de") -> None:
        self.rnd, self.instrument, self.lang = rnd, instrument, lang
        self.report = round_report(s, rnd, instrument)
        self.policy = self.report.policy
        self.previous = previous_round(s, rnd)
        self.group_labels = {g.id: g.label.get(lang) for g in instrument.respondent_groups}
        self._s = s

    @cached_property
    def changes(self) -> dict[tuple[Scope, str, str], float]:
        """Change of every shown figure since the previous round (aggregated only when a page shows it)."""
        if self.previous is None:
            return {}
        earlier = round_report(self._s, self.previous, self.instrument)
        return {(ch.scope, ch.kind, ch.key): ch.delta for ch in compare_rounds(earlier, self.report)}

    def scale_values(self, item_ids: list[str]) -> tuple[int, ...]:
        values: set[int] = set()
        for item_id in item_ids:
            values.update(self.instrument.scale_of(self.instrument.item(item_id)).values)
        return tuple(sorted(values))

    def groups_of(self, school_id: Any) -> list[str]:
        """Respondent groups present for a school (or the network), in instrument order."""
        present = {sc.group_id for sc in self.report.present if sc.school_id == school_id and sc.group_id is not None}
        return [g.id for g in self.instrument.respondent_groups if g.id in present] + sorted(
            str(g) for g in present if g not in self.group_labels)

    def sections(self, scopes: list[Scope], agreement_school: Any = "none", *,
                 with_change: bool = True) -> list[SectionData]:
        disagree: dict[str, list[Any]] = defaultdict(list)
        if agreement_school != "none":
            for a in group_agreement(self.report, agreement_school):
                if a.disagreement:
                    disagree[a.key].append(a)
        out = []
        for section in self.instrument.sections:
            item_ids = [i.id for i in section.items]
            values = self.scale_values(item_ids)
            rows = []
            keys = [("criterion", section.id, section.title.get(self.lang))]
            keys += [("item", item.id, item.text.get(self.lang)) for item in section.items]
            for kind, key, label in keys:
                cells = [Cell.of(self.report.get(sc, key, kind), sc, values,
                                 self.changes.get((sc, kind, key)) if with_change else None,
                                 self.report.shown(sc)) for sc in scopes]
                rows.append(Row(key, kind, label, cells, disagree.get(key, [])))
            out.append(SectionData(section.id, section.title.get(self.lang), rows))
        return out

    def scope_label(self, scope: Scope, school_names: dict[int, str]) -> str:
        group = self.group_labels.get(scope.group_id, str(scope.group_id)) if scope.group_id else _("All groups")
        if scope.school_id is None:
            where = _("Network")
        else:
            where = school_names.get(scope.school_id, str(scope.school_id))
        return group if scope.school_id is not None and scope.group_id else (
            f"{where}: {group}" if scope.group_id else where)

    def free_texts(self, scope: Scope) -> list[tuple[str, list[Any]]]:
        responses = _free_responses(self._s, self.rnd.id)
        out = []
        for q in self.instrument.free_text:
            entries = free_text(responses, self.report, scope, q.id)
            if entries:
                out.append((q.text.get(self.lang), entries))
        return out

    def house(self, school_id: Any) -> dict | None:
        """Colours per house part and the three lists, from the school's (shown) item means."""
        house = self.instrument.house
        if self.instrument.output != Output.TRAFFIC_LIGHT_HOUSE or house is None:
            return None
        scope = Scope(school_id, None)
        shown = self.report.shown(scope)
        parts = []
        rated: list[tuple[float, Colour, str]] = []
        for part in house.parts:
            thresholds = house.thresholds_for(part)
            total = n = 0.0
            for item_id in part.items:
                agg = self.report.get(scope, item_id)
                if shown and agg is not None and not agg.suppressed and agg.mean is not None and agg.n:
                    total += agg.mean * agg.n
                    n += agg.n
                    value = agg.mean
                    rated.append((value, colour_for(value, thresholds), self.instrument.item(item_id).text.get(self.lang)))
            colour = colour_for(total / n if n else None, thresholds) if shown else Colour.NO_DATA
            parts.append({"id": part.id, "label": part.label.get(self.lang), "colour": colour.value,
                          "status": colour_word(colour) if shown else self.fewer_text()})
        return {
            "shown": shown,
            "parts": parts,
            "works_well": [label for v, c, label in sorted(rated, key=lambda r: -r[0]) if c is Colour.GREEN],
            "problems": [label for v, c, label in sorted(rated, key=lambda r: r[0]) if c is Colour.RED],
            "todo": [label for v, c, label in sorted(rated, key=lambda r: r[0]) if c is not Colour.GREEN],
        }

    def fewer_text(self) -> str:
        if self.policy.per_school:
            return _("fewer than %(n)d schools", n=self.policy.min_group)
        return _("fewer than %(n)d answers", n=self.policy.min_group)


def colour_word(colour: Colour) -> str:
    return {Colour.GREEN: _("works well"), Colour.AMBER: _("partly"), Colour.RED: _("problems"),
            Colour.NO_DATA: _("no data")}[colour]


def school_scopes(data: ReportData, school_id: int) -> list[Scope]:
    return [Scope(school_id, g) for g in data.groups_of(school_id)] + [Scope(school_id, None)]


def export_rows(data: ReportData, school_id: int) -> list[dict[str, Any]]:
    """Aggregates of one school, one row per scope × criterion/item; suppressed rows carry no numbers."""
    values = data.scale_values([i.id for i in data.instrument.items()])
    out = []
    for section in data.sections(school_scopes(data, school_id), with_change=False):  # exports carry no change
        for row in section.rows:
            for cell in row.cells:
                entry: dict[str, Any] = {
                    "scope": "school" if cell.scope.group_id is None else "school_group",
                    "kind": row.kind, "key": row.key, "label": row.label,
                    "group": cell.scope.group_id or "", "suppressed": cell.suppressed,
                    "n": None, "n_not_applicable": None, "mean": None,
                    "distribution": {str(v): None for v in values},
                }
                if not cell.suppressed and not cell.empty:
                    dist = dict(cell.distribution)
                    entry.update(n=cell.n, n_not_applicable=cell.n_not_applicable,
                                 mean=None if cell.mean is None else round(cell.mean, 3),
                                 distribution={str(v): dist.get(v, 0) for v in values})
                out.append(entry)
    return out


def export_csv(data: ReportData, school_id: int) -> str:
    values = data.scale_values([i.id for i in data.instrument.items()])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["scope", "kind", "key", "label", "group", "n", "mean", "n_not_applicable",
                *[f"value_{v}" for v in values], "suppressed"])
    for e in export_rows(data, school_id):
        mean = "" if e["mean"] is None else f"{e['mean']:.2f}".replace(".", ",")
        w.writerow([e["scope"], e["kind"], e["key"], e["label"], e["group"],
                    "" if e["n"] is None else e["n"], mean,
                    "" if e["n_not_applicable"] is None else e["n_not_applicable"],
                    *["" if e["distribution"][str(v)] is None else e["distribution"][str(v)] for v in values],
                    "suppressed" if e["suppressed"] else ""])
    return "\ufeff" + buf.getvalue()


def export_json(data: ReportData, school: MemberSchool) -> str:
    return json.dumps({
        "round": {"id": data.rnd.id, "title": data.rnd.title, "instrument": data.rnd.instrument_key},
        "school": {"id": school.id, "name": school.name, "school_number": school.school_number},
        "min_group": data.policy.min_group,
        "aggregates": export_rows(data, school.id),
    }, ensure_ascii=False, indent=2)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def delete_round(s: Session, round_id: int) -> tuple[int, int]:
    """Answers, responses and the round, in one transaction. Returns (answers, responses) deleted."""
    answers = _rowcount(s.execute(delete(SelfevalAnswer).where(SelfevalAnswer.round_id == round_id)))
    responses = _rowcount(s.execute(delete(SelfevalResponse).where(SelfevalResponse.round_id == round_id)))
    s.execute(delete(SelfevalRound).where(SelfevalRound.id == round_id))
    s.commit()
    return answers, responses


def delete_school_data(s: Session, round_id: int, school_id: int) -> tuple[int, int]:
    answers = _rowcount(s.execute(delete(SelfevalAnswer).where(
        SelfevalAnswer.round_id == round_id, SelfevalAnswer.school_id == school_id)))
    responses = _rowcount(s.execute(delete(SelfevalResponse).where(
        SelfevalResponse.round_id == round_id, SelfevalResponse.school_id == school_id)))
    s.commit()
    return answers, responses


# -- access ------------------------------------------------------------------------------


def _round_and_viewer(round_id: int) -> tuple[SelfevalRound, Viewer]:
    rnd = db_session().get(SelfevalRound, round_id)
    if rnd is None:
        abort(404, description=_("This round does not exist."))
    v = viewer(rnd.network_id, "network.view")  # outsiders: 404
    return rnd, v


def may_read_school(v: Viewer, school_id: int) -> bool:
    return v.is_manager or (v.role in SCHOOL_READERS and v.school_id == school_id)


def may_delete_school(v: Viewer, school_id: int) -> bool:
    return v.is_manager or (v.role == LEADER and v.school_id == school_id)


def _school_access(round_id: int, school_id: int) -> tuple[SelfevalRound, Viewer, MemberSchool, Instrument]:
    rnd, v = _round_and_viewer(round_id)
    school = school_of(v, school_id)
    if not may_read_school(v, school_id):
        abort(403, description=_("Your role in this network does not allow this."))
    instrument = instrument_of(rnd)
    return rnd, v, school, instrument


def _lang(v: Viewer) -> str:
    """The instrument's texts follow the page language (launch locale, or ?lang=)."""
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale)[:2] if locale else (getattr(v.launch, "locale", None) or "de")[:2]


def _schools(network_id: int) -> list[MemberSchool]:
    return list(db_session().scalars(select(MemberSchool).where(MemberSchool.network_id == network_id)
                                     .order_by(MemberSchool.name, MemberSchool.id)))


# -- pages ---------------------------------------------------------------------------------


def _criterion_mean(data: ReportData, sc: Scope, section_id: str) -> tuple[float | None, str]:
    """A scope's criterion mean for the charts, or None with the reason shown instead."""
    agg = data.report.get(sc, section_id, "criterion")
    if not data.report.shown(sc) or (agg is not None and agg.suppressed):
        return None, data.fewer_text()
    if agg is None or agg.mean is None:
        return None, _("no answers")
    return agg.mean, f"{agg.mean:.2f}"


def _bar_chart(data: ReportData, scopes: list[Scope], names: dict[int, str], chart_id: str, title: str) -> Any:
    series = [(data.scope_label(sc, names), sc) for sc in scopes]
    categories = []
    for section in data.instrument.sections:
        bars: list[charts.Bar] = [(label, *_criterion_mean(data, sc, section.id)) for label, sc in series]
        categories.append((section.title.get(data.lang), bars))
    values = data.scale_values([i.id for i in data.instrument.items()])
    return charts.bar_chart(chart_id, title, categories, minimum=min(values, default=0),
                            maximum=max(values, default=5))


def _radar(data: ReportData, scopes: list[Scope], names: dict[int, str], chart_id: str, title: str) -> Any:
    """The score profile (radar) of a few scopes; None for house instruments or fewer than three criteria."""
    sections = data.instrument.sections
    if data.instrument.output != Output.SCORE_PROFILE or len(sections) < 3:
        return None
    series, texts = [], []
    for sc in scopes:
        cells = [_criterion_mean(data, sc, section.id) for section in sections]
        series.append((data.scope_label(sc, names), [value for value, _text in cells]))
        texts.append([text for _value, text in cells])
    values_all = data.scale_values([i.id for i in data.instrument.items()])
    return charts.radar_chart(chart_id, title, [sec.title.get(data.lang) for sec in sections], series,
                              minimum=min(values_all, default=1), maximum=max(values_all, default=5), texts=texts)


@bp.get("/rounds/<int:round_id>/school/<int:school_id>")
def school_report(round_id: int, school_id: int) -> Any:
    rnd, v, school, instrument = _school_access(round_id, school_id)
    s = db_session()
    data = ReportData(s, rnd, instrument, _lang(v))
    scopes = school_scopes(data, school_id)
    names = {school.id: school.name}
    house = data.house(school_id)
    return render(
        "selfeval/report_school.html", v, rnd=rnd, school=school, instrument=instrument, data=data,
        scopes=scopes, names=names, sections=data.sections(scopes, agreement_school=school_id),
        respondents={sc: data.report.respondents(sc) for sc in scopes},
        chart=_bar_chart(data, scopes, names, "chart-school", _("Criterion means per respondent group")),
        radar=_radar(data, [Scope(school_id, None), NETWORK], names, "radar-school",
                     _("Score profile: your school and the network")),
        house=house, house_svg=charts.house_svg("house-school", _("Media house"), house) if house else None,
        free=data.free_texts(Scope(school_id, None)) if v.role in FREE_TEXT_READERS else None,
        fewer=data.fewer_text(), can_delete=may_delete_school(v, school_id),
    )


@bp.get("/rounds/<int:round_id>/network")
def network_report(round_id: int) -> Any:
    rnd, v = _round_and_viewer(round_id)
    if v.role not in NETWORK_READERS:
        abort(403, description=_("Your role in this network does not allow this."))
    instrument = instrument_of(rnd)
    s = db_session()
    data = ReportData(s, rnd, instrument, _lang(v))
    schools = _schools(rnd.network_id)
    if v.role == LEADER:
        schools = [sc for sc in schools if sc.id == v.school_id]
    if instrument.answered_for == "school" and v.role == AUTHORITY:
        # one answer per school is that school's own statement: the authority
        # sees only what stands for several schools together
        schools = []
    names = {sc.id: sc.name for sc in schools}
    network_house = data.house(None) if instrument.house and v.role != LEADER else None
    scopes = [Scope(sc.id, None) for sc in schools] + [NETWORK]
    network_groups = [Scope(None, g) for g in data.groups_of(None)] if v.role != LEADER else []
    return render(
        "selfeval/report_network.html", v, rnd=rnd, instrument=instrument, data=data, schools=schools,
        names=names, scopes=scopes, sections=data.sections(scopes),
        group_sections=data.sections(network_groups + [NETWORK], agreement_school=None) if network_groups else None,
        group_scopes=network_groups + [NETWORK] if network_groups else [],
        respondents={sc: data.report.respondents(sc) for sc in scopes + network_groups},
        chart=_bar_chart(data, scopes, names, "chart-network", _("Criterion means per school")),
        radar=_radar(data, ([Scope(v.school_id, None)] if v.role == LEADER else []) + [NETWORK], names,
                     "radar-network", _("Score profile of the network")),
        free=data.free_texts(NETWORK) if v.is_manager else None, fewer=data.fewer_text(),
        house_rows=[(sc, data.house(sc.id)) for sc in schools] if instrument.house else [],
        network_house=network_house,
        network_house_svg=charts.house_svg("house-network", _("Media house of the network"), network_house)
        if network_house else None,
    )


def _export(round_id: int, school_id: int, fmt: str) -> Any:
    rnd, v, school, instrument = _school_access(round_id, school_id)
    data = ReportData(db_session(), rnd, instrument, _lang(v))
    name = f"selfeval-round{rnd.id}-school{school.school_number}"
    if fmt == "csv":
        body, mimetype = export_csv(data, school.id), "text/csv; charset=utf-8"
    else:
        body, mimetype = export_json(data, school), "application/json"
    resp = FlaskResponse(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/rounds/<int:round_id>/school/<int:school_id>.csv")
def school_export_csv(round_id: int, school_id: int) -> Any:
    return _export(round_id, school_id, "csv")


@bp.get("/rounds/<int:round_id>/school/<int:school_id>.json")
def school_export_json(round_id: int, school_id: int) -> Any:
    return _export(round_id, school_id, "json")


@bp.post("/rounds/<int:round_id>/delete")
def round_delete(round_id: int) -> Any:
    post_guard()
    rnd, v = _round_and_viewer(round_id)
    if not v.is_manager:
        abort(403, description=_("Your role in this network does not allow this."))
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Please confirm the deletion."))
    network_id = rnd.network_id
    delete_round(db_session(), rnd.id)
    return redirect(web.lurl("selfeval.rounds", network_id=network_id), code=303)


@bp.post("/rounds/<int:round_id>/school/<int:school_id>/delete")
def school_delete(round_id: int, school_id: int) -> Any:
    post_guard()
    rnd, v = _round_and_viewer(round_id)
    school_of(v, school_id)
    if not may_delete_school(v, school_id):
        abort(403, description=_("Your role in this network does not allow this."))
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Please confirm the deletion."))
    delete_school_data(db_session(), rnd.id, school_id)
    return redirect(web.lurl("selfeval.report_index", network_id=rnd.network_id, round_id=rnd.id), code=303)


@bp.get("/networks/<int:network_id>/rounds/<int:round_id>/reports")
def report_index(network_id: int, round_id: int) -> Any:
    v = viewer(network_id, "network.view")
    rnd = db_session().get(SelfevalRound, round_id)
    if rnd is None or rnd.network_id != network_id:
        abort(404, description=_("This round does not exist."))
    schools = [sc for sc in _schools(network_id) if may_read_school(v, sc.id)]
    return render("selfeval/report_index.html", v, rnd=rnd, schools=schools,
                  network=v.role in NETWORK_READERS, may_delete_school=lambda sid: may_delete_school(v, sid))
