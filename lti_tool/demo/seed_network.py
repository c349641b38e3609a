"""The demo's example network "Lernen 25": schools on both demo sites, people, a link.

The demo platform knows its users' ``sub`` and course ids, so it can prepare
the tool-side rows a first launch would create (pseudonymous user, course,
person) and then give them network roles – as a network manager would after
they joined. When those people launch later, the tool finds exactly these
rows. Idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.demo.models import DemoCourse, DemoLink, DemoSite, DemoUser
from lti_tool.demo.platform import issuer, tool
from lti_tool.models import Deployment, LtiContext, LtiUser, Platform, Registration
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, Person, PersonIdentity, SchoolContext
from lti_tool.workspaces.services import add_school, create_network, ensure_member

NETWORK_NAME = "Lernen 25 – Digitale Schule Musterstadt"
#: (site slug, course shortname bound to the school, school number, school type)
BOUND_SCHOOLS = (
    ("gesamtschule-musterstadt", "MK-8", "187654", "Gesamtschule"),
    ("gymnasium-beispielburg", "IF-EF", "165432", "Gymnasium"),
)
#: Further member schools that have not connected a course yet.
PENDING_SCHOOLS = (
    ("Grundschule Am Park", "112233", "Grundschule"),
    ("Realschule Mitte", "145678", "Realschule"),
    ("Berufskolleg Musterstadt", "198765", "Berufskolleg"),
)
#: demo role -> network role
NETWORK_ROLES = {"network_manager": "manager", "leader": "leader", "teacher": "teacher"}


def _tool_deployment(s: Session, site: DemoSite) -> Deployment:
    dep = s.scalar(
        select(Deployment).join(Registration).join(Platform)
        .where(Platform.issuer == issuer(site), Registration.client_id == site.client_id,
               Deployment.deployment_id == site.deployment_id)
    )
    assert dep is not None, "register the demo site first"
    return dep


def _tool_user(s: Session, site: DemoSite, user: DemoUser, platform_id: int) -> LtiUser:
    box = bridge().box
    sub_hash = box.pseudonym(issuer(site), user.sub)
    row = s.scalar(select(LtiUser).where(LtiUser.platform_id == platform_id, LtiUser.sub_hash == sub_hash))
    if row is None:
        row = LtiUser(platform_id=platform_id, sub_hash=sub_hash, sub_enc=box.encrypt(user.sub), name=user.name)
        s.add(row)
        s.flush()
    return row


def _person(s: Session, lti_user: LtiUser, name: str, same_as: Person | None = None) -> Person:
    ident = s.scalar(select(PersonIdentity).where(PersonIdentity.lti_user_id == lti_user.id))
    if ident is not None:
        person = s.get(Person, ident.person_id)
        assert person is not None
        return person
    person = same_as or Person(display_name=name)
    if same_as is None:
        s.add(person)
        s.flush()
    s.add(PersonIdentity(person_id=person.id, lti_user_id=lti_user.id))
    s.flush()
    return person


def seed_network(s: Session, sites: list[DemoSite]) -> Network:
    network = s.scalar(select(Network).where(Network.name == NETWORK_NAME))
    if network is None:
        network = create_network(
            s, name=NETWORK_NAME, region="Musterstadt", school_authority="Stadt Musterstadt", school_years="2026/27",
            description="Regionales Schulnetzwerk von fünf Schulen: gemeinsam digitale Schulentwicklung gestalten – "
                        "Zukunftswerkstatt, Netzwerktreffen als Barcamp, Arbeitsgruppen.",
        )
    by_slug = {site.slug: site for site in sites}
    manager: Person | None = None
    for slug, course_short, number, school_type in BOUND_SCHOOLS:
        site = by_slug[slug]
        dep = _tool_deployment(s, site)
        platform_id = dep.registration.platform_id
        school = s.scalar(select(MemberSchool).where(MemberSchool.network_id == network.id,
                                                     MemberSchool.school_number == number))
        if school is None:
            school = add_school(s, network, name=site.name, school_number=number, school_type=school_type,
                                hard_limit=bridge().settings.network_max_schools).school
        course = s.scalar(select(DemoCourse).where(DemoCourse.site_id == site.id, DemoCourse.shortname == course_short))
        assert course is not None
        ctx = s.scalar(select(LtiContext).where(LtiContext.deployment_pk == dep.id,
                                                LtiContext.context_id == str(course.id)))
        if ctx is None:
            ctx = LtiContext(deployment_pk=dep.id, context_id=str(course.id), title=course.fullname,
                             label=course.shortname)
            s.add(ctx)
            s.flush()
        if s.scalar(select(SchoolContext).where(SchoolContext.context_pk == ctx.id)) is None:
            s.add(SchoolContext(school_id=school.id, context_pk=ctx.id))
        for user in s.scalars(select(DemoUser).where(DemoUser.site_id == site.id)):
            role = NETWORK_ROLES.get(user.role)
            if role is None:
                continue
            lti_user = _tool_user(s, site, user, platform_id)
            # The network manager works from both sites: one person, two linked accounts.
            person = _person(s, lti_user, user.name, same_as=manager if role == "manager" else None)
            if role == "manager":
                manager = person
            member = ensure_member(s, network.id, person, role, None if role == "manager" else school.id)
            member.role = role
        _place_workspace_link(s, course, network.id)
    for name, number, school_type in PENDING_SCHOOLS:
        if s.scalar(select(MemberSchool).where(MemberSchool.network_id == network.id,
                                               MemberSchool.school_number == number)) is None:
            add_school(s, network, name=name, school_number=number, school_type=school_type,
                       hard_limit=bridge().settings.network_max_schools)
    s.flush()
    if manager is not None:
        _seed_parts(s, network, manager)
    return network


def _place_workspace_link(s: Session, course: DemoCourse, network_id: int) -> None:
    custom = json.dumps({"feature": "workspace", "network": str(network_id), "part": "overview"})
    exists = s.scalar(select(DemoLink).where(DemoLink.course_id == course.id, DemoLink.custom == custom))
    if exists is None:
        s.add(DemoLink(course_id=course.id, title="Netzwerk-Arbeitsbereich",
                       text="Der gemeinsame Arbeitsbereich unseres Schulnetzwerks „Lernen 25“.",
                       url=tool().launch, custom=custom))


#: Parts add example content here (board notes, meetings, a planned barcamp, a working group).
PART_SEEDERS: list[Any] = []


def _seed_parts(s: Session, network: Network, manager: Person) -> None:
    members = {m.person_id: m for m in s.scalars(select(NetworkMember).where(NetworkMember.network_id == network.id))}
    for seeder in PART_SEEDERS:
        seeder(s, network, manager, members)
