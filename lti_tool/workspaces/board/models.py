"""Tables of the Zukunftswerkstatt board: notes, goals, indicators, measures.

The Zukunftswerkstatt is the network's kick-off, kept as a living board in
three phases:

- *Bestandsaufnahme* (stock-taking): ``BoardNote`` rows with ``phase="bestand"``,
  each bound to a member school; ``internal`` ones are seen only by that
  school's members and the network managers. ``source`` says where a note came
  from ("manual" now; self-evaluation and Medienhaus results will add theirs).
- *Utopiephase*: ``BoardNote`` rows with ``phase="utopie"``, network-wide
  visions of the "Schule von morgen".
- *Umsetzungsphase*: ``BoardGoal`` per Handlungsfeld (optionally bound to a
  school), with ``BoardIndicator`` texts and ``BoardMeasure`` rows (owner, due
  date, status).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short, utcnow

PHASE_BESTAND = "bestand"
PHASE_UTOPIE = "utopie"
NOTE_PHASES = (PHASE_BESTAND, PHASE_UTOPIE)

SOURCE_MANUAL = "manual"

STATUS_OPEN, STATUS_IN_PROGRESS, STATUS_DONE = "open", "in_progress", "done"
MEASURE_STATUSES = (STATUS_OPEN, STATUS_IN_PROGRESS, STATUS_DONE)


class BoardNote(Base):
    """A card of the Bestandsaufnahme (per school) or the Utopiephase (network-wide)."""

    __tablename__ = "ws_board_note"
    __table_args__ = (CheckConstraint("phase IN ('bestand', 'utopie')", name="phase"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    #: bestand (Bestandsaufnahme) or utopie (Utopiephase)
    phase: Mapped[str] = mapped_column(String(16))
    title: Mapped[short]
    #: sanitised HTML (``text.clean_html``)
    body: Mapped[str] = mapped_column(Text, default="")
    #: one of ``roles.HANDLUNGSFELD_KEYS`` or None
    handlungsfeld: Mapped[str | None] = mapped_column(String(32))
    #: the school a Bestandsaufnahme note is about; None for Utopiephase notes
    school_id: Mapped[int | None] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"), index=True)
    #: school-internal: only that school's members and the network managers see it
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    #: where the note came from: "manual"; later e.g. "selfeval", "medienhaus"
    source: Mapped[str] = mapped_column(String(32), default=SOURCE_MANUAL)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BoardGoal(Base):
    """A goal of the Umsetzungsphase in one Handlungsfeld, network-wide or for one school."""

    __tablename__ = "ws_board_goal"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    #: sanitised HTML (``text.clean_html``)
    description: Mapped[str] = mapped_column(Text, default="")
    #: one of ``roles.HANDLUNGSFELD_KEYS``
    handlungsfeld: Mapped[str] = mapped_column(String(32))
    #: None: a goal of the whole network
    school_id: Mapped[int | None] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    indicators: Mapped[list[BoardIndicator]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="BoardIndicator.id"
    )
    measures: Mapped[list[BoardMeasure]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="BoardMeasure.id"
    )

    @property
    def done_count(self) -> int:
        return sum(1 for m in self.measures if m.status == STATUS_DONE)

    @property
    def progress(self) -> int:
        """Done measures / all measures, in whole percent (0 without measures)."""
        total = len(self.measures)
        return round(100 * self.done_count / total) if total else 0


class BoardIndicator(Base):
    """How we know a goal is reached (a short text)."""

    __tablename__ = "ws_board_indicator"

    id: Mapped[intpk]
    goal_id: Mapped[int] = mapped_column(ForeignKey("ws_board_goal.id", ondelete="CASCADE"), index=True)
    text: Mapped[short]
    created_at: Mapped[created]
    goal: Mapped[BoardGoal] = relationship(back_populates="indicators")


class BoardMeasure(Base):
    """A concrete step towards a goal, owned by a network member."""

    __tablename__ = "ws_board_measure"
    __table_args__ = (CheckConstraint("status IN ('open', 'in_progress', 'done')", name="status"),)

    id: Mapped[intpk]
    goal_id: Mapped[int] = mapped_column(ForeignKey("ws_board_goal.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"), index=True)
    due: Mapped[date | None] = mapped_column(Date)
    #: open, in_progress, done
    status: Mapped[str] = mapped_column(String(16), default=STATUS_OPEN)
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    goal: Mapped[BoardGoal] = relationship(back_populates="measures")
