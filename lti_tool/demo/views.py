"""Pages of the demo LMS and its browser-facing LTI endpoints.

A launch, as a real platform runs it: the course page POSTs the OIDC
third-party login initiation into the tool's iframe; the tool sends the
browser to ``auth``, which checks the request against the stored launch
(``lti_message_hint``) and auto-posts a signed id_token to the tool. A deep
linking launch comes back to ``deep_link_return`` with the tool's signed
response.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Response, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.demo import bp
from lti_tool.demo.models import (
    DemoCourse,
    DemoEnrolment,
    DemoLaunch,
    DemoLineItem,
    DemoLink,
    DemoScore,
    DemoSite,
    DemoUser,
)
from lti_tool.demo.platform import (
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_RESPONSE,
    DL_CONTENT_ITEMS,
    DL_DATA,
    DL_ERRORMSG,
    DL_MSG,
    EDITING_ROLES,
    LAUNCH_TTL,
    LTI,
    RESOURCE_LINK_REQUEST,
    DemoRefused,
    demo_url,
    issuer,
    launch_claims,
    remember_once,
    sign,
    site_jwks,
    tool,
    tool_origin,
    verify_tool_jwt,
)
from lti_tool.demo.seed import ROLES, WELCOME_TITLE
from lti_tool.demo.services import JSON_ENDPOINTS, get_course, get_site, new_line_item, result_score

ROLE_LABELS = {
    "learner": lazy_pgettext("demo role", "Learner"),
    "teacher": lazy_pgettext("demo role", "Teacher"),
    "leader": lazy_pgettext("demo role", "School leader"),
    "network_manager": lazy_pgettext("demo role", "Network manager"),
    "admin": lazy_pgettext("demo role", "Administrator"),
}
#: The frame the course page offers for LTI client-side storage.
STORAGE_FRAME = "lti_storage"


@bp.errorhandler(DemoRefused)
def _refused(exc: DemoRefused) -> Response:
    if request.endpoint in JSON_ENDPOINTS:
        resp = Response(
            json.dumps({"error": exc.code, "error_description": exc.message}),
            status=exc.status,
            mimetype="application/json",
        )
        if exc.status == 401:
            resp.headers["WWW-Authenticate"] = f'Bearer error="{exc.code}"'
        return resp
    html = render_template("demo/error.html", code=exc.code, message=exc.message, status=exc.status)
    return Response(html, status=exc.status, mimetype="text/html")


@bp.app_template_global()
def demo_role(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


#: Pages that offer a language switch (not the steps of a launch).
PAGES = frozenset({"demo.index", "demo.site", "demo.course", "demo.gradebook"})


@bp.context_processor
def _page_globals() -> dict[str, Any]:
    other = "en" if get_locale().language == "de" else "de"
    switch = None
    if request.endpoint in PAGES:
        values: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("hint", "added")}
        switch = url_for(request.endpoint, **{**(request.view_args or {}), **values, "lang": other})
    return {"lang_switch": (other, switch)}


# -- who is where ---------------------------------------------------------------------


def people(s: Session, site: DemoSite, course: DemoCourse) -> list[DemoUser]:
    """Everyone who can open the course: its members and the site's administrators."""
    enrolled = select(DemoEnrolment.user_id).where(DemoEnrolment.course_id == course.id)
    users = s.scalars(
        select(DemoUser).where(DemoUser.site_id == site.id, DemoUser.id.in_(enrolled) | (DemoUser.role == "admin"))
    ).all()
    return sorted(users, key=lambda u: (ROLES.index(u.role), u.family_name))


def _person(users: list[DemoUser], raw: str | None, default_role: str | None = None) -> DemoUser | None:
    chosen = next((u for u in users if str(u.id) == raw), None)
    if chosen is None and default_role:
        chosen = next((u for u in users if u.role == default_role), None)
    return chosen


# -- pages -------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    s = db_session()
    sites = s.scalars(select(DemoSite).order_by(DemoSite.id)).all()
    first_of_role: dict[int, dict[str, DemoUser]] = {}
    for site in sites:
        users = s.scalars(select(DemoUser).where(DemoUser.site_id == site.id).order_by(DemoUser.id.desc())).all()
        first_of_role[site.id] = {u.role: u for u in users}
    return render_template(
        "demo/index.html",
        sites=sites,
        first_of_role=first_of_role,
        issuer=issuer,
        demo_url=demo_url,
        welcome_title=WELCOME_TITLE,
    )


@bp.get("/storage")
def storage() -> str:
    """The course page's storage frame (LTI client-side postMessage storage)."""
    return render_template("demo/storage.html", tool_origin=tool_origin(bridge().settings), storage_frame=STORAGE_FRAME)


@bp.get("/sites/<slug>")
def site(slug: str) -> str:
    return render_template("demo/site.html", site=get_site(db_session(), slug))


