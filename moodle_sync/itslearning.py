"""itslearning: what its REST API allows with a user's credentials, and an honest report of the rest.

itslearning's REST API (``{site}/restapi/...``) acts as *one user* with an OAuth2 access
token. This client implements only calls that work with such a token and that the tool can use:

==============================================  ============================================
``POST restapi/oauth2/token``                   code → tokens, refresh (documented grant types
                                                ``authorization_code`` and ``refresh_token``)
``GET restapi/personal/person/v1``              the user's profile (``PersonProfile``)
``GET restapi/personal/courses/v2``             the user's courses, paged (``PersonCourse``;
                                                ``v1`` of this list returns favourites only)
``GET restapi/personal/courses/withrole/{id}/v1``  one course and the user's role in it
``GET restapi/personal/courses/{id}/participants/v1``  a course's participants, paged
                                                (``CourseParticipant``; only what the user may see)
==============================================  ============================================

Paged answers use itslearning's ``EntityList`` envelope (``EntityArray``, ``Total``,
``CurrentPageIndex``, ``PageSize``) with ``PageIndex``/``PageSize`` query parameters. Field
names follow itslearning's REST help pages (``restapi/help``); the ``v2`` course list and the
participant list are taken from clients built on those pages – no itslearning site was
available to record real answers, so the fake server answers in the documented shapes only.

What it does **not** do, on purpose (see :func:`capability_report`): push content into
courses, create courses or enrol people. With a user's token itslearning offers no such
calls; content and provisioning go through the *Organisation API*, which itslearning grants
to an organisation by agreement – the tool cannot enable it. Cartridges reach itslearning
through a person with the **Course Importer**, single OER items through **LTI 1.3 Deep
Linking** (the tool's normal route). The authorization URL a user signs in at is given by
itslearning when the application is registered; this client starts from the code or tokens.

Errors are the :mod:`moodle_sync.errors` tree: 401 → :class:`ConfigurationError` (after one
refresh when a refresh token is known), 403 → :class:`AccessDenied`, 404 → :class:`NotFound`,
400 → :class:`InvalidParameter`, other answers → :class:`MoodleError` (the tree's generic
refusal, ``errorcode`` ``http<status>``), connection problems and 408/429/5xx after the retries
of a read → :class:`TransportError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from moodle_sync.errors import (
    AccessDenied,
    ConfigurationError,
    InvalidParameter,
    MoodleError,
    NotFound,
    SyncError,
    TransportError,
)

log = logging.getLogger(__name__)

TOKEN_PATH = "/restapi/oauth2/token"
PERSON_PATH = "/restapi/personal/person/v1"
COURSES_PATH = "/restapi/personal/courses/v2"
COURSE_WITH_ROLE_PATH = "/restapi/personal/courses/withrole/{course_id}/v1"
PARTICIPANTS_PATH = "/restapi/personal/courses/{course_id}/participants/v1"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
PAGE_SIZE = 100
#: a runaway paging loop stops here (100 000 entries)
MAX_PAGES = 1000


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Tokens:
        return cls(
            str(data.get("access_token") or ""),
            str(data.get("refresh_token") or ""),
            int(data.get("expires_in") or 0),
            str(data.get("token_type") or "Bearer"),
        )


@dataclass(frozen=True)
class Person:
    person_id: int
    first_name: str
    last_name: str
    language: str
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Person:
        return cls(
            int(data.get("PersonId") or 0),
            str(data.get("FirstName") or ""),
            str(data.get("LastName") or ""),
            str(data.get("Language") or ""),
            data,
        )


@dataclass(frozen=True)
class Course:
    course_id: int
    title: str
    code: str
    friendly_name: str
    url: str
    has_admin_permissions: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Course:
        return cls(
            int(data.get("CourseId") or 0),
            str(data.get("Title") or ""),
            str(data.get("CourseCode") or data.get("Code") or ""),
            str(data.get("FriendlyName") or ""),
            str(data.get("Url") or ""),
            bool(data.get("HasAdminPermissions")),
            data,
        )


@dataclass(frozen=True)
class CourseWithRole:
    course_id: int
    title: str
    code: str
    context_role: int
    organisation_id: int
    sync_key: str
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> CourseWithRole:
        return cls(
            int(data.get("CourseId") or 0),
            str(data.get("Title") or ""),
            str(data.get("Code") or ""),
            int(data.get("ContextRole") or 0),
            int(data.get("OrganisationId") or 0),
            str(data.get("SyncKey") or ""),
            data,
        )


@dataclass(frozen=True)
class Participant:
    person_id: int
    full_name: str
    role: str
    role_id: int
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Participant:
        return cls(
            int(data.get("PersonId") or 0),
            str(data.get("FullName") or ""),
            str(data.get("Role") or ""),
            int(data.get("RoleId") or 0),
            data,
        )


class ItslearningClient:
    """itslearning's REST API for one site and one user's tokens."""

    def __init__(
        self,
        site_url: str,
        access_token: str,
        *,
        refresh_token: str = "",
        client_id: str = "",
        client_secret: str = "",
        on_tokens: Callable[[Tokens], None] | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.on_tokens = on_tokens
        self.session = session or requests.Session()
        self._own_session = session is None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.requests = 0

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> ItslearningClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ItslearningClient({self.site_url!r})"

    # -- tokens --------------------------------------------------------------------------------------

    @classmethod
    def exchange_code(
        cls,
        site_url: str,
        client_id: str,
        code: str,
        *,
        client_secret: str = "",
        redirect_uri: str = "",
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5, 30),
    ) -> Tokens:
        """Turn the code the user brought back from signing in into tokens (``authorization_code``)."""
        form = {"client_id": client_id, "grant_type": "authorization_code", "code": code}
        if client_secret:
            form["client_secret"] = client_secret
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        return _token_request(site_url.rstrip("/"), form, session, timeout)

    def refresh(self) -> Tokens:
        """Get a new access/refresh token pair (``refresh_token``); tell ``on_tokens``."""
        if not self.refresh_token or not self.client_id:
            raise ConfigurationError(
                "the access token was refused and no refresh token is known",
                errorcode="invalid_token",
                wsfunction=TOKEN_PATH,
                hint="sign in to itslearning again to give the tool new tokens",
            )
        form = {"client_id": self.client_id, "grant_type": "refresh_token", "refresh_token": self.refresh_token}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        self.requests += 1
        tokens = _token_request(self.site_url, form, self.session, self.timeout)
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token or self.refresh_token
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    # -- reads ---------------------------------------------------------------------------------------

    def me(self) -> Person:
        return Person.from_ws(self.get(PERSON_PATH))

    def courses(self, *, page_size: int = PAGE_SIZE) -> list[Course]:
        """Every course of the user (all pages)."""
        return [Course.from_ws(c) for c in self._pages(COURSES_PATH, {}, page_size)]

    def course(self, course_id: int) -> CourseWithRole:
        return CourseWithRole.from_ws(self.get(COURSE_WITH_ROLE_PATH.format(course_id=int(course_id))))

    def participants(self, course_id: int, *, page_size: int = PAGE_SIZE) -> list[Participant]:
        """The course's participants the user may see (teachers see them; learners may be refused: 403)."""
        path = PARTICIPANTS_PATH.format(course_id=int(course_id))
        return [Participant.from_ws(p) for p in self._pages(path, {}, page_size)]

    def _pages(self, path: str, params: Mapping[str, Any], page_size: int) -> Iterator[Mapping[str, Any]]:
        seen = 0
        for index in range(MAX_PAGES):
            page = self.get(path, {**params, "PageIndex": index, "PageSize": page_size})
            entities = list(page.get("EntityArray") or [])
            yield from entities
            seen += len(entities)
            total = int(page.get("Total") or 0)
            if not entities or seen >= total:
                return
        raise TransportError(f"{path} still had more pages after {MAX_PAGES}", wsfunction=path)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a REST path (a read: retried on connection errors and 408/429/5xx; one refresh on 401)."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self.session.get(
                    self.site_url + path,
                    params=dict(params or {}),
                    headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if attempt <= self.retries:
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                raise TransportError(f"{self.site_url}: {kind}", wsfunction=path, attempts=attempt) from exc
            with response:
                status = response.status_code
                if status in RETRY_STATUSES:
                    if attempt <= self.retries:
                        retry_after = response.headers.get("Retry-After", "")
                        delay = float(retry_after) if retry_after.isdigit() else self.backoff * 2 ** (attempt - 1)
                        self.sleep(delay)
                        continue
                    raise TransportError(
                        f"{self.site_url} answered HTTP {status}", wsfunction=path, status=status, attempts=attempt
                    )
                if status == 401 and not refreshed and self.refresh_token and self.client_id:
                    refreshed = True
                    self.refresh()
                    attempt = 0
                    continue
                if status != 200:
                    raise _http_error(response, path)
                return _json(response, path)


