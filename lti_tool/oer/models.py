"""Tables of the OER library: collections of the neutral model stored as rows, and their files.

A network's library holds *collections* (Sammlungen). Each is an ordered tree
of *nodes*: modules (chapters) and items (page, file, weblink, discussion,
lti). Files are stored once per content (``oer_blob``, named by sha256 under
the instance folder ``oer/``); a page's extra files (images it shows) are its
*assets*. A blob is deleted when no node or asset refers to it any more
(reference count by query, no counter to drift).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, created, intpk, short, utcnow

MODULE = "module"
ITEM_KINDS = ("page", "file", "weblink", "discussion", "lti")
KINDS = (MODULE, *ITEM_KINDS)


class OerBlob(Base):
    """One stored file content; the file lives at ``<instance>/oer/<sha[:2]>/<sha>``."""

    __tablename__ = "oer_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[created]


class OerCollection(Base):
    """A collection of the network's library (the neutral model's ``Collection``)."""

    __tablename__ = "oer_collection"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="de")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: [{"name": ..., "url": ...}]
    authors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    #: a licence identifier of oer_packager.licences, e.g. CC-BY-SA-4.0 ("" = not chosen yet)
    licence: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(2048), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OerNode(Base):
    """A module or an item of a collection; siblings are ordered by ``position``."""

    __tablename__ = "oer_node"

    id: Mapped[intpk]
    collection_id: Mapped[int] = mapped_column(ForeignKey("oer_collection.id", ondelete="CASCADE"), index=True)
    #: None for top-level modules; items always sit in a module
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("oer_node.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: one of KINDS
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[short]
    description: Mapped[str] = mapped_column(Text, default="")
    #: weblink target, LTI launch URL
    url: Mapped[str] = mapped_column(String(2048), default="")
    #: discussion prompt (cleaned HTML), LTI description
    text: Mapped[str] = mapped_column(Text, default="")
    #: LTI custom parameters
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the item's own authors where they differ from the collection's: [{"name", "url"}]
    authors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    #: title of the original work for TULLU, where it differs from the item title
    attribution_title: Mapped[str] = mapped_column(String(255), default="")
    licence: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(2048), default="")
    changes: Mapped[str] = mapped_column(Text, default="")
    instructor_only: Mapped[bool] = mapped_column(Boolean, default=False)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("oer_blob.sha256", ondelete="RESTRICT"), index=True)
    #: the original file name; for imported pages their path inside the cartridge (relative links keep working)
    filename: Mapped[str] = mapped_column(String(1024), default="")
    media_type: Mapped[str] = mapped_column(String(127), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[created]


class OerAsset(Base):
    """A file a page needs (e.g. an image it shows), at its path relative to the page's folder root."""

    __tablename__ = "oer_asset"
    __table_args__ = (UniqueConstraint("node_id", "path", name="uq_oer_asset_path"),)

    id: Mapped[intpk]
    node_id: Mapped[int] = mapped_column(ForeignKey("oer_node.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("oer_blob.sha256", ondelete="RESTRICT"), index=True)
    media_type: Mapped[str] = mapped_column(String(127), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
