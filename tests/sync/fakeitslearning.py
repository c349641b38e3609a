"""A fake itslearning REST API: a real HTTP server in the test process, answering in the documented shapes.

Shapes follow itslearning's REST help pages (``restapi/help``): the token endpoint
(``POST restapi/oauth2/token`` with ``authorization_code`` / ``refresh_token``, answer
``access_token``, ``token_type``, ``expires_in``, ``refresh_token``), ``PersonProfile``,
``PersonCourse``, ``CourseWithContextRole``, ``CourseParticipant`` and the ``EntityList``
envelope (``EntityArray``, ``Total``, ``CurrentPageIndex``, ``PageSize``) with
``PageIndex``/``PageSize``. No real itslearning answers could be recorded; refusals use
ASP.NET Web API's default body (``{"Message": ...}``) and OAuth2's (``error``,
``error_description``) for the token endpoint.

Test controls: ``expire(access_token)``, ``fail_next(path_prefix, status)``, ``deny(course_id)``
(participants refused with 403), and the call log ``calls``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

CLIENT_ID = "7abc00f3-32e6-4602-a784-c51b36d2798d"
DENIED = {"Message": "Authorization has been denied for this request."}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    status: int = 200


@dataclass
class FakeSite:
    persons: dict[int, dict[str, Any]] = field(default_factory=dict)
    courses: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: course id -> [(person id, role, role id)]
    members: dict[int, list[tuple[int, str, int]]] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeItslearning


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake._get(self)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.server.fake._post(self, self.rfile.read(length))

    def send(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeItslearning:
    """One itslearning site with a signed-in teacher, courses and participants."""

    def __init__(self) -> None:
        self.site = FakeSite()
        self.calls: list[Call] = []
        self.access: dict[str, int] = {}  # access token -> person id
        self.refresh_tokens: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.denied_courses: set[int] = set()
        self.failures: list[tuple[str, int]] = []
        self._counter = itertools.count(1)
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._seed()

    # -- life cycle -------------------------------------------------------------------------------------

    def start(self) -> FakeItslearning:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeItslearning:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------------------

    def _seed(self) -> None:
        self.site.persons = {
            501: {"PersonId": 501, "FirstName": "Tina", "LastName": "Lehrer", "Language": "de-DE"},
            502: {"PersonId": 502, "FirstName": "Sam", "LastName": "Schüler", "Language": "de-DE"},
        }
        for i in range(1, 4):
            self.site.courses[1000 + i] = {
                "CourseId": 1000 + i,
                "Title": f"Medienkompetenz 7{'abc'[i - 1]}",
                "FriendlyName": "",
                "CourseCode": f"MK7{'ABC'[i - 1]}",
                "Url": f"/main.aspx?CourseID={1000 + i}",
                "HasAdminPermissions": True,
                "HasStudentPermissions": False,
                "LastUpdatedUtc": "2026-03-02T08:00:00Z",
                "NewNotificationsCount": 0,
                "NewBulletinsCount": 0,
                "CourseColorClass": "ccl-blue",
                "CourseFillColor": "#1a73e8",
            }
        self.site.members[1001] = [(501, "Lehrkraft", 1)] + [(600 + n, "Schüler/in", 2) for n in range(250)]
        self.site.members[1002] = [(501, "Lehrkraft", 1), (502, "Schüler/in", 2)]
        self.site.members[1003] = [(501, "Lehrkraft", 1)]
        self.codes["code-teacher"] = 501
        self.codes["code-learner"] = 502

    def token_for(self, person_id: int) -> tuple[str, str]:
        """Issue an access and a refresh token for ``person_id`` (as a finished sign-in would)."""
        with self._lock:
            n = next(self._counter)
            access, refresh = f"at-{person_id}-{n}", f"rt-{person_id}-{n}"
            self.access[access] = person_id
            self.refresh_tokens[refresh] = person_id
            return access, refresh

    def expire(self, access_token: str) -> None:
        with self._lock:
            self.access.pop(access_token, None)

    def fail_next(self, path_prefix: str, status: int, times: int = 1) -> None:
        with self._lock:
            self.failures.extend([(path_prefix, status)] * times)

    def deny(self, course_id: int) -> None:
        with self._lock:
            self.denied_courses.add(course_id)

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    # -- requests ---------------------------------------------------------------------------------------

    def _take_failure(self, path: str) -> int | None:
        with self._lock:
            for i, (prefix, status) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[i]
                    return status
        return None

    def _post(self, handler: _Handler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        call = Call("POST", parts.path, {})
        self.calls.append(call)
        failure = self._take_failure(parts.path)
        if failure is not None:
            call.status = failure
            return handler.send(failure, {"Message": "An error has occurred."})
        if parts.path != "/restapi/oauth2/token":
            call.status = 404
            return handler.send(404, {"Message": "No HTTP resource was found that matches the request URI."})
        form = dict(parse_qsl(body.decode("utf-8")))
        call.query = {k: v for k, v in form.items() if k not in {"code", "refresh_token", "client_secret"}}
        with self._lock:
            if form.get("client_id") != CLIENT_ID:
                call.status = 400
                return handler.send(400, {"error": "invalid_client", "error_description": "Unknown client."})
            grant = form.get("grant_type")
            if grant == "authorization_code":
                person = self.codes.pop(form.get("code", ""), None)
            elif grant == "refresh_token":
                person = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            else:
                call.status = 400
                return handler.send(400, {"error": "unsupported_grant_type", "error_description": "Unknown grant."})
            if person is None:
                call.status = 400
                return handler.send(400, {"error": "invalid_grant", "error_description": "The grant is invalid."})
            access, refresh = self.token_for(person)
        handler.send(
            200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh}
        )

    def _get(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        call = Call("GET", parts.path, query)
        self.calls.append(call)
        failure = self._take_failure(parts.path)
        if failure is not None:
            call.status = failure
            return handler.send(failure, {"Message": "An error has occurred."})
        auth = handler.headers.get("Authorization", "")
        person = self.access.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if person is None:
            call.status = 401
            return handler.send(401, DENIED)
        status, body = self._route(parts.path, query, person)
        call.status = status
        handler.send(status, body)

    def _route(self, path: str, query: dict[str, str], person: int) -> tuple[int, Any]:
        if path == "/restapi/personal/person/v1":
            profile = dict(self.site.persons[person])
            profile.update({"ProfileImageUrl": "", "CanAccessMessageSystem": True, "TimeZoneId": "W. Europe"})
            return 200, profile
        if path == "/restapi/personal/courses/v2":
            mine = [c for cid, c in sorted(self.site.courses.items()) if self._member(cid, person)]
            return self._page(mine, query)
        match = re.fullmatch(r"/restapi/personal/courses/withrole/(\d+)/v1", path)
        if match:
            cid = int(match.group(1))
            if cid not in self.site.courses:
                return 404, {"Message": "The course does not exist."}
            role = self._member(cid, person)
            if role is None:
                return 403, DENIED
            course = self.site.courses[cid]
            return 200, {
                "ContextRole": role[2],
                "OrganisationLegalId": "",
                "OrganisationSyncKey": "org-1",
                "Code": course["CourseCode"],
                "CourseId": cid,
                "CreatedDateTimeUtc": "2025-08-01T06:00:00Z",
                "Title": course["Title"],
                "OrganisationId": 7,
                "CourseColorClass": course["CourseColorClass"],
                "SyncKey": f"course-{cid}",
            }
        match = re.fullmatch(r"/restapi/personal/courses/(\d+)/participants/v1", path)
        if match:
            cid = int(match.group(1))
            if cid not in self.site.courses:
                return 404, {"Message": "The course does not exist."}
            role = self._member(cid, person)
            if role is None or role[2] != 1 or cid in self.denied_courses:
                return 403, DENIED
            rows = [
                {
                    "PersonId": pid,
                    "FullName": self._name(pid),
                    "Role": name,
                    "RoleId": role_id,
                    "Groups": "",
                    "LastVisited": "2026-03-01T10:00:00Z",
                    "LastVisitedRelative": "",
                    "PictureUrl": "",
                    "ExtraInformation": "",
                    "TemporaryAccess": False,
                    "CanHaveTasks": role_id == 2,
                    "CompletedTasks": 0,
                    "TotalTasks": 0,
                }
                for pid, name, role_id in self.site.members.get(cid, [])
            ]
            return self._page(rows, query)
        return 404, {"Message": "No HTTP resource was found that matches the request URI."}

    def _member(self, cid: int, person: int) -> tuple[int, str, int] | None:
        return next((m for m in self.site.members.get(cid, []) if m[0] == person), None)

    def _name(self, pid: int) -> str:
        p = self.site.persons.get(pid)
        return f"{p['FirstName']} {p['LastName']}" if p else f"Person {pid}"

    @staticmethod
    def _page(rows: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, Any]:
        try:
            index, size = int(query.get("PageIndex", "0")), int(query.get("PageSize", "25"))
        except ValueError:
            return 400, {"Message": "The request is invalid."}
        if size <= 0 or index < 0:
            return 400, {"Message": "The request is invalid."}
        return 200, {
            "EntityArray": rows[index * size : (index + 1) * size],
            "Total": len(rows),
            "CurrentPageIndex": index,
            "PageSize": size,
        }


@contextmanager
def running() -> Iterator[FakeItslearning]:
    with FakeItslearning() as fake:
        yield fake