# -- what the tool can do in itslearning ------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    key: str
    available: bool
    via: str
    text: str


CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "read_profile",
        True,
        "REST API as the user (GET restapi/personal/person/v1)",
        "read the signed-in user's profile",
    ),
    Capability(
        "list_courses",
        True,
        "REST API as the user (GET restapi/personal/courses/v2)",
        "list the user's courses",
    ),
    Capability(
        "course_participants",
        True,
        "REST API as the user (GET restapi/personal/courses/{id}/participants/v1)",
        "list a course's participants, as far as the user may see them",
    ),
    Capability(
        "push_content",
        False,
        "Organisation API – only when itslearning grants it to the organisation",
        "put content (pages, files, links) into a course; the tool cannot do this with a user's token",
    ),
    Capability(
        "provision",
        False,
        "Organisation API / itslearning's own imports – arranged with itslearning and the site's administrators",
        "create courses, people and enrolments",
    ),
    Capability(
        "import_cartridge",
        False,
        "a person with itslearning's Course Importer (Common Cartridge 1.1–1.3 into an existing course)",
        "import a whole collection as a Common Cartridge; the tool gives the file and the steps",
    ),
    Capability(
        "resource_links",
        True,
        "LTI 1.3 Deep Linking: a teacher adds LMS Bridge items from the course",
        "add single OER items as links to the tool's viewer",
    ),
)


