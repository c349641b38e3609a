"""The site's LTI Advantage services as a tool calls them.

- token endpoint: OAuth 2 client credentials with a ``private_key_jwt`` client
  assertion checked against the tool's JWKS (LTI Security Framework §4.1);
- Assignment and Grade Services 2.0: line items (GET list/POST create, GET
  one), scores (POST), results (GET);
- Names and Role Provisioning Services 2.0: context memberships with paging.

Answers are JSON; refusals too (``{"error": code, "error_description": ...}``).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.db import db_session, utcnow
from lti_tool.demo import bp
from lti_tool.demo.models import (
    DemoAccessToken,
    DemoCourse,
    DemoEnrolment,
    DemoLineItem,
    DemoLink,
    DemoScore,
    DemoSite,
    DemoUser,
)
from lti_tool.demo.platform import (
    LIS_ROLES,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_RO,
    SCOPE_NRPS,
    SCOPE_RESULT_RO,
    SCOPE_SCORE,
    SERVICE_SCOPES,
    DemoRefused,
    demo_url,
    issuer,
    remember_once,
    verify_tool_jwt,
)

TOKEN_TTL = 3600
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Members per NRPS page without ``limit``: small on purpose, so paging is exercised.
MEMBERS_PAGE_SIZE = 5
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

CT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
CT_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
CT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
CT_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

#: Endpoints answering JSON (also when they refuse).
JSON_ENDPOINTS: set[str] = set()


def service(rule: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        JSON_ENDPOINTS.add("demo." + view.__name__)
        return bp.route(rule, **options)(view)

    return register


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body), status=status, mimetype=mimetype)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_site(s: Session, slug: str) -> DemoSite:
    site = s.scalar(select(DemoSite).where(DemoSite.slug == slug))
    if site is None:
        raise DemoRefused("There is no such demo site.", "not_found", 404)
    return site


def get_course(s: Session, site: DemoSite, course_id: int) -> DemoCourse:
    course = s.get(DemoCourse, course_id)
    if course is None or course.site_id != site.id:
        raise DemoRefused("There is no such course on this site.", "not_found", 404)
    return course


def _authorize(s: Session, site: DemoSite, *scopes: str) -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise DemoRefused("A bearer token is required.", "invalid_token", 401)
    row = s.get(DemoAccessToken, _hash(header[len("Bearer ") :].strip()))
    if row is None or row.site_id != site.id or row.expires_at < time.time():
        raise DemoRefused("The access token is unknown or expired.", "invalid_token", 401)
    if not set(scopes) & set(row.scopes.split()):
        raise DemoRefused("The access token does not cover this service.", "insufficient_scope", 403)


# -- token endpoint ----------------------------------------------------------------


@service("/sites/<slug>/token", methods=["POST"])
def token(slug: str) -> Response:
    s = db_session()
    site = get_site(s, slug)
    form = request.form
    if form.get("grant_type") != "client_credentials":
        raise DemoRefused("grant_type must be client_credentials.", "unsupported_grant_type")
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        raise DemoRefused("A JWT client assertion is required.", "invalid_request")
    try:
        claims = verify_tool_jwt(
            form["client_assertion"],
            audience=[demo_url("demo.token", slug=slug), issuer(site)],
            client_id=site.client_id,
            require=["sub", "jti"],
        )
    except DemoRefused as exc:
        raise DemoRefused(exc.message, "invalid_client", 401) from exc
    if claims["sub"] != site.client_id:
        raise DemoRefused("The assertion's sub must be the client_id.", "invalid_client", 401)
    remember_once(s, f"jti:{site.client_id}:{claims['jti']}", TOKEN_TTL)
    granted = [x for x in form.get("scope", "").split() if x in SERVICE_SCOPES]
    if not granted:
        raise DemoRefused("None of the requested scopes is offered.", "invalid_scope")
    access_token = secrets.token_urlsafe(32)
    now = time.time()
    s.execute(delete(DemoAccessToken).where(DemoAccessToken.expires_at < now))
    s.add(
        DemoAccessToken(
            token_hash=_hash(access_token), site_id=site.id, scopes=" ".join(granted), expires_at=now + TOKEN_TTL
        )
    )
    s.commit()
    resp = _json(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": " ".join(granted)}
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- Assignment and Grade Services ---------------------------------------------------


def line_item_json(site: DemoSite, item: DemoLineItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": demo_url("demo.lineitem", slug=site.slug, course_id=item.course_id, item_id=item.id),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
        "resourceId": item.resource_id,
        "tag": item.tag,
    }
    if item.link_id is not None:
        body["resourceLinkId"] = str(item.link_id)
    return body


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise DemoRefused("The request body must be a JSON object.")
    return body


def new_line_item(s: Session, course: DemoCourse, body: dict[str, Any]) -> DemoLineItem:
    """A line item from an AGS/Deep Linking ``lineItem`` object (not yet committed)."""
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DemoRefused("label is required.")
    if not _number(body.get("scoreMaximum")) or body["scoreMaximum"] <= 0:
        raise DemoRefused("scoreMaximum must be a number greater than 0.")
    link_id = body.get("resourceLinkId")
    if link_id is not None:
        link = s.get(DemoLink, int(link_id)) if str(link_id).isdigit() else None
        if link is None or link.course_id != course.id:
            raise DemoRefused("resourceLinkId is not a link of this course.")
    item = DemoLineItem(
        course_id=course.id,
        link_id=int(link_id) if link_id is not None else None,
        label=label.strip()[:255],
        score_maximum=float(body["scoreMaximum"]),
        resource_id=str(body.get("resourceId") or "")[:255],
        tag=str(body.get("tag") or "")[:255],
    )
    s.add(item)
    return item


@service("/sites/<slug>/courses/<int:course_id>/lineitems", methods=["GET", "POST"])
def lineitems(slug: str, course_id: int) -> Response:
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    if request.method == "POST":
        _authorize(s, site, SCOPE_LINEITEM)
        item = new_line_item(s, course, _body())
        s.commit()
        resp = _json(line_item_json(site, item), 201, CT_LINEITEM)
        resp.headers["Location"] = line_item_json(site, item)["id"]
        return resp
    _authorize(s, site, SCOPE_LINEITEM, SCOPE_LINEITEM_RO)
    q = select(DemoLineItem).where(DemoLineItem.course_id == course.id).order_by(DemoLineItem.id)
    args = request.args
    if rlid := args.get("resource_link_id"):
        if not rlid.isdigit():
            return _json([], mimetype=CT_LINEITEMS)
        q = q.where(DemoLineItem.link_id == int(rlid))
    if args.get("resource_id"):
        q = q.where(DemoLineItem.resource_id == args["resource_id"])
    if args.get("tag"):
        q = q.where(DemoLineItem.tag == args["tag"])
    return _json([line_item_json(site, i) for i in s.scalars(q)], mimetype=CT_LINEITEMS)


def _line_item(s: Session, course: DemoCourse, item_id: int) -> DemoLineItem:
    item = s.get(DemoLineItem, item_id)
    if item is None or item.course_id != course.id:
        raise DemoRefused("There is no such line item in this course.", "not_found", 404)
    return item


@service("/sites/<slug>/courses/<int:course_id>/lineitems/<int:item_id>")
def lineitem(slug: str, course_id: int, item_id: int) -> Response:
    s = db_session()
    site = get_site(s, slug)
    item = _line_item(s, get_course(s, site, course_id), item_id)
    _authorize(s, site, SCOPE_LINEITEM, SCOPE_LINEITEM_RO)
    return _json(line_item_json(site, item), mimetype=CT_LINEITEM)


def parse_score(body: dict[str, Any]) -> dict[str, Any]:
    """Check a score (AGS 2.0 §3.4) and return the fields to store."""
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise DemoRefused("userId is required.")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not _number(given) or given < 0:
            raise DemoRefused("scoreGiven must be a number of at least 0.")
        if maximum is None:
            raise DemoRefused("scoreMaximum is required with scoreGiven.")
    if maximum is not None and (not _number(maximum) or maximum <= 0):
        raise DemoRefused("scoreMaximum must be a number greater than 0.")
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise DemoRefused("activityProgress must be one of " + ", ".join(ACTIVITY_PROGRESS) + ".")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        raise DemoRefused("gradingProgress must be one of " + ", ".join(GRADING_PROGRESS) + ".")
    stamp = body.get("timestamp")
    try:
        parsed = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise DemoRefused("timestamp must be an ISO 8601 date-time with a time zone.")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise DemoRefused("comment must be a string.")
    return {
        "user_sub": user_id,
        "score_given": float(given) if given is not None else None,
        "score_maximum": float(maximum) if maximum is not None else None,
        "activity_progress": body["activityProgress"],
        "grading_progress": body["gradingProgress"],
        "comment": comment,
        "timestamp": stamp,
        "at": parsed,
    }


def _member(s: Session, course: DemoCourse, sub: str) -> DemoUser | None:
    return s.scalar(
        select(DemoUser)
        .join(DemoEnrolment, DemoEnrolment.user_id == DemoUser.id)
        .where(DemoEnrolment.course_id == course.id, DemoUser.sub == sub)
    )


@service("/sites/<slug>/courses/<int:course_id>/lineitems/<int:item_id>/scores", methods=["POST"])
def scores(slug: str, course_id: int, item_id: int) -> Response:
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    item = _line_item(s, course, item_id)
    _authorize(s, site, SCOPE_SCORE)
    score = parse_score(_body())
    user = _member(s, course, score.pop("user_sub"))
    if user is None:
        raise DemoRefused("userId is not a member of this course.")
    at = score.pop("at")
    row = s.scalar(select(DemoScore).where(DemoScore.line_item_id == item.id, DemoScore.user_id == user.id))
    if row is not None and datetime.fromisoformat(row.timestamp) > at:
        # AGS: never overwrite a result with an older score; the update is ignored.
        return Response(status=204)
    if row is None:
        row = DemoScore(line_item_id=item.id, user_id=user.id)
        s.add(row)
    for name, value in score.items():
        setattr(row, name, value)
    row.received_at = utcnow()
    s.commit()
    return Response(status=204)


def result_score(score: DemoScore, item: DemoLineItem) -> float | None:
    """The score rescaled to the column's maximum (as Moodle does)."""
    if score.score_given is None or not score.score_maximum:
        return None
    return round(score.score_given / score.score_maximum * item.score_maximum, 4)


