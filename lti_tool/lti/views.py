"""HTTP endpoints of the LTI blueprint. Protocol work is in ``lti_tool.protocol``."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import (
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool import web
from lti_tool.bridge import bridge
from lti_tool.db import db_session
from lti_tool.features import FEATURES, deep_link_choices
from lti_tool.lti import bp
from lti_tool.lti.launches import LaunchSession, current_launch, link_feature, record_launch
from lti_tool.models import LtiUser, ResourceLink
from lti_tool.protocol import claims as c
from lti_tool.protocol.errors import LaunchError, LtiError
from lti_tool.protocol.login import begin_login
from lti_tool.protocol.registry import to_pylti1p3
from lti_tool.protocol.roles import INSTRUCTOR, at_least
from lti_tool.protocol.services import ContentItem, deep_linking_response, fetch_roster, post_score
from lti_tool.toolconfig import tool_configuration


def _state_cookie(state: str) -> str:
    return "lb_state_" + hashlib.sha256(state.encode()).hexdigest()[:16]


def _set_state_cookie(resp: Response, state: str) -> None:
    settings = bridge().settings
    resp.set_cookie(
        _state_cookie(state),
        state,
        max_age=settings.state_ttl,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="None" if settings.secure_cookies else "Lax",
        path="/lti/",
        partitioned=settings.secure_cookies,
    )


COOKIE_CHECK = "lb_cookie_check"


def _in_third_party_frame() -> bool:
    """The browser says this is an iframe navigation (Fetch Metadata); we cannot know the top site."""
    return request.headers.get("Sec-Fetch-Dest") == "iframe"


def csrf_token(ls: LaunchSession) -> str:
    return web.csrf_token(ls.id)


def check_csrf(ls: LaunchSession) -> None:
    web.check_csrf(ls.id)


# -- OIDC login and launch -------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    b = bridge()
    params = {k: v for k, v in request.values.items()}
    plan = begin_login(
        params,
        registry=b.registry,
        store=b.store,
        base_url=b.settings.base_url,
        launch_url=b.url("/lti/launch"),
        state_ttl=b.settings.state_ttl,
    )
    if plan.storage_target and not request.values.get("new_window"):
        html = render_template(
            "lti/login_storage.html",
            plan=plan,
            target=plan.storage_target,
            state_key="lb_state_" + plan.state[:16],
        )
        resp: Response = make_response(html)
    elif _in_third_party_frame() and not request.values.get("new_window"):
        # Check that this frame keeps cookies *before* the platform's one-time
        # message hint is spent (Moodle's launchid works once): if not, offer a
        # new window that starts this very login again, first-party.
        again: dict[str, Any] = {k: v for k, v in params.items() if k != "new_window"}
        new_window = url_for("lti.login", new_window="1", **again)
        resp = make_response(render_template("lti/login_cookie_check.html", plan=plan, new_window_url=new_window,
                                             check_name=COOKIE_CHECK))
        settings = b.settings
        resp.set_cookie(COOKIE_CHECK, "1", max_age=60, secure=settings.secure_cookies, httponly=False,
                        samesite="None" if settings.secure_cookies else "Lax", path="/lti/",
                        partitioned=settings.secure_cookies)
    else:
        resp = redirect(plan.auth_url, code=302)
    _set_state_cookie(resp, plan.state)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/launch")
def launch_info() -> str:
    """Moodle GETs the tool URL when an activity is saved (its cartridge check): answer politely."""
    return render_template("lti/launch_info.html")


@bp.post("/launch")
def launch() -> Response:
    b = bridge()
    state_param = request.form.get("state")
    record = b.validator.peek_state(state_param)
    assert state_param is not None
    bound = request.cookies.get(_state_cookie(state_param)) == state_param or hmac.compare_digest(
        request.form.get("lti_storage_state", ""), state_param
    )
    if not bound:
        if record.storage and "lti_storage_state" not in request.form:
            # No cookie came back: ask the platform's storage frame for the state.
            html = render_template(
                "lti/launch_storage.html",
                id_token=request.form.get("id_token", ""),
                state=state_param,
                state_key="lb_state_" + state_param[:16],
                target=record.storage_target or "_parent",
                origin=record.auth_origin,
            )
            relay: Response = make_response(html)
            relay.headers["Cache-Control"] = "no-store"
            return relay
        new_window = url_for("lti.login", _external=False, new_window="1", **record.login)
        raise_blocked = LaunchError(
            _("Your browser blocked the cookie this launch needs."), code="state_cookie_missing"
        )
        return _blocked_cookie_page(raise_blocked, new_window)
    state = b.validator.consume_state(state_param)
    validated = b.validator.validate(request.form.get("id_token"), state)
    ls = record_launch(validated)
    resp = redirect(_landing(ls), code=303)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _blocked_cookie_page(exc: LtiError, new_window_url: str) -> Response:
    html = render_template("lti/cookies_blocked.html", code=exc.code, new_window_url=new_window_url)
    resp = make_response(html, 400)
    resp.headers["X-LTI-Error"] = exc.code
    return resp


# -- keys and configuration -------------------------------------------------


@bp.get("/jwks.json")
def jwks() -> Response:
    resp = jsonify(bridge().keyring.jwks())
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/config.json")
def config_json() -> Response:
    return jsonify(tool_configuration(bridge().settings.base_url))


@bp.get("/setup")
def setup() -> str:
    return render_template("lti/setup.html", config=tool_configuration(bridge().settings.base_url))


# -- landing ---------------------------------------------------------------


def _landing(ls: LaunchSession) -> str:
    """Where a fresh launch goes: the picker, the link's feature, or its setup."""
    if ls.message_type == c.DEEP_LINKING_REQUEST:
        return url_for("lti.deep_link", launch=ls.id)
    feature_key = link_feature(ls.resource_link_pk) if ls.resource_link_pk else None
    feature = FEATURES.get(feature_key or "")
    if feature is not None:
        return url_for(feature.endpoint, launch=ls.id)
    return url_for("lti.home", launch=ls.id)


