"""Record what happened in a network, and show each person what is new."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lti_tool.db import db_session
from lti_tool.workspaces.models import Activity


def record(network_id: int, person_id: int | None, kind: str, title: str, url: str, audience: str = "network") -> None:
    """Add an activity entry (committed with the caller's transaction)."""
    db_session().add(
        Activity(network_id=network_id, person_id=person_id, kind=kind, title=title[:255], url=url[:512], audience=audience)
    )


def visible(audience: str, role: str, school_id: int | None, is_manager: bool) -> bool:
    if audience == "network":
        return True
    if audience.startswith("school:"):
        return is_manager or (school_id is not None and audience == f"school:{school_id}")
    if audience.startswith("roles:"):
        return role in audience[len("roles:"):].split(",")
    return False


def since(network_id: int, when: datetime | None, role: str, school_id: int | None, is_manager: bool, limit: int = 50) -> list[Activity]:
    q = select(Activity).where(Activity.network_id == network_id).order_by(Activity.created_at.desc()).limit(limit * 3)
    if when is not None:
        q = q.where(Activity.created_at > when)
    rows = [a for a in db_session().scalars(q) if visible(a.audience, role, school_id, is_manager)]
    return rows[:limit]
