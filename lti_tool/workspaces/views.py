"""Core workspace pages: my networks, overview, schools and people, invitations, identities."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, current_app, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session, utcnow
from lti_tool.lti.launches import current_launch
from lti_tool.models import LtiContext, LtiUser, Platform
from lti_tool.protocol.roles import ADMINISTRATOR, INSTRUCTOR, at_least
from lti_tool.workspaces import activity, bp
from lti_tool.workspaces.access import Viewer, current_person, person_for_user, school_of, viewer
from lti_tool.workspaces.models import Network, NetworkMember, Person, PersonIdentity
from lti_tool.workspaces.roles import LABELS, LEADER, MANAGER, MEDIA, ROLES
from lti_tool.workspaces.services import (
    NetworkError,
    add_school,
    contexts_of_school,
    create_invitation,
    create_network,
    ensure_member,
    join_from_context,
    link_identities,
    redeem,
)

#: The parts of a network, in the order of the network year.
PARTS: list[tuple[str, Any]] = [
    ("workspaces.overview", _l("Overview")),
    ("workspaces.board", _l("Zukunftswerkstatt")),
    ("workspaces.meetings", _l("Network year")),
    ("workspaces.barcamp", _l("Barcamp")),
    ("workspaces.groups", _l("Working groups")),
    ("selfeval.rounds", _l("Self-evaluation")),
    ("oer.library", _l("OER library")),
    ("workspaces.people", _l("Schools and people")),
    ("sync.targets", _l("LMS sync")),
]
#: Parts shown only to roles with a permission (endpoint -> permission).
PART_PERMISSIONS: dict[str, str] = {"sync.targets": "sync.manage"}
IDENTITY_CODE_TTL = 15 * 60


def nav(v: Viewer) -> list[tuple[str, Any]]:
    return [(e, label) for e, label in PARTS
            if e in current_app.view_functions and (e not in PART_PERMISSIONS or v.can(PART_PERMISSIONS[e]))]


def render(template: str, v: Viewer | None = None, **ctx: Any) -> str:
    """Render a workspace page with its navigation and role helpers."""
    return render_template(template, v=v, nav=nav(v) if v else [], role_labels=LABELS, **ctx)


def post_guard() -> None:
    ls = current_launch()
    assert ls is not None
    web.check_csrf(ls.id)


def flash_error(exc: Exception) -> str:
    return getattr(exc, "message", str(exc))


def _limit() -> int:
    return bridge().settings.network_max_schools


# -- entering from a launch ----------------------------------------------------------


@bp.get("/enter")
def enter() -> Any:
    """Landing of a resource link with ``feature=workspace`` (optionally ``network=ID``)."""
    ls, person = current_person()
    s = db_session()
    instructor = at_least(ls.role, INSTRUCTOR)
    if not instructor:
        return render("workspaces/staff_only.html")
    join_from_context(s, person, ls.context_pk, instructor)
    s.commit()
    wanted = (ls.custom or {}).get("network") or request.args.get("network")
    target = (ls.custom or {}).get("part") or "overview"
    if wanted and str(wanted).isdigit():
        member = s.scalar(select(NetworkMember).where(NetworkMember.network_id == int(wanted),
                                                      NetworkMember.person_id == person.id))
        if member is not None:
            endpoint = f"workspaces.{target}" if f"workspaces.{target}" in current_app.view_functions else "workspaces.overview"
            extra = {k: int(v) for k, v in (ls.custom or {}).items()
                     if k in ("group_id", "meeting_id") and str(v).isdigit()}
            if endpoint in ("workspaces.group", "workspaces.meeting") and not extra:
                endpoint = "workspaces.overview"
            return redirect(web.lurl(endpoint, network_id=int(wanted), **extra))
    return redirect(web.lurl("workspaces.home"))


@bp.get("/")
def home() -> str:
    ls, person = current_person()
    s = db_session()
    rows = s.execute(
        select(Network, NetworkMember).join(NetworkMember, NetworkMember.network_id == Network.id)
        .where(NetworkMember.person_id == person.id).order_by(Network.name)
    ).all()
    return render("workspaces/home.html", networks=rows, can_create=at_least(ls.role, ADMINISTRATOR),
                  can_redeem=at_least(ls.role, INSTRUCTOR), has_course=bool(ls.context_pk))


@bp.post("/create")
def create() -> Any:
    post_guard()
    ls, person = current_person()
    if not at_least(ls.role, ADMINISTRATOR):
        abort(403, description=_("Only tool administrators can create networks."))
    s = db_session()
    try:
        network = create_network(s, name=request.form.get("name", ""), region=request.form.get("region", ""),
                                 school_authority=request.form.get("school_authority", ""),
                                 school_years=request.form.get("school_years", ""),
                                 description=request.form.get("description", ""))
    except NetworkError as exc:
        s.rollback()
        return render("workspaces/home.html", networks=[], can_create=True, can_redeem=True,
                      has_course=bool(ls.context_pk), error=flash_error(exc)), 400
    ensure_member(s, network.id, person, MANAGER)
    activity.record(network.id, person.id, "network.created", network.name, f"/w/{network.id}/")
    s.commit()
    return redirect(web.lurl("workspaces.overview", network_id=network.id), code=303)


@bp.post("/redeem")
def redeem_code() -> Any:
    post_guard()
    ls, person = current_person()
    s = db_session()
    try:
        result = redeem(s, bridge().box, request.form.get("code", ""), person, context_pk=ls.context_pk,
                        is_instructor=at_least(ls.role, INSTRUCTOR),
                        school_role=request.form.get("school_role", LEADER))
    except NetworkError as exc:
        s.rollback()
        return render("workspaces/home.html", networks=[], can_create=at_least(ls.role, ADMINISTRATOR),
                      can_redeem=at_least(ls.role, INSTRUCTOR), has_course=bool(ls.context_pk),
                      error=_(exc.template, **exc.params)), exc.status
    title = result.school.name if result.school else person.display_name or _("A network manager")
    activity.record(result.network.id, person.id, "network.joined", title, f"/w/{result.network.id}/people")
    s.commit()
    return redirect(web.lurl("workspaces.overview", network_id=result.network.id), code=303)


# -- a network -------------------------------------------------------------------------


@bp.get("/<int:network_id>/")
def overview(network_id: int) -> str:
    v = viewer(network_id)
    s = db_session()
    last = v.person.last_visit
    news = activity.since(network_id, last, v.role, v.school_id, v.is_manager)
    schools = v.network.schools
    open_items = []
    for provider in OPEN_ITEMS:
        open_items.extend(provider(v))
    v.person.last_visit = utcnow()
    s.commit()
    return render("workspaces/overview.html", v, schools=schools, news=news, open_items=open_items, since=last)


#: Callables (viewer -> list of dicts with title, url, due) that parts register for "my open tasks".
OPEN_ITEMS: list[Any] = []


@bp.get("/<int:network_id>/people")
def people(network_id: int) -> str:
    v = viewer(network_id, "members.view")
    s = db_session()
    members = s.execute(
        select(NetworkMember, Person).join(Person, Person.id == NetworkMember.person_id)
        .where(NetworkMember.network_id == network_id).order_by(NetworkMember.role, Person.display_name)
    ).all()
    school_names = {sc.id: sc.name for sc in v.network.schools}
    bound = {sc.id: len(contexts_of_school(s, sc)) for sc in v.network.schools}
    return render("workspaces/people.html", v, members=members, school_names=school_names, bound=bound,
                  roles=ROLES, soft_limit=12, statuses=NETWORK_STATUSES, new_code=request.args.get("code"),
                  code_school=request.args.get("for"))


NETWORK_STATUSES = ("planning", "active", "archived")


@bp.post("/<int:network_id>/settings")
def network_settings(network_id: int) -> Any:
    """Managers edit the network's details and status (planning, active, archived)."""
    post_guard()
    v = viewer(network_id, "network.manage")
    from lti_tool.workspaces.text import TextError, plain

    form = request.form
    try:
        name = plain(form.get("name"), field=_("Name"))
        region = plain(form.get("region"), field=_("Region"), required=False)
        authority = plain(form.get("school_authority"), field=_("School authority"), required=False)
        years = plain(form.get("school_years"), field=_("School year(s)"), max_length=64, required=False)
        description = (form.get("description") or "").strip()[:5000]
    except TextError as exc:
        abort(400, description=str(exc))
    status = form.get("status", v.network.status)
    if status not in NETWORK_STATUSES:
        abort(400, description=_("Unknown status."))
    net = v.network
    net.name, net.region, net.school_authority, net.school_years = name, region, authority, years
    net.description, net.status = description, status
    activity.record(network_id, v.person.id, "network.updated", net.name, f"/w/{network_id}/")
    db_session().commit()
    return redirect(web.lurl("workspaces.people", network_id=network_id), code=303)