@service("/sites/<slug>/courses/<int:course_id>/lineitems/<int:item_id>/results")
def results(slug: str, course_id: int, item_id: int) -> Response:
    s = db_session()
    site = get_site(s, slug)
    item = _line_item(s, get_course(s, site, course_id), item_id)
    _authorize(s, site, SCOPE_RESULT_RO)
    q = (
        select(DemoScore, DemoUser)
        .join(DemoUser, DemoScore.user_id == DemoUser.id)
        .where(DemoScore.line_item_id == item.id)
        .order_by(DemoUser.id)
    )
    if request.args.get("user_id"):
        q = q.where(DemoUser.sub == request.args["user_id"])
    item_url = line_item_json(site, item)["id"]
    body = []
    for score, user in s.execute(q):
        entry: dict[str, Any] = {
            "id": f"{item_url}/results/{user.sub}",
            "scoreOf": item_url,
            "userId": user.sub,
            "resultMaximum": item.score_maximum,
            "timestamp": score.timestamp,
        }
        if (value := result_score(score, item)) is not None:
            entry["resultScore"] = value
        if score.comment:
            entry["comment"] = score.comment
        body.append(entry)
    return _json(body, mimetype=CT_RESULTS)


# -- Names and Role Provisioning Services -------------------------------------------


