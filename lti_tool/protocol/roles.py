"""Map LIS roles (LTI 1.3 Core §A.2) to the tool's four roles.

Context roles (``membership#Instructor``), institution roles
(``institution/person#Faculty``) and system roles, as full URIs or the short
forms some platforms send (Moodle's NRPS says ``Instructor``). Anything
unknown maps to the least privilege, ``learner``.
"""

from __future__ import annotations

from collections.abc import Iterable

LEARNER, INSTRUCTOR, CONTENT_DEVELOPER, ADMINISTRATOR = (
    "learner",
    "instructor",
    "content_developer",
    "administrator",
)
#: Tool roles from least to most privileged.
ORDER = (LEARNER, INSTRUCTOR, CONTENT_DEVELOPER, ADMINISTRATOR)

_CONTEXT = {
    "learner": LEARNER,
    "student": LEARNER,
    "mentor": LEARNER,
    "member": LEARNER,
    "instructor": INSTRUCTOR,
    "teachingassistant": INSTRUCTOR,
    "contentdeveloper": CONTENT_DEVELOPER,
    "administrator": ADMINISTRATOR,
    "manager": INSTRUCTOR,
}
_INSTITUTION = {
    "administrator": ADMINISTRATOR,
    "faculty": INSTRUCTOR,
    "instructor": INSTRUCTOR,
    "staff": LEARNER,
    "student": LEARNER,
    "learner": LEARNER,
    "contentdeveloper": CONTENT_DEVELOPER,
}
_SYSTEM = {"administrator": ADMINISTRATOR, "sysadmin": ADMINISTRATOR, "sysSupport".lower(): ADMINISTRATOR}

_PREFIXES = (
    ("http://purl.imsglobal.org/vocab/lis/v2/membership#", _CONTEXT),
    ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#", _INSTITUTION),
    ("http://purl.imsglobal.org/vocab/lis/v2/system/person#", _SYSTEM),
)


def map_role(role: str) -> str | None:
    """Tool role for one LIS role, or None when the role says nothing we use."""
    role = role.strip()
    for prefix, table in _PREFIXES:
        if role.startswith(prefix):
            name = role[len(prefix) :]
            # Sub-roles ("membership/Instructor#TeachingAssistant") keep their principal.
            return table.get(name.split("#")[0].lower())
    if role.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/"):
        principal = role.rsplit("/", 1)[-1].split("#")[0]
        return _CONTEXT.get(principal.lower())
    if "://" in role or ":" in role:
        return None
    return _CONTEXT.get(role.lower())


def tool_roles(roles: Iterable[str]) -> list[str]:
    found = {r for r in (map_role(x) for x in roles if isinstance(x, str)) if r}
    return [r for r in ORDER if r in found] or [LEARNER]


def primary_role(roles: Iterable[str]) -> str:
    """The most privileged tool role among ``roles`` (least privilege if none)."""
    return tool_roles(roles)[-1]


def at_least(role: str, needed: str) -> bool:
    return ORDER.index(role) >= ORDER.index(needed)