@bp.post("/<int:network_id>/schools")
def school_add(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "network.manage")
    s = db_session()
    try:
        added = add_school(s, v.network, name=request.form.get("name", ""),
                           school_number=request.form.get("school_number", ""),
                           school_type=request.form.get("school_type", ""), hard_limit=_limit())
    except NetworkError as exc:
        s.rollback()
        abort(400, description=_(exc.template, **exc.params))
    activity.record(network_id, v.person.id, "school.added", added.school.name, f"/w/{network_id}/people")
    s.commit()
    return redirect(web.lurl("workspaces.people", network_id=network_id), code=303)


@bp.post("/<int:network_id>/schools/<int:school_id>/invite")
def school_invite(network_id: int, school_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "network.manage")
    school = school_of(v, school_id)
    s = db_session()
    code = create_invitation(s, bridge().box, v.network, kind="school", school=school,
                             days=int(request.form.get("days", "14") or 14))
    s.commit()
    return render("workspaces/invitation.html", v, code=code, school=school)


@bp.post("/<int:network_id>/invite-manager")
def manager_invite(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "network.manage")
    s = db_session()
    code = create_invitation(s, bridge().box, v.network, kind="manager", days=7)
    s.commit()
    return render("workspaces/invitation.html", v, code=code, school=None)