@bp.get("/home")
def home() -> Any:
    ls = current_launch()
    assert ls is not None
    target = _landing(ls)
    if not target.startswith(url_for("lti.home")):
        return redirect(target)
    if at_least(ls.role, INSTRUCTOR):
        return render_template(
            "lti/link_setup.html", ls=ls, features=[f for f in FEATURES.values() if f.standalone], csrf=csrf_token(ls)
        )
    return render_template("lti/not_set_up.html", ls=ls)


@bp.post("/link-setup")
def link_setup() -> Any:
    ls = current_launch()
    assert ls is not None
    check_csrf(ls)
    if not at_least(ls.role, INSTRUCTOR) or not ls.resource_link_pk:
        abort(403, description=_("Only teachers of this course can set up the link."))
    key = request.form.get("feature", "")
    if key not in FEATURES or not FEATURES[key].standalone:
        abort(400, description=_("Please choose one of the offered items."))
    s = db_session()
    link = s.get(ResourceLink, ls.resource_link_pk)
    assert link is not None
    link.feature = key
    s.commit()
    return redirect(url_for(FEATURES[key].endpoint, launch=ls.id), code=303)


@bp.get("/welcome")
def welcome() -> str:
    ls = current_launch()
    assert ls is not None
    ags = ls.ags or {}
    can_complete = bool(ags.get("lineitem") and c.SCOPE_SCORE in (ags.get("scope") or []))
    return render_template(
        "lti/welcome.html",
        ls=ls,
        csrf=csrf_token(ls),
        can_complete=can_complete and ls.role == "learner" and request.args.get("done") != "1",
        is_instructor=at_least(ls.role, INSTRUCTOR),
        has_roster=bool((ls.nrps or {}).get("context_memberships_url")),
        completed=request.args.get("done") == "1",
    )


@bp.post("/welcome/complete")
def welcome_complete() -> Any:
    ls = current_launch()
    assert ls is not None
    check_csrf(ls)
    b = bridge()
    user = db_session().get(LtiUser, ls.user_pk)
    assert user is not None
    info = b.registry.find(ls.issuer, ls.client_id)
    post_score(
        b.connector(info),
        ls.ags or {},
        user_sub=b.box.decrypt(user.sub_enc),
        score_given=1,
        score_maximum=1,
        comment=None,
    )
    return redirect(url_for("lti.welcome", launch=ls.id, done="1"), code=303)


@bp.get("/roster")
def roster() -> str:
    ls = current_launch()
    assert ls is not None
    if not at_least(ls.role, INSTRUCTOR):
        abort(403, description=_("Only teachers can see the course roster."))
    if not (ls.nrps or {}).get("context_memberships_url"):
        abort(404, description=_("The LMS does not offer the roster for this course."))
    b = bridge()
    members = fetch_roster(b.connector(b.registry.find(ls.issuer, ls.client_id)), ls.nrps)
    from lti_tool.protocol.roles import primary_role

    rows = [
        {
            "name": m.get("name") or " ".join(x for x in (m.get("given_name"), m.get("family_name")) if x) or "–",
            "role": primary_role(m.get("roles") or []),
            "status": m.get("status", "Active"),
        }
        for m in members
    ]
    rows.sort(key=lambda r: (r["role"] != "instructor", str(r["name"]).lower()))
    return render_template("lti/roster.html", ls=ls, rows=rows)


# -- deep linking -------------------------------------------------------------


@bp.route("/deep-link", methods=["GET", "POST"])
def deep_link() -> Any:
    ls = current_launch()
    assert ls is not None
    if ls.message_type != c.DEEP_LINKING_REQUEST:
        abort(400, description=_("This page is only available when adding the tool to a course."))
    if not at_least(ls.role, INSTRUCTOR):
        abort(403, description=_("Only teachers can add content to a course."))
    settings = ls.deep_linking_settings or {}
    if request.method == "GET":
        return render_template(
            "lti/deep_link.html",
            ls=ls,
            features=deep_link_choices(ls),
            csrf=csrf_token(ls),
            multiple=bool(settings.get("accept_multiple")),
        )
    check_csrf(ls)
    b = bridge()
    info = b.registry.find(ls.issuer, ls.client_id)
    registration = to_pylti1p3(info, b.keyring)
    if request.form.get("action") == "cancel":
        token, return_url = deep_linking_response(
            registration, ls.deployment_id, settings, [], errormsg=_("Cancelled by the teacher.")
        )
    else:
        offered = {choice.key: choice for choice in deep_link_choices(ls)}
        chosen = [offered[k] for k in request.form.getlist("feature") if k in offered]
        if not chosen:
            abort(400, description=_("Please choose at least one item."))
        if not settings.get("accept_multiple"):
            chosen = chosen[:1]
        items = [
            ContentItem(
                title=str(f.title),
                text=str(f.description),
                url=b.url("/lti/launch"),
                custom=f.custom,
                lineitem={"scoreMaximum": 1, "label": str(f.title), "tag": "completion", "resourceId": f.key}
                if f.graded and ls.ags
                else None,
            )
            for f in chosen
        ]
        token, return_url = deep_linking_response(
            registration,
            ls.deployment_id,
            settings,
            items,
            msg=_("%(count)d item(s) added.", count=len(items)),
        )
    resp = make_response(render_template("lti/autopost.html", action=return_url, fields={"JWT": token}))
    resp.headers["Cache-Control"] = "no-store"
    return resp
