"""A fake Moodle site: a real HTTP server in the test process, answering like the recordings.

``FakeMoodle`` serves ``/webservice/rest/server.php``, ``/webservice/upload.php``
and ``/login/token.php`` from in-memory state (categories, courses, sections,
groups, members, users, enrolments, draft files) and answers in the shapes of
the recordings in ``../shared/fixtures/moodle-ws/`` (a real Moodle 5.1):
HTTP 200 for every error with ``exception``/``errorcode``/``message``, ``null``
for void functions, ``warnings`` arrays, the JSON *string* of
``core_courseformat_update_course``. Answers the 5.1 recordings do not show
(``core_update_inplace_editable``'s success, ``core_user_update_users``,
``core_group_get_course_groups``, ``groups`` in ``core_enrol_get_enrolled_users``,
course ``contacts``) follow the real Moodle 4.5.5+ answers in
``tests/sync/recordings_45/``; ``core_course_get_categories`` follows Moodle's source.

Like PHP and Moodle it

* keeps only the first ``max_input_vars`` form variables and drops the rest silently,
* validates parameters like ``external_api::validate_parameters`` (missing or
  unexpected keys, integers) and answers ``invalidparameter`` – with
  ``debuginfo`` only when ``debug`` is on, as with Moodle's debug display,
* checks the token, then whether the function exists, then whether it is in the
  service (``accessexception``, or ``invalidrecordunknown`` as in one recording),
* rolls a write back as a whole when it fails.

Every call is logged (:class:`Call`: function, read/write, variables, outcome).
Faults are injected per function with :meth:`FakeMoodle.inject`: connection
reset before/after applying, timeout before/after applying, an HTTP status
before/after applying, Moodle's ``locktimeout``, token expiry, an HTML page.

The companion plugin ``local_lmsbridge`` is played as its PHP does it and as the
real answers in ``tests/sync_plugin/recordings/`` show (a Moodle 4.5 with the
plugin): the restore is an ad-hoc task that runs "with cron" – by default at the
first poll, or after the statuses queued in :attr:`FakeMoodle.restore_polls`, or
when :meth:`FakeMoodle.run_restore_tasks` is called, never when ``cron`` is off.
The task reads the uploaded cartridge like Moodle's converter: a zip with a CC
1.0/1.1 manifest becomes sections (one per top-level module, the title only as
summary) and activities (page, resource, url, forum, lti, label); anything else
fails with the plugin's messages (not a zip, CC 1.3, no cartridge), and a failed
new course is deleted again. A new course keeps the requested names although
Moodle's restore renames it when another course has the same full or short name
(the plugin writes them back since 0.1.1; ``plugin_keeps_course_names = False``
plays 0.1.0, which left " copy N" / "_N"); merge and replace never touch the
names (the plugin's restores do not overwrite the course settings).
Capabilities can be taken away (:meth:`deny`);
:meth:`seed_plugin_lab` rebuilds the recording site (ids, the teacher's course).

The server is Python's ``http.server`` (threaded) rather than werkzeug's: a
reset needs the raw socket (SO_LINGER 0), which the standard handler gives
directly. werkzeug parses the multipart uploads.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import socket
import struct
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape as html_escape
from html import unescape as html_unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.formparser import parse_form_data

from moodle_sync.plugin import plugin_version

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(os.environ.get("LMS_BRIDGE_MOODLE_RECORDINGS", ROOT.parent / "shared" / "fixtures" / "moodle-ws"))
PLUGIN_RECORDINGS = ROOT / "tests" / "sync_plugin" / "recordings"

READS = frozenset(
    {
        "core_webservice_get_site_info",
        "core_course_get_categories",
        "core_course_get_courses_by_field",
        "core_course_get_contents",
        "core_group_get_course_groups",
        "core_group_get_group_members",
        "core_user_get_users_by_field",
        "core_enrol_get_enrolled_users",
        "local_lmsbridge_get_restore_status",
    }
)
#: Functions beyond the recorded service that the engine can use.
ENGINE_EXTRAS = (
    "core_group_update_groups",
    "core_group_delete_groups",
    "core_group_delete_group_members",
    "core_update_inplace_editable",
    "core_role_unassign_roles",
)
PLUGIN_FUNCTIONS = (
    "local_lmsbridge_restore_cartridge",
    "local_lmsbridge_get_restore_status",
    "local_lmsbridge_set_section_names",
)
INTERNAL_AUTHS = frozenset({"manual", "nologin", "email"})
INSTALLED_AUTHS = INTERNAL_AUTHS | {"oauth2", "saml2", "lti", "ldap", "cas", "shibboleth", "db", "none"}
ROLES = {3: "editingteacher", 4: "teacher", 5: "student"}
#: Next ids as on the recording site, so replaying the recordings gives the same ids.
RECORDING_IDS = {"category": 3, "course": 3, "section": 5, "module": 2, "group": 1, "user": 5, "context": 26, "task": 1}
FAULTS = frozenset(
    {
        "reset_before",
        "reset_after",
        "timeout_before",
        "timeout_after",
        "status",
        "status_after",
        "lock",
        "expire_token",
        "html",
    }
)


def load_recordings() -> dict[str, dict[str, Any]]:
    """Return the recordings by file stem."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RECORDINGS.glob("*.json"))}


def load_plugin_recordings() -> dict[str, dict[str, Any]]:
    """Return the companion plugin's real answers (a Moodle 4.5 lab site) by file stem."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(PLUGIN_RECORDINGS.glob("*.json"))}


def recorded_service() -> tuple[str, ...]:
    """The functions of the token's service on the recording site."""
    info = json.loads((RECORDINGS / "site_info.json").read_text(encoding="utf-8"))["response"]
    return tuple(f["name"] for f in info["functions"])


# -- Moodle's answers --------------------------------------------------------------------------------


class WsError(Exception):
    """An error Moodle answers with HTTP 200."""

    def __init__(
        self,
        errorcode: str,
        message: str,
        exception: str = "core\\exception\\moodle_exception",
        debuginfo: str | None = None,
    ) -> None:
        super().__init__(message)
        self.payload: dict[str, Any] = {"exception": exception, "errorcode": errorcode, "message": message}
        self.debuginfo = debuginfo


def invalid(debuginfo: str) -> WsError:
    return WsError(
        "invalidparameter",
        "Invalid parameter value detected",
        "core\\exception\\invalid_parameter_exception",
        debuginfo,
    )


def missing_record(table: str | None = None, sql: str | None = None) -> WsError:
    if table:
        return WsError(
            "invalidrecord",
            f"Can't find data record in database table {table}.",
            "dml_missing_record_exception",
            sql,
        )
    return WsError("invalidrecordunknown", "Can't find data record in database.", "dml_missing_record_exception")


ACCESS = WsError("accessexception", "Access control exception", "webservice_access_exception")


# -- the companion plugin's cartridge handling --------------------------------------------------------

#: How Moodle names the capabilities in ``nopermissions`` messages (English language pack).
CAPABILITY_NAMES = {
    "moodle/course:create": "Create courses",
    "moodle/restore:restorecourse": "Restore courses",
    "moodle/course:update": "Update course settings",
    "local/lmsbridge:restorecartridge": "Restore Common Cartridges through the LMS Bridge web service",
}


class CartridgeRefused(Exception):
    """The restore task's failure message (the plugin's language strings)."""


def _plain(html: str) -> str:
    """``content_to_text`` for the short summaries the fake stores."""
    return html_unescape(re.sub(r"<[^>]+>", " ", html or "")).strip()


