"""The desired state of a network in one Moodle site, as plain data the caller builds.

A *Netzwerk* (regional school network) becomes, in the target Moodle site:

* a course category (idnumber ``lmsb-net-<key>``),
* the network course (the caller's idnumber) whose sections are titled after
  the seven *Handlungsfelder* (fields of action), the network meetings
  (*Netzwerktreffen*) and the working groups (*Arbeitsgruppen*),
* one group per member school (idnumber ``lmsb-net-<key>-school-<school>``),
* one account per person (username ``lmsb-<stable pseudonym>``), enrolled
  with a Moodle role mapped from the network role, and put into the school's group.

Or, for one school whose own Moodle site holds a course bound in the workspace
(``existing_course_id``, the LTI context id of a Moodle course): no category and
no course of the tool – the course is only looked up by id (never created,
updated or pruned) and gets one section (:func:`network_section`), one group
for the network and the school's network members.

Every object carries a stable key (idnumber or username), so the engine finds
it again whatever happened in between. Nothing here talks to Moodle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from moodle_sync.errors import PlanError

#: Network roles, as in ``lti_tool.workspaces.roles.ROLES`` (this package may not import the tool).
NETWORK_ROLES = ("manager", "authority", "leader", "media", "teacher", "guest")
#: Moodle's standard course roles the engine assigns.
MOODLE_ROLES = ("editingteacher", "teacher", "student")
#: Role ids of a fresh Moodle install; the engine corrects them from enrolments it reads.
DEFAULT_ROLE_IDS: Mapping[str, int] = {"editingteacher": 3, "teacher": 4, "student": 5}

#: Network role -> Moodle role. The network manager (Prozessbegleitung) edits the course;
#: school leaders and media coordinators moderate (non-editing teacher: sees all groups,
#: may grade and moderate); everybody else takes part (student: posts, uploads, answers).
ROLE_MAP: Mapping[str, str] = {
    "manager": "editingteacher",
    "leader": "teacher",
    "media": "teacher",
    "teacher": "student",
    "authority": "student",
    "guest": "student",
}

#: The seven Handlungsfelder (keys as in ``lti_tool.workspaces.roles.HANDLUNGSFELDER``), then meetings
#: and working groups: the sections of a network course, in this order.
STANDARD_SECTIONS: tuple[tuple[str, str], ...] = (
    ("nutzung", "Nutzung"),
    ("unterrichtsentwicklung", "Unterrichtsentwicklung"),
    ("medienkonzept", "Medienkonzept"),
    ("medienkompetenz", "Medienkompetenz"),
    ("leitung", "Leitung/Steuerung"),
    ("fortbildung", "Fortbildung"),
    ("kommunikation", "Kommunikation"),
    ("netzwerktreffen", "Netzwerktreffen"),
    ("arbeitsgruppen", "Arbeitsgruppen"),
)

USERNAME_PREFIX = "lmsb-"
#: Moodle requires a valid email, unique per site by default. The tool has no
#: business handing people's addresses to another school's site, so accounts get
#: ``<username>@lms-bridge.invalid``: ``.invalid`` is reserved (RFC 2606/6761), so
#: no message can ever reach a stranger. Callers may pass a real address instead.
PLACEHOLDER_EMAIL_DOMAIN = "lms-bridge.invalid"
#: Accounts the tool creates cannot log in with a password by default: the operator
#: chooses the site's single sign-on (``oauth2``, ``saml2``, ``lti``, ``ldap``, ``cas``, …)
#: per target. The tool never creates password accounts somebody would have to be told about.
DEFAULT_AUTH = "nologin"

_USERNAME = re.compile(r"^[a-z0-9_.-]+$")  # Moodle's PARAM_USERNAME without extended characters
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class DesiredSection:
    key: str
    title: str


@dataclass(frozen=True)
class DesiredCourse:
    fullname: str
    shortname: str
    idnumber: str
    summary: str = ""
    format: str = "topics"


@dataclass(frozen=True)
class DesiredSchool:
    """A member school; it becomes one group of the network course."""

    key: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class DesiredPerson:
    """A person of the network; ``role`` is a Moodle role (see :func:`person` for network roles)."""

    username: str
    firstname: str
    lastname: str
    role: str
    school: str | None = None
    email: str | None = None
    auth: str = DEFAULT_AUTH
    #: The person's own account on this site, when known (a school target: the
    #: LTI ``sub`` of their launches from this Moodle is their user id). It is
    #: used as it is — never created, changed or removed — instead of a new
    #: ``lmsb-`` account; if it is gone, the tool account is planned instead.
    moodle_user_id: int | None = None

    @property
    def email_address(self) -> str:
        return self.email or f"{self.username}@{PLACEHOLDER_EMAIL_DOMAIN}"


@dataclass
class DesiredNetwork:
    """A network in one site: its own category and course, or (``existing_course_id``) a school's course."""

    key: str
    name: str
    #: None (with ``course`` None) for an existing course: the tool then makes neither category nor course
    category_name: str | None
    course: DesiredCourse | None
    sections: list[DesiredSection] = field(default_factory=list)
    schools: list[DesiredSchool] = field(default_factory=list)
    people: list[DesiredPerson] = field(default_factory=list)
    category_parent: int = 0
    #: a course that exists already (a school's course bound in the workspace): looked up by id, never
    #: created, updated or pruned; the sync only adds sections, groups, accounts and enrolments to it
    existing_course_id: int | None = None

    @property
    def category_idnumber(self) -> str:
        return f"lmsb-net-{self.key}"

    @property
    def course_key(self) -> str:
        """The course's key in the mapping (and the prefix of its sections' and enrolments' keys)."""
        if self.existing_course_id is not None:
            return f"lmsb-net-{self.key}-course-{self.existing_course_id}"
        if self.course is None:
            raise PlanError("the desired state has neither a course nor an existing course id")
        return self.course.idnumber

    def group_idnumber(self, school_key: str) -> str:
        return f"lmsb-net-{self.key}-school-{school_key}"

    def school(self, key: str) -> DesiredSchool:
        for school in self.schools:
            if school.key == key:
                return school
        raise KeyError(key)

    def validate(self) -> None:
        """Raise PlanError listing every problem that would make Moodle refuse or the keys ambiguous."""
        problems: list[str] = []
        if not _KEY.match(self.key):
            problems.append(f"network key {self.key!r}: use lowercase letters, digits, '-' and '_'")
        course = self.course
        if self.existing_course_id is not None:
            if type(self.existing_course_id) is not int or self.existing_course_id <= 1:  # 1 is the front page
                problems.append(f"existing course id {self.existing_course_id!r}: give a Moodle course id (> 1)")
            if course is not None or self.category_name is not None:
                problems.append("an existing course comes without a category or course of the tool")
        else:
            if not (self.category_name or "").strip():
                problems.append("the category needs a name")
            if course is None:
                problems.append("the network needs a course (or an existing course id)")
            else:
                if not course.fullname.strip() or not course.shortname.strip():
                    problems.append("the course needs a full name and a short name")
                if not course.idnumber or len(course.idnumber) > 100:
                    problems.append("the course needs an idnumber of at most 100 characters")
        problems += _duplicates("section", (s.key for s in self.sections))
        problems += [
            f"section {s.key!r} needs a title of 1-255 characters"
            for s in self.sections
            if not s.title.strip() or len(s.title) > 255
        ]
        problems += _duplicates("school", (s.key for s in self.schools))
        problems += [
            f"school key {s.key!r}: use lowercase letters, digits, '-' and '_'"
            for s in self.schools
            if not _KEY.match(s.key)
        ]
        problems += [f"school {s.key!r} needs a name" for s in self.schools if not s.name.strip()]
        problems += _duplicates("username", (p.username for p in self.people))
        school_keys = {s.key for s in self.schools}
        for person in self.people:
            if not _USERNAME.match(person.username) or len(person.username) > 100:
                problems.append(f"username {person.username!r}: use a-z, 0-9, '_', '-', '.' (≤ 100)")
            if person.role not in MOODLE_ROLES:
                problems.append(f"{person.username}: role {person.role!r} is not one of {', '.join(MOODLE_ROLES)}")
            if person.school is not None and person.school not in school_keys:
                problems.append(f"{person.username}: unknown school {person.school!r}")
            if not person.firstname.strip() or not person.lastname.strip():
                problems.append(f"{person.username}: first and last name may not be blank")
        if problems:
            raise PlanError("the desired state is invalid: " + "; ".join(problems))


