"""Reading meeting forms: Berlin wall-clock times to UTC, web addresses, school years."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_tool.workspaces.roles import MEETING_BODIES
from lti_tool.workspaces.text import TextError, clean_html, plain

BERLIN = ZoneInfo("Europe/Berlin")
MAX_DECISIONS = 50


def as_utc(dt: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without a zone."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def local(dt: datetime) -> datetime:
    return as_utc(dt).astimezone(BERLIN)


def school_year_of(day: date) -> str:
    """German school years run from 1 August to 31 July: 2026-11-05 -> "2026/27"."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def html_to_text(stored: str) -> str:
    """Cleaned HTML as plain text (for iCalendar descriptions and emptiness checks)."""
    with_breaks = re.sub(r"(?i)<br\s*/?>|</(p|li|h3|h4|blockquote)>", "\n", stored or "")
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def http_url(raw: str | None, *, field: str, required: bool = False) -> str:
    """An absolute http(s) address, or "" if optional and empty."""
    value = (raw or "").strip()
    if not value:
        if required:
            raise TextError(_("Please fill in: %(field)s.", field=field))
        return ""
    if len(value) > 2048:
        raise TextError(_("%(field)s is too long (at most %(n)d characters).", field=field, n=2048))
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise TextError(_("%(field)s must be a web address starting with https:// or http://.", field=field))
    return value


def parse_day(raw: str | None, *, field: str, required: bool = True) -> date | None:
    value = (raw or "").strip()
    if not value:
        if required:
            raise TextError(_("Please fill in: %(field)s.", field=field))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise TextError(_("%(field)s is not a valid date (YYYY-MM-DD).", field=field)) from exc


def parse_clock(raw: str | None, *, field: str) -> time:
    value = (raw or "").strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", value)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise TextError(_("%(field)s is not a valid time (HH:MM).", field=field))
    return time(int(m.group(1)), int(m.group(2)))


def berlin_to_utc(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=BERLIN).astimezone(UTC)


F_TITLE = _l("Title")
F_BODY = _l("Body")
F_DATE = _l("Date")
F_END_DATE = _l("End date")
F_START = _l("Start time")
F_END = _l("End time")
F_PLACE = _l("Place")
F_VIDEO = _l("Video conference link")
F_AGENDA = _l("Agenda")
F_MINUTES = _l("Minutes")
F_DECISION = _l("Decision")
F_TASK = _l("Task")
F_DUE = _l("Due date")


@dataclass
class MeetingInput:
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    place: str
    video_url: str
    agenda: str
    group_id: int | None


def read_meeting(form: Any, group_ids: set[int]) -> MeetingInput:
    """Validate the meeting form; raises TextError with a message for the user."""
    title = plain(form.get("title"), field=str(F_TITLE), max_length=200)
    body = (form.get("body") or "").strip()
    if body not in MEETING_BODIES:
        raise TextError(_("Please choose the body that meets."))
    day = parse_day(form.get("date"), field=str(F_DATE))
    assert day is not None
    end_day = parse_day(form.get("end_date"), field=str(F_END_DATE), required=False) or day
    starts = berlin_to_utc(day, parse_clock(form.get("start"), field=str(F_START)))
    ends = berlin_to_utc(end_day, parse_clock(form.get("end"), field=str(F_END)))
    if ends <= starts:
        raise TextError(_("The meeting must end after it starts."))
    if ends - starts > timedelta(days=14):
        raise TextError(_("A meeting can last at most 14 days."))
    place = plain(form.get("place"), field=str(F_PLACE), required=False)
    video = http_url(form.get("video_url"), field=str(F_VIDEO))
    if not place and not video:
        raise TextError(_("Please give a place or a video conference link."))
    agenda = clean_html(form.get("agenda"))
    group_id = None
    raw_group = (form.get("group_id") or "").strip()
    if body == "arbeitsgruppe" and raw_group:
        if not raw_group.isdigit() or int(raw_group) not in group_ids:
            raise TextError(_("Please choose a working group of this network."))
        group_id = int(raw_group)
    return MeetingInput(title, body, starts, ends, place, video, agenda, group_id)


@dataclass
class MinutesInput:
    minutes: str
    decisions: list[str] = field(default_factory=list)


def read_minutes(form: Any) -> MinutesInput:
    minutes = clean_html(form.get("minutes"), max_length=50000)
    decisions = []
    for line in (form.get("decisions") or "").splitlines():
        text = plain(line, field=str(F_DECISION), max_length=500, required=False)
        if text:
            decisions.append(text)
    if len(decisions) > MAX_DECISIONS:
        raise TextError(_("At most %(n)d decisions per meeting.", n=MAX_DECISIONS))
    return MinutesInput(minutes, decisions)