def _read_cartridge(
    filename: str, content: bytes, accept_placeholders: bool
) -> list[tuple[str, list[tuple[str, str]]]] | None:
    """Sections (title, [(modname, name), …]) as Moodle's CC converter makes them; None for a placeholder."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        if accept_placeholders and not content.startswith(b"PK"):
            return None
        raise CartridgeRefused(f'The file "{filename}" is not a ZIP archive, so it is no Common Cartridge.')
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        try:
            manifest = archive.read("imsmanifest.xml")
        except KeyError:
            manifest = b""
    head = manifest[:4096].decode("utf-8", "replace")
    if "imsccv1p1" not in head and "xsd/imscc/imscp_v1p1" not in head:
        version = re.search(r"imsccv(\d+)p(\d+)", head, re.IGNORECASE)
        if version:
            raise CartridgeRefused(
                f'The file "{filename}" is a Common Cartridge {version.group(1)}.{version.group(2)} package. Moodle '
                "imports Common Cartridge 1.0 and 1.1 only; export or build the cartridge as version 1.1."
            )
        raise CartridgeRefused(
            f'The file "{filename}" is not a Common Cartridge 1.0 or 1.1 package (no imsmanifest.xml with the IMS CC '
            "1.0/1.1 namespace)."
        )
    root = ET.fromstring(manifest)
    types = {r.get("identifier"): (r.get("type") or "", r.get("href") or "") for r in root.iterfind(".//{*}resource")}
    top = root.find("{*}organizations/{*}organization/{*}item")
    outline: list[tuple[str, list[tuple[str, str]]]] = []
    for module in top.findall("{*}item") if top is not None else []:
        activities: list[tuple[str, str]] = []
        _walk_items(module, types, activities)
        outline.append((module.findtext("{*}title") or "", activities))
    return outline


def _walk_items(parent: ET.Element, types: dict[str | None, tuple[str, str]], out: list[tuple[str, str]]) -> None:
    for item in parent.findall("{*}item"):
        title = item.findtext("{*}title") or ""
        ref = item.get("identifierref")
        if ref is None:  # a nested module becomes a label, its items follow in the same section
            out.append(("label", title))
            _walk_items(item, types, out)
            continue
        kind, href = types.get(ref, ("", ""))
        if kind == "webcontent":
            modname = "page" if href.lower().endswith((".html", ".htm")) else "resource"
        elif kind.startswith("imswl_"):
            modname = "url"
        elif kind.startswith("imsdt_"):
            modname = "forum"
        elif kind.startswith("imsbasiclti_"):
            modname = "lti"
        else:
            modname = "resource"
        out.append((modname, title))


# -- parameter parsing and validation like PHP and external_api ---------------------------------------


def php_parse(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Build PHP's nested $_POST from bracket-notation pairs; all-numeric levels become lists."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", name)
        if not match:
            root[name] = value
            continue
        path = [match.group(1), *re.findall(r"\[([^\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


@dataclass(frozen=True)
class V:
    """A value: type int, bool, text or raw; required unless ``default`` is given (``OPT`` for none)."""

    kind: str = "text"
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class S:
    fields: Mapping[str, Any]
    required: bool = True


@dataclass(frozen=True)
class L:
    item: Any
    required: bool = True


def opt(kind: str = "text", default: Any = None) -> V:
    return V(kind, False, default)


def validate(spec: Any, value: Any, path: str) -> Any:
    if isinstance(spec, S):
        if not isinstance(value, dict):
            if value in (None, "") and not spec.fields:
                return {}
            raise invalid(f"{path} => Invalid parameter value detected (Only arrays accepted.)")
        unexpected = [k for k in value if k not in spec.fields]
        if unexpected:
            raise invalid(
                f"{path} => Invalid parameter value detected (Unexpected keys ({', '.join(unexpected)}) "
                "detected in parameter array.)"
            )
        result = {}
        for key, sub in spec.fields.items():
            if key not in value:
                if sub.required:
                    raise invalid(
                        f"{path} => Invalid parameter value detected (Missing required key in single structure: {key})"
                    )
                default = getattr(sub, "default", None)
                if default is not None or isinstance(sub, L):
                    result[key] = [] if isinstance(sub, L) else default
                continue
            result[key] = validate(sub, value[key], f"{path}[{key}]" if path else key)
        return result
    if isinstance(spec, L):
        if value in ("", None):
            return []
        if not isinstance(value, list):
            raise invalid(f"{path} => Invalid parameter value detected (Only arrays accepted.)")
        return [validate(spec.item, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict | list):
        raise invalid(f"{path} => Invalid parameter value detected (Scalar type expected, array or object received.)")
    if spec.kind == "int":
        if not re.fullmatch(r"-?\d+", str(value)):
            raise invalid(
                f"{path} => Invalid parameter value detected (Invalid external api parameter: the value is "
                f'"{value}", the server was expecting "int" type)'
            )
        return int(value)
    if spec.kind == "bool":
        if str(value).lower() not in {"0", "1", "true", "false"}:
            raise invalid(
                f"{path} => Invalid parameter value detected (Invalid external api parameter: the value is "
                f'"{value}", the server was expecting "bool" type)'
            )
        return str(value).lower() in {"1", "true"}
    return str(value)


TXT, INT, RAW = V("text"), V("int"), V("raw")
NAMEVALUE = S({"name": TXT, "value": RAW})
SCHEMAS: dict[str, S] = {
    "core_webservice_get_site_info": S({"serviceshortnames": L(TXT, False)}),
    "core_course_get_categories": S(
        {"criteria": L(S({"key": TXT, "value": RAW}), False), "addsubcategories": opt("bool", True)}
    ),
    "core_course_create_categories": S(
        {
            "categories": L(
                S(
                    {
                        "name": TXT,
                        "parent": opt("int", 0),
                        "idnumber": opt("raw"),
                        "description": opt("raw"),
                        "descriptionformat": opt("int"),
                        "theme": opt(),
                    }
                )
            )
        }
    ),
    "core_course_update_categories": S(
        {
            "categories": L(
                S(
                    {
                        "id": INT,
                        "name": opt(),
                        "idnumber": opt("raw"),
                        "parent": opt("int"),
                        "description": opt("raw"),
                        "descriptionformat": opt("int"),
                        "theme": opt(),
                    }
                )
            )
        }
    ),
    "core_course_get_courses_by_field": S({"field": opt("text", ""), "value": opt("raw", "")}),
    "core_course_create_courses": S(
        {
            "courses": L(
                S(
                    {
                        "fullname": TXT,
                        "shortname": TXT,
                        "categoryid": INT,
                        "idnumber": opt("raw"),
                        "summary": opt("raw"),
                        "summaryformat": opt("int"),
                        "format": opt(),
                        "showgrades": opt("int"),
                        "newsitems": opt("int"),
                        "startdate": opt("int"),
                        "enddate": opt("int"),
                        "numsections": opt("int"),
                        "maxbytes": opt("int"),
                        "showreports": opt("int"),
                        "visible": opt("int"),
                        "hiddensections": opt("int"),
                        "groupmode": opt("int"),
                        "groupmodeforce": opt("int"),
                        "defaultgroupingid": opt("int"),
                        "enablecompletion": opt("int"),
                        "completionnotify": opt("int"),
                        "lang": opt(),
                        "forcetheme": opt(),
                        "courseformatoptions": L(NAMEVALUE, False),
                    }
                )
            )
        }
    ),
    "core_course_update_courses": S(
        {
            "courses": L(
                S(
                    {
                        "id": INT,
                        "fullname": opt(),
                        "shortname": opt(),
                        "categoryid": opt("int"),
                        "idnumber": opt("raw"),
                        "summary": opt("raw"),
                        "summaryformat": opt("int"),
                        "format": opt(),
                        "visible": opt("int"),
                        "startdate": opt("int"),
                        "enddate": opt("int"),
                        "lang": opt(),
                    }
                )
            )
        }
    ),
    "core_course_get_contents": S({"courseid": INT, "options": L(NAMEVALUE, False)}),
    "core_courseformat_update_course": S(
        {"action": TXT, "courseid": INT, "ids": L(INT, False), "targetsectionid": opt("int"), "targetcmid": opt("int")}
    ),
    "core_update_inplace_editable": S({"component": TXT, "itemtype": TXT, "itemid": RAW, "value": RAW}),
    "core_group_get_course_groups": S({"courseid": INT}),
    "core_group_create_groups": S(
        {
            "groups": L(
                S(
                    {
                        "courseid": INT,
                        "name": TXT,
                        "description": RAW,
                        "descriptionformat": opt("int", 1),
                        "enrolmentkey": opt("raw"),
                        "idnumber": opt("raw", ""),
                        "visibility": opt("int", 0),
                        "participation": opt("bool", True),
                    }
                )
            )
        }
    ),
    "core_group_update_groups": S(
        {
            "groups": L(
                S(
                    {
                        "id": INT,
                        "name": TXT,
                        "description": opt("raw"),
                        "descriptionformat": opt("int"),
                        "enrolmentkey": opt("raw"),
                        "idnumber": opt("raw"),
                        "visibility": opt("int"),
                        "participation": opt("bool"),
                    }
                )
            )
        }
    ),
    "core_group_delete_groups": S({"groupids": L(INT)}),
    "core_group_get_group_members": S({"groupids": L(INT)}),
    "core_group_add_group_members": S({"members": L(S({"groupid": INT, "userid": INT}))}),
    "core_group_delete_group_members": S({"members": L(S({"groupid": INT, "userid": INT}))}),
    "core_user_get_users_by_field": S({"field": TXT, "values": L(RAW)}),
    "core_user_create_users": S(
        {
            "users": L(
                S(
                    {
                        "createpassword": opt("bool"),
                        "username": TXT,
                        "auth": opt("text", "manual"),
                        "password": opt("raw"),
                        "firstname": TXT,
                        "lastname": TXT,
                        "email": TXT,
                        "maildisplay": opt("int"),
                        "city": opt(),
                        "country": opt(),
                        "timezone": opt(),
                        "description": opt("raw"),
                        "idnumber": opt("raw", ""),
                        "institution": opt(),
                        "department": opt(),
                        "lang": opt(),
                        "calendartype": opt(),
                        "theme": opt(),
                        "mailformat": opt("int"),
                    }
                )
            )
        }
    ),
    "core_user_update_users": S(
        {
            "users": L(
                S(
                    {
                        "id": INT,
                        "username": opt(),
                        "auth": opt(),
                        "suspended": opt("bool"),
                        "password": opt("raw"),
                        "firstname": opt(),
                        "lastname": opt(),
                        "email": opt(),
                        "idnumber": opt("raw"),
                        "department": opt(),
                        "institution": opt(),
                        "lang": opt(),
                    }
                )
            )
        }
    ),
    "core_user_delete_users": S({"userids": L(INT)}),
    "core_enrol_get_enrolled_users": S({"courseid": INT, "options": L(NAMEVALUE, False)}),
    "enrol_manual_enrol_users": S(
        {
            "enrolments": L(
                S(
                    {
                        "roleid": INT,
                        "userid": INT,
                        "courseid": INT,
                        "timestart": opt("int"),
                        "timeend": opt("int"),
                        "suspend": opt("int"),
                    }
                )
            )
        }
    ),
    "enrol_manual_unenrol_users": S({"enrolments": L(S({"userid": INT, "courseid": INT, "roleid": opt("int")}))}),
    "core_role_unassign_roles": S(
        {
            "unassignments": L(
                S(
                    {
                        "roleid": INT,
                        "userid": INT,
                        "contextid": opt("int"),
                        "contextlevel": opt(),
                        "instanceid": opt("int"),
                    }
                )
            )
        }
    ),
    "local_lmsbridge_set_section_names": S(
        {"courseid": INT, "sections": L(S({"section": INT, "name": TXT, "summary": opt("raw")}))}
    ),
    "local_lmsbridge_restore_cartridge": S(
        {
            "draftitemid": INT,
            "courseid": opt("int", 0),
            "categoryid": opt("int", 0),
            "fullname": opt("text", ""),
            "shortname": opt("text", ""),
            "mode": opt("text", ""),
        }
    ),
    "local_lmsbridge_get_restore_status": S({"taskid": INT}),
}


# -- log and faults -----------------------------------------------------------------------------------


@dataclass
class Call:
    function: str
    kind: str  # read, write, upload, token
    nvars: int
    truncated: bool
    params: dict[str, Any]
    outcome: str = "ok"


@dataclass
class Fault:
    function: str
    kind: str
    times: int
    delay: float
    status: int


@dataclass
class State:
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    courses: dict[int, dict[str, Any]] = field(default_factory=dict)
    sections: dict[int, dict[str, Any]] = field(default_factory=dict)
    modules: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, frozenset[int]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    enrolments: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)
    drafts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=lambda: dict(RECORDING_IDS))

    def snapshot(self) -> State:
        """Shallow copies of the tables: records are replaced, never changed in place."""
        tables = {name: dict(getattr(self, name)) for name in self.__dataclass_fields__}
        return State(**tables)  # type: ignore[arg-type]

    def new_id(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeMoodle


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one segment (no delayed-ACK stalls on keep-alive)
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        self.server.fake._dispatch(self, path, body)

    def do_GET(self) -> None:  # noqa: N802
        self.send_text(404, "<html><body>Not found</body></html>", "text/html")

    # -- answers --
    def send_text(self, status: int, text: str, content_type: str = "application/json; charset=utf-8") -> None:
        data = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def send_json(self, value: Any) -> None:
        # PHP's json_encode escapes slashes and non-ASCII characters
        self.send_text(200, json.dumps(value).replace("/", "\\/"))

    def reset(self) -> None:
        """Drop the connection with a TCP reset, as a crashed proxy or server does."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True


