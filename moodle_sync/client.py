"""A typed client for Moodle's REST web services (``/webservice/rest/server.php``).

One :class:`requests.Session`, one place for timeouts, retries and error
mapping (:meth:`MoodleClient.call`); typed methods for what the sync engine
needs on top. Rules the client keeps:

* Every error arrives as HTTP 200 with ``exception``/``errorcode``/``message``
  and becomes a typed :mod:`moodle_sync.errors` exception.
* Only idempotent *reads* are retried (connection errors, HTTP 408/429/5xx,
  Moodle's ``locktimeout``/``sessionwaiterr``), with exponential backoff.
  A write is never sent twice: when its fate is unknown the client raises
  :class:`TransportError` with ``maybe_applied=True`` and the caller looks the
  object up before creating it again.
* A request stays below ``max_input_vars`` (minus a margin); writes that
  would not fit are refused (:meth:`MoodleClient.batches` splits them), reads
  are split here. A required leaf travels last (:func:`params.with_tripwire`)
  so that a request PHP cuts short fails validation instead of half-applying.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from moodle_sync.errors import (
    AccessDenied,
    AlreadyExists,
    ConfigurationError,
    InvalidParameter,
    MoodleError,
    SiteBusy,
    SyncError,
    TransportError,
    TruncatedRequest,
    classify,
)
from moodle_sync.params import count_vars, flatten, with_tripwire
from moodle_sync.records import (
    Category,
    Course,
    EnrolledUser,
    Group,
    MoodleUser,
    MoodleWarning,
    RestoreStatus,
    Section,
    SiteInfo,
    UploadedFile,
)

log = logging.getLogger(__name__)

REST_PATH = "/webservice/rest/server.php"
UPLOAD_PATH = "/webservice/upload.php"
TOKEN_PATH = "/login/token.php"
SITE_INFO = "core_webservice_get_site_info"

#: Functions that only read; they may be retried. Everything else counts as a write.
READ_FUNCTIONS = frozenset(
    {
        SITE_INFO,
        "core_course_get_categories",
        "core_course_get_courses",
        "core_course_get_courses_by_field",
        "core_course_search_courses",
        "core_course_get_contents",
        "core_courseformat_get_state",
        "core_group_get_course_groups",
        "core_group_get_group_members",
        "core_user_get_users_by_field",
        "core_user_get_users",
        "core_enrol_get_enrolled_users",
        "core_enrol_get_users_courses",
        "core_enrol_get_course_enrolment_methods",
        "core_files_get_files",
        "local_lmsbridge_get_restore_status",
    }
)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: PHP's own default for max_input_vars; a refused request above it may have been cut.
SUSPECT_TRUNCATION_VARS = 1000
#: wstoken, wsfunction and moodlewsrestformat travel with every call.
ENVELOPE_VARS = 3


def is_read(wsfunction: str) -> bool:
    """Return True for functions that change nothing (``*_get_*`` and the known readers)."""
    return wsfunction in READ_FUNCTIONS or "_get_" in wsfunction


@dataclass
class CallStats:
    """HTTP requests made, by kind; a retry counts as a request."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    by_function: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def copy(self) -> CallStats:
        return CallStats(self.reads, self.writes, self.retries, Counter(self.by_function))

    def since(self, earlier: CallStats) -> CallStats:
        """Return the requests made after ``earlier`` was copied."""
        return CallStats(
            self.reads - earlier.reads,
            self.writes - earlier.writes,
            self.retries - earlier.retries,
            self.by_function - earlier.by_function,
        )


