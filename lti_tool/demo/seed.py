"""Demo data: two schools on separate LMS sites, their courses and people.

Seeding is idempotent: sites, people, courses and enrolments are created when
missing; a new course gets one placed link ("Start mit LMS Bridge") with a
gradebook column. Each site is then registered with the tool through the
operators' code path (``add_platform``, as ``lms-bridge platform add`` does).
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.db import Base
from lti_tool.demo.models import DemoCourse, DemoEnrolment, DemoLineItem, DemoLink, DemoSite, DemoUser
from lti_tool.demo.platform import demo_url, issuer, tool
from lti_tool.platforms import PlatformSpec, add_platform

#: Demo roles, from least to most privileged (German names are the users' words).
ROLES = ("learner", "teacher", "leader", "network_manager", "admin")


@dataclass(frozen=True)
class SiteSeed:
    slug: str
    name: str
    courses: tuple[tuple[str, str], ...]
    #: (username, given name, family name, role)
    people: tuple[tuple[str, str, str, str], ...]


SITES = (
    SiteSeed(
        slug="gesamtschule-musterstadt",
        name="Gesamtschule Musterstadt",
        courses=(("MA-7b", "Mathematik 7b"), ("MK-8", "Medienkompetenz Jahrgang 8")),
        people=(
            ("lena.schmidt", "Lena", "Schmidt", "learner"),
            ("yusuf.demir", "Yusuf", "Demir", "learner"),
            ("mia.wagner", "Mia", "Wagner", "learner"),
            ("jonas.becker", "Jonas", "Becker", "teacher"),
            ("sabine.hoffmann", "Sabine", "Hoffmann", "leader"),
            ("katrin.meyer", "Katrin", "Meyer", "network_manager"),
            ("admin", "Tobias", "Krüger", "admin"),
        ),
    ),
    SiteSeed(
        slug="gymnasium-beispielburg",
        name="Gymnasium Beispielburg",
        courses=(("D-Q1", "Deutsch Q1"), ("IF-EF", "Informatik EF")),
        people=(
            ("paul.fischer", "Paul", "Fischer", "learner"),
            ("emma.weber", "Emma", "Weber", "learner"),
            ("noah.schulz", "Noah", "Schulz", "learner"),
            ("anna.richter", "Anna", "Richter", "teacher"),
            ("michael.wolf", "Michael", "Wolf", "leader"),
            ("katrin.meyer", "Katrin", "Meyer", "network_manager"),
            ("admin", "Sandra", "Neumann", "admin"),
        ),
    ),
)

WELCOME_TITLE = "Start mit LMS Bridge"
Row = TypeVar("Row", bound=Base)


def _get_or_add(s: Session, model: type[Row], **key: Any) -> tuple[Row, bool]:
    row = s.scalar(select(model).filter_by(**key))
    if row is not None:
        return row, False
    row = model(**key)
    s.add(row)
    return row, True


def _seed_site(s: Session, spec: SiteSeed) -> DemoSite:
    site = s.scalar(select(DemoSite).where(DemoSite.slug == spec.slug))
    if site is None:
        # Moodle makes random 15-character client ids; so do we.
        client_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(15))
        site = DemoSite(slug=spec.slug, name=spec.name, client_id=client_id)
        s.add(site)
        s.flush()
    users = []
    for username, given, family, role in spec.people:
        user, new = _get_or_add(s, DemoUser, site_id=site.id, username=username)
        if new:
            user.sub = secrets.token_hex(8)
        user.given_name, user.family_name, user.role = given, family, role
        users.append(user)
    s.flush()
    for shortname, fullname in spec.courses:
        course, new = _get_or_add(s, DemoCourse, site_id=site.id, shortname=shortname)
        course.fullname = fullname
        s.flush()
        for user in users:
            if user.role != "admin":  # the site operator is not enrolled, as in Moodle
                _get_or_add(s, DemoEnrolment, course_id=course.id, user_id=user.id)
        if new:
            _place_welcome_link(s, course)
    return site


def _place_welcome_link(s: Session, course: DemoCourse) -> None:
    link = DemoLink(
        course_id=course.id,
        title=WELCOME_TITLE,
        text="Start in LMS Bridge: wer bin ich hier, Teilnehmende, erledigt markieren.",
        url=tool().launch,
        custom=json.dumps({"feature": "welcome"}),
    )
    s.add(link)
    s.flush()
    s.add(
        DemoLineItem(
            course_id=course.id,
            link_id=link.id,
            label=WELCOME_TITLE,
            score_maximum=1,
            resource_id="welcome",
            tag="completion",
        )
    )


def register_with_tool(s: Session, site: DemoSite) -> None:
    """Register the site with the tool exactly as an operator would."""
    iss = issuer(site)
    add_platform(
        s,
        PlatformSpec(
            issuer=iss,
            client_id=site.client_id,
            auth_login_url=demo_url("demo.auth", slug=site.slug),
            auth_token_url=demo_url("demo.token", slug=site.slug),
            key_set_url=demo_url("demo.jwks", slug=site.slug),
            deployment_ids=[site.deployment_id],
            name=site.name,
            product_family="lms-bridge-demo",
            source="demo",
        ),
        allow_http=True,
        update=True,
    )


def seed(app: Flask) -> list[DemoSite]:
    """Create the demo data when missing and (re-)register every site with the tool."""
    with app.test_request_context(), bridge(app).db.sessions() as s:
        sites = [_seed_site(s, spec) for spec in SITES]
        s.commit()
        for site in sites:
            register_with_tool(s, site)  # commits
        from lti_tool.demo import (
            seed_oer,  # noqa: F401  (registers the OER library's example collection, after the two below)
            seed_parts,  # noqa: F401  (registers the example content)
            seed_selfeval,  # noqa: F401  (registers the self-evaluation rounds)
        )
        from lti_tool.demo.seed_network import seed_network

        seed_network(s, sites)
        s.commit()
        return sites