@dataclass
class CapabilityReport:
    site_url: str
    capabilities: tuple[Capability, ...] = CAPABILITIES
    user: Person | None = None
    error: SyncError | None = None

    def get(self, key: str) -> Capability:
        return next(c for c in self.capabilities if c.key == key)

    def render(self) -> str:
        lines = [f"itslearning site {self.site_url}"]
        if self.user is not None:
            lines.append(f"  signed in as {self.user.first_name} {self.user.last_name} (person {self.user.person_id})")
        if self.error is not None:
            lines.append(f"  the REST API did not accept the tokens: {self.error}")
        for cap in self.capabilities:
            lines.append(f"  {cap.key}: {'yes' if cap.available else 'no'} – {cap.text}")
            lines.append(f"    via {cap.via}")
        return "\n".join(lines)


def capability_report(client: ItslearningClient | None = None, *, site_url: str = "") -> CapabilityReport:
    """What the tool can and cannot do in itslearning; with a client it checks the tokens work."""
    report = CapabilityReport(site_url=client.site_url if client else site_url)
    if client is None:
        return report
    try:
        report.user = client.me()
    except SyncError as exc:
        report.error = exc
        report.capabilities = tuple(
            Capability(c.key, False, c.via, c.text) if c.via.startswith("REST API") else c for c in CAPABILITIES
        )
    return report


# -- helpers ----------------------------------------------------------------------------------------------


def _token_request(
    site_url: str,
    form: Mapping[str, str],
    session: requests.Session | None,
    timeout: float | tuple[float, float],
) -> Tokens:
    http = session or requests.Session()
    try:
        try:
            response = http.post(site_url + TOKEN_PATH, data=dict(form), timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise TransportError(f"{site_url}: connection failed", wsfunction=TOKEN_PATH) from exc
        with response:
            if response.status_code in RETRY_STATUSES:
                raise TransportError(
                    f"{site_url} answered HTTP {response.status_code}",
                    wsfunction=TOKEN_PATH,
                    status=response.status_code,
                )
            try:
                data = response.json()
            except ValueError:
                data = {}
            if response.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
                return Tokens.from_ws(data)
            code = str((data or {}).get("error") or f"http{response.status_code}") if isinstance(data, dict) else ""
            description = str(data.get("error_description") or "") if isinstance(data, dict) else ""
            raise ConfigurationError(
                f"itslearning refused the token request: {description or code}",
                errorcode=code or None,
                wsfunction=TOKEN_PATH,
                hint="the code or refresh token is invalid or used up, or the client id is wrong: sign in again",
            )
    finally:
        if session is None:
            http.close()


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(data, dict):
        return str(data.get("Message") or data.get("message") or data.get("error_description") or data)
    return str(data)[:200]


def _http_error(response: requests.Response, path: str) -> SyncError:
    status = response.status_code
    message = _message(response) or f"HTTP {status}"
    kw: dict[str, Any] = {"errorcode": f"http{status}", "wsfunction": path}
    if status == 401:
        return ConfigurationError(
            message, hint="the access token is invalid or expired: sign in to itslearning again", **kw
        )
    if status == 403:
        return AccessDenied(message, hint="the signed-in user may not see this in itslearning", **kw)
    if status == 404:
        return NotFound(message, **kw)
    if status == 400:
        return InvalidParameter(message, **kw)
    if 300 <= status < 400:
        return ConfigurationError(
            f"{path} redirects to {response.headers.get('Location', '?')}",
            hint="use the itslearning address the site redirects to",
            **kw,
        )
    return MoodleError(message, **kw)


def _json(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ConfigurationError(
            f"{path} did not answer JSON",
            wsfunction=path,
            hint="this does not look like itslearning's REST API: check the site address",
        ) from None


__all__ = [
    "CAPABILITIES",
    "Capability",
    "CapabilityReport",
    "Course",
    "CourseWithRole",
    "ItslearningClient",
    "Participant",
    "Person",
    "Tokens",
    "capability_report",
]
