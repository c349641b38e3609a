"""Rows of the LMS sync: targets (an LMS site and its token), mappings, runs and the per-target lock.

* ``SyncTarget`` – one LMS site a network is provisioned into. ``kind`` is
  ``moodle`` (Moodle and LOGINEO NRW LMS; itslearning comes later), ``scope``
  ``network`` (the network course) or ``school`` (the course bound to member
  school ``school_id`` in the workspace, on the school's own site). The
  web-service token is kept encrypted with the tool's secret (``token_enc``);
  only its last four characters (``token_hint``) are ever shown again.
* ``SyncMapping`` – what the tool knows of each object it synced to a target:
  kind, stable key (idnumber, username, …), Moodle id, a hash of what was sent,
  and whether the tool created it (only those may be pruned). It backs
  :class:`lti_tool.sync.store.DbMappingStore`.
* ``SyncRun`` – one plan or apply: who asked, progress, the readable plan and
  the engine's report (also when it failed).
* ``SyncLock`` – one row per target while a run holds it; ``expires_at`` lets
  the lock of a crashed worker lapse (:class:`lti_tool.sync.store.DbTargetLock`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, created, intpk, short, utcnow

KINDS = ("moodle",)
SCOPES = ("network", "school")
MODES = ("plan", "apply")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = (QUEUED, RUNNING)


class SyncTarget(Base):
    __tablename__ = "sync_target"
    __table_args__ = (UniqueConstraint("network_id", "name", name="uq_sync_target_name"),)

    id: Mapped[intpk]
    network_id: Mapped[int] = mapped_column(ForeignKey("ws_network.id", ondelete="CASCADE"), index=True)
    name: Mapped[short]
    #: moodle (Moodle, LOGINEO NRW LMS); other kinds come with their own client
    kind: Mapped[str] = mapped_column(String(16), default="moodle")
    #: the site's base URL without a trailing slash, e.g. https://100001.logineonrw-lms.de
    site_url: Mapped[str] = mapped_column(String(2048))
    #: the web-service token, encrypted with ``bridge().box`` (never logged, never shown)
    token_enc: Mapped[str] = mapped_column(Text)
    #: the token's last four characters, to tell tokens apart ("set, ends …abcd")
    token_hint: Mapped[str] = mapped_column(String(8), default="")
    token_set_at: Mapped[created]
    #: network (the network's category and course) or school (the course bound to ``school_id``)
    scope: Mapped[str] = mapped_column(String(16), default="network")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("ws_school.id", ondelete="CASCADE"))
    #: Moodle auth plugin of the accounts the tool creates (single sign-on of the site; never passwords)
    user_auth: Mapped[str] = mapped_column(String(32), default="nologin")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    created_at: Mapped[created]
    #: the last preflight (lti_tool.sync.service.preflight_dict) and when it ran
    last_preflight: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncMapping(Base):
    __tablename__ = "sync_mapping"
    __table_args__ = (UniqueConstraint("target_id", "kind", "key", name="uq_sync_mapping_key"),)

    id: Mapped[intpk]
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"))
    #: category, course, section, group, user, enrolment, membership (moodle_sync.mapping.KINDS)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    moodle_id: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: True when the tool created the object (prune removes only those)
    created: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncRun(Base):
    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_target_time", "target_id", "requested_at"),)

    id: Mapped[intpk]
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"))
    #: plan (reads only) or apply
    mode: Mapped[str] = mapped_column(String(8))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    prune: Mapped[bool] = mapped_column(Boolean, default=False)
    #: queued, running, done, failed
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    #: where it runs: rq, thread, foreground
    backend: Mapped[str] = mapped_column(String(16), default="")
    #: holder of the target's lock for this run (SyncLock.holder)
    lock_holder: Mapped[str] = mapped_column(String(64), default="")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    #: one readable line: what is happening, or why it failed (no stack trace, no token)
    message: Mapped[str] = mapped_column(Text, default="")
    #: moodle_sync Plan.render() and the plan grouped for the page (lti_tool.sync.service.plan_dict)
    plan_text: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: moodle_sync ApplyReport.to_dict() and .render()
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    report_text: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("ws_person.id", ondelete="SET NULL"))
    requested_at: Mapped[created]
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncLock(Base):
    """Present while a run holds the target; a lapsed ``expires_at`` frees it (crashed worker)."""

    __tablename__ = "sync_lock"

    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