class FakeMoodle:
    """A Moodle site in memory behind a real HTTP server on 127.0.0.1."""

    def __init__(
        self,
        *,
        functions: tuple[str, ...] | None = None,
        max_input_vars: int = 5000,
        token: str = "fake-token-0123456789abcdef",
        debug: bool = False,
        uploadfiles: bool = True,
        roles: Mapping[int, str] | None = None,
        developer_debug: bool = False,
    ) -> None:
        self.recordings = load_recordings()
        #: like a site showing developer debugging: ``debuginfo`` is also appended to ``message``
        self.developer_debug = developer_debug
        #: capabilities the token's user lacks (e.g. "moodle/course:create")
        self.denied: set[str] = set()
        #: statuses a restore task answers (one per poll) before cron runs it
        self.restore_polls: list[str] = []
        #: False: no cron, restore tasks stay queued until run_restore_tasks()
        self.cron = True
        #: True: a draft that is no zip at all restores as an empty cartridge (for tests that upload
        #: placeholder bytes); False: it fails as in Moodle ("not a ZIP archive")
        self.accept_placeholder_cartridges = True
        #: False: plays local_lmsbridge 0.1.0, whose new courses kept the names Moodle's restore made unique
        self.plugin_keeps_course_names = True
        self.site_info_recording: dict[str, Any] | None = None
        self.upload_owner = {"contextid": 5, "userid": "2", "author": "Admin User"}
        self.clock = 1795453977
        self.functions: list[str] = list(functions if functions is not None else (*recorded_service(), *ENGINE_EXTRAS))
        self.not_in_service_answer: dict[str, str] = {}
        self.max_input_vars = max_input_vars
        self.token: str | None = token
        self.expiring = False
        self.debug = debug
        self.uploadfiles = uploadfiles
        self.rest_enabled = True
        self.allowaccountssameemail = False
        self.roles = dict(roles or ROLES)
        self.accounts = {"admin": "Admin#1234"}
        self.state = State()
        self.calls: list[Call] = []
        self.crashes: list[str] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._seed()

    # -- life cycle -----------------------------------------------------------------------------------

    def start(self) -> FakeMoodle:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMoodle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------------------

    def inject(self, function: str, fault: str, *, times: int = 1, delay: float = 1.0, status: int = 503) -> None:
        """Make the next ``times`` calls of ``function`` ("*" for any) fail with ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {sorted(FAULTS)}")
        with self._lock:
            self.faults.append(Fault(function, fault, times, delay, status))

    def remove_function(self, name: str, *, answer: str = "accessexception") -> None:
        """Take ``name`` out of the service; calls answer ``accessexception`` or ``invalidrecordunknown``."""
        with self._lock:
            if name in self.functions:
                self.functions.remove(name)
            self.not_in_service_answer[name] = answer

    def add_functions(self, *names: str) -> None:
        with self._lock:
            self.functions.extend(n for n in names if n not in self.functions)

    def expire_token(self) -> None:
        """The token's validuntil passed: the next call answers accessexception, later calls invalidtoken."""
        with self._lock:
            self.expiring = True

    def new_token(self) -> str:
        with self._lock:
            self.token = f"fake-token-{len(self.calls):06d}abcdef"
            self.expiring = False
            return self.token

    def clear_log(self) -> None:
        with self._lock:
            self.calls.clear()

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.kind in {"write", "upload"}]

    def reads(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "read"]

    def functions_called(self, kind: str | None = None) -> list[str]:
        return [c.function for c in self.calls if kind is None or c.kind == kind]

    # -- state helpers for tests ----------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        firstname: str = "Vor",
        lastname: str = "Handen",
        email: str | None = None,
        auth: str = "manual",
    ) -> int:
        with self._lock:
            uid = self.state.new_id("user")
            self.state.users[uid] = self._user_record(
                uid,
                {
                    "username": username,
                    "firstname": firstname,
                    "lastname": lastname,
                    "email": email or f"{username}@example.org",
                    "auth": auth,
                },
            )
            return uid

    def enrol(self, courseid: int, userid: int, roleid: int) -> None:
        with self._lock:
            key = (courseid, userid)
            self.state.enrolments[key] = self.state.enrolments.get(key, frozenset()) | {roleid}

    def add_group(self, courseid: int, name: str, idnumber: str = "") -> int:
        with self._lock:
            gid = self.state.new_id("group")
            self.state.groups[gid] = {
                "id": gid,
                "courseid": courseid,
                "name": name,
                "description": "",
                "descriptionformat": 1,
                "enrolmentkey": "",
                "idnumber": idnumber,
                "visibility": 0,
                "participation": True,
            }
            self.state.members[gid] = frozenset()
            return gid

    def add_course(self, fullname: str, shortname: str, *, sections: int = 4, idnumber: str = "") -> int:
        """A course somebody made in the site (e.g. a school's course), with ``sections`` titled sections."""
        with self._lock:
            cid = self.ws_core_course_create_courses(
                {
                    "courses": [
                        {
                            "fullname": fullname,
                            "shortname": shortname,
                            "categoryid": 1,
                            "idnumber": idnumber,
                            "numsections": sections,
                        }
                    ]
                }
            )[0]["id"]
            for number in range(1, sections + 1):
                self._section_of(cid, number)["name"] = f"Thema der Schule {number}"
            return int(cid)

    def course(self, courseid: int) -> dict[str, Any]:
        return dict(self.state.courses[courseid])

    def course_by_idnumber(self, idnumber: str) -> dict[str, Any] | None:
        return next((c for c in self.state.courses.values() if c["idnumber"] == idnumber), None)

    def category_by_idnumber(self, idnumber: str) -> dict[str, Any] | None:
        return next((c for c in self.state.categories.values() if c["idnumber"] == idnumber), None)

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        return next((u for u in self.state.users.values() if u["username"] == username), None)

    def section_names(self, courseid: int) -> list[str]:
        sections = sorted(
            (s for s in self.state.sections.values() if s["course"] == courseid), key=lambda s: s["section"]
        )
        return [self._section_name(s) for s in sections]

    def roles_of(self, courseid: int, userid: int) -> set[str]:
        return {self.roles[r] for r in self.state.enrolments.get((courseid, userid), frozenset())}

    # -- dispatch -------------------------------------------------------------------------------------

    def _dispatch(self, handler: _Handler, path: str, body: bytes) -> None:
        if path == "/webservice/rest/server.php":
            self._rest(handler, body)
        elif path == "/webservice/upload.php":
            self._upload(handler, body)
        elif path == "/login/token.php":
            self._token(handler, body)
        else:
            handler.send_text(404, "<html><body><h1>Not Found</h1></body></html>", "text/html")

    def _take_fault(self, function: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.function in {function, "*"}:
                    fault.times -= 1
                    return fault
        return None

    def _rest(self, handler: _Handler, body: bytes) -> None:
        if not self.rest_enabled:
            handler.send_text(403, "", "text/html")  # webservice/rest/server.php dies with 403 and no body
            return
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        nvars = len(pairs)
        truncated = nvars > self.max_input_vars
        args = php_parse(pairs[: self.max_input_vars])
        token = args.pop("wstoken", None)
        function = str(args.pop("wsfunction", ""))
        args.pop("moodlewsrestformat", None)
        call = Call(function, "read" if function in READS else "write", nvars, truncated, args)
        with self._lock:
            self.calls.append(call)
        fault = self._take_fault(function)
        if fault is not None and self._before(handler, call, fault):
            return
        try:
            with self._lock:
                self._authenticate(token, function)
                spec = SCHEMAS[function]
                params = validate(spec, args, "")
                result = self._execute(function, params)
        except WsError as error:
            call.outcome = f"error:{error.payload['errorcode']}"
            payload = dict(error.payload)
            if self.developer_debug and error.debuginfo:
                payload["message"] = f"{payload['message']} ({error.debuginfo})"
                payload["debuginfo"] = error.debuginfo
            elif self.debug and error.debuginfo:
                payload["debuginfo"] = error.debuginfo
            handler.send_json(payload)
            return
        except Exception as crash:  # a bug in the fake: answer like a PHP fatal error and keep it for the test
            self.crashes.append(f"{function}: {crash!r}")
            call.outcome = "crash"
            handler.send_text(500, "<html><body>Fatal error</body></html>", "text/html")
            return
        if fault is not None and self._after(handler, call, fault):
            return
        handler.send_json(result)

    def _before(self, handler: _Handler, call: Call, fault: Fault) -> bool:
        """Faults that strike before Moodle runs the function; True when the request is answered."""
        kind = fault.kind
        call.outcome = f"fault:{kind}"
        if kind == "reset_before":
            handler.reset()
        elif kind == "timeout_before":
            self._stop.wait(fault.delay)
            handler.reset()
        elif kind == "status":
            handler.send_text(fault.status, f"<html><body>HTTP {fault.status}</body></html>", "text/html")
        elif kind == "lock":
            error = WsError(
                "locktimeout",
                "error/locktimeout",
                debuginfo=f"core_modinfo/build_course_cache_{call.params.get('courseid', 0)}",
            )
            payload = dict(error.payload)
            if self.debug:
                payload["debuginfo"] = error.debuginfo
            handler.send_json(payload)
        elif kind == "html":
            handler.send_text(200, "<!DOCTYPE html><html><body>Site under maintenance</body></html>", "text/html")
        elif kind == "expire_token":
            self.expire_token()
            call.outcome = "ok"
            return False
        else:
            call.outcome = "ok"
            return False
        return True

    def _after(self, handler: _Handler, call: Call, fault: Fault) -> bool:
        """Faults that strike after Moodle applied the function; True when the request is answered."""
        kind = fault.kind
        if kind == "reset_after":
            call.outcome = "applied, then reset"
            handler.reset()
        elif kind == "timeout_after":
            call.outcome = "applied, then too slow"
            self._stop.wait(fault.delay)
            handler.reset()
        elif kind == "status_after":
            call.outcome = f"applied, then HTTP {fault.status}"
            handler.send_text(fault.status, f"<html><body>HTTP {fault.status}</body></html>", "text/html")
        else:
            return False
        return True

    def _authenticate(self, token: str | None, function: str) -> None:
        if self.expiring and token == self.token:
            self.expiring = False
            self.token = None  # Moodle deletes the expired token
            raise WsError(
                "accessexception",
                "Access control exception",
                "webservice_access_exception",
                "Invalid token - token expired - check validuntil time for the token",
            )
        if not token or token != self.token:
            raise WsError("invalidtoken", "Invalid token - token not found")
        if function not in SCHEMAS:
            raise missing_record("external_functions")
        if function not in self.functions:
            if self.not_in_service_answer.get(function) == "invalidrecordunknown":
                raise missing_record()
            raise WsError(
                "accessexception",
                "Access control exception",
                "webservice_access_exception",
                f"Access to the function {function}() is not allowed. There could be multiple reasons for "
                "this: 1. The service linked to the user token does not contain the function. 2. The service "
                "is user-restricted and the user is not listed. 3. The service is IP-restricted and the user "
                "IP is not listed. 4. The service is time-restricted and the time has expired. 5. The token is "
                "time-restricted and the time has expired. 6. The service requires a specific capability "
                "which the user does not have. 7. The function is called with username/password (no user "
                "token is sent) and none of the services has the function to allow the user. These settings "
                "can be found in Administration > Site administration > Server > Web services > External "
                "services and Manage tokens.",
            )

    def _execute(self, function: str, params: dict[str, Any]) -> Any:
        handler: Callable[[dict[str, Any]], Any] = getattr(self, "ws_" + function)
        before = self.state.snapshot()
        try:
            return handler(params)
        except WsError:
            self.state = before  # delegated transaction rolled back
            raise

    # -- upload.php and token.php ---------------------------------------------------------------------

    def _ajax_error(self, handler: _Handler, errorcode: str, message: str) -> None:
        handler.send_json(
            {"error": message, "errorcode": errorcode, "stacktrace": None, "debuginfo": None, "reproductionlink": None}
        )

    def _upload(self, handler: _Handler, body: bytes) -> None:
        environ = {
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "REQUEST_METHOD": "POST",
        }
        _, form, parsed = parse_form_data(environ, stream_factory=lambda *args, **kwargs: io.BytesIO())
        files = {name: (storage.filename or "file", storage.read()) for name, storage in parsed.items()}
        call = Call("webservice/upload.php", "upload", len(form), False, dict(form))
        with self._lock:
            self.calls.append(call)
            fault = self._take_fault("webservice/upload.php")
        if fault is not None and self._before(handler, call, fault):
            return
        with self._lock:
            if form.get("token") != self.token or not self.token:
                call.outcome = "error:invalidtoken"
                return self._ajax_error(handler, "invalidtoken", "Invalid token - token not found")
            if not self.uploadfiles:
                call.outcome = "error:accessexception"
                return self._ajax_error(handler, "accessexception", "Access control exception")
            filearea = form.get("filearea", "private")
            if filearea == "private":
                call.outcome = "error:privatefilesupload"
                return self._ajax_error(
                    handler,
                    "privatefilesupload",
                    "Uploading directly to user private files area is no longer supported. Upload "
                    "to a draft area and then move the files with core_user::add_user_private_files",
                )
            if filearea != "draft":
                return self._ajax_error(handler, "error", "Error occurred")
            itemid = int(form.get("itemid") or 0)
            if itemid <= 0:
                itemid = 462614220 + len(self.state.drafts)
            filepath = form.get("filepath", "/")
            results: list[dict[str, Any]] = []
            stored = self.state.drafts.setdefault(itemid, [])
            for name, content in files.values():
                if any(f["filename"] == name and f["filepath"] == filepath for f in stored):
                    results.append(
                        {"filename": name, "errortype": "filenameexist", "error": f"File name exists: {name}"}
                    )
                    continue
                record = {
                    "component": "user",
                    "contextid": self.upload_owner["contextid"],
                    "userid": self.upload_owner["userid"],
                    "filearea": "draft",
                    "filename": name,
                    "filepath": filepath,
                    "itemid": itemid,
                    "license": "unknown",
                    "author": self.upload_owner["author"],
                    "source": f'O:8:"stdClass":1:{{s:6:"source";s:{len(name)}:"{name}";}}',
                    "filesize": len(content),
                }
                stored.append({**record, "content": content})
                results.append(record)
        if fault is not None and self._after(handler, call, fault):
            return
        handler.send_json(results)

    def _token(self, handler: _Handler, body: bytes) -> None:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        call = Call("login/token.php", "token", len(form), False, {k: v for k, v in form.items() if k != "password"})
        with self._lock:
            self.calls.append(call)
            if self.accounts.get(form.get("username", "")) != form.get("password"):
                call.outcome = "error:invalidlogin"
                return self._ajax_error(handler, "invalidlogin", "Invalid login, please try again")
            if not self.token:
                self.new_token()
        handler.send_json({"token": self.token, "privatetoken": None})

    # -- the site -------------------------------------------------------------------------------------

    def _seed(self) -> None:
        state = self.state
        state.categories[1] = {
            "id": 1,
            "name": "Category 1",
            "idnumber": "",
            "description": "",
            "descriptionformat": 1,
            "parent": 0,
            "sortorder": 10000,
            "visible": 1,
            "timemodified": 1795344700,
            "depth": 1,
            "path": "/1",
            "theme": "",
        }
        state.users[1] = self._user_record(
            1,
            {
                "username": "guest",
                "firstname": "Guest user",
                "lastname": " ",
                "email": "root@localhost",
                "auth": "manual",
            },
        )
        state.users[2] = self._user_record(
            2,
            {
                "username": "admin",
                "firstname": "Admin",
                "lastname": "User",
                "email": "admin@example.org",
                "auth": "manual",
            },
        )

    def _user_record(self, uid: int, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": uid,
            "username": data["username"],
            "firstname": data["firstname"],
            "lastname": data["lastname"],
            "email": data["email"],
            "auth": data.get("auth") or "manual",
            "idnumber": data.get("idnumber") or "",
            "department": data.get("department") or "",
            "suspended": False,
            "lang": "en",
        }

    def ws_core_webservice_get_site_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.site_info_recording is not None:
            info = copy.deepcopy(self.site_info_recording)
            info["siteurl"] = self.url
            info["userpictureurl"] = info["userpictureurl"].replace("http://127.0.0.1:8081", self.url)
            version = next(
                (f["version"] for f in info["functions"] if f["name"] == "core_webservice_get_site_info"), ""
            )
            info["functions"] = [
                {"name": name, "version": self._plugin_version() if name.startswith("local_lmsbridge_") else version}
                for name in self.functions
            ]
            info["uploadfiles"] = 1 if self.uploadfiles else 0
            return info
        info = copy.deepcopy(self.recordings["site_info"]["response"])
        info["sitename"] = "Fake Moodle"
        info["siteurl"] = self.url
        info["userpictureurl"] = f"{self.url}/theme/image.php/boost/core/1795344737/u/f1"
        info["functions"] = [{"name": name, "version": "2025100600.02"} for name in self.functions]
        info["uploadfiles"] = 1 if self.uploadfiles else 0
        return info

    # categories

    def _category_out(self, c: dict[str, Any]) -> dict[str, Any]:
        count = sum(1 for course in self.state.courses.values() if course["categoryid"] == c["id"])
        return {
            "id": c["id"],
            "name": c["name"],
            "idnumber": c["idnumber"],
            "description": c["description"],
            "descriptionformat": c["descriptionformat"],
            "parent": c["parent"],
            "sortorder": c["sortorder"],
            "coursecount": count,
            "visible": c["visible"],
            "visibleold": c["visible"],
            "timemodified": c["timemodified"],
            "depth": c["depth"],
            "path": c["path"],
            "theme": c["theme"],
        }

    def ws_core_course_get_categories(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        found = list(self.state.categories.values())
        for criterion in params.get("criteria", []):
            key, value = criterion["key"], criterion["value"]
            if key not in {"id", "ids", "name", "parent", "idnumber", "visible", "theme"}:
                raise invalid(f"criteria => Invalid parameter value detected (The category key '{key}' is not allowed)")
            if key == "ids":
                wanted = {int(v) for v in str(value).split(",") if v}
                found = [c for c in found if c["id"] in wanted]
            else:
                found = [c for c in found if str(c[key]) == str(value)]
        return [self._category_out(c) for c in sorted(found, key=lambda c: c["sortorder"])]

    def ws_core_course_create_categories(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = []
        for data in params["categories"]:
            if data.get("idnumber") and any(c["idnumber"] == data["idnumber"] for c in self.state.categories.values()):
                raise WsError("categoryidnumbertaken", "ID number is already used for another category")
            parent = int(data.get("parent") or 0)
            if parent and parent not in self.state.categories:
                raise missing_record()
            cid = self.state.new_id("category")
            parent_path = self.state.categories[parent]["path"] if parent else ""
            self.state.categories[cid] = {
                "id": cid,
                "name": data["name"],
                "idnumber": data.get("idnumber") or "",
                "description": data.get("description") or "",
                "descriptionformat": 1,
                "parent": parent,
                "sortorder": 10000 * cid,
                "visible": 1,
                "timemodified": 1795344800 + cid,
                "depth": parent_path.count("/") + 1,
                "path": f"{parent_path}/{cid}",
                "theme": "",
            }
            result.append({"id": cid, "name": data["name"]})
        return result

    def ws_core_course_update_categories(self, params: dict[str, Any]) -> None:
        for data in params["categories"]:
            current = self.state.categories.get(data["id"])
            if current is None:
                raise missing_record("course_categories")
            if data.get("idnumber") and any(
                c["idnumber"] == data["idnumber"] and c["id"] != data["id"] for c in self.state.categories.values()
            ):
                raise WsError("categoryidnumbertaken", "ID number is already used for another category")
            self.state.categories[data["id"]] = {**current, **{k: v for k, v in data.items() if v is not None}}
        return None

    # courses

    def _course_out(self, c: dict[str, Any]) -> dict[str, Any]:
        template = self.recordings["get_courses_by_field_idnumber"]["response"]["courses"][0]
        category = self.state.categories.get(c["categoryid"], {})
        out = copy.deepcopy(template)
        out.update(
            {
                "id": c["id"],
                "fullname": c["fullname"],
                "displayname": c["fullname"],
                "shortname": c["shortname"],
                "courseimage": f"{self.url}/pluginfile.php/{c['contextid']}/course/generated/course.svg",
                "categoryid": c["categoryid"],
                "categoryname": category.get("name", ""),
                "sortorder": 20000 + c["id"],
                "summary": c["summary"],
                "summaryformat": c["summaryformat"],
                "idnumber": c["idnumber"],
                "format": c["format"],
                "visible": c["visible"],
                "timecreated": c["timecreated"],
                "timemodified": c["timemodified"],
                "cacherev": c["timemodified"] + 9,
                # course contacts ($CFG->coursecontact: editing teachers), as Moodle 4.5 lists them
                "contacts": [
                    {"id": uid, "fullname": f"{u['firstname']} {u['lastname']}"}
                    for (cid, uid), roleids in sorted(self.state.enrolments.items())
                    if cid == c["id"] and 3 in roleids and self.roles.get(3) == "editingteacher"
                    for u in [self.state.users[uid]]
                ],
            }
        )
        return out

    def ws_core_course_get_courses_by_field(self, params: dict[str, Any]) -> dict[str, Any]:
        field_name, value = params.get("field", ""), params.get("value", "")
        courses = list(self.state.courses.values())
        if field_name == "":
            pass
        elif field_name in {"id", "shortname", "idnumber"}:
            courses = [c for c in courses if str(c[field_name]) == str(value)]
        elif field_name == "ids":
            wanted = {int(v) for v in str(value).split(",") if v}
            courses = [c for c in courses if c["id"] in wanted]
        elif field_name == "category":
            courses = [c for c in courses if c["categoryid"] == int(value)]
        else:
            raise invalid(f"field => Invalid parameter value detected (Invalid field name: {field_name})")
        return {"courses": [self._course_out(c) for c in courses], "warnings": []}

    def ws_core_course_create_courses(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = []
        for data in params["courses"]:
            if data["categoryid"] not in self.state.categories:
                raise missing_record()
            if any(c["shortname"] == data["shortname"] for c in self.state.courses.values()):
                raise WsError("shortnametaken", f"Short name is already used for another course ({data['shortname']})")
            if data.get("idnumber") and any(c["idnumber"] == data["idnumber"] for c in self.state.courses.values()):
                raise WsError(
                    "courseidnumbertaken", f"ID number is already used for another course ({data['idnumber']})"
                )
            cid = self.state.new_id("course")
            self.state.courses[cid] = {
                "id": cid,
                "fullname": data["fullname"],
                "shortname": data["shortname"],
                "categoryid": data["categoryid"],
                "idnumber": data.get("idnumber") or "",
                "summary": data.get("summary") or "",
                "summaryformat": data.get("summaryformat") or 1,
                "format": data.get("format") or "topics",
                "visible": 1 if data.get("visible") is None else data["visible"],
                "contextid": self.state.new_id("context"),
                "timecreated": 1795344858,
                "timemodified": 1795344858,
            }
            numsections = 4 if data.get("numsections") is None else int(data["numsections"])
            for number in range(numsections + 1):
                self._new_section(cid, number)
            self._new_module(cid, self._section_of(cid, 0)["id"], "Announcements", "forum")
            result.append({"id": cid, "shortname": data["shortname"]})
        return result

    def ws_core_course_update_courses(self, params: dict[str, Any]) -> dict[str, Any]:
        warnings = []
        for data in params["courses"]:
            current = self.state.courses.get(data["id"])
            if current is None:
                warnings.append(
                    {
                        "item": "course",
                        "itemid": data["id"],
                        "warningcode": "invalidrecordunknown",
                        "message": "Can't find data record in database.",
                    }
                )
                continue
            if data.get("shortname") and any(
                c["shortname"] == data["shortname"] and c["id"] != data["id"] for c in self.state.courses.values()
            ):
                warnings.append(
                    {
                        "item": "course",
                        "itemid": data["id"],
                        "warningcode": "shortnametaken",
                        "message": f"Short name is already used for another course ({data['shortname']})",
                    }
                )
                continue
            if data.get("categoryid") and data["categoryid"] not in self.state.categories:
                warnings.append(
                    {
                        "item": "course",
                        "itemid": data["id"],
                        "warningcode": "invalidrecordunknown",
                        "message": "Can't find data record in database.",
                    }
                )
                continue
            changes = {k: v for k, v in data.items() if v is not None and k != "id"}
            self.state.courses[data["id"]] = {**current, **changes, "timemodified": current["timemodified"] + 1}
        return {"warnings": warnings}

    # sections

    def _new_section(self, courseid: int, number: int) -> dict[str, Any]:
        sid = self.state.new_id("section")
        record = {
            "id": sid,
            "course": courseid,
            "section": number,
            "name": None,
            "summary": "",
            "visible": 1,
            "component": None,
            "itemid": None,
        }
        self.state.sections[sid] = record
        return record

    def _new_module(self, courseid: int, sectionid: int, name: str, modname: str) -> None:
        mid = self.state.new_id("module")
        self.state.modules[mid] = {
            "id": mid,
            "course": courseid,
            "section": sectionid,
            "name": name,
            "modname": modname,
            "instance": mid,
            "contextid": self.state.new_id("context"),
        }

    def _section_of(self, courseid: int, number: int) -> dict[str, Any]:
        return next(s for s in self.state.sections.values() if s["course"] == courseid and s["section"] == number)

    def _sections(self, courseid: int) -> list[dict[str, Any]]:
        return sorted((s for s in self.state.sections.values() if s["course"] == courseid), key=lambda s: s["section"])

    def _section_name(self, section: dict[str, Any]) -> str:
        if section["name"]:
            return str(section["name"])
        return "General" if section["section"] == 0 else "New section"

    def _module_out(self, m: dict[str, Any]) -> dict[str, Any]:
        template = self.recordings["get_contents"]["response"][0]["modules"][0]
        out = copy.deepcopy(template)
        out.update(
            {
                "id": m["id"],
                "url": f"{self.url}/mod/{m['modname']}/view.php?id={m['id']}",
                "name": m["name"],
                "instance": m["instance"],
                "contextid": m["contextid"],
                "modicon": f"{self.url}/theme/image.php/boost/{m['modname']}/1795344737/monologo?filtericon=1",
                "modname": m["modname"],
            }
        )
        return out

    def ws_core_course_get_contents(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if params["courseid"] not in self.state.courses:
            raise missing_record()
        result = []
        for s in self._sections(params["courseid"]):
            modules = [self._module_out(m) for m in self.state.modules.values() if m["section"] == s["id"]]
            result.append(
                {
                    "id": s["id"],
                    "name": self._section_name(s),
                    "visible": s["visible"],
                    "summary": s["summary"],
                    "summaryformat": 1,
                    "section": s["section"],
                    "hiddenbynumsections": 0,
                    "uservisible": True,
                    "component": s["component"],
                    "itemid": s["itemid"],
                    "modules": modules,
                }
            )
        return result

    def ws_core_courseformat_update_course(self, params: dict[str, Any]) -> str:
        courseid = params["courseid"]
        if courseid not in self.state.courses:
            raise missing_record()
        if params["action"] != "section_add":
            raise WsError(
                "generalexceptionmessage",
                f"error/Invalid course state action {params['action']} in core_courseformat\\stateactions",
            )
        self._new_section(courseid, len(self._sections(courseid)))
        return json.dumps(self._state_updates(courseid), separators=(",", ":"))

    def _state_updates(self, courseid: int) -> list[dict[str, Any]]:
        sections = self._sections(courseid)
        updates: list[dict[str, Any]] = [
            {
                "name": "course",
                "action": "put",
                "fields": {
                    "id": str(courseid),
                    "numsections": len(sections) - 1,
                    "sectionlist": [str(s["id"]) for s in sections],
                    "editmode": False,
                    "highlighted": "Highlighted",
                    "baseurl": f"{self.url}/course/view.php?id={courseid}",
                    "statekey": "1795344869_1795344858",
                    "maxbytes": -1,
                    "maxbytestext": "Unlimited",
                },
            }
        ]
        for s in sections:
            cms = [str(m["id"]) for m in self.state.modules.values() if m["section"] == s["id"]]
            updates.append(
                {
                    "name": "section",
                    "action": "put",
                    "fields": {
                        "id": str(s["id"]),
                        "section": s["section"],
                        "number": s["section"],
                        "title": self._section_name(s),
                        "hassummary": False,
                        "rawtitle": s["name"],
                        "cmlist": cms,
                        "visible": True,
                        "sectionurl": f"{self.url}/course/section.php?id={s['id']}",
                        "current": False,
                        "indexcollapsed": False,
                        "contentcollapsed": False,
                        "hasrestrictions": False,
                        "bulkeditable": s["section"] > 0,
                        "component": None,
                        "itemid": None,
                        "parentsectionid": None,
                    },
                }
            )
        for m in self.state.modules.values():
            if m["course"] == courseid:
                section = self.state.sections[m["section"]]
                updates.append(
                    {
                        "name": "cm",
                        "action": "put",
                        "fields": {
                            "id": str(m["id"]),
                            "anchor": f"module-{m['id']}",
                            "name": m["name"],
                            "visible": True,
                            "stealth": False,
                            "sectionid": str(m["section"]),
                            "sectionnumber": section["section"],
                            "uservisible": True,
                            "hascmrestrictions": False,
                            "modname": m["modname"].capitalize(),
                            "indent": 0,
                            "groupmode": 0,
                            "module": m["modname"],
                            "plugin": f"mod_{m['modname']}",
                            "hasdelegatedsection": False,
                            "accessvisible": True,
                            "url": f"{self.url}/mod/{m['modname']}/view.php?id={m['id']}",
                            "istrackeduser": False,
                            "allowstealth": False,
                        },
                    }
                )
        return updates

    def ws_core_update_inplace_editable(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["itemtype"] not in {"sectionname", "sectionnamenl"}:
            raise WsError("inplaceeditableerror", "Error calling update processor")
        section = self.state.sections.get(int(params["itemid"]))
        if section is None or params["component"] != f"format_{self.state.courses[section['course']]['format']}":
            raise missing_record()
        value = str(params["value"]).strip()[:255]
        self.state.sections[section["id"]] = {**section, "name": value or None}
        shown = self._section_name(self.state.sections[section["id"]])
        # As Moodle 4.5 answers (tests/sync/recordings_45): the name links to the section page.
        display = shown
        if params["itemtype"] == "sectionname":
            display = f'<a href="{self.url}/course/section.php?id={section["id"]}">{html_escape(shown, quote=False)}</a>'
        return {
            "displayvalue": display,
            "component": params["component"],
            "itemtype": params["itemtype"],
            "value": value,
            "itemid": str(section["id"]),
            "edithint": "Edit section name",
            "editlabel": f"New name for section {shown}",
            "editicon": {"key": "t/editstring", "component": "moodle", "title": "Edit section name"},
            "type": "text",
            "options": "",
            "linkeverything": 0,
        }

    # -- the companion plugin local_lmsbridge (as its PHP does it) --------------------------------------

    def deny(self, *capabilities: str) -> None:
        """The token's user loses these capabilities (``nopermissions`` where the PHP requires them)."""
        with self._lock:
            self.denied.update(capabilities)

    def allow(self, *capabilities: str) -> None:
        with self._lock:
            self.denied.difference_update(capabilities)

    def _require(self, capability: str) -> None:
        if capability in self.denied:
            raise WsError(
                "nopermissions",
                "Sorry, but you do not currently have permissions to do that "
                f"({CAPABILITY_NAMES.get(capability, capability)}).",
                "core\\exception\\required_capability_exception",
            )

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def seed_plugin_lab(self) -> FakeMoodle:
        """Rebuild the recording site of ``tests/sync_plugin/recordings``: its site info, the service
        "LMS Bridge", developer debugging, the ids, and the teacher's course TEACH1 (id 15) with an
        Announcements forum (cm 114) and the page "Vorhandene Seite" (cm 115) in section 1."""
        with self._lock:
            recorded = load_plugin_recordings()["get_site_info_with_plugin"]["response"]
            self.site_info_recording = recorded
            self.functions = [f["name"] for f in recorded["functions"]]
            self.developer_debug = True
            self.accept_placeholder_cartridges = False
            self.upload_owner = {"contextid": 39, "userid": "6", "author": "LMS Bridge"}
            self.state.next_ids.update({"course": 15, "module": 114, "task": 1})
            cid = self._plugin_course("Lehrerkurs (Merge-Test)", "TEACH1", 1)
            self._new_section(cid, 0)
            self._new_section(cid, 1)
            self._new_module(cid, self._section_of(cid, 0)["id"], "Announcements", "forum")
            self._new_module(cid, self._section_of(cid, 1)["id"], "Vorhandene Seite", "page")
        return self

    def _plugin_course(self, fullname: str, shortname: str, categoryid: int) -> int:
        """A course record without sections, as ``restore_dbops::create_new_course`` makes it."""
        cid = self.state.new_id("course")
        self.state.courses[cid] = {
            "id": cid,
            "fullname": fullname,
            "shortname": shortname,
            "categoryid": categoryid,
            "idnumber": "",
            "summary": "",
            "summaryformat": 1,
            "format": "topics",
            "visible": 0,
            "contextid": self.state.new_id("context"),
            "timecreated": self.clock,
            "timemodified": self.clock,
        }
        return cid

    def restore_task(self, taskid: int) -> dict[str, Any]:
        return self.state.tasks[taskid]

    def run_restore_tasks(self) -> list[int]:
        """Run every queued restore task now (what cron does); return their ids."""
        with self._lock:
            ran = [t for t, task in sorted(self.state.tasks.items()) if task["status"] in {"queued", "running"}]
            for taskid in ran:
                self._run_restore(taskid)
            return ran

    def activities(self, courseid: int) -> list[dict[str, Any]]:
        """The course's modules as get_restore_status lists them (section by section, in order)."""
        numbers = {s["id"]: s["section"] for s in self._sections(courseid)}
        modules = [m for m in self.state.modules.values() if m["course"] == courseid and m["section"] in numbers]
        modules.sort(key=lambda m: (numbers[m["section"]], m["id"]))
        return [
            {"cmid": m["id"], "modname": m["modname"], "name": m["name"], "section": numbers[m["section"]]}
            for m in modules
        ]

    def ws_local_lmsbridge_set_section_names(self, params: dict[str, Any]) -> dict[str, Any]:
        courseid = params["courseid"]
        if courseid not in self.state.courses:
            raise missing_record("context")
        self._require("moodle/course:update")
        updated, warnings = [], []
        for wanted in params["sections"]:
            try:
                section = self._section_of(courseid, wanted["section"])
            except StopIteration:
                warnings.append(
                    {
                        "item": "section",
                        "itemid": wanted["section"],
                        "warningcode": "unknownsection",
                        "message": f"Course {courseid} has no section {wanted['section']}.",
                    }
                )
                continue
            name = wanted["name"].strip()[:255]
            changes: dict[str, Any] = {}
            if (section["name"] or "") != name:
                changes["name"] = name or None
            if wanted.get("summary") is not None and section["summary"] != wanted["summary"]:
                changes["summary"] = wanted["summary"]
            if changes:
                self.state.sections[section["id"]] = {**section, **changes}
            updated.append(wanted["section"])
        return {"sections": updated, "warnings": warnings}

    def ws_local_lmsbridge_restore_cartridge(self, params: dict[str, Any]) -> dict[str, Any]:
        courseid = params["courseid"]
        mode = params["mode"] or ("merge" if courseid else "new")
        if (mode == "new") != (courseid == 0) or mode not in {"new", "merge", "replace"}:
            raise invalid(
                f'Mode "{mode}" cannot be used here: use "new" with courseid 0, "merge" or "replace" with an '
                "existing course."
            )
        if mode == "new":
            fullname, shortname = params["fullname"].strip(), params["shortname"].strip()
            if not params["categoryid"] or not fullname or not shortname:
                raise invalid("A new course needs categoryid, fullname and shortname.")
            if params["categoryid"] not in self.state.categories:
                raise missing_record("course_categories")
            self._require("moodle/course:create")
            if any(c["shortname"] == shortname for c in self.state.courses.values()):
                raise WsError("shortnametaken", f"Short name is already used for another course ({shortname})")
        elif courseid not in self.state.courses:
            raise missing_record("context")
        self._require("moodle/restore:restorecourse")
        self._require("local/lmsbridge:restorecartridge")
        files = self.state.drafts.get(params["draftitemid"]) or []
        if not files:
            raise WsError(
                "error:nocartridge",
                f"The draft area {params['draftitemid']} of the calling user holds no file. Upload the cartridge "
                "through /webservice/upload.php first and pass the itemid it returns.",
            )
        draft = files[-1]  # the PHP takes the newest file of the draft area
        if mode == "new":
            courseid = self._plugin_course(fullname, shortname, params["categoryid"])
        taskid = self.state.new_id("task")
        self.state.tasks[taskid] = {
            "taskid": taskid,
            "courseid": courseid,
            "mode": mode,
            "status": "queued",
            "message": "",
            "filename": draft["filename"],
            "content": draft["content"],
            "draftitemid": params["draftitemid"],
            "polls": list(self.restore_polls),
            "timemodified": self._tick(),
        }
        return {"taskid": taskid, "courseid": courseid}

    def ws_local_lmsbridge_get_restore_status(self, params: dict[str, Any]) -> dict[str, Any]:
        taskid = params["taskid"]
        task = self.state.tasks.get(taskid)
        if task is None:
            raise missing_record(
                "local_lmsbridge_restores",
                f"SELECT * FROM {{local_lmsbridge_restores}} WHERE id = ?\n[array (\n  0 => {taskid},\n)]",
            )
        self._require("local/lmsbridge:restorecartridge")
        if task["status"] in {"queued", "running"}:
            if task["polls"]:
                status = task["polls"].pop(0)
                if status != task["status"]:
                    task.update(status=status, timemodified=self._tick())
            elif self.cron:
                self._run_restore(taskid)
        task = self.state.tasks[taskid]
        done = task["status"] == "done" and task["courseid"] in self.state.courses
        return {
            "taskid": taskid,
            "status": task["status"],
            "message": task["message"],
            "courseid": task["courseid"],
            "timemodified": task["timemodified"],
            "sections": [
                {"section": s["section"], "name": s["name"] or "", "summary": _plain(s["summary"])}
                for s in self._sections(task["courseid"])
            ]
            if done
            else [],
            "activities": self.activities(task["courseid"]) if done else [],
        }

    def _run_restore(self, taskid: int) -> None:
        """The ad-hoc task: convert the cartridge and restore it, or record why not."""
        task = dict(self.state.tasks[taskid])
        try:
            outline = _read_cartridge(task["filename"], task["content"], self.accept_placeholder_cartridges)
        except CartridgeRefused as refused:
            message = str(refused)
            if task["mode"] == "new" and task["courseid"] in self.state.courses:
                self._delete_course(task["courseid"])
                task["courseid"] = 0
                message = message.rstrip(". ") + ". The empty course created for this restore was deleted again."
            task.update(status="failed", message=message, content=b"", timemodified=self._tick())
            self.state.tasks[taskid] = task
            return
        courseid = task["courseid"]
        if outline is not None:
            self._restore_outline(courseid, task["mode"], outline)
            if task["mode"] == "new":  # merge/replace: no overwrite_conf, so Moodle leaves the course record alone
                requested = self.state.courses[courseid]
                self._unique_names(courseid)
                if self.plugin_keeps_course_names:
                    self._keep_names(courseid, requested)
            message = (
                f"Restore finished: the course has {len(self._sections(courseid))} sections and "
                f"{len(self.activities(courseid))} activities."
            )
        else:  # a placeholder upload: nothing to restore
            message = ""
        task.update(status="done", message=message, content=b"", timemodified=self._tick())
        self.state.tasks[taskid] = task

    def _restore_outline(self, courseid: int, mode: str, outline: list[tuple[str, list[tuple[str, str]]]]) -> None:
        if mode == "replace":  # restore_dbops::delete_course_content: modules and sections go
            for mid in [m for m, mod in self.state.modules.items() if mod["course"] == courseid]:
                del self.state.modules[mid]
            for sid in [s["id"] for s in self._sections(courseid)]:
                del self.state.sections[sid]
        for number, (title, activities) in enumerate(outline):
            try:
                section = self._section_of(courseid, number)
            except StopIteration:
                section = self._new_section(courseid, number)
            if not section["summary"]:  # an existing section keeps its own summary and name
                section = self.state.sections[section["id"]] = {**section, "summary": f"<p>{html_escape(title)}</p>"}
            for modname, name in activities:
                self._new_module(courseid, section["id"], name, modname)

    def _unique_names(self, courseid: int) -> None:
        """``restore_dbops::calculate_course_names`` (run for a new course): the plugin passes the course's own
        names as the restore's course settings, and Moodle appends " copy N" / "_N" while another course has
        the full or short name."""
        course = self.state.courses[courseid]
        others = [c for c in self.state.courses.values() if c["id"] != courseid]
        counter = 0
        while True:
            full_sfx, short_sfx = (f" copy {counter}", f"_{counter}") if counter else ("", "")
            fullname = course["fullname"][: 254 - len(full_sfx)] + full_sfx
            shortname = course["shortname"][: 100 - len(short_sfx)] + short_sfx
            if not any(c["fullname"] == fullname or c["shortname"] == shortname for c in others):
                break
            counter += 1
        self.state.courses[courseid] = {**course, "fullname": fullname, "shortname": shortname}

    def _keep_names(self, courseid: int, before: dict[str, Any]) -> None:
        """The plugin (0.1.1) after the restore: the names from before it again, the short name only while
        no other course has it."""
        course = self.state.courses[courseid]
        names = {"fullname": before["fullname"]}
        if not any(c["shortname"] == before["shortname"] for c in self.state.courses.values() if c["id"] != courseid):
            names["shortname"] = before["shortname"]
        self.state.courses[courseid] = {**course, **names}

    def _plugin_version(self) -> str:
        return plugin_version()["version"] if self.plugin_keeps_course_names else "2026112300"

    def _delete_course(self, courseid: int) -> None:
        self.state.courses.pop(courseid, None)
        for sid in [s["id"] for s in self._sections(courseid)]:
            del self.state.sections[sid]
        for mid in [m for m, mod in self.state.modules.items() if mod["course"] == courseid]:
            del self.state.modules[mid]

    # groups

    def _group_out(self, g: dict[str, Any], *, stored: bool = False) -> dict[str, Any]:
        """A group as Moodle answers; ``stored``: as read back (an unset enrolment key is NULL there)."""
        out = {
            k: g[k]
            for k in (
                "id",
                "courseid",
                "name",
                "description",
                "descriptionformat",
                "enrolmentkey",
                "idnumber",
                "visibility",
                "participation",
            )
        }
        if stored and not out["enrolmentkey"]:
            out["enrolmentkey"] = None
        return out

    def ws_core_group_get_course_groups(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if params["courseid"] not in self.state.courses:
            raise missing_record()
        groups = [g for g in self.state.groups.values() if g["courseid"] == params["courseid"]]
        # groups_get_all_groups() orders by name (Moodle 4.5, recordings_45/get_course_groups.json)
        return [self._group_out(g, stored=True) for g in sorted(groups, key=lambda g: (g["name"], g["id"]))]

    def ws_core_group_create_groups(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = []
        for data in params["groups"]:
            if data["courseid"] not in self.state.courses:
                raise missing_record()
            siblings = [g for g in self.state.groups.values() if g["courseid"] == data["courseid"]]
            if any(g["name"] == data["name"] for g in siblings):
                raise invalid("Invalid group name")
            if data.get("idnumber") and any(g["idnumber"] == data["idnumber"] for g in siblings):
                raise WsError("idnumbertaken", "This ID number is already in use")
            gid = self.state.new_id("group")
            self.state.groups[gid] = {
                "id": gid,
                "courseid": data["courseid"],
                "name": data["name"],
                "description": data["description"],
                "descriptionformat": data["descriptionformat"],
                "enrolmentkey": data.get("enrolmentkey") or "",
                "idnumber": data.get("idnumber") or "",
                "visibility": data["visibility"],
                "participation": data["participation"],
            }
            self.state.members[gid] = frozenset()
            result.append(self._group_out(self.state.groups[gid]))
        return result

    def ws_core_group_update_groups(self, params: dict[str, Any]) -> None:
        for data in params["groups"]:
            current = self.state.groups.get(data["id"])
            if current is None:
                raise missing_record("groups")
            self.state.groups[data["id"]] = {**current, **{k: v for k, v in data.items() if v is not None}}
        return None

    def ws_core_group_delete_groups(self, params: dict[str, Any]) -> None:
        for gid in params["groupids"]:
            if gid not in self.state.groups:
                raise missing_record("groups")
            del self.state.groups[gid]
            self.state.members.pop(gid, None)
        return None

    def ws_core_group_get_group_members(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = []
        for gid in params["groupids"]:
            if gid not in self.state.groups:
                raise missing_record("groups")
            result.append({"groupid": gid, "userids": sorted(self.state.members.get(gid, frozenset()))})
        return result

    def ws_core_group_add_group_members(self, params: dict[str, Any]) -> None:
        for member in params["members"]:
            group = self.state.groups.get(member["groupid"])
            if group is None:
                raise missing_record("groups")
            if member["userid"] not in self.state.users:
                raise missing_record("user")
            if (group["courseid"], member["userid"]) not in self.state.enrolments:
                raise invalid("Only enrolled users may be members of groups")
            self.state.members[group["id"]] = self.state.members.get(group["id"], frozenset()) | {member["userid"]}
        return None

    def ws_core_group_delete_group_members(self, params: dict[str, Any]) -> None:
        for member in params["members"]:
            if member["groupid"] not in self.state.groups:
                raise missing_record("groups")
            self.state.members[member["groupid"]] = self.state.members[member["groupid"]] - {member["userid"]}
        return None

    # users

    def _user_out(self, u: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": u["id"],
            "username": u["username"],
            "firstname": u["firstname"],
            "lastname": u["lastname"],
            "fullname": f"{u['firstname']} {u['lastname']}",
            "email": u["email"],
            "department": u["department"],
        }
        if u["idnumber"]:
            out["idnumber"] = u["idnumber"]
        out.update(
            {
                "firstaccess": 0,
                "lastaccess": 0,
                "auth": u["auth"],
                "suspended": u["suspended"],
                "confirmed": True,
                "lang": u["lang"],
                "theme": "",
                "timezone": "99",
                "mailformat": 1,
                "trackforums": 0,
                "profileimageurlsmall": f"{self.url}/theme/image.php/boost/core/1795344737/u/f2",
                "profileimageurl": f"{self.url}/theme/image.php/boost/core/1795344737/u/f1",
            }
        )
        return out

    def ws_core_user_get_users_by_field(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        field_name = params["field"]
        if field_name not in {"id", "idnumber", "username", "email"}:
            raise invalid(
                f"field => Invalid parameter value detected (The search field '{field_name}' is not supported)"
            )
        wanted = {str(v).lower() if field_name in {"username", "email"} else str(v) for v in params["values"]}
        return [
            self._user_out(u)
            for u in sorted(self.state.users.values(), key=lambda u: u["id"])
            if str(u[field_name]).lower() in wanted or str(u[field_name]) in wanted
        ]

    def ws_core_user_create_users(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = []
        for data in params["users"]:
            username = data["username"]
            if username != username.lower():
                raise invalid("users => Invalid parameter value detected (Username must be in lowercase)")
            if not re.fullmatch(r"[a-z0-9_.@-]+", username):
                raise invalid(f"The username '{username}' contains invalid characters")
            if data["auth"] not in INSTALLED_AUTHS:
                raise invalid(f"Invalid authentication type: {data['auth']}")
            if any(u["username"] == username for u in self.state.users.values()):
                raise invalid(f"Username already exists: {username}")
            if data["auth"] in INTERNAL_AUTHS and not data.get("password") and not data.get("createpassword"):
                raise invalid("Invalid password: you must provide a password, or set createpassword.")
            password = data.get("password") or ""
            if data["auth"] in INTERNAL_AUTHS and password and not _password_ok(password):
                raise invalid(
                    "Passwords must be at least 8 characters long, have at least 1 digit(s), 1 lower case "
                    "letter(s), 1 upper case letter(s) and 1 special character(s) such as *, -, or #."
                )
            if not re.fullmatch(r"[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*", data["email"]):
                raise invalid(f"Email address is invalid: {data['email']}")
            if not self.allowaccountssameemail and any(
                u["email"].lower() == data["email"].lower() for u in self.state.users.values()
            ):
                raise invalid(f"Email address already exists: {data['email']}")
            uid = self.state.new_id("user")
            self.state.users[uid] = self._user_record(uid, data)
            result.append({"id": uid, "username": username})
        return result

    def ws_core_user_update_users(self, params: dict[str, Any]) -> dict[str, Any]:
        """Moodle 4.5 answers ``{"warnings": [...]}``; a user it cannot update is a warning (recordings_45)."""
        warnings = []
        for data in params["users"]:
            current = self.state.users.get(data["id"])
            if current is None:
                warnings.append(
                    {
                        "item": "user",
                        "itemid": data["id"],
                        "warningcode": "invaliduserid",
                        "message": "Invalid user ID (Invalid user ID)",
                    }
                )
                continue
            changes = {k: v for k, v in data.items() if v is not None and k not in {"id", "password"}}
            self.state.users[data["id"]] = {**current, **changes}
        return {"warnings": warnings}

    def ws_core_user_delete_users(self, params: dict[str, Any]) -> None:
        for uid in params["userids"]:
            if uid not in self.state.users:
                raise missing_record()
            del self.state.users[uid]
        return None

    # enrolments

    def ws_core_enrol_get_enrolled_users(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        courseid = params["courseid"]
        course = self.state.courses.get(courseid)
        if course is None:
            raise missing_record()
        result = []
        for (cid, uid), roleids in sorted(self.state.enrolments.items()):
            if cid != courseid:
                continue
            u = self.state.users[uid]
            result.append(
                {
                    "id": uid,
                    "username": u["username"],
                    "firstname": u["firstname"],
                    "lastname": u["lastname"],
                    "fullname": f"{u['firstname']} {u['lastname']}",
                    "email": u["email"],
                    "department": u["department"],
                    **({"idnumber": u["idnumber"]} if u["idnumber"] else {}),
                    "firstaccess": 0,
                    "lastaccess": 0,
                    "lastcourseaccess": 0,
                    "profileimageurlsmall": f"{self.url}/theme/image.php/boost/core/1795344737/u/f2",
                    "profileimageurl": f"{self.url}/theme/image.php/boost/core/1795344737/u/f1",
                    **self._user_groups(courseid, uid),
                    "roles": [
                        {"roleid": r, "name": "", "shortname": self.roles[r], "sortorder": 0} for r in sorted(roleids)
                    ],
                    "enrolledcourses": [
                        {"id": courseid, "fullname": course["fullname"], "shortname": course["shortname"]}
                    ],
                }
            )
        return result

    def _user_groups(self, courseid: int, uid: int) -> dict[str, Any]:
        """``groups`` of ``core_enrol_get_enrolled_users``: only for a user in a group, by name (Moodle 4.5)."""
        groups = sorted(
            (
                g
                for g in self.state.groups.values()
                if g["courseid"] == courseid and uid in self.state.members.get(g["id"], frozenset())
            ),
            key=lambda g: (g["name"], g["id"]),
        )
        if not groups:
            return {}
        return {
            "groups": [
                {
                    "id": g["id"],
                    "name": g["name"],
                    "description": g["description"],
                    "descriptionformat": g["descriptionformat"],
                }
                for g in groups
            ]
        }

    def ws_enrol_manual_enrol_users(self, params: dict[str, Any]) -> None:
        for data in params["enrolments"]:
            if data["roleid"] not in self.roles:
                raise WsError(
                    "wsusercannotassign",
                    f"You don't have the permission to assign this role ({data['roleid']}) "
                    f"to this user ({data['userid']}) in this course({data['courseid']}).",
                )
            if data["courseid"] not in self.state.courses or data["userid"] not in self.state.users:
                raise missing_record()
            self.enrol(data["courseid"], data["userid"], data["roleid"])
        return None

    def ws_enrol_manual_unenrol_users(self, params: dict[str, Any]) -> None:
        for data in params["enrolments"]:
            key = (data["courseid"], data["userid"])
            self.state.enrolments.pop(key, None)
            for group in self.state.groups.values():  # Moodle drops the group memberships with the enrolment
                if group["courseid"] == data["courseid"]:
                    self.state.members[group["id"]] = self.state.members.get(group["id"], frozenset()) - {
                        data["userid"]
                    }
        return None

    def ws_core_role_unassign_roles(self, params: dict[str, Any]) -> None:
        for data in params["unassignments"]:
            if data.get("contextlevel") != "course":
                raise invalid("Missing parameters: contextlevel and instanceid, or contextid")
            key = (int(data["instanceid"]), data["userid"])
            if key in self.state.enrolments:
                self.state.enrolments[key] = self.state.enrolments[key] - {data["roleid"]}
        return None


def _password_ok(password: str) -> bool:
    return (
        len(password) >= 8
        and any(c.isdigit() for c in password)
        and any(c.islower() for c in password)
        and any(c.isupper() for c in password)
        and any(not c.isalnum() for c in password)
    )


@contextmanager
def running(**options: Any) -> Iterator[FakeMoodle]:
    """Start a FakeMoodle for a block."""
    fake = FakeMoodle(**options)
    with fake:
        yield fake


# -- a network as the tool describes it --------------------------------------------------------------

#: Network roles of a school's people, in order: one leader, one media coordinator, then teachers.
SCHOOL_ROLES = ("leader", "media")


def build_network(schools: int = 3, people_per_school: int = 4, *, key: str = "nrw1", auth: str | None = None) -> Any:
    """A network of ``schools`` member schools, a manager and ``people_per_school`` people each."""
    from moodle_sync.desired import (
        DEFAULT_AUTH,
        DesiredCourse,
        DesiredNetwork,
        DesiredSchool,
        person,
        standard_sections,
    )

    members = [DesiredSchool(f"s{i:02d}", f"Schule {i:02d}") for i in range(schools)]
    people = [person(f"{key}-manager", "Maria", "Moderatorin", "manager", auth=auth or DEFAULT_AUTH)]
    for school in members:
        for j in range(people_per_school):
            role = SCHOOL_ROLES[j] if j < len(SCHOOL_ROLES) else "teacher"
            people.append(
                person(
                    f"{key}-{school.key}-{j:02d}",
                    f"Vorname{j:02d}",
                    f"Nachname {school.name}",
                    role,
                    school.key,
                    auth=auth or DEFAULT_AUTH,
                )
            )
    return DesiredNetwork(
        key=key,
        name=f"Netzwerk {key.upper()}",
        category_name=f"Netzwerk {key.upper()}",
        course=DesiredCourse(
            f"Netzwerk {key.upper()} – Arbeitsraum",
            key.upper(),
            f"lmsb-net-{key}-ws",
            "Arbeitsraum des Schulnetzwerks",
        ),
        sections=standard_sections(),
        schools=members,
        people=people,
    )
