"""Provisioning a network: create it, add schools, invite, redeem, join.

Used by the workspace pages and by ``lms-bridge network …`` alike. Functions
take a SQLAlchemy session and commit nothing themselves unless they say so,
so a bulk import can run as one transaction (and a dry run can roll back).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox
from lti_tool.models import LtiContext
from lti_tool.protocol.errors import LtiError
from lti_tool.workspaces.models import (
    Invitation,
    MemberSchool,
    Network,
    NetworkMember,
    Person,
    PersonIdentity,
    SchoolContext,
)
from lti_tool.workspaces.roles import LEADER, MANAGER, MEDIA, ROLES, TEACHER

SOFT_SCHOOL_LIMIT = 12
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class NetworkError(LtiError):
    """A provisioning step is refused; the message says why."""

    code = "network_invalid"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# -- networks and schools ----------------------------------------------------


def create_network(s: Session, *, name: str, region: str = "", school_authority: str = "",
                   description: str = "", school_years: str = "") -> Network:
    name = " ".join(name.split())
    if not name:
        raise NetworkError("A network needs a name.", code="network_name_missing")
    network = Network(name=name[:255], region=region.strip()[:255], school_authority=school_authority.strip()[:255],
                      description=description.strip(), school_years=school_years.strip()[:64])
    s.add(network)
    s.flush()
    return network


@dataclass
class SchoolAdded:
    school: MemberSchool
    warning: str | None = None


def add_school(s: Session, network: Network, *, name: str, school_number: str, school_type: str = "",
               hard_limit: int = 16) -> SchoolAdded:
    name = " ".join(name.split())
    number = school_number.strip()
    if not name or not number:
        raise NetworkError("A school needs a name and a school number.", code="school_incomplete")
    if not number.isalnum() or len(number) > 32:
        raise NetworkError("The school number may only contain letters and digits.", code="school_number_invalid")
    exists = s.scalar(select(MemberSchool).where(MemberSchool.network_id == network.id,
                                                 MemberSchool.school_number == number))
    if exists is not None:
        raise NetworkError("A school with this number is already in the network.", code="school_exists")
    count = s.scalar(select(func.count()).select_from(MemberSchool).where(MemberSchool.network_id == network.id)) or 0
    if count + 1 > hard_limit:
        raise NetworkError("The network has reached its limit of %(limit)d schools.", code="network_full",
                           limit=hard_limit)
    school = MemberSchool(network_id=network.id, name=name[:255], school_number=number, school_type=school_type.strip()[:64])
    s.add(school)
    s.flush()
    warning = None
    if count + 1 > SOFT_SCHOOL_LIMIT:
        warning = f"The network now has {count + 1} schools; networks work best with at most {SOFT_SCHOOL_LIMIT}."
    return SchoolAdded(school, warning)


# -- invitations --------------------------------------------------------------


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def create_invitation(s: Session, box: SecretBox, network: Network, *, kind: str, school: MemberSchool | None = None,
                      days: int = 14) -> str:
    """A single-use code, valid ``days`` days; only its keyed hash is stored."""
    if kind not in ("school", "manager"):
        raise ValueError(kind)
    if kind == "school" and (school is None or school.network_id != network.id):
        raise NetworkError("Invite a school of this network.", code="school_unknown")
    if not 1 <= days <= 90:
        raise NetworkError("Invitations are valid for 1 to 90 days.", code="invitation_days")
    code = _new_code()
    s.add(Invitation(network_id=network.id, kind=kind, school_id=school.id if school else None,
                     code_hash=box.pseudonym("invitation", code), expires_at=utcnow() + timedelta(days=days)))
    s.flush()
    return code


def find_invitation(s: Session, box: SecretBox, code: str) -> Invitation:
    inv = s.scalar(select(Invitation).where(Invitation.code_hash == box.pseudonym("invitation", normalise_code(code))))
    if inv is None:
        raise NetworkError("This invitation code is not valid.", code="invitation_unknown")
    if inv.redeemed_at is not None:
        raise NetworkError("This invitation code has already been used.", code="invitation_used")
    if _aware(inv.expires_at) < utcnow():
        raise NetworkError("This invitation code has expired. Ask your network manager for a new one.",
                           code="invitation_expired")
    return inv


def ensure_member(s: Session, network_id: int, person: Person, role: str, school_id: int | None = None) -> NetworkMember:
    if role not in ROLES:
        raise NetworkError("Unknown network role.", code="role_unknown")
    member = s.scalar(select(NetworkMember).where(NetworkMember.network_id == network_id,
                                                  NetworkMember.person_id == person.id))
    if member is None:
        member = NetworkMember(network_id=network_id, person_id=person.id, role=role, school_id=school_id)
        s.add(member)
        s.flush()
    return member


@dataclass
class Redeemed:
    network: Network
    school: MemberSchool | None
    member: NetworkMember


def redeem(s: Session, box: SecretBox, code: str, person: Person, *, context_pk: int | None,
           is_instructor: bool, school_role: str = LEADER) -> Redeemed:
    """Redeem an invitation from a launch: bind the course to the school, or appoint a manager."""
    inv = find_invitation(s, box, code)
    network = s.get(Network, inv.network_id)
    assert network is not None
    school: MemberSchool | None = None
    if inv.kind == "school":
        if not is_instructor:
            raise NetworkError("Only teachers or administrators of the course can connect it to the network.",
                               code="invitation_needs_instructor", status=403)
        if context_pk is None:
            raise NetworkError("Open LMS Bridge from your school's course to connect it.", code="invitation_needs_course")
        if school_role not in (LEADER, MEDIA):
            raise NetworkError("Choose school leader or media coordinator.", code="role_unknown")
        school = s.get(MemberSchool, inv.school_id)
        assert school is not None
        bound = s.scalar(select(SchoolContext).where(SchoolContext.context_pk == context_pk))
        if bound is not None and bound.school_id != school.id:
            raise NetworkError("This course is already connected to another school.", code="course_already_bound")
        if bound is None:
            s.add(SchoolContext(school_id=school.id, context_pk=context_pk))
        member = ensure_member(s, network.id, person, school_role, school.id)
        if member.role != MANAGER:
            member.role, member.school_id = school_role, school.id
    else:
        member = ensure_member(s, network.id, person, MANAGER)
        member.role = MANAGER
    inv.redeemed_at = utcnow()
    inv.redeemed_by = person.id
    s.flush()
    return Redeemed(network, school, member)


def join_from_context(s: Session, person: Person, context_pk: int | None, is_instructor: bool) -> list[NetworkMember]:
    """Teachers launching from a bound course join that school's network as teachers."""
    if context_pk is None or not is_instructor:
        return []
    bindings = s.scalars(select(SchoolContext).where(SchoolContext.context_pk == context_pk)).all()
    joined = []
    for b in bindings:
        school = s.get(MemberSchool, b.school_id)
        assert school is not None
        member = ensure_member(s, school.network_id, person, TEACHER, school.id)
        if member.school_id is None and member.role != MANAGER:
            member.school_id = school.id
        joined.append(member)
    return joined


