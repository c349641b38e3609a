"""LTI Advantage services: AGS scores, NRPS rosters, Deep Linking responses.

Built on pylti1p3's ``AssignmentsGradesService``, ``NamesRolesProvisioningService``
and ``DeepLink``, with a ``ServiceConnector`` that
- caches platform access tokens in the shared store until shortly before they
  expire (pylti1p3 asks the platform for a new token on every call),
- sets timeouts and turns HTTP failures into ``ServiceError``,
- follows NRPS ``Link: rel="next"`` URLs exactly as sent (pylti1p3 lower-cases
  the whole header, which breaks Moodle's ``/CourseSection/`` paging URLs).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration as PyRegistration
from pylti1p3.service_connector import ServiceConnector

from lti_tool.protocol import claims as c
from lti_tool.protocol.errors import ServiceError
from lti_tool.store import Store

TOKEN_SAFETY_MARGIN = 60


class CachingServiceConnector(ServiceConnector):
    def __init__(
        self, registration: PyRegistration, store: Store, http: requests.Session, timeout: float = 10.0
    ) -> None:
        super().__init__(registration, requests_session=http)
        self.store = store
        self.timeout = timeout
        self.token_requests = 0

    def _cache_key(self, scopes: Sequence[str]) -> str:
        raw = "|".join([self._registration.get_issuer() or "", self._registration.get_client_id() or ""] + sorted(scopes))
        return "token:" + hashlib.sha256(raw.encode()).hexdigest()

    def get_access_token(self, scopes: Sequence[str]) -> str:
        key = self._cache_key(scopes)
        cached = self.store.get(key)
        if cached:
            return str(cached)
        client_id = self._registration.get_client_id()
        token_url = self._registration.get_auth_token_url()
        assert client_id and token_url
        private_key = self._registration.get_tool_private_key()
        assert private_key, "the tool's signing key is missing"
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": client_id,
                "sub": client_id,
                "aud": self._registration.get_auth_audience() or token_url,
                "iat": now - 5,
                "exp": now + 60,
                "jti": "lms-bridge-" + uuid.uuid4().hex,
            },
            private_key,
            algorithm="RS256",
            headers={"kid": self._registration.get_kid()},
        )
        self.token_requests += 1
        try:
            resp = self._requests_session.post(
                token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": assertion,
                    "scope": " ".join(sorted(scopes)),
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ServiceError("The LMS token endpoint cannot be reached.", code="token_unreachable") from exc
        if not resp.ok:
            raise ServiceError(
                f"The LMS refused an access token (HTTP {resp.status_code}).", code="token_refused"
            )
        try:
            body = resp.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceError("The LMS token answer is not understood.", code="token_refused") from exc
        ttl = int(body.get("expires_in") or 3600) - TOKEN_SAFETY_MARGIN
        if ttl > 0:
            self.store.put(key, token, ttl)
        return token

    def make_service_request(  # type: ignore[override]
        self,
        scopes: Sequence[str],
        url: str,
        is_post: bool = False,
        data: str | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        case_insensitive_headers: bool = False,
    ) -> dict[str, Any]:
        token = self.get_access_token(scopes)
        headers = {"Authorization": "Bearer " + token, "Accept": accept}
        try:
            if is_post:
                headers["Content-Type"] = content_type
                r = self._requests_session.post(url, data=data or None, headers=headers, timeout=self.timeout)
            else:
                r = self._requests_session.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServiceError("The LMS service cannot be reached.", code="service_unreachable") from exc
        if r.status_code == 401:
            # A token revoked early: forget it so the next call asks again.
            self.store.delete(self._cache_key(scopes))
        if not r.ok:
            raise ServiceError(f"The LMS service answered HTTP {r.status_code}.", code="service_failed")
        next_url = r.links.get("next", {}).get("url")
        try:
            body = r.json() if r.content else None
        except ValueError as exc:
            raise ServiceError("The LMS service answer is not JSON.", code="service_failed") from exc
        return {"headers": r.headers if case_insensitive_headers else dict(r.headers), "body": body, "next_page_url": next_url}


def _wrap(exc: Exception) -> ServiceError:
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, LtiServiceException):
        return ServiceError("The LMS service refused the call.", code="service_failed")
    return ServiceError(str(exc), code="service_unavailable")


def post_score(
    connector: CachingServiceConnector,
    ags_claim: dict[str, Any],
    *,
    user_sub: str,
    score_given: float,
    score_maximum: float,
    activity_progress: str = "Completed",
    grading_progress: str = "FullyGraded",
    lineitem: dict[str, Any] | None = None,
    comment: str | None = None,
) -> str:
    """Post a score; create the line item (found by tag) when the link has none. Returns its URL."""
    ags = AssignmentsGradesService(connector, ags_claim)  # type: ignore[arg-type]
    grade = (
        Grade()
        .set_score_given(score_given)
        .set_score_maximum(score_maximum)
        .set_timestamp(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
        .set_activity_progress(activity_progress)
        .set_grading_progress(grading_progress)
        .set_user_id(user_sub)
    )
    if comment:
        grade.set_comment(comment)
    try:
        if ags_claim.get("lineitem"):
            ags.put_grade(grade)
            return str(ags_claim["lineitem"])
        if not lineitem:
            raise ServiceError("The link has no line item and none was described.", code="lineitem_missing")
        li = LineItem(lineitem)  # type: ignore[arg-type]
        found = ags.find_or_create_lineitem(li, find_by="tag" if lineitem.get("tag") else "resource_id")
        ags.put_grade(grade, found)
        return str(found.get_id())
    except (LtiException, LtiServiceException) as exc:
        raise _wrap(exc) from exc


def fetch_roster(connector: CachingServiceConnector, nrps_claim: dict[str, Any]) -> list[dict[str, Any]]:
    """All members of the context, following paging links."""
    nrps = NamesRolesProvisioningService(connector, nrps_claim)  # type: ignore[arg-type]
    try:
        return [dict(m) for m in nrps.get_members()]
    except (LtiException, LtiServiceException) as exc:
        raise _wrap(exc) from exc


@dataclass(frozen=True)
class ContentItem:
    title: str
    url: str
    text: str = ""
    custom: dict[str, str] | None = None
    lineitem: dict[str, Any] | None = None


def deep_linking_response(
    registration: PyRegistration,
    deployment_id: str,
    settings: dict[str, Any],
    items: Sequence[ContentItem],
    *,
    msg: str | None = None,
    errormsg: str | None = None,
) -> tuple[str, str]:
    """Signed ``LtiDeepLinkingResponse`` JWT and the URL to post it to."""
    resources = []
    for item in items:
        res = DeepLinkResource().set_title(item.title).set_url(item.url)
        if item.custom:
            res.set_custom_params(item.custom)
        if item.lineitem:
            li = LineItem()
            li.set_score_maximum(item.lineitem.get("scoreMaximum", 1))
            li.set_label(item.lineitem.get("label", item.title))
            if item.lineitem.get("tag"):
                li.set_tag(item.lineitem["tag"])
            if item.lineitem.get("resourceId"):
                li.set_resource_id(item.lineitem["resourceId"])
            res.set_lineitem(li)
        resources.append(res)
    link = DeepLink(registration, deployment_id, settings)  # type: ignore[arg-type]
    message = link.get_message_jwt(resources)
    for entry, item in zip(message[c.DL_CONTENT_ITEMS], items, strict=True):  # type: ignore[call-overload]
        if item.text:
            entry["text"] = item.text
        if not item.custom:
            entry.pop("custom", None)
    if settings.get("data") is None:
        message.pop(c.DL_DATA, None)
    if msg:
        message[c.DL_MSG] = msg
    if errormsg:
        message[c.DL_ERRORMSG] = errormsg
    return link.encode_jwt(message), str(settings["deep_link_return_url"])