@bp.post("/<int:network_id>/members/<int:member_id>")
def member_update(network_id: int, member_id: int) -> Any:
    post_guard()
    v = viewer(network_id, "network.manage")
    s = db_session()
    member = s.get(NetworkMember, member_id)
    if member is None or member.network_id != network_id:
        abort(404)
    if request.form.get("action") == "remove":
        if member.id == v.member.id:
            abort(400, description=_("You cannot remove yourself."))
        s.delete(member)
    else:
        role = request.form.get("role", "")
        if role not in ROLES:
            abort(400, description=_("Unknown network role."))
        if member.id == v.member.id and role != MANAGER:
            abort(400, description=_("You cannot take your own manager role away."))
        school_id = request.form.get("school_id") or None
        if school_id is not None:
            school_of(v, int(school_id))
        member.role = role
        member.school_id = int(school_id) if school_id else None
    s.commit()
    return redirect(web.lurl("workspaces.people", network_id=network_id), code=303)


@bp.get("/<int:network_id>/schools/<int:school_id>/roster")
def school_roster(network_id: int, school_id: int) -> str:
    v = viewer(network_id)
    school = school_of(v, school_id)
    if not (v.is_manager or (v.school_id == school.id and v.role in (LEADER, MEDIA))):
        abort(403, description=_("Only the network managers and this school's leaders see its course roster."))
    from lti_tool.models import Deployment, Registration
    from lti_tool.protocol.roles import primary_role
    from lti_tool.protocol.services import fetch_roster

    s = db_session()
    b = bridge()
    rosters: list[tuple[LtiContext, list[dict[str, Any]] | None]] = []
    for ctx in contexts_of_school(s, school):
        if not ctx.nrps_url:
            rosters.append((ctx, None))
            continue
        dep = s.get(Deployment, ctx.deployment_pk)
        assert dep is not None
        reg = s.get(Registration, dep.registration_id)
        assert reg is not None
        info = b.registry.find(reg.platform.issuer, reg.client_id)
        members = fetch_roster(b.connector(info), {"context_memberships_url": ctx.nrps_url})
        rosters.append((ctx, [{"name": m.get("name") or "–", "role": primary_role(m.get("roles") or []),
                               "status": m.get("status", "Active")} for m in members]))
    return render("workspaces/roster.html", v, school=school, rosters=rosters)


# -- linking identities across LMS sites --------------------------------------------


