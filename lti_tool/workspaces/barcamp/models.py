"""Tables of the barcamp planner.

A *Barcamp* (often the format of a Netzwerktreffen) has rooms and time slots
that span a grid; members propose sessions on the day, mark the ones they are
interested in, and the moderators place sessions in (slot, room) cells. After
the barcamp, hosts document their session (notes and a material link).

The database guarantees that a cell holds at most one session
(``uq_ws_barcamp_session_cell``); "no host in two sessions of the same slot"
is checked by the views and by :mod:`.scheduling`.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, created, intpk, short


class Barcamp(Base):
    __tablename__ = "ws_barcamp"

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    title: Mapped[short]
    day: Mapped[date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(255), default="")
    #: The network meeting (Netzwerktreffen) this barcamp belongs to; no foreign key on purpose
    #: (the meetings part owns its tables), so a stale id simply shows no link.
    meeting_id: Mapped[int | None] = mapped_column(Integer)
    #: Last time a moderator published the schedule (None: draft).
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]


class BarcampRoom(Base):
    __tablename__ = "ws_barcamp_room"
    __table_args__ = (UniqueConstraint("barcamp_id", "name", name="uq_ws_barcamp_room_name"),)

    id: Mapped[intpk]
    barcamp_id: Mapped[int] = mapped_column(ForeignKey("ws_barcamp.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[created]


class BarcampSlot(Base):
    __tablename__ = "ws_barcamp_slot"

    id: Mapped[intpk]
    barcamp_id: Mapped[int] = mapped_column(ForeignKey("ws_barcamp.id", ondelete="CASCADE"), index=True)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[created]


class BarcampSession(Base):
    """A session proposal; placed when both ``slot_id`` and ``room_id`` are set."""

    __tablename__ = "ws_barcamp_session"
    __table_args__ = (UniqueConstraint("slot_id", "room_id", name="uq_ws_barcamp_session_cell"),)

    id: Mapped[intpk]
    barcamp_id: Mapped[int] = mapped_column(ForeignKey("ws_barcamp.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: sanitised rich text (lti_tool.workspaces.text.clean_html)
    description: Mapped[str] = mapped_column(Text, default="")
    #: free-text co-hosts who are not network members, e.g. "Frau Dr. Roth (Medienzentrum)"
    co_hosts: Mapped[str] = mapped_column(String(255), default="")
    #: one of roles.HANDLUNGSFELD_KEYS, or None
    handlungsfeld: Mapped[str | None] = mapped_column(String(32))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("ws_barcamp_slot.id", ondelete="SET NULL"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("ws_barcamp_room.id", ondelete="SET NULL"))
    #: a moderator fixed this placement; the automatic schedule never moves it
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: documentation afterwards (Ergebnissicherung): sanitised rich text and a link
    notes: Mapped[str] = mapped_column(Text, default="")
    material_url: Mapped[str] = mapped_column(String(2048), default="")
    created_at: Mapped[created]


class BarcampHost(Base):
    __tablename__ = "ws_barcamp_host"
    __table_args__ = (UniqueConstraint("session_id", "person_id", name="uq_ws_barcamp_host"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("ws_barcamp_session.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ws_person.id", ondelete="CASCADE"), index=True)


class BarcampInterest(Base):
    """One person is interested in one session (at most one mark per person and session)."""

    __tablename__ = "ws_barcamp_interest"
    __table_args__ = (UniqueConstraint("session_id", "person_id", name="uq_ws_barcamp_interest"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("ws_barcamp_session.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("ws_person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created]