def member_json(user: DemoUser) -> dict[str, Any]:
    return {
        "status": "Active",
        "user_id": user.sub,
        "roles": LIS_ROLES[user.role],
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
    }


def _has_role(user: DemoUser, role: str) -> bool:
    # Full URIs or the short form ("Learner"), as NRPS §2.3 allows.
    return any(r == role or r.rsplit("#", 1)[-1] == role for r in LIS_ROLES[user.role])


@service("/sites/<slug>/courses/<int:course_id>/memberships")
def memberships(slug: str, course_id: int) -> Response:
    s = db_session()
    site = get_site(s, slug)
    course = get_course(s, site, course_id)
    _authorize(s, site, SCOPE_NRPS)
    args = request.args
    try:
        limit = int(args.get("limit", MEMBERS_PAGE_SIZE))
        page = int(args.get("page", 1))
    except ValueError as exc:
        raise DemoRefused("limit and page must be whole numbers.") from exc
    if limit < 1 or page < 1:
        raise DemoRefused("limit and page must be at least 1.")
    members = s.scalars(
        select(DemoUser)
        .join(DemoEnrolment, DemoEnrolment.user_id == DemoUser.id)
        .where(DemoEnrolment.course_id == course.id)
        .order_by(DemoUser.id)
    ).all()
    if args.get("role"):
        members = [m for m in members if _has_role(m, args["role"])]
    chunk = members[(page - 1) * limit : page * limit]
    query = {k: v for k, v in args.items() if k in ("limit", "role")}
    body = {
        "id": demo_url(
            "demo.memberships", slug=slug, course_id=course.id, **query, **({"page": page} if page > 1 else {})
        ),
        "context": {"id": str(course.id), "label": course.shortname, "title": course.fullname},
        "members": [member_json(m) for m in chunk],
    }
    resp = _json(body, mimetype=CT_MEMBERSHIPS)
    if page * limit < len(members):
        nxt = demo_url(
            "demo.memberships", slug=slug, course_id=course.id, **{**query, "limit": limit, "page": page + 1}
        )
        resp.headers["Link"] = f'<{nxt}>; rel="next"'
    return resp
