"""Persist a validated launch and keep a server-side launch session.

Writes happen only here, after every check passed. The launch session lives
in the shared store and is found by an unguessable id carried in the URL
(``?launch=``) or the tool's session cookie, so pages keep working in
iframes where the browser blocks third-party cookies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import abort, g, request, session
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.db import db_session, utcnow
from lti_tool.models import LtiContext, LtiUser, Membership, ResourceLink
from lti_tool.protocol import claims as c
from lti_tool.protocol.launch import ValidatedLaunch


@dataclass
class LaunchSession:
    id: str
    data: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _upsert_user(s: Session, launch: ValidatedLaunch) -> LtiUser:
    box = bridge().box
    claims = launch.claims
    sub_hash = box.pseudonym(launch.registration.issuer, str(claims["sub"]))
    user = s.scalar(
        select(LtiUser).where(
            LtiUser.platform_id == launch.registration.platform_pk, LtiUser.sub_hash == sub_hash
        )
    )
    if user is None:
        user = LtiUser(
            platform_id=launch.registration.platform_pk,
            sub_hash=sub_hash,
            sub_enc=box.encrypt(str(claims["sub"])),
        )
        s.add(user)
    # Display name only (when sent): pages greet people and list members by it.
    # E-mail addresses are not stored.
    name = claims.get("name") or " ".join(
        x for x in (claims.get("given_name"), claims.get("family_name")) if x
    )
    user.name = name or None
    user.locale = launch.locale
    user.last_seen = utcnow()
    return user


def _upsert_context(s: Session, launch: ValidatedLaunch) -> LtiContext | None:
    ctx = launch.context
    if not ctx.get("id"):
        return None
    row = s.scalar(
        select(LtiContext).where(
            LtiContext.deployment_pk == launch.deployment_pk, LtiContext.context_id == str(ctx["id"])
        )
    )
    if row is None:
        row = LtiContext(deployment_pk=launch.deployment_pk, context_id=str(ctx["id"]))
        s.add(row)
    row.title = str(ctx.get("title") or "")[:255]
    row.label = str(ctx.get("label") or "")[:255]
    nrps = launch.claims.get(c.NRPS)
    if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
        row.nrps_url = nrps["context_memberships_url"]
    ags = launch.claims.get(c.AGS_ENDPOINT)
    if isinstance(ags, dict):
        row.ags_lineitems_url = ags.get("lineitems") or row.ags_lineitems_url
        row.ags_scopes = " ".join(ags.get("scope") or []) or row.ags_scopes
    return row


def _write_launch(s: Session, launch: ValidatedLaunch) -> tuple[LtiUser, LtiContext | None, ResourceLink | None]:
    user = _upsert_user(s, launch)
    context = _upsert_context(s, launch)
    s.flush()
    link: ResourceLink | None = None
    if context is not None:
        membership = s.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.context_pk == context.id)
        )
        if membership is None:
            membership = Membership(user_id=user.id, context_pk=context.id, role=launch.role)
            s.add(membership)
        membership.role = launch.role
        membership.last_launch = utcnow()
        rl = launch.resource_link
        if rl.get("id"):
            link = s.scalar(
                select(ResourceLink).where(
                    ResourceLink.context_pk == context.id, ResourceLink.resource_link_id == str(rl["id"])
                )
            )
            if link is None:
                link = ResourceLink(context_pk=context.id, resource_link_id=str(rl["id"]))
                s.add(link)
            link.title = str(rl.get("title") or "")[:255]
            ags = launch.claims.get(c.AGS_ENDPOINT)
            if isinstance(ags, dict) and ags.get("lineitem"):
                link.ags_lineitem_url = ags["lineitem"]
            feature = launch.custom.get("feature")
            if feature and not link.feature:
                link.feature = str(feature)[:64]
    s.commit()
    return user, context, link


def record_launch(launch: ValidatedLaunch) -> LaunchSession:
    """Upsert user, context, membership and link, then open a launch session.

    Rows are looked up, then inserted; when two first launches of the same
    person or course race (a whole class opening a new link), the loser hits a
    unique constraint, rolls back and retries once, finding the winner's rows.
    """
    s = db_session()
    try:
        user, context, link = _write_launch(s, launch)
    except IntegrityError:
        s.rollback()
        user, context, link = _write_launch(s, launch)

    data: dict[str, Any] = {
        "registration_pk": launch.registration.pk,
        "issuer": launch.registration.issuer,
        "client_id": launch.registration.client_id,
        "deployment_id": launch.deployment_id,
        "deployment_pk": launch.deployment_pk,
        "message_type": launch.message_type,
        "user_pk": user.id,
        "user_name": user.name,
        "role": launch.role,
        "roles": launch.roles,
        "locale": launch.locale,
        "context_pk": context.id if context else None,
        "context_title": context.title if context else "",
        "resource_link_pk": link.id if link else None,
        "resource_link_title": link.title if link else "",
        "custom": launch.custom,
        "ags": launch.claims.get(c.AGS_ENDPOINT),
        "nrps": launch.claims.get(c.NRPS),
        "deep_linking_settings": launch.claims.get(c.DL_SETTINGS),
        "platform": (launch.claims.get(c.TOOL_PLATFORM) or {}).get("product_family_code"),
    }
    launch_id = secrets.token_urlsafe(24)
    bridge().store.put("launch:" + launch_id, data, bridge().settings.launch_ttl)
    session["launch"] = launch_id
    if launch.locale:
        session["locale"] = launch.locale
    return LaunchSession(launch_id, data)


def current_launch(required: bool = True) -> LaunchSession | None:
    """The launch session of this request (``?launch=``, form field, or cookie)."""
    if "launch_session" in g:
        return g.launch_session
    launch_id = request.values.get("launch") or session.get("launch")
    data = bridge().store.get("launch:" + launch_id) if launch_id else None
    if data is None or not launch_id:
        if required:
            abort(401, description=_("Your LTI session has expired. Please open the tool again from your course."))
        return None
    g.launch_session = LaunchSession(launch_id, data)
    if data.get("locale"):
        g.launch_locale = data["locale"]
    return g.launch_session


def link_feature(link_pk: int) -> str | None:
    """The feature a resource link was set up to open, if any."""
    link = db_session().get(ResourceLink, link_pk)
    return link.feature if link is not None else None