@bp.get("/sites/<slug>/jwks.json")
def jwks(slug: str) -> Response:
    s = db_session()
    resp = make_response(site_jwks(s, get_site(s, slug)))
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/sites/<slug>/courses/<int:course_id>")
def course(slug: str, course_id: int) -> str:
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    users = people(s, site, course)
    user = _person(users, request.args.get("user"), default_role="teacher") or users[0]
    links = s.scalars(select(DemoLink).where(DemoLink.course_id == course.id).order_by(DemoLink.id)).all()
    graded = set(s.scalars(select(DemoLineItem.link_id).where(DemoLineItem.course_id == course.id)))
    login = None
    launch = _open_launch(s, site, request.args.get("hint"))
    if launch is not None and launch.user_id == user.id and launch.course_id == course.id:
        link = s.get(DemoLink, launch.link_id) if launch.link_id else None
        login = {
            "iss": issuer(site),
            "login_hint": user.sub,
            "target_link_uri": link.url if link else tool().launch,
            "lti_message_hint": launch.hint,
            "client_id": site.client_id,
            "lti_deployment_id": site.deployment_id,
            "lti_storage_target": STORAGE_FRAME,
        }
    return render_template(
        "demo/course.html",
        site=site,
        course=course,
        users=users,
        user=user,
        links=links,
        graded=graded,
        can_edit=user.role in EDITING_ROLES,
        login=login,
        login_url=tool().login,
        launching=launch,
        tool_origin=tool_origin(bridge().settings),
        storage_frame=STORAGE_FRAME,
        added=request.args.get("added", type=int),
    )


@bp.post("/sites/<slug>/courses/<int:course_id>/launch")
def start_launch(slug: str, course_id: int) -> Response:
    """Start a launch of a link (or a deep linking launch) for the chosen person."""
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    user = _person(people(s, site, course), request.form.get("user"))
    if user is None:
        raise DemoRefused(_("Please choose a person of this course."), status=400)
    if request.form.get("deep_link"):
        if user.role not in EDITING_ROLES:
            raise DemoRefused(_("Only teachers can add content."), status=403)
        link, message_type = None, DEEP_LINKING_REQUEST
    else:
        link = s.get(DemoLink, request.form.get("link", type=int) or 0)
        if link is None or link.course_id != course.id:
            raise DemoRefused(_("This link is not part of the course."), status=404)
        message_type = RESOURCE_LINK_REQUEST
    now = time.time()
    s.execute(delete(DemoLaunch).where(DemoLaunch.expires_at < now))
    launch = DemoLaunch(
        hint=secrets.token_urlsafe(24),
        site_id=site.id,
        user_id=user.id,
        course_id=course.id,
        link_id=link.id if link else None,
        message_type=message_type,
        locale=get_locale().language,
        expires_at=now + LAUNCH_TTL,
    )
    s.add(launch)
    s.commit()
    target = url_for("demo.course", slug=slug, course_id=course.id, user=user.id, hint=launch.hint)
    return redirect(target + "#tool", code=303)  # type: ignore[return-value]


def _open_launch(s: Session, site: DemoSite, hint: str | None) -> DemoLaunch | None:
    if not hint:
        return None
    launch = s.scalar(select(DemoLaunch).where(DemoLaunch.hint == hint))
    if launch is None or launch.site_id != site.id or launch.expires_at < time.time():
        return None
    return launch


@bp.get("/sites/<slug>/courses/<int:course_id>/gradebook")
def gradebook(slug: str, course_id: int) -> str:
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    users = [u for u in people(s, site, course) if u.role != "admin"]
    items = s.scalars(select(DemoLineItem).where(DemoLineItem.course_id == course.id).order_by(DemoLineItem.id)).all()
    rows = s.execute(
        select(DemoScore, DemoLineItem)
        .join(DemoLineItem, DemoScore.line_item_id == DemoLineItem.id)
        .where(DemoLineItem.course_id == course.id)
        .order_by(DemoScore.received_at.desc())
    ).all()
    cells = {(score.line_item_id, score.user_id): (score, result_score(score, item)) for score, item in rows}
    names = {u.id: u.name for u in users}
    recent = [(score, item, names.get(score.user_id, "–")) for score, item in rows[:10]]
    return render_template(
        "demo/gradebook.html",
        site=site,
        course=course,
        users=users,
        items=items,
        cells=cells,
        recent=recent,
        viewer=request.args.get("user", type=int),
    )


# -- OIDC authentication (the platform's half of the launch) -----------------------------


