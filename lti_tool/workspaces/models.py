"""Networks of schools, their people and how they got in.

German terms (the users' words): *Netzwerk* – a regional school network of
about twelve schools; *Schulträger* – the school authority (a city or
district) that pays for it; *Netzwerkmanager*in / Prozessbegleitung* – the
person who runs the network year.

A ``Person`` is a human; each of their LMS accounts is an ``LtiUser``
(issuer + pseudonymous sub) linked through ``PersonIdentity``. Network roles
belong to the person, so a manager who launches from two school sites is one
member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short


class Network(Base):
    __tablename__ = "ws_network"

    id: Mapped[intpk]
    name: Mapped[short]
    region: Mapped[str] = mapped_column(String(255), default="")
    #: Schulträger, e.g. "Stadt Musterstadt".
    school_authority: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: e.g. "2026/27" or "2026/27–2027/28".
    school_years: Mapped[str] = mapped_column(String(64), default="")
    #: planning, active, archived
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[created]
    schools: Mapped[list[MemberSchool]] = relationship(
        back_populates="network", cascade="all, delete-orphan", order_by="MemberSchool.name"
    )


class MemberSchool(Base):
    __tablename__ = "ws_school"
    __table_args__ = (UniqueConstraint("network_id", "school_number", name="uq_ws_school_number"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    name: Mapped[short]
    #: Official school number (Schulnummer), e.g. "123456" in NRW.
    school_number: Mapped[str] = mapped_column(String(32))
    #: Grundschule, Gymnasium, Gesamtschule, Berufskolleg, …
    school_type: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[created]
    network: Mapped[Network] = relationship(back_populates="schools")
    contexts: Mapped[list[SchoolContext]] = relationship(back_populates="school", cascade="all, delete-orphan")


class SchoolContext(Base):
    """An LMS course (issuer, deployment, context id) bound to a member school."""

    __tablename__ = "ws_school_context"
    __table_args__ = (UniqueConstraint("context_pk", name="uq_ws_school_context_context"),)

    id: Mapped[intpk]
    school_id: Mapped[int] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"), index=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    created_at: Mapped[created]
    school: Mapped[MemberSchool] = relationship(back_populates="contexts")


class Person(Base):
    __tablename__ = "ws_person"

    id: Mapped[intpk]
    display_name: Mapped[str] = mapped_column(String(255), default="")
    #: Last time the person opened a workspace (drives "what changed since").
    last_visit: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created]


class PersonIdentity(Base):
    """One LMS account of a person; an account belongs to exactly one person."""

    __tablename__ = "ws_person_identity"
    __table_args__ = (UniqueConstraint("lti_user_id", name="uq_ws_person_identity_user"),)

    id: Mapped[intpk]
    person_id: Mapped[int] = mapped_column(ForeignKey("ws_person.id", ondelete="CASCADE"), index=True)
    lti_user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    created_at: Mapped[created]


class NetworkMember(Base):
    __tablename__ = "ws_member"
    __table_args__ = (UniqueConstraint("network_id", "person_id", name="uq_ws_member"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ws_person.id", ondelete="CASCADE"), index=True)
    #: see lti_tool.workspaces.roles
    role: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("ws_school.id", ondelete="SET NULL"))
    created_at: Mapped[created]


class Invitation(Base):
    """A signed, expiring, single-use code: binds a school's course or appoints a manager."""

    __tablename__ = "ws_invitation"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    #: school (bind a course to ``school_id``) or manager (appoint a network manager)
    kind: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"))
    #: keyed hash of the code; the code itself is shown once and never stored
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]


class Activity(Base):
    """What happened in a network, for "what changed since your last visit"."""

    __tablename__ = "ws_activity"
    __table_args__ = (Index("ix_ws_activity_network_time", "network_id", "created_at"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    #: e.g. "board.note", "meeting.minutes", "barcamp.session", "group.material"
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    #: path inside the tool, e.g. "/w/3/board#note-12"
    url: Mapped[str] = mapped_column(String(512), default="")
    #: who may see it: "network" (all members), "school:<id>", or a role list "roles:leader,manager"
    audience: Mapped[str] = mapped_column(String(255), default="network")
    created_at: Mapped[created]


class Upload(Base):
    """A file uploaded into a workspace (materials, minutes attachments)."""

    __tablename__ = "ws_upload"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: path below the instance's upload folder
    storage_path: Mapped[str] = mapped_column(String(512))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
