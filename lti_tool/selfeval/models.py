"""Self-evaluation rounds, responses and answers.

A *round* (Erhebung, e.g. "Schuljahr 2026/27 Herbst") asks the schools of one
network to answer one exact instrument version (``instrument_key``) between
``opens_at`` and ``closes_at``. A *response* is one person's submission in a
round, stored against a keyed hash of the LTI user (``respondent_key``), never
the user id or a name. *Answers* are one row per respondent and item in the
shape :mod:`lti_tool.selfeval.aggregate` reads (``value`` NULL = not applicable).
An *instrument* row is one version of an instrument a network uploaded
(:mod:`lti_tool.selfeval.library`); versions are immutable once stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool import models as _core_models  # noqa: F401  (lti_context, lti_user for the FKs below)
from lti_tool.db import Base, created, intpk, short, utcnow
from lti_tool.workspaces import models as _ws_models  # noqa: F401  (ws_network, ws_school, ws_person)

DRAFT, SUBMITTED = "draft", "submitted"


class SelfevalRound(Base):
    __tablename__ = "selfeval_round"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    #: exact instrument version, e.g. "medienhaus@1.0"
    instrument_key: Mapped[str] = mapped_column(String(128))
    title: Mapped[short]
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]


class SelfevalResponse(Base):
    __tablename__ = "selfeval_response"
    __table_args__ = (UniqueConstraint("round_id", "respondent_key", name="uq_selfeval_response_once"),)

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("selfeval_round.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"), index=True)
    #: respondent group id of the instrument, e.g. "teacher"
    group_id: Mapped[str] = mapped_column(String(40))
    #: keyed hash of (round, issuer, sub); never the user id
    respondent_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    #: JSON object: free-text question id -> text
    free_text: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SelfevalAnswer(Base):
    """One respondent's answer to one item; the exact shape ``aggregate`` expects."""

    __tablename__ = "selfeval_answer"
    __table_args__ = (
        UniqueConstraint("round_id", "respondent_key", "item_id", name="uq_selfeval_answer_once"),
        # covering index: the aggregation is an in-order scan of this index only
        Index("ix_selfeval_answer_cells", "round_id", "school_id", "group_id", "item_id", "value"),
        # covering index for counting the respondents of every cell
        Index("ix_selfeval_answer_respondents", "round_id", "school_id", "group_id", "respondent_key", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, nullable=False)
    school_id: Mapped[int] = mapped_column(Integer, nullable=False)
    group_id: Mapped[str] = mapped_column(String(40), nullable=False)
    respondent_key: Mapped[str] = mapped_column(String(64), nullable=False)
    item_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: NULL = not applicable / can't say
    value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class SelfevalInstrument(Base):
    """One version of an instrument uploaded by a network; the stored file never changes."""

    __tablename__ = "selfeval_instrument"
    __table_args__ = (UniqueConstraint("network_id", "key", name="uq_selfeval_instrument_key"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    #: the instrument's ``id`` and ``version`` from the file; ``key`` = "id@version" (what rounds store)
    instrument_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(128))
    #: "yaml" or "json"; ``content`` is the uploaded file, byte for byte
    format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[short]
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    uploaded_at: Mapped[created]
    #: withdrawn versions are not offered for new rounds; existing rounds keep them
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
