"""Tables of the network year: meetings of the network's bodies, their decisions and tasks.

German terms (the users' words): *Lenkungsrunde*, *Schulleitungsrunde*,
*Netzwerktreffen*, *Arbeitsgruppe*, *Zwischenbilanztagung* – see
``roles.MEETING_BODIES``. Times are stored in UTC and shown in Europe/Berlin.
Agenda and minutes are HTML cleaned by ``text.clean_html`` before storing.

A meeting of an ``arbeitsgruppe`` may point to a working group
(``ws_group``); that table comes from ``0005_groups``, the revision
before ``0006_meetings``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, created, intpk, short


class Meeting(Base):
    __tablename__ = "ws_meeting"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    #: a key of roles.MEETING_BODIES
    body: Mapped[str] = mapped_column(String(32))
    #: UTC
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(255), default="")
    video_url: Mapped[str] = mapped_column(String(2048), default="")
    #: only for ``arbeitsgruppe`` meetings
    group_id: Mapped[int | None] = mapped_column(ForeignKey("ws_group.id", ondelete="SET NULL"), index=True)
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    #: first time minutes or decisions were saved (the "published" moment)
    minutes_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    updated_at: Mapped[created]

    decisions: Mapped[list[MeetingDecision]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingDecision.position"
    )
    tasks: Mapped[list[MeetingTask]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingTask.id"
    )


class MeetingDecision(Base):
    """One decision (Beschluss) of a meeting, a short text."""

    __tablename__ = "ws_meeting_decision"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("ws_meeting.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(500))
    meeting: Mapped[Meeting] = relationship(back_populates="decisions")


class MeetingTask(Base):
    """A task from a meeting for one network member, with a due date."""

    __tablename__ = "ws_meeting_task"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("ws_meeting.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    assignee_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("ws_member.id", ondelete="SET NULL"), index=True
    )
    due: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created]
    meeting: Mapped[Meeting] = relationship(back_populates="tasks")