class MoodleClient:
    """Moodle web services for one site and one token."""

    def __init__(
        self,
        site_url: str,
        token: str,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        session: requests.Session | None = None,
        max_input_vars: int = 5000,
        retries: int = 3,
        backoff: float = 0.5,
        margin: float = 0.1,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()
        self._own_session = session is None
        self.max_input_vars = max_input_vars
        self.retries = retries
        self.backoff = backoff
        self.margin = margin
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.stats = CallStats()
        self.warnings: list[MoodleWarning] = []
        self._site_info: SiteInfo | None = None

    # -- life cycle --------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> MoodleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MoodleClient({self.site_url!r})"

    # -- the one transport seam ----------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        return self.site_url + REST_PATH

    @property
    def budget(self) -> int:
        """Input variables one request may use: ``max_input_vars`` minus the safety margin."""
        return max(ENVELOPE_VARS + 1, int(self.max_input_vars * (1 - self.margin)))

    def call(self, wsfunction: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call ``wsfunction`` and return its decoded JSON answer (``None`` for void functions)."""
        params = dict(params or {})
        body, tripwire = with_tripwire(flatten(params), params)
        pairs = [("wstoken", self.token), ("wsfunction", wsfunction), ("moodlewsrestformat", "json"), *body]
        nvars = len(pairs)
        if nvars > self.max_input_vars:
            raise TruncatedRequest(
                f"{wsfunction} would send {nvars} input variables, more than max_input_vars={self.max_input_vars}",
                wsfunction=wsfunction,
                nvars=nvars,
                limit=self.max_input_vars,
            )
        read = is_read(wsfunction)
        attempts = 1 + max(0, self.retries) if read else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            self._count(wsfunction, read, attempt)
            try:
                response = self.session.post(self.rest_url, data=pairs, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                if read and not last:
                    self._pause(attempt)
                    continue
                raise _transport_error(exc, self.site_url, wsfunction, read, attempt) from exc
            with response:
                if response.status_code in RETRY_STATUSES:
                    if read and not last:
                        self._pause(attempt, response)
                        continue
                    raise TransportError(
                        f"{self.site_url} answered HTTP {response.status_code}",
                        wsfunction=wsfunction,
                        status=response.status_code,
                        maybe_applied=not read and response.status_code not in (408, 429),
                        attempts=attempt,
                    )
                data = _decode(response, self.rest_url, wsfunction)
            if isinstance(data, dict) and "exception" in data and "errorcode" in data:
                error = classify(data, wsfunction=wsfunction)
                if isinstance(error, SiteBusy) and read and not last:
                    self._pause(attempt)
                    continue
                raise self._refine(error, wsfunction, nvars, tripwire)
            self._collect_warnings(data, wsfunction)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self, wsfunction: str, read: bool, attempt: int) -> None:
        if read:
            self.stats.reads += 1
        else:
            self.stats.writes += 1
        if attempt > 1:
            self.stats.retries += 1
        self.stats.by_function[wsfunction] += 1

    def _pause(self, attempt: int, response: requests.Response | None = None) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        self.sleep(min(delay, self.max_backoff))

    def _collect_warnings(self, data: Any, wsfunction: str) -> None:
        if isinstance(data, dict) and isinstance(data.get("warnings"), list):
            for entry in data["warnings"]:
                warning = MoodleWarning.from_ws(entry, wsfunction)
                log.warning("Moodle warning from %s: %s", wsfunction, warning)
                self.warnings.append(warning)

    def _refine(self, error: MoodleError, wsfunction: str, nvars: int, tripwire: str | None) -> SyncError:
        """Make an error precise: truncation, a function missing from the service, an expired token."""
        if (
            isinstance(error, InvalidParameter)
            and not isinstance(error, AlreadyExists)
            and nvars > SUSPECT_TRUNCATION_VARS
        ):
            if (
                tripwire
                and error.debuginfo
                and f"Missing required key in single structure: {tripwire}" in error.debuginfo
            ):
                return TruncatedRequest(
                    f"PHP cut {wsfunction} short: {nvars} input variables exceed the site's max_input_vars",
                    wsfunction=wsfunction,
                    nvars=nvars,
                    limit=self.max_input_vars,
                    detected=True,
                )
            error.possibly_truncated = True
            error.nvars = nvars
            error.hint = (
                f"the request had {nvars} input variables; if the site's PHP max_input_vars is lower, "
                "PHP cut it and Moodle refused it as a whole"
            )
            return error
        missing_function = error.errorcode in {"invalidrecordunknown", "invalidrecord"} and (
            error.errorcode == "invalidrecordunknown" or "external_functions" in f"{error.message} {error.debuginfo}"
        )
        if wsfunction != SITE_INFO and (error.errorcode == "accessexception" or missing_function):
            return self._diagnose_access(error, wsfunction)
        return error

    def _diagnose_access(self, error: MoodleError, wsfunction: str) -> SyncError:
        """Tell apart: function not in the service, token expired, capability missing, record missing."""
        cached = self._site_info
        if error.errorcode != "accessexception" and cached is not None and wsfunction in cached.functions:
            return error  # a genuinely missing record
        try:
            info = self.site_info(refresh=True)
        except ConfigurationError as config:
            # the token stopped working (expired or deleted): report it for the call that met it
            config.wsfunction = wsfunction
            config.hint = f"{config.hint}; Moodle first refused {wsfunction} with {error.errorcode}"
            return config
        except SyncError:
            return error
        if wsfunction not in info.functions:
            return AccessDenied(
                f"{wsfunction} is not in the token's service",
                function=wsfunction,
                errorcode=error.errorcode,
                debuginfo=error.debuginfo,
                wsfunction=wsfunction,
                exception=error.exception,
                hint=f"add {wsfunction} to the external service (Site administration > Server > Web services > "
                "External services > Functions)",
            )
        if error.errorcode == "accessexception":
            error.hint = (
                "the service lists the function but Moodle refused it: check the token user's capabilities, "
                "the service's authorised users and IP restrictions"
            )
        return error

    # -- batches ---------------------------------------------------------------------------------

    def batches(
        self, wsfunction: str, list_key: str, items: Sequence[Mapping[str, Any]], fixed: Mapping[str, Any] | None = None
    ) -> list[list[Mapping[str, Any]]]:
        """Split ``items`` into lists that each fit one request; refuse an item that fits none."""
        base = ENVELOPE_VARS + count_vars(fixed or {})
        result: list[list[Mapping[str, Any]]] = []
        current: list[Mapping[str, Any]] = []
        used = base
        for item in items:
            size = count_vars({list_key: [item]})
            if base + size > self.budget:
                raise TruncatedRequest(
                    f"one {list_key} entry of {wsfunction} needs {base + size} input variables, "
                    f"more than the {self.budget} a request may use",
                    wsfunction=wsfunction,
                    nvars=base + size,
                    limit=self.budget,
                )
            if current and used + size > self.budget:
                result.append(current)
                current, used = [], base
            current.append(item)
            used += size
        if current:
            result.append(current)
        return result

    def _one_batch(
        self, wsfunction: str, list_key: str, items: Sequence[Mapping[str, Any]], **fixed: Any
    ) -> dict[str, Any]:
        """Return the arguments for a write of ``items``; refuse what needs more than one request."""
        if len(self.batches(wsfunction, list_key, items, fixed)) > 1:
            nvars = ENVELOPE_VARS + count_vars({**fixed, list_key: list(items)})
            raise TruncatedRequest(
                f"{wsfunction} with {len(items)} entries needs {nvars} input variables, more than {self.budget}; "
                "split it with MoodleClient.batches()",
                wsfunction=wsfunction,
                nvars=nvars,
                limit=self.budget,
            )
        return {**fixed, list_key: list(items)}

    def _read_in_chunks(self, wsfunction: str, list_key: str, values: Sequence[Any], **fixed: Any) -> list[Any]:
        """Call a read once per chunk of ``values`` that fits a request; concatenate list answers."""
        answers: list[Any] = []
        base = ENVELOPE_VARS + count_vars(fixed)
        chunk: list[Any] = []
        used = base
        for value in values:
            size = count_vars({list_key: [value]})
            if chunk and used + size > self.budget:
                answers.extend(self.call(wsfunction, {**fixed, list_key: chunk}) or [])
                chunk, used = [], base
            chunk.append(value)
            used += size
        if chunk:
            answers.extend(self.call(wsfunction, {**fixed, list_key: chunk}) or [])
        return answers

    # -- site ------------------------------------------------------------------------------------

    def site_info(self, *, refresh: bool = False) -> SiteInfo:
        """Return the site, its version and the functions the token may call (cached)."""
        if self._site_info is None or refresh:
            self._site_info = SiteInfo.from_ws(self.call(SITE_INFO) or {})
        return self._site_info

    # -- categories ----------------------------------------------------------------------------

    def categories(self, **criteria: str | int) -> list[Category]:
        """Return categories matching all ``criteria`` (e.g. ``idnumber=...``), without subcategories."""
        params = {"criteria": [{"key": k, "value": v} for k, v in criteria.items()], "addsubcategories": 0}
        return [Category.from_ws(c) for c in self.call("core_course_get_categories", params) or []]

    def category_by_idnumber(self, idnumber: str) -> Category | None:
        found = self.categories(idnumber=idnumber)
        return found[0] if found else None

    def create_categories(self, categories: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create categories (``name`` first, ``parent``, ``idnumber``, …); return their ids in order."""
        answer = self.call(
            "core_course_create_categories", self._one_batch("core_course_create_categories", "categories", categories)
        )
        return _ids_in_order(answer, len(categories), "core_course_create_categories", self.max_input_vars)

    def update_categories(self, categories: Sequence[Mapping[str, Any]]) -> None:
        self.call(
            "core_course_update_categories", self._one_batch("core_course_update_categories", "categories", categories)
        )

    # -- courses ---------------------------------------------------------------------------------

    def courses_by_field(self, field: str, value: str | int) -> list[Course]:
        answer = self.call("core_course_get_courses_by_field", {"field": field, "value": value}) or {}
        return [Course.from_ws(c) for c in answer.get("courses", [])]

    def course_by_idnumber(self, idnumber: str) -> Course | None:
        found = self.courses_by_field("idnumber", idnumber)
        return found[0] if found else None

    def course_by_shortname(self, shortname: str) -> Course | None:
        found = self.courses_by_field("shortname", shortname)
        return found[0] if found else None

    def create_courses(self, courses: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create courses (``fullname`` first, ``shortname``, ``categoryid``, …); return their ids in order."""
        answer = self.call(
            "core_course_create_courses", self._one_batch("core_course_create_courses", "courses", courses)
        )
        return _ids_in_order(answer, len(courses), "core_course_create_courses", self.max_input_vars)

    def update_courses(self, courses: Sequence[Mapping[str, Any]]) -> list[MoodleWarning]:
        """Update courses (``id`` first); return Moodle's warnings (unknown courses are warnings, not errors)."""
        answer = (
            self.call("core_course_update_courses", self._one_batch("core_course_update_courses", "courses", courses))
            or {}
        )
        return [MoodleWarning.from_ws(w, "core_course_update_courses") for w in answer.get("warnings", [])]

    # -- sections --------------------------------------------------------------------------------

    def course_contents(self, courseid: int) -> list[Section]:
        """Return the course's sections (with module counts) in order."""
        return [Section.from_ws(s) for s in self.call("core_course_get_contents", {"courseid": courseid}) or []]

    def add_section(self, courseid: int, *, after_section_id: int | None = None) -> list[dict[str, Any]]:
        """Add one section (Moodle 4.0+); return the decoded state updates Moodle sends as a JSON string."""
        answer = self.call(
            "core_courseformat_update_course",
            {"action": "section_add", "courseid": courseid, "targetsectionid": after_section_id},
        )
        return _decode_state_updates(answer)

    def set_section_title(self, section_id: int, title: str, *, component: str = "format_topics") -> str:
        """Set a section's name through ``core_update_inplace_editable``; return the name Moodle saved.

        Moodle's ``displayvalue`` is HTML (a link to ``course/section.php``, Moodle 4.5); ``value`` is the name.
        """
        answer = self.call(
            "core_update_inplace_editable",
            {"component": component, "itemtype": "sectionname", "itemid": section_id, "value": title},
        )
        return str((answer or {}).get("value", ""))

    def set_section_names(self, courseid: int, names: Mapping[int, str]) -> tuple[list[int], list[MoodleWarning]]:
        """Name sections by number in one call (companion plugin ``local_lmsbridge``)."""
        sections = [{"section": number, "name": name} for number, name in sorted(names.items())]
        params = self._one_batch("local_lmsbridge_set_section_names", "sections", sections, courseid=courseid)
        answer = self.call("local_lmsbridge_set_section_names", params) or {}
        warnings = [MoodleWarning.from_ws(w, "local_lmsbridge_set_section_names") for w in answer.get("warnings", [])]
        return [int(n) for n in answer.get("sections", [])], warnings

    # -- groups ----------------------------------------------------------------------------------

    def course_groups(self, courseid: int) -> list[Group]:
        return [Group.from_ws(g) for g in self.call("core_group_get_course_groups", {"courseid": courseid}) or []]

    def create_groups(self, groups: Sequence[Mapping[str, Any]]) -> list[Group]:
        """Create groups (``courseid`` first, ``name``, ``description``, ``idnumber``)."""
        answer = (
            self.call("core_group_create_groups", self._one_batch("core_group_create_groups", "groups", groups)) or []
        )
        if len(answer) != len(groups):
            raise TruncatedRequest(
                "core_group_create_groups created fewer groups than sent",
                wsfunction="core_group_create_groups",
                detected=True,
                limit=self.max_input_vars,
            )
        return [Group.from_ws(g) for g in answer]

    def update_groups(self, groups: Sequence[Mapping[str, Any]]) -> None:
        self.call("core_group_update_groups", self._one_batch("core_group_update_groups", "groups", groups))

    def delete_groups(self, groupids: Sequence[int]) -> None:
        self.call("core_group_delete_groups", {"groupids": list(groupids)})

    def group_members(self, groupids: Sequence[int]) -> dict[int, frozenset[int]]:
        """Return the member user ids of each group."""
        answers = self._read_in_chunks("core_group_get_group_members", "groupids", list(groupids))
        return {int(a["groupid"]): frozenset(int(u) for u in a.get("userids", [])) for a in answers}

    def add_group_members(self, members: Sequence[Mapping[str, int]]) -> None:
        """Add members (``groupid`` first, ``userid``); void."""
        self.call("core_group_add_group_members", self._one_batch("core_group_add_group_members", "members", members))

    def delete_group_members(self, members: Sequence[Mapping[str, int]]) -> None:
        self.call(
            "core_group_delete_group_members", self._one_batch("core_group_delete_group_members", "members", members)
        )

    # -- users and enrolments --------------------------------------------------------------------

    def users_by_field(self, field: str, values: Iterable[str | int]) -> list[MoodleUser]:
        """Return the users whose ``field`` has one of ``values`` (split into as many reads as needed)."""
        answers = self._read_in_chunks("core_user_get_users_by_field", "values", list(values), field=field)
        return [MoodleUser.from_ws(u) for u in answers]

    def users_by_username(self, usernames: Iterable[str]) -> dict[str, MoodleUser]:
        return {u.username: u for u in self.users_by_field("username", usernames)}

    def create_users(self, users: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Create users (``username`` first); return username -> id."""
        answer = self.call("core_user_create_users", self._one_batch("core_user_create_users", "users", users)) or []
        if len(answer) != len(users):
            raise TruncatedRequest(
                "core_user_create_users created fewer users than sent",
                wsfunction="core_user_create_users",
                detected=True,
                limit=self.max_input_vars,
            )
        return {str(u["username"]): int(u["id"]) for u in answer}

    def update_users(self, users: Sequence[Mapping[str, Any]]) -> list[MoodleWarning]:
        """Update users (``id`` first); older sites answer ``null``, newer ones may list warnings."""
        answer = self.call("core_user_update_users", self._one_batch("core_user_update_users", "users", users))
        if isinstance(answer, dict):
            return [MoodleWarning.from_ws(w, "core_user_update_users") for w in answer.get("warnings", [])]
        return []

    def enrolled_users(self, courseid: int) -> list[EnrolledUser]:
        return [
            EnrolledUser.from_ws(u) for u in self.call("core_enrol_get_enrolled_users", {"courseid": courseid}) or []
        ]

    def enrol(self, enrolments: Sequence[Mapping[str, int]]) -> None:
        """Enrol manually (``roleid`` first, ``userid``, ``courseid``); void."""
        self.call("enrol_manual_enrol_users", self._one_batch("enrol_manual_enrol_users", "enrolments", enrolments))

    def unenrol(self, enrolments: Sequence[Mapping[str, int]]) -> None:
        """Unenrol from the manual instance (``userid`` first, ``courseid``); void."""
        self.call("enrol_manual_unenrol_users", self._one_batch("enrol_manual_unenrol_users", "enrolments", enrolments))

    def unassign_roles(self, unassignments: Sequence[Mapping[str, Any]]) -> None:
        """Take roles back (``roleid`` first, ``userid``, ``contextlevel``, ``instanceid``); void."""
        self.call(
            "core_role_unassign_roles", self._one_batch("core_role_unassign_roles", "unassignments", unassignments)
        )

    # -- files and the companion plugin ----------------------------------------------------------

    def upload(self, filename: str, content: bytes, *, filepath: str = "/", itemid: int = 0) -> UploadedFile:
        """Put a file into the token user's draft area; return it with its draft ``itemid``."""
        url = self.site_url + UPLOAD_PATH
        data = {"token": self.token, "filearea": "draft", "itemid": str(itemid), "filepath": filepath}
        files = {"file_1": (filename, content, "application/octet-stream")}
        self.stats.writes += 1
        self.stats.by_function["webservice/upload.php"] += 1
        try:
            response = self.session.post(url, data=data, files=files, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise _transport_error(exc, self.site_url, "webservice/upload.php", False, 1) from exc
        with response:
            if response.status_code in RETRY_STATUSES:
                raise TransportError(
                    f"{self.site_url} answered HTTP {response.status_code}",
                    wsfunction="webservice/upload.php",
                    status=response.status_code,
                    maybe_applied=True,
                )
            answer = _decode(response, url, "webservice/upload.php")
        if isinstance(answer, dict) and ("error" in answer or "exception" in answer):
            error = classify(answer, wsfunction="webservice/upload.php")
            if error.errorcode == "accessexception":
                error.hint = "enable 'Can upload files' in the external service, or check the token"
            raise error
        if not isinstance(answer, list) or not answer:
            raise MoodleError("upload.php answered without a file", wsfunction="webservice/upload.php")
        first = answer[0]
        if "errortype" in first:
            kind = AlreadyExists if first["errortype"] == "filenameexist" else InvalidParameter
            raise kind(
                str(first.get("error", "upload refused")),
                errorcode=str(first["errortype"]),
                wsfunction="webservice/upload.php",
            )
        return UploadedFile.from_ws(first)

    def restore_cartridge(
        self,
        draftitemid: int,
        *,
        courseid: int = 0,
        categoryid: int = 0,
        fullname: str = "",
        shortname: str = "",
        mode: str = "",
    ) -> tuple[int, int]:
        """Queue a cartridge restore (companion plugin); return (taskid, courseid)."""
        answer = (
            self.call(
                "local_lmsbridge_restore_cartridge",
                {
                    "draftitemid": draftitemid,
                    "courseid": courseid,
                    "categoryid": categoryid,
                    "fullname": fullname,
                    "shortname": shortname,
                    "mode": mode,
                },
            )
            or {}
        )
        return int(answer.get("taskid", 0)), int(answer.get("courseid", 0))

    def restore_status(self, taskid: int) -> RestoreStatus:
        return RestoreStatus.from_ws(self.call("local_lmsbridge_get_restore_status", {"taskid": taskid}) or {})


def token_for(
    site_url: str,
    username: str,
    password: str,
    service: str,
    *,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = (5, 30),
) -> str:
    """Ask ``/login/token.php`` for the user's token of ``service``; every refusal is a ConfigurationError."""
    url = site_url.rstrip("/") + TOKEN_PATH
    http = session or requests.Session()
    try:
        try:
            response = http.post(
                url,
                data={"username": username, "password": password, "service": service},
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, site_url, "login/token.php", True, 1) from exc
        with response:
            if response.status_code in RETRY_STATUSES:
                raise TransportError(
                    f"{site_url} answered HTTP {response.status_code}",
                    wsfunction="login/token.php",
                    status=response.status_code,
                )
            answer = _decode(response, url, "login/token.php")
    finally:
        if session is None:
            http.close()
    if isinstance(answer, dict) and answer.get("token"):
        return str(answer["token"])
    error = classify(answer if isinstance(answer, dict) else {}, wsfunction="login/token.php")
    if isinstance(error, ConfigurationError):
        raise error
    raise ConfigurationError(
        error.message,
        errorcode=error.errorcode,
        debuginfo=error.debuginfo,
        wsfunction="login/token.php",
        exception=error.exception,
        hint="check the username, the password and the service's short name",
    )


# -- helpers ---------------------------------------------------------------------------------------


def _decode(response: requests.Response, url: str, wsfunction: str) -> Any:
    """Return the JSON body of a 200 answer; anything else means the URL or the site is set up wrongly."""
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location", "?")
        raise ConfigurationError(
            f"{url} redirects to {location}",
            wsfunction=wsfunction,
            hint="use the address Moodle redirects to as the site URL (https? www?)",
        )
    if status == 403:
        raise ConfigurationError(
            f"{url} answered HTTP 403",
            wsfunction=wsfunction,
            hint="web services or the REST protocol are disabled: Site administration > Advanced "
            "features > Enable web services, and Server > Web services > Manage protocols > REST",
        )
    if status == 404:
        raise ConfigurationError(
            f"{url} answered HTTP 404",
            wsfunction=wsfunction,
            hint="no Moodle web-service endpoint at this address: check the site URL",
        )
    if status != 200:
        raise ConfigurationError(f"{url} answered HTTP {status}", wsfunction=wsfunction, hint="check the site URL")
    try:
        return response.json()
    except ValueError:
        start = response.text[:60].strip().replace("\n", " ")
        raise ConfigurationError(
            f"{url} did not answer JSON ({start!r}…)",
            wsfunction=wsfunction,
            hint="this does not look like a Moodle site's web-service endpoint: check the site URL",
        ) from None


def _never_sent(exc: BaseException) -> bool:
    """True when the connection could not even be opened, so the request cannot have been applied."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | NameResolutionError | ConnectTimeoutError | ConnectionRefusedError):
            return True
        reason = getattr(current, "reason", None)
        candidates = [*current.args, reason, current.__cause__, current.__context__]
        stack.extend(c for c in candidates if isinstance(c, BaseException))
    return False


def _transport_error(
    exc: requests.RequestException, site: str, wsfunction: str, read: bool, attempts: int
) -> TransportError:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return TransportError(
        f"{site}: {kind} ({type(exc).__name__})",
        wsfunction=wsfunction,
        maybe_applied=not read and not _never_sent(exc),
        attempts=attempts,
    )


def _ids_in_order(answer: Any, expected: int, wsfunction: str, limit: int) -> list[int]:
    items = answer if isinstance(answer, list) else []
    if len(items) != expected:
        raise TruncatedRequest(
            f"{wsfunction} created {len(items)} of {expected} objects",
            wsfunction=wsfunction,
            limit=limit,
            detected=True,
        )
    return [int(item["id"]) for item in items]


def _decode_state_updates(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, str):
        try:
            decoded = json.loads(answer)
        except ValueError:
            return []
        return decoded if isinstance(decoded, list) else []
    return answer if isinstance(answer, list) else []


def section_ids_from_updates(updates: Sequence[Mapping[str, Any]]) -> list[int]:
    """Return the course's section ids in order from ``core_courseformat_update_course`` state updates."""
    for update in updates:
        if update.get("name") == "course" and "sectionlist" in (update.get("fields") or {}):
            return [int(s) for s in update["fields"]["sectionlist"]]
    return []