def contexts_of_school(s: Session, school: MemberSchool) -> list[LtiContext]:
    return list(s.scalars(select(LtiContext).join(SchoolContext, SchoolContext.context_pk == LtiContext.id)
                          .where(SchoolContext.school_id == school.id)))


# -- identity linking ----------------------------------------------------------


def link_identities(s: Session, keep: Person, other: Person) -> None:
    """Move ``other``'s LMS accounts and memberships to ``keep`` and delete ``other``."""
    if keep.id == other.id:
        return
    for ident in s.scalars(select(PersonIdentity).where(PersonIdentity.person_id == other.id)):
        ident.person_id = keep.id
    kept = {m.network_id: m for m in s.scalars(select(NetworkMember).where(NetworkMember.person_id == keep.id))}
    order = {r: i for i, r in enumerate(ROLES)}  # lower index = more rights
    for m in list(s.scalars(select(NetworkMember).where(NetworkMember.person_id == other.id))):
        mine = kept.get(m.network_id)
        if mine is None:
            m.person_id = keep.id
        else:
            if order[m.role] < order[mine.role]:
                mine.role, mine.school_id = m.role, m.school_id or mine.school_id
            s.delete(m)
    s.flush()
    s.delete(other)
    s.flush()


# -- bulk import ----------------------------------------------------------------


@dataclass
class ImportLine:
    line: int
    action: str  # create, skip, error
    name: str
    school_number: str
    message: str = ""
    code: str | None = None


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)

    @property
    def errors(self) -> list[ImportLine]:
        return [ln for ln in self.lines if ln.action == "error"]


def import_schools(s: Session, box: SecretBox, network: Network, csv_text: str, *, invite_days: int | None,
                   hard_limit: int, on_line: Callable[[], None] = lambda: None) -> ImportReport:
    """Add schools from CSV (name, school_number, school_type); caller commits or rolls back."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(csv_text))
    needed = {"name", "school_number"}
    if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
        report.lines.append(ImportLine(1, "error", "", "", "the header must name the columns name, school_number[, school_type]"))
        return report
    for i, row in enumerate(reader, start=2):
        on_line()
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        name, number = row.get("name", ""), row.get("school_number", "")
        existing = s.scalar(select(MemberSchool).where(MemberSchool.network_id == network.id,
                                                       MemberSchool.school_number == number)) if number else None
        if existing is not None:
            report.lines.append(ImportLine(i, "skip", name, number, "already in the network"))
            continue
        try:
            added = add_school(s, network, name=name, school_number=number, school_type=row.get("school_type", ""),
                               hard_limit=hard_limit)
        except NetworkError as exc:
            report.lines.append(ImportLine(i, "error", name, number, exc.message))
            continue
        code = create_invitation(s, box, network, kind="school", school=added.school, days=invite_days) if invite_days else None
        report.lines.append(ImportLine(i, "create", name, number, added.warning or "", code))
    return report
