"""Tables of working groups (*Arbeitsgruppen*): members, shared material, discussion, results.

After a Netzwerktreffen, smaller groups deepen a topic (e.g. "Gemeinsame
Entwicklung von Medienkonzepten") and report their results back to the
network. Material rows are deliberately plain (title, author, licence, source,
file or link) so they can later be packaged as OER with TULLU attribution.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short

#: Licences a material may carry: stored value -> (label, licence URL or "").
LICENCES: dict[str, tuple[object, str]] = {
    "CC0-1.0": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC-BY-4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC-BY-ND-4.0": ("CC BY-ND 4.0", "https://creativecommons.org/licenses/by-nd/4.0/"),
    "CC-BY-NC-4.0": ("CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/"),
    "CC-BY-NC-SA-4.0": ("CC BY-NC-SA 4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
    "CC-BY-NC-ND-4.0": ("CC BY-NC-ND 4.0", "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
    "PDM": (_l("Public Domain Mark"), "https://creativecommons.org/publicdomain/mark/1.0/"),
    "all rights reserved": (_l("All rights reserved"), ""),
}
#: Licences under which a material counts as OER (open: may be shared and adapted).
OPEN_LICENCES = frozenset({"CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "PDM"})


class Group(Base):
    __tablename__ = "ws_group"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    description: Mapped[str] = mapped_column(Text, default="")
    #: a key of roles.HANDLUNGSFELD_KEYS or None
    handlungsfeld: Mapped[str | None] = mapped_column(String(32))
    coordinator_member_id: Mapped[int | None] = mapped_column(ForeignKey("ws_member.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]

    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="group", cascade="all, delete-orphan")
    materials: Mapped[list[GroupMaterial]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMaterial.created_at.desc()"
    )
    posts: Mapped[list[GroupPost]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupPost.created_at"
    )
    results: Mapped[list[GroupResult]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupResult.published_at.desc()"
    )


class GroupMembership(Base):
    __tablename__ = "ws_group_member"
    __table_args__ = (UniqueConstraint("group_id", "member_id", name="uq_ws_group_member"),)

    id: Mapped[intpk]
    group_id: Mapped[int] = mapped_column(ForeignKey("ws_group.id", ondelete="CASCADE"), index=True)
    #: a NetworkMember of the group's network
    member_id: Mapped[int] = mapped_column(ForeignKey("ws_member.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created]
    group: Mapped[Group] = relationship(back_populates="memberships")


class GroupMaterial(Base):
    """One shared material: an uploaded file or a link, with its attribution (TULLU)."""

    __tablename__ = "ws_group_material"

    id: Mapped[intpk]
    group_id: Mapped[int] = mapped_column(ForeignKey("ws_group.id", ondelete="CASCADE"), index=True)
    #: file or link
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[short]
    #: free text, e.g. "Kim Weber" (Urheber*in)
    author: Mapped[str] = mapped_column(String(255), default="")
    #: a key of LICENCES
    licence: Mapped[str] = mapped_column(String(32))
    #: where the material comes from (Ursprungsort), optional
    source_url: Mapped[str] = mapped_column(String(2048), default="")
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("ws_upload.id", ondelete="SET NULL"))
    link_url: Mapped[str] = mapped_column(String(2048), default="")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    group: Mapped[Group] = relationship(back_populates="materials")


class GroupPost(Base):
    """A post in the group's discussion (HTML cleaned on the way in)."""

    __tablename__ = "ws_group_post"

    id: Mapped[intpk]
    group_id: Mapped[int] = mapped_column(ForeignKey("ws_group.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created]
    group: Mapped[Group] = relationship(back_populates="posts")


result_material = Table(
    "ws_group_result_material",
    Base.metadata,
    Column("result_id", ForeignKey("ws_group_result.id", ondelete="CASCADE"), primary_key=True),
    Column("material_id", ForeignKey("ws_group_material.id", ondelete="CASCADE"), primary_key=True),
)


class GroupResult(Base):
    """A result the group reports back to the whole network (Ergebnissicherung)."""

    __tablename__ = "ws_group_result"

    id: Mapped[intpk]
    group_id: Mapped[int] = mapped_column(ForeignKey("ws_group.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    group: Mapped[Group] = relationship(back_populates="results")
    materials: Mapped[list[GroupMaterial]] = relationship(secondary=result_material, order_by="GroupMaterial.title")
