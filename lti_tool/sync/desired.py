"""The desired state of a network in a target site, built from the workspace's data.

What a network becomes in Moodle (``moodle_sync.desired`` has the rules):

* category ``lmsb-net-<network id>`` named after the network (and its region),
* network course: full name = the network's name, short name ``LMSB-<id>``,
  idnumber ``lmsb-net-<id>-ws``; its sections are ``standard_sections()`` –
  the seven Handlungsfelder, Netzwerktreffen and Arbeitsgruppen,
* one group per member school (key = the school's id),
* one account per network member: username ``lmsb-`` + a keyed pseudonym of
  (target site, person id) – stable, not reversible and different on every
  site, so two sites cannot link their accounts; e-mail
  ``<username>@lms-bridge.invalid``; auth = the target's single sign-on; the
  Moodle role follows the network role (``moodle_sync.desired.ROLE_MAP``).

A *school* target (``scope`` ``school``, ``school_id``) provisions into the
school's own course bound in the workspace (``SchoolContext``; for Moodle the
LTI context id is the course id): no category and no course of the tool, one
section ``Schulnetzwerk <network>``, one group ``Netzwerk <network>`` and only
that school's network members.

Names come from the person's display name (the LTI ``name`` claim). German
names are split with their particles (``Anna von Berg`` -> ``Anna`` /
``von Berg``, ``Berg, Anna`` -> ``Anna`` / ``Berg``). A one-word name gets
``–`` as last name; a person without any name becomes ``Mitglied`` plus the
first characters of their pseudonym – neutral, stable, and nobody's real name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox
from lti_tool.models import Deployment, LtiContext, LtiUser, Platform, Registration
from lti_tool.sync.models import SyncTarget
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, Person, PersonIdentity, SchoolContext
from moodle_sync.desired import (
    DesiredCourse,
    DesiredNetwork,
    DesiredPerson,
    DesiredSchool,
    network_group_name,
    network_section,
    person,
    standard_sections,
)

#: Characters of the keyed pseudonym in a username (80 bits: no collision among a site's accounts).
PSEUDONYM_LENGTH = 20
NO_NAME_FIRST = "Mitglied"
NO_LAST_NAME = "–"
PARTICLES = frozenset({"von", "vom", "zu", "zum", "zur", "van", "de", "del", "della", "der", "den", "di", "da",
                       "du", "la", "le", "ten", "ter", "af", "al", "el", "bin", "ibn"})


@dataclass
class Built:
    """The desired state plus readable labels of its keys, for the pages (usernames say nothing)."""

    desired: DesiredNetwork
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, kind: str, key: str) -> str:
        """A readable name for an object of the plan ("" when the network does not know it any more)."""
        if kind == "enrolment":
            return self.labels.get("user:" + key.rpartition("/")[2], "")
        if kind == "membership":
            group, _, username = key.rpartition("/")
            who, where = self.labels.get("user:" + username, ""), self.labels.get("group:" + group, "")
            return f"{who} → {where}" if who and where else who or where
        return self.labels.get(f"{kind}:{key}", "")


@dataclass(frozen=True)
class BoundCourse:
    """A course bound to a member school in the workspace, with the LMS it lives in."""

    school_id: int
    context_id: str
    title: str
    issuer: str

    @property
    def course_id(self) -> int | None:
        """The Moodle course id (Moodle's LTI context id is the course id), or None when it is no number."""
        text = self.context_id.strip()
        return int(text) if text.isdigit() and text.isascii() and int(text) > 1 else None


def bound_courses(session: Session, school_ids: list[int]) -> list[BoundCourse]:
    """The courses bound to these schools, oldest binding first."""
    if not school_ids:
        return []
    rows = session.execute(
        select(SchoolContext.school_id, LtiContext.context_id, LtiContext.title, Platform.issuer)
        .join(LtiContext, LtiContext.id == SchoolContext.context_pk)
        .join(Deployment, Deployment.id == LtiContext.deployment_pk)
        .join(Registration, Registration.id == Deployment.registration_id)
        .join(Platform, Platform.id == Registration.platform_id)
        .where(SchoolContext.school_id.in_(school_ids))
        .order_by(SchoolContext.id)
    ).all()
    return [BoundCourse(school_id, context_id, title or "", issuer) for school_id, context_id, title, issuer in rows]


def same_site(issuer: str, site_url: str) -> bool:
    return site_key(issuer) == site_key(site_url)


def school_course(session: Session, school_id: int, site_url: str | None = None) -> BoundCourse | None:
    """The school's bound course: the one on ``site_url`` if there is one, else the first bound."""
    courses = bound_courses(session, [school_id])
    if site_url:
        on_site = [c for c in courses if same_site(c.issuer, site_url)]
        courses = on_site or courses
    return courses[0] if courses else None


def site_key(site_url: str) -> str:
    """The site part of the pseudonym: scheme, host and path, lowercase host, no trailing slash."""
    parts = urlsplit(site_url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def pseudonym(box: SecretBox, site_url: str, person_id: int) -> str:
    return box.pseudonym("moodle-user", site_key(site_url), str(person_id))[:PSEUDONYM_LENGTH]


def split_name(display_name: str) -> tuple[str, str] | None:
    """Return (first name, last name) from a display name, or None when there is no name."""
    text = " ".join((display_name or "").split())
    if not text:
        return None
    if "," in text:
        last, _, first = text.partition(",")
        first, last = first.strip(), last.strip()
        if first and last:
            return first, last
        text = (first or last).strip()
    words = text.split(" ")
    if len(words) == 1:
        return words[0], NO_LAST_NAME
    for index in range(1, len(words) - 1):
        if words[index] in PARTICLES:
            return " ".join(words[:index]), " ".join(words[index:])
    return " ".join(words[:-1]), words[-1]


def network_key(network: Network) -> str:
    return str(network.id)


def course_for(network: Network) -> DesiredCourse:
    parts = [p for p in (network.region, network.school_years) if p]
    summary = f"Arbeitsraum des Schulnetzwerks {network.name}" + (f" ({', '.join(parts)})" if parts else "")
    return DesiredCourse(
        fullname=network.name[:254],
        shortname=f"LMSB-{network.id}",
        idnumber=f"lmsb-net-{network.id}-ws",
        summary=summary,
    )


def category_name(network: Network) -> str:
    name = network.name
    if network.region and network.region.lower() not in name.lower():
        name = f"{name} ({network.region})"
    return name[:255]


def build(session: Session, box: SecretBox, target: SyncTarget) -> Built:
    """The network of ``target`` as Moodle should hold it."""
    network = session.get(Network, target.network_id)
    if network is None:  # the target row cascades with its network; a vanished one cannot be synced
        raise LookupError(f"network {target.network_id} does not exist")
    if target.scope == "school":
        return build_school(session, box, target, network)
    schools = list(session.scalars(select(MemberSchool).where(MemberSchool.network_id == network.id)
                                   .order_by(MemberSchool.id)))
    labels: dict[str, str] = {}
    desired_schools = []
    for school in schools:
        details = ", ".join(p for p in (school.school_type, f"Schulnummer {school.school_number}") if p)
        desired_schools.append(DesiredSchool(str(school.id), school.name, details))
    members = session.execute(
        select(NetworkMember, Person).join(Person, Person.id == NetworkMember.person_id)
        .where(NetworkMember.network_id == network.id).order_by(NetworkMember.person_id)
    ).all()
    known_schools = {s.id for s in schools}
    people = [
        _person(box, target, member, who, str(member.school_id) if member.school_id in known_schools else None, labels)
        for member, who in members
    ]
    desired = DesiredNetwork(
        key=network_key(network),
        name=network.name,
        category_name=category_name(network),
        course=course_for(network),
        sections=standard_sections(),
        schools=desired_schools,
        people=people,
    )
    _label_groups_and_sections(desired, labels)
    labels["category:" + desired.category_idnumber] = desired.category_name or ""
    labels["course:" + desired.course_key] = desired.course.fullname if desired.course else ""
    return Built(desired, labels)


def build_school(session: Session, box: SecretBox, target: SyncTarget, network: Network) -> Built:
    """A school target: the school's network members in the school's own (bound) course."""
    school = session.get(MemberSchool, target.school_id) if target.school_id is not None else None
    if school is None or school.network_id != network.id:
        raise LookupError(f"school {target.school_id} is not a member of network {network.id}")
    bound = school_course(session, school.id, target.site_url)
    if bound is None:
        raise LookupError(f"school {school.name!r} has no course bound in the workspace any more")
    if bound.course_id is None:
        raise LookupError(f"the course bound to school {school.name!r} has the LTI context id "
                          f"{bound.context_id!r}, which is no Moodle course id")
    members = session.execute(
        select(NetworkMember, Person).join(Person, Person.id == NetworkMember.person_id)
        .where(NetworkMember.network_id == network.id, NetworkMember.school_id == school.id)
        .order_by(NetworkMember.person_id)
    ).all()
    labels: dict[str, str] = {}
    school_key = str(school.id)
    own = own_accounts(session, box, [who.id for _member, who in members], target.site_url)
    people = [dataclasses.replace(_person(box, target, member, who, school_key, labels),
                                  moodle_user_id=own.get(who.id)) for member, who in members]
    desired = DesiredNetwork(
        key=network_key(network),
        name=network.name,
        category_name=None,
        course=None,
        sections=[network_section(network.name)],
        schools=[DesiredSchool(school_key, network_group_name(network.name), school.name[:255])],
        people=people,
        existing_course_id=bound.course_id,
    )
    _label_groups_and_sections(desired, labels)
    labels["course:" + desired.course_key] = bound.title or f"{school.name} ({bound.course_id})"
    return Built(desired, labels)


def own_accounts(session: Session, box: SecretBox, person_ids: list[int], site_url: str) -> dict[int, int]:
    """person id -> their Moodle user id on this site, from their launches from it.

    Moodle sends its user id as the LTI ``sub``; on a school's own site the members
    already have accounts there, so a school target uses those instead of new ones."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(PersonIdentity.person_id, LtiUser.sub_enc, Platform.issuer)
        .join(LtiUser, LtiUser.id == PersonIdentity.lti_user_id)
        .join(Platform, Platform.id == LtiUser.platform_id)
        .where(PersonIdentity.person_id.in_(person_ids))
        .order_by(PersonIdentity.id)
    ).all()
    out: dict[int, int] = {}
    for person_id, sub_enc, issuer in rows:
        if person_id in out or not same_site(issuer, site_url):
            continue
        sub = box.decrypt(sub_enc)
        if sub.isdigit() and int(sub) > 1:  # 1 is Moodle's guest account
            out[person_id] = int(sub)
    return out


def _person(box: SecretBox, target: SyncTarget, member: NetworkMember, who: Person, school_key: str | None,
            labels: dict[str, str]) -> DesiredPerson:
    alias = pseudonym(box, target.site_url, who.id)
    names = split_name(who.display_name) or (NO_NAME_FIRST, alias[:6])
    wanted = person(alias, names[0][:100], names[1][:100], member.role, school_key, auth=target.user_auth)
    labels["user:" + wanted.username] = who.display_name or f"{names[0]} {names[1]}"
    return wanted


def _label_groups_and_sections(desired: DesiredNetwork, labels: dict[str, str]) -> None:
    for group in desired.schools:
        labels["group:" + desired.group_idnumber(group.key)] = group.name
    for section in desired.sections:
        labels[f"section:{desired.course_key}#{section.key}"] = section.title
