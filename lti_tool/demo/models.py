"""Tables of the demo LMS (all prefixed ``demo_``).

The demo is an LMS *platform*: school sites (one LTI issuer each), their
courses, people and enrolments, the tool links placed in courses, a gradebook
(line items and scores), and the short-lived state a platform keeps between
requests (launches it started, access tokens it issued, nonces it has seen).
Everything lives in the database so that any gunicorn worker can answer.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short, url


class DemoSite(Base):
    """A school's LMS site (LOGINEO-like): one issuer, one client_id for the tool."""

    __tablename__ = "demo_site"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[short]
    client_id: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[str] = mapped_column(String(64), default="1")
    created_at: Mapped[created]
    courses: Mapped[list[DemoCourse]] = relationship(
        back_populates="site", order_by="DemoCourse.id", cascade="all, delete-orphan"
    )


class DemoKey(Base):
    """The site's RSA signing key (one per site; private part encrypted at rest)."""

    __tablename__ = "demo_key"

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_site.id", ondelete="CASCADE"), unique=True)
    kid: Mapped[str] = mapped_column(String(64))
    private_key_enc: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created]


class DemoUser(Base):
    """A person with an account on one site; ``role`` is one of ``seed.ROLES``."""

    __tablename__ = "demo_user"
    __table_args__ = (
        UniqueConstraint("site_id", "username", name="uq_demo_user_username"),
        UniqueConstraint("site_id", "sub", name="uq_demo_user_sub"),
    )

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_site.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    #: The LTI user id (``sub``) the site sends for this person.
    sub: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[short]
    family_name: Mapped[short]
    role: Mapped[str] = mapped_column(String(32))

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class DemoCourse(Base):
    """A course (LTI context) on a site."""

    __tablename__ = "demo_course"
    __table_args__ = (UniqueConstraint("site_id", "shortname", name="uq_demo_course_shortname"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_site.id", ondelete="CASCADE"), index=True)
    shortname: Mapped[str] = mapped_column(String(64))
    fullname: Mapped[short]
    site: Mapped[DemoSite] = relationship(back_populates="courses")


class DemoEnrolment(Base):
    """A user's membership of a course (the course role follows the user's role)."""

    __tablename__ = "demo_enrolment"
    __table_args__ = (UniqueConstraint("course_id", "user_id", name="uq_demo_enrolment"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("demo_course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("demo_user.id", ondelete="CASCADE"), index=True)


class DemoLink(Base):
    """A tool link placed in a course (an LTI resource link)."""

    __tablename__ = "demo_link"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("demo_course.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    text: Mapped[str] = mapped_column(Text, default="")
    #: The tool URL to launch (target_link_uri).
    url: Mapped[url]
    #: Custom parameters as a JSON object of strings.
    custom: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created]


class DemoLineItem(Base):
    """A gradebook column of a course, optionally bound to a link."""

    __tablename__ = "demo_line_item"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("demo_course.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("demo_link.id", ondelete="SET NULL"))
    label: Mapped[short]
    score_maximum: Mapped[float] = mapped_column(Float)
    resource_id: Mapped[str] = mapped_column(String(255), default="")
    tag: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[created]


class DemoScore(Base):
    """The latest score a tool posted for one user in one column."""

    __tablename__ = "demo_score"
    __table_args__ = (UniqueConstraint("line_item_id", "user_id", name="uq_demo_score"),)

    id: Mapped[intpk]
    line_item_id: Mapped[int] = mapped_column(ForeignKey("demo_line_item.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("demo_user.id", ondelete="CASCADE"))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    #: The tool's timestamp (ISO 8601) as sent.
    timestamp: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[created]


class DemoLaunch(Base):
    """A launch the site started: what ``lti_message_hint`` stands for.

    The auth endpoint reads it to build the id_token; a deep linking launch's
    return URL names it too and is accepted once (``returned``).
    """

    __tablename__ = "demo_launch"

    id: Mapped[intpk]
    hint: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_site.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("demo_user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("demo_course.id", ondelete="CASCADE"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("demo_link.id", ondelete="CASCADE"))
    message_type: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16), default="de")
    returned: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class DemoAccessToken(Base):
    """An access token the site's token endpoint issued (stored as a SHA-256 hash)."""

    __tablename__ = "demo_access_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_site.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class DemoNonce(Base):
    """A value seen once (client assertion ``jti``, deep linking response ``nonce``)."""

    __tablename__ = "demo_nonce"

    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