@bp.route("/identity", methods=["GET", "POST"])
def identity() -> Any:
    ls, person = current_person()
    s = db_session()
    code = None
    message = None
    if request.method == "POST":
        post_guard()
        if request.form.get("action") == "create":
            code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
            bridge().store.put("identity-link:" + code, {"person": person.id}, IDENTITY_CODE_TTL)
        else:
            entered = request.form.get("code", "").strip().upper()
            data = bridge().store.pop("identity-link:" + entered) if entered else None
            if data is None:
                abort(400, description=_("This code is unknown or expired. Create a new one on your other LMS."))
            keep = s.get(Person, data["person"])
            if keep is None:
                abort(400, description=_("This code is unknown or expired. Create a new one on your other LMS."))
            link_identities(s, keep, person)
            s.commit()
            g_person = person_for_user(ls.user_pk, create=False)
            assert g_person is not None and g_person.id == keep.id
            message = _("Your accounts are now linked.")
            person = keep
    accounts = s.execute(
        select(Platform.name, Platform.issuer).join(LtiUser, LtiUser.platform_id == Platform.id)
        .join(PersonIdentity, PersonIdentity.lti_user_id == LtiUser.id).where(PersonIdentity.person_id == person.id)
    ).all()
    return render("workspaces/identity.html", code=code, message=message, accounts=accounts,
                  ttl_minutes=IDENTITY_CODE_TTL // 60)


# -- Deep Linking: put the workspace or one of its parts into a course -------------------


def _deep_link_choices(ls: Any) -> list[Any]:
    from lti_tool.features import DeepLinkChoice

    s = db_session()
    person = person_for_user(ls.user_pk, create=False)
    if person is None:
        return []
    rows = s.execute(
        select(Network).join(NetworkMember, NetworkMember.network_id == Network.id)
        .where(NetworkMember.person_id == person.id).order_by(Network.name)
    ).scalars().all()
    parts = [("overview", _l("Network workspace"), _l("Start page of the network")),
             ("board", _l("Zukunftswerkstatt"), _l("Board: Bestandsaufnahme, Utopiephase, Umsetzungsphase")),
             ("meetings", _l("Network year"), _l("Meetings, minutes and tasks")),
             ("barcamp", _l("Barcamp"), _l("Sessions, grid and documentation")),
             ("groups", _l("Working groups"), _l("Materials, discussion and results"))]
    choices = []
    for net in rows:
        for part, title, description in parts:
            if part != "overview" and f"workspaces.{part}" not in current_app.view_functions:
                continue
            choices.append(DeepLinkChoice(
                key=f"workspace:{net.id}:{part}",
                title=f"{net.name}: {title}",
                description=description,
                custom={"feature": "workspace", "network": str(net.id), "part": part},
                group=net.name,
            ))
        choices.extend(_single_items(s, net, person))
    return choices


def _single_items(s: Any, net: Network, person: Person) -> list[Any]:
    """One working group or one upcoming meeting as its own course link."""
    from lti_tool.features import DeepLinkChoice
    from lti_tool.workspaces.groups.models import Group
    from lti_tool.workspaces.meetings.models import Meeting
    from lti_tool.workspaces.roles import BODY_LABELS, may_see_body

    member = s.scalar(select(NetworkMember).where(NetworkMember.network_id == net.id,
                                                  NetworkMember.person_id == person.id))
    items = []
    for g in s.scalars(select(Group).where(Group.network_id == net.id).order_by(Group.title)):
        items.append(DeepLinkChoice(
            key=f"workspace:{net.id}:group:{g.id}", title=f"{net.name}: {g.title}",
            description=_l("Working group"), group=net.name,
            custom={"feature": "workspace", "network": str(net.id), "part": "group", "group_id": str(g.id)},
        ))
    upcoming = s.scalars(select(Meeting).where(Meeting.network_id == net.id, Meeting.ends_at >= utcnow())
                         .order_by(Meeting.starts_at).limit(10))
    for m in upcoming:
        if member is None or not may_see_body(member.role, m.body):
            continue
        items.append(DeepLinkChoice(
            key=f"workspace:{net.id}:meeting:{m.id}", title=f"{net.name}: {m.title}",
            description=BODY_LABELS.get(m.body, m.body), group=net.name,
            custom={"feature": "workspace", "network": str(net.id), "part": "meeting", "meeting_id": str(m.id)},
        ))
    return items


def _register_deep_link_provider() -> None:
    from lti_tool.features import DEEP_LINK_PROVIDERS

    if _deep_link_choices not in DEEP_LINK_PROVIDERS:
        DEEP_LINK_PROVIDERS.append(_deep_link_choices)


_register_deep_link_provider()
