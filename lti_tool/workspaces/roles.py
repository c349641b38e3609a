"""Network roles and what each may do: the role matrix, as data.

Every workspace route names one permission and asks ``allowed(role, perm)``
on the server; tests walk the whole matrix. Roles (the users' words):

- ``manager``   Netzwerkmanager*in / Prozessbegleitung – runs the network
- ``authority`` Vertretung des Schulträgers – reads network-wide, never school-internal
- ``leader``    Schulleitung
- ``media``     Medienbeauftragte*r – coordinates the school's part
- ``teacher``   Lehrkraft
- ``guest``     Gast, e.g. state training staff or school inspectorate (reads, joins sessions)
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MANAGER, AUTHORITY, LEADER, MEDIA, TEACHER, GUEST = "manager", "authority", "leader", "media", "teacher", "guest"
ROLES = (MANAGER, AUTHORITY, LEADER, MEDIA, TEACHER, GUEST)
ALL = frozenset(ROLES)
SCHOOL_STAFF = frozenset({LEADER, MEDIA, TEACHER})

LABELS = {
    MANAGER: _l("Network manager"),
    AUTHORITY: _l("School authority"),
    LEADER: _l("School leader"),
    MEDIA: _l("Media coordinator"),
    TEACHER: _l("Teacher"),
    GUEST: _l("Guest"),
}

#: permission -> roles that have it
PERMISSIONS: dict[str, frozenset[str]] = {
    "network.view": ALL,
    "network.manage": frozenset({MANAGER}),
    "members.view": ALL,
    "board.view": ALL,
    "board.write": frozenset({MANAGER, LEADER, MEDIA, TEACHER}),
    "board.goals": frozenset({MANAGER, LEADER, MEDIA}),
    "board.export": frozenset({MANAGER, LEADER}),
    "meetings.view": ALL,
    "meetings.manage": frozenset({MANAGER}),
    "barcamp.view": ALL,
    "barcamp.propose": frozenset({MANAGER, LEADER, MEDIA, TEACHER, GUEST}),
    "barcamp.interest": ALL,
    "barcamp.moderate": frozenset({MANAGER}),
    "groups.view": ALL,
    "groups.create": frozenset({MANAGER, LEADER, MEDIA}),
    "groups.join": frozenset({MANAGER, LEADER, MEDIA, TEACHER, GUEST}),
    "groups.moderate": frozenset({MANAGER}),
    "oer.view": ALL,
    "oer.author": frozenset({MANAGER, LEADER, MEDIA, TEACHER}),
    "sync.manage": frozenset({MANAGER}),
    "oer.deliver": frozenset({MANAGER}),
}

#: Meeting bodies and who may see their details (agenda, minutes, decisions).
MEETING_BODIES: dict[str, frozenset[str]] = {
    # steering round: facilitator, school authority, a speaker of the school leaders, state bodies
    "lenkungsrunde": frozenset({MANAGER, AUTHORITY, LEADER, GUEST}),
    "schulleitungsrunde": frozenset({MANAGER, LEADER}),
    "netzwerktreffen": ALL,
    "arbeitsgruppe": ALL,
    "zwischenbilanztagung": ALL,
}
BODY_LABELS = {
    "lenkungsrunde": _l("Steering round (Lenkungsrunde)"),
    "schulleitungsrunde": _l("School leaders' round (Schulleitungsrunde)"),
    "netzwerktreffen": _l("Network meeting (Netzwerktreffen)"),
    "arbeitsgruppe": _l("Working group (Arbeitsgruppe)"),
    "zwischenbilanztagung": _l("Interim review (Zwischenbilanztagung)"),
}

#: The seven fields of action (Handlungsfelder) of the network year.
HANDLUNGSFELDER = (
    ("nutzung", _l("Use (Nutzung)")),
    ("unterrichtsentwicklung", _l("Teaching development (Unterrichtsentwicklung)")),
    ("medienkonzept", _l("Media concept (Medienkonzept)")),
    ("medienkompetenz", _l("Media literacy (Medienkompetenz)")),
    ("leitung", _l("Leadership and steering (Leitung/Steuerung)")),
    ("fortbildung", _l("Professional development (Fortbildung)")),
    ("kommunikation", _l("Communication (Kommunikation)")),
)
HANDLUNGSFELD_KEYS = tuple(k for k, _ in HANDLUNGSFELDER)


def allowed(role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def may_see_body(role: str | None, body: str) -> bool:
    return role is not None and role in MEETING_BODIES.get(body, frozenset())