def _check_auth_request(site: DemoSite, p: Any) -> None:
    if "openid" not in (p.get("scope") or "").split():
        raise DemoRefused("scope must include openid.", "invalid_scope")
    if p.get("response_type") != "id_token":
        raise DemoRefused("response_type must be id_token.", "unsupported_response_type")
    if p.get("response_mode") != "form_post":
        raise DemoRefused("response_mode must be form_post.", "invalid_request")
    if p.get("prompt") != "none":
        raise DemoRefused("prompt must be none.", "invalid_request")
    if p.get("client_id") != site.client_id:
        raise DemoRefused("client_id is not the tool registered on this site.", "unauthorized_client")
    if p.get("redirect_uri") not in tool().redirect_uris:
        raise DemoRefused("redirect_uri is not registered for the tool.", "invalid_request")
    if not p.get("nonce"):
        raise DemoRefused("nonce is required.", "invalid_request")


@bp.route("/sites/<slug>/auth", methods=["GET", "POST"])
def auth(slug: str) -> Response:
    s = db_session()
    site = get_site(s, slug)
    p = request.values
    _check_auth_request(site, p)
    launch = _open_launch(s, site, p.get("lti_message_hint"))
    if launch is None:
        raise DemoRefused("lti_message_hint is unknown or expired: start the launch again.", "invalid_request")
    user = s.get(DemoUser, launch.user_id)
    course = s.get(DemoCourse, launch.course_id)
    assert user is not None and course is not None
    if p.get("login_hint") != user.sub:
        raise DemoRefused("login_hint does not match the person who started the launch.", "login_required")
    link = s.get(DemoLink, launch.link_id) if launch.link_id else None
    line_item = (
        s.scalar(select(DemoLineItem.id).where(DemoLineItem.link_id == link.id).order_by(DemoLineItem.id))
        if link
        else None
    )
    claims = launch_claims(
        site=site, user=user, course=course, link=link, launch=launch, nonce=p["nonce"], line_item_id=line_item
    )
    fields = {"id_token": sign(s, site, claims)}
    if p.get("state"):
        fields["state"] = p["state"]
    resp = make_response(render_template("demo/autopost.html", action=p["redirect_uri"], fields=fields))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- Deep Linking return ------------------------------------------------------------------


def _content_link(s: Session, course: DemoCourse, item: dict[str, Any]) -> DemoLink:
    url = item.get("url") if isinstance(item.get("url"), str) else None
    if url is None or urlsplit(url)[:2] != urlsplit(tool().launch)[:2]:
        url = tool().launch  # only the registered tool's URLs are launched
    custom = item.get("custom")
    link = DemoLink(
        course_id=course.id,
        title=str(item.get("title") or "LMS Bridge")[:255],
        text=str(item.get("text") or ""),
        url=url,
        custom=json.dumps({str(k): str(v) for k, v in custom.items()}) if isinstance(custom, dict) else None,
    )
    s.add(link)
    s.flush()
    line = item.get("lineItem")
    if isinstance(line, dict):
        new_line_item(s, course, {"label": link.title, **line, "resourceLinkId": link.id})
    return link


@bp.post("/sites/<slug>/deep-link/<hint>/return")
def deep_link_return(slug: str, hint: str) -> Response:
    s = db_session()
    site = get_site(s, slug)
    launch = _open_launch(s, site, hint)
    if launch is None or launch.message_type != DEEP_LINKING_REQUEST or launch.returned:
        raise DemoRefused("This content selection is unknown, expired or already completed.", "invalid_request")
    claims = verify_tool_jwt(
        request.form.get("JWT", ""), audience=issuer(site), client_id=site.client_id, require=["nonce"]
    )
    if claims.get(LTI + "message_type") != DEEP_LINKING_RESPONSE:
        raise DemoRefused("The message is not a deep linking response.", "invalid_message")
    if claims.get(LTI + "version") != "1.3.0":
        raise DemoRefused("The message is not LTI 1.3.0.", "invalid_message")
    if str(claims.get(LTI + "deployment_id")) != site.deployment_id:
        raise DemoRefused("The deployment_id does not match.", "invalid_message")
    if claims.get(DL_DATA) != hint:
        raise DemoRefused("The response does not return the request's data.", "invalid_message")
    remember_once(s, "dl:" + str(claims["nonce"]), LAUNCH_TTL)
    course = s.get(DemoCourse, launch.course_id)
    assert course is not None
    launch.returned = True
    items = claims.get(DL_CONTENT_ITEMS) or []
    error = claims.get(DL_ERRORMSG)
    added = (
        []
        if error
        else [_content_link(s, course, i) for i in items if isinstance(i, dict) and i.get("type") == "ltiResourceLink"]
    )
    s.commit()
    back = url_for("demo.course", slug=slug, course_id=course.id, user=launch.user_id, added=len(added))
    html = render_template(
        "demo/deep_link_done.html",
        course=course,
        added=added,
        error=str(error) if error else None,
        msg=claims.get(DL_MSG),
        back=back,
    )
    return Response(html, status=200, mimetype="text/html")
