"""Typed views of what Moodle's web services answer (the fields the engine uses, plus ``raw``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _str(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class MoodleWarning:
    """One entry of a ``warnings`` array (e.g. an unknown course in ``core_course_update_courses``)."""

    item: str
    itemid: int
    warningcode: str
    message: str
    wsfunction: str | None = None

    @classmethod
    def from_ws(cls, data: Mapping[str, Any], wsfunction: str | None = None) -> MoodleWarning:
        return cls(
            _str(data.get("item")),
            _int(data.get("itemid")),
            _str(data.get("warningcode")),
            _str(data.get("message")),
            wsfunction,
        )

    def __str__(self) -> str:
        return f"{self.item} {self.itemid}: {self.message} [{self.warningcode}]"


@dataclass(frozen=True)
class SiteInfo:
    """``core_webservice_get_site_info``: the site, the token's user and the functions it may call."""

    sitename: str
    siteurl: str
    release: str
    version: str
    userid: int
    username: str
    functions: frozenset[str]
    uploadfiles: bool
    downloadfiles: bool
    userissiteadmin: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> SiteInfo:
        return cls(
            sitename=_str(data.get("sitename")),
            siteurl=_str(data.get("siteurl")),
            release=_str(data.get("release")),
            version=_str(data.get("version")),
            userid=_int(data.get("userid")),
            username=_str(data.get("username")),
            functions=frozenset(_str(f.get("name")) for f in data.get("functions") or []),
            uploadfiles=bool(_int(data.get("uploadfiles"))),
            downloadfiles=bool(_int(data.get("downloadfiles"))),
            userissiteadmin=bool(data.get("userissiteadmin")),
            raw=data,
        )

    @property
    def version_number(self) -> int:
        """The integer part of ``version`` (2025100600 for "2025100600.02"); 0 if unknown."""
        return _int(self.version.split(".")[0])

    def missing(self, functions: Iterable[str]) -> list[str]:
        """Return the given functions the token may not call, in the given order."""
        return [name for name in functions if name not in self.functions]


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    idnumber: str
    parent: int
    description: str = ""

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Category:
        return cls(
            _int(data.get("id")),
            _str(data.get("name")),
            _str(data.get("idnumber")),
            _int(data.get("parent")),
            _str(data.get("description")),
        )


@dataclass(frozen=True)
class Course:
    id: int
    fullname: str
    shortname: str
    idnumber: str
    categoryid: int
    summary: str
    format: str
    visible: bool

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Course:
        return cls(
            _int(data.get("id")),
            _str(data.get("fullname")),
            _str(data.get("shortname")),
            _str(data.get("idnumber")),
            _int(data.get("categoryid")),
            _str(data.get("summary")),
            _str(data.get("format")),
            bool(_int(data.get("visible"), 1)),
        )


@dataclass(frozen=True)
class Section:
    """A course section from ``core_course_get_contents`` (``number`` is Moodle's ``section``)."""

    id: int
    number: int
    name: str
    summary: str
    visible: bool
    component: str | None
    modules: int

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Section:
        return cls(
            _int(data.get("id")),
            _int(data.get("section")),
            _str(data.get("name")),
            _str(data.get("summary")),
            bool(_int(data.get("visible"), 1)),
            data.get("component"),
            len(data.get("modules") or []),
        )


@dataclass(frozen=True)
class Group:
    id: int
    courseid: int
    name: str
    idnumber: str
    description: str

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> Group:
        return cls(
            _int(data.get("id")),
            _int(data.get("courseid")),
            _str(data.get("name")),
            _str(data.get("idnumber")),
            _str(data.get("description")),
        )


@dataclass(frozen=True)
class MoodleUser:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    auth: str
    idnumber: str
    suspended: bool

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> MoodleUser:
        return cls(
            _int(data.get("id")),
            _str(data.get("username")),
            _str(data.get("firstname")),
            _str(data.get("lastname")),
            _str(data.get("email")),
            _str(data.get("auth")),
            _str(data.get("idnumber")),
            bool(data.get("suspended")),
        )


@dataclass(frozen=True)
class Role:
    roleid: int
    shortname: str


@dataclass(frozen=True)
class EnrolledUser:
    """A participant from ``core_enrol_get_enrolled_users`` with the roles held in the course."""

    id: int
    username: str
    roles: tuple[Role, ...]

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> EnrolledUser:
        roles = tuple(Role(_int(r.get("roleid")), _str(r.get("shortname"))) for r in data.get("roles") or [])
        return cls(_int(data.get("id")), _str(data.get("username")), roles)

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.shortname for r in self.roles)


@dataclass(frozen=True)
class UploadedFile:
    """A file ``/webservice/upload.php`` put into the token user's draft area."""

    itemid: int
    filename: str
    filepath: str
    filesize: int
    contextid: int

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> UploadedFile:
        return cls(
            _int(data.get("itemid")),
            _str(data.get("filename")),
            _str(data.get("filepath")),
            _int(data.get("filesize")),
            _int(data.get("contextid")),
        )


@dataclass(frozen=True)
class RestoreStatus:
    """``local_lmsbridge_get_restore_status``: state of a queued cartridge restore."""

    taskid: int
    status: str
    message: str
    courseid: int
    sections: tuple[Mapping[str, Any], ...]
    activities: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_ws(cls, data: Mapping[str, Any]) -> RestoreStatus:
        return cls(
            _int(data.get("taskid")),
            _str(data.get("status")),
            _str(data.get("message")),
            _int(data.get("courseid")),
            tuple(data.get("sections") or ()),
            tuple(data.get("activities") or ()),
        )

    @property
    def finished(self) -> bool:
        return self.status in {"done", "failed"}