def _duplicates(what: str, keys: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    twice = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    return [f"{what} {k!r} appears twice" for k in twice]


def username_for(pseudonym: str) -> str:
    """Return the stable username for a person's pseudonym (``lmsb-<pseudonym>``)."""
    cleaned = re.sub(r"[^a-z0-9_.-]", "-", pseudonym.lower()).strip("-")
    if not cleaned:
        raise PlanError(f"pseudonym {pseudonym!r} gives no usable username")
    return USERNAME_PREFIX + cleaned


def moodle_role(network_role: str) -> str:
    """Return the Moodle role for a network role (see :data:`ROLE_MAP`)."""
    try:
        return ROLE_MAP[network_role]
    except KeyError:
        raise PlanError(f"unknown network role {network_role!r}") from None


def person(
    pseudonym: str,
    firstname: str,
    lastname: str,
    network_role: str,
    school: str | None = None,
    *,
    email: str | None = None,
    auth: str = DEFAULT_AUTH,
) -> DesiredPerson:
    """Build a DesiredPerson from the tool's data: stable username, Moodle role from the network role."""
    return DesiredPerson(username_for(pseudonym), firstname, lastname, moodle_role(network_role), school, email, auth)


def standard_sections() -> list[DesiredSection]:
    return [DesiredSection(key, title) for key, title in STANDARD_SECTIONS]


#: Key of the one section a network adds to a school's existing course.
NETWORK_SECTION_KEY = "schulnetzwerk"


def network_section(network_name: str) -> DesiredSection:
    """The section a network gets in a school's own course: ``Schulnetzwerk <network name>``."""
    return DesiredSection(NETWORK_SECTION_KEY, f"Schulnetzwerk {network_name}"[:255])


def network_group_name(network_name: str) -> str:
    """The name of the network's group in a school's own course: ``Netzwerk <network name>``."""
    return f"Netzwerk {network_name}"[:254]
