"""Core tables: platforms and their registrations, tool keys, launch records.

Feature blueprints keep their own tables in their packages; everything shares
``lti_tool.db.Base``. Personal data is minimised: an LTI user is stored as a
keyed hash of (issuer, sub) plus the encrypted ``sub`` that AGS/NRPS calls
need, and a display name only when the platform sends one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short, url, utcnow


class Platform(Base):
    """An LMS site, identified by its LTI issuer (one LOGINEO school = one issuer)."""

    __tablename__ = "platform"

    id: Mapped[intpk]
    issuer: Mapped[url] = mapped_column(unique=True)
    name: Mapped[short] = mapped_column(default="")
    product_family: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created]
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )


class Registration(Base):
    """One client_id of a platform, with the endpoints and keys to trust."""

    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("platform_id", "client_id", name="uq_registration_client"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[short]
    auth_login_url: Mapped[url]
    auth_token_url: Mapped[url]
    auth_audience: Mapped[str | None] = mapped_column(String(2048))
    key_set_url: Mapped[str | None] = mapped_column(String(2048))
    key_set: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="cli")
    created_at: Mapped[created]
    platform: Mapped[Platform] = relationship(back_populates="registrations")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )


class Deployment(Base):
    """A deployment of the tool within a registration; can be deactivated."""

    __tablename__ = "deployment"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_deployment_id"),
    )

    id: Mapped[intpk]
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[short]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created]
    registration: Mapped[Registration] = relationship(back_populates="deployments")


class ToolKey(Base):
    """A signing key of the tool. Private part encrypted at rest."""

    __tablename__ = "tool_key"

    id: Mapped[intpk]
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_enc: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    #: active (signs), retiring (published, not signing), retired (gone).
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[created]
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LtiUser(Base):
    """A pseudonymous person as one platform knows them."""

    __tablename__ = "lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "sub_hash", name="uq_lti_user_sub"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub_hash: Mapped[str] = mapped_column(String(64))
    sub_enc: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiContext(Base):
    """A course (context) on a deployment; schools' courses are bound to networks later."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id", name="uq_lti_context"),)

    id: Mapped[intpk]
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    context_id: Mapped[short]
    title: Mapped[str] = mapped_column(String(255), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    nrps_url: Mapped[str | None] = mapped_column(String(2048))
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(2048))
    ags_scopes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created]


class Membership(Base):
    """Who launched into a context, with the tool role derived from LTI roles."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "context_pk", name="uq_membership"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    last_launch: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResourceLink(Base):
    """A placement of the tool in a course, and which feature it opens."""

    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("context_pk", "resource_link_id", name="uq_resource_link"),)

    id: Mapped[intpk]
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    resource_link_id: Mapped[short]
    title: Mapped[str] = mapped_column(String(255), default="")
    feature: Mapped[str | None] = mapped_column(String(64))
    config: Mapped[str | None] = mapped_column(Text)
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[created]


class KVEntry(Base):
    """Shared short-lived store (states, nonces, launches, caches) without Redis."""

    __tablename__ = "kv_entry"
    __table_args__ = (Index("ix_kv_entry_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Float)
