"""Who is asking, and may they? Every workspace route goes through here.

Outsiders get 404 for another network's pages (its existence is not
confirmed); members without the permission get 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.db import db_session
from lti_tool.lti.launches import LaunchSession, current_launch
from lti_tool.models import LtiUser
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, Person, PersonIdentity
from lti_tool.workspaces.roles import MANAGER, allowed


@dataclass
class Viewer:
    launch: LaunchSession
    person: Person
    network: Network
    member: NetworkMember

    @property
    def role(self) -> str:
        return self.member.role

    @property
    def school_id(self) -> int | None:
        return self.member.school_id

    @property
    def is_manager(self) -> bool:
        return self.member.role == MANAGER

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    def sees_school(self, school_id: int | None) -> bool:
        """School-internal content: that school's own members and the network managers."""
        return self.is_manager or (school_id is not None and school_id == self.member.school_id)


def person_for_user(user_id: int, create: bool = True) -> Person | None:
    s = db_session()
    person = s.scalar(
        select(Person).join(PersonIdentity, PersonIdentity.person_id == Person.id).where(
            PersonIdentity.lti_user_id == user_id
        )
    )
    if person is None and create:
        user = s.get(LtiUser, user_id)
        person = Person(display_name=(user.name if user else "") or "")
        s.add(person)
        s.flush()
        s.add(PersonIdentity(person_id=person.id, lti_user_id=user_id))
        s.commit()
    return person


def current_person() -> tuple[LaunchSession, Person]:
    if "ws_person" in g:
        return g.ws_launch, g.ws_person
    ls = current_launch()
    assert ls is not None
    person = person_for_user(ls.user_pk)
    assert person is not None
    g.ws_launch, g.ws_person = ls, person
    return ls, person


def viewer(network_id: int, permission: str = "network.view") -> Viewer:
    """The current person as a member of ``network_id``, holding ``permission``."""
    ls, person = current_person()
    s = db_session()
    member = s.scalar(
        select(NetworkMember).where(NetworkMember.network_id == network_id, NetworkMember.person_id == person.id)
    )
    network = s.get(Network, network_id) if member is not None else None
    if member is None or network is None:
        abort(404, description=_("This network does not exist or you are not a member of it."))
    v = Viewer(ls, person, network, member)
    if not v.can(permission):
        abort(403, description=_("Your role in this network does not allow this."))
    return v


def school_of(v: Viewer, school_id: int) -> MemberSchool:
    school = db_session().get(MemberSchool, school_id)
    if school is None or school.network_id != v.network.id:
        abort(404, description=_("This school is not part of the network."))
    return school
