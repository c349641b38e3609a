"""``lms-bridge network …``: set up networks in bulk, with dry runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from lti_tool.cli_context import Context, pass_ctx


@click.group()
def network() -> None:
    """School networks: create, add schools, invite."""


def _network(s: Any, network_id: int) -> Any:
    from lti_tool.workspaces.models import Network

    net = s.get(Network, network_id)
    if net is None:
        raise click.ClickException(f"no network with id {network_id}")
    return net


@network.command("create")
@click.option("--name", required=True)
@click.option("--region", default="")
@click.option("--school-authority", default="", help="Schulträger, e.g. 'Stadt Musterstadt'.")
@click.option("--school-years", default="", help="e.g. 2026/27")
@click.option("--description", default="")
@click.option("--manager-invite-days", default=7, show_default=True, type=click.IntRange(1, 90))
@pass_ctx
def create(ctx: Context, manager_invite_days: int, **opts: str) -> None:
    """Create a network and print a code that appoints its first network manager."""
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.services import NetworkError, create_invitation, create_network

    b = bridge(ctx.app)
    with b.db.sessions() as s:
        try:
            net = create_network(s, **opts)
            code = create_invitation(s, b.box, net, kind="manager", days=manager_invite_days)
        except NetworkError as exc:
            raise click.ClickException(exc.message) from exc
        s.commit()
        click.echo(f"network {net.id}: {net.name}")
        click.echo(f"manager invitation code (valid {manager_invite_days} days, single use): {code}")


@network.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_(ctx: Context, as_json: bool) -> None:
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember

    with bridge(ctx.app).db.sessions() as s:
        rows = []
        for net in s.scalars(select(Network).order_by(Network.id)):
            schools = s.scalar(select(func.count()).select_from(MemberSchool).where(MemberSchool.network_id == net.id))
            members = s.scalar(select(func.count()).select_from(NetworkMember).where(NetworkMember.network_id == net.id))
            rows.append({"id": net.id, "name": net.name, "region": net.region, "school_authority": net.school_authority,
                         "school_years": net.school_years, "status": net.status, "schools": schools, "members": members})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            click.echo(f"{r['id']:>4}  {r['name']}  ({r['schools']} schools, {r['members']} members)")


@network.command("add-school")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--name", required=True)
@click.option("--school-number", required=True)
@click.option("--school-type", default="")
@click.option("--invite-days", type=click.IntRange(1, 90), help="Also print an invitation code valid this many days.")
@pass_ctx
def add_school_cmd(ctx: Context, network_id: int, name: str, school_number: str, school_type: str,
                   invite_days: int | None) -> None:
    """Add one member school."""
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.services import NetworkError, add_school, create_invitation

    b = bridge(ctx.app)
    with b.db.sessions() as s:
        net = _network(s, network_id)
        try:
            added = add_school(s, net, name=name, school_number=school_number, school_type=school_type,
                               hard_limit=b.settings.network_max_schools)
            code = create_invitation(s, b.box, net, kind="school", school=added.school, days=invite_days) if invite_days else None
        except NetworkError as exc:
            raise click.ClickException(exc.message) from exc
        s.commit()
    click.echo(f"added {name} ({school_number})")
    if added.warning:
        click.echo("warning: " + added.warning, err=True)
    if code:
        click.echo(f"invitation code: {code}")


@network.command("invite")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--school-number", help="Invite this member school; without it, invite a network manager.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 90))
@pass_ctx
def invite(ctx: Context, network_id: int, school_number: str | None, days: int) -> None:
    """Print a single-use invitation code."""
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.models import MemberSchool
    from lti_tool.workspaces.services import create_invitation

    b = bridge(ctx.app)
    with b.db.sessions() as s:
        net = _network(s, network_id)
        school = None
        if school_number:
            school = s.scalar(select(MemberSchool).where(MemberSchool.network_id == net.id,
                                                         MemberSchool.school_number == school_number))
            if school is None:
                raise click.ClickException(f"no school {school_number} in network {network_id}")
        code = create_invitation(s, b.box, net, kind="school" if school else "manager", school=school, days=days)
        s.commit()
    click.echo(code)


@network.command("import-schools")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--csv", "csv_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--invite-days", type=click.IntRange(1, 90), help="Create an invitation code per new school.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@pass_ctx
def import_schools_cmd(ctx: Context, network_id: int, csv_file: Path, invite_days: int | None, dry_run: bool) -> None:
    """Add schools from a CSV file with the columns name, school_number[, school_type].

    All or nothing: if any line has an error, no school is added.
    """
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.services import import_schools

    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file}: not UTF-8 text") from exc
    b = bridge(ctx.app)
    with b.db.sessions() as s:
        net = _network(s, network_id)
        rows = max(0, len(text.splitlines()) - 1)
        with click.progressbar(length=rows, label="schools", file=sys.stderr) as bar:
            report = import_schools(s, b.box, net, text, invite_days=None if dry_run else invite_days,
                                    hard_limit=b.settings.network_max_schools, on_line=lambda: bar.update(1))
        for ln in report.lines:
            extra = f"  code {ln.code}" if ln.code else ""
            click.echo(f"line {ln.line}: {ln.action:6} {ln.name} ({ln.school_number}) {ln.message}{extra}".rstrip())
        created = sum(1 for ln in report.lines if ln.action == "create")
        if report.errors or dry_run:
            s.rollback()
            if report.errors:
                raise click.ClickException(f"{len(report.errors)} line(s) with errors: nothing was imported")
            click.echo(f"dry run: {created} school(s) would be added; nothing was written")
            return
        s.commit()
    click.echo(f"{created} school(s) added")


@network.command("members")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def members(ctx: Context, network_id: int, as_json: bool) -> None:
    """List a network's members (people who joined from their LMS)."""
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.models import MemberSchool, NetworkMember, Person

    with bridge(ctx.app).db.sessions() as s:
        _network(s, network_id)
        rows = s.execute(
            select(NetworkMember.id, Person.display_name, NetworkMember.role, MemberSchool.name)
            .join(Person, Person.id == NetworkMember.person_id)
            .outerjoin(MemberSchool, MemberSchool.id == NetworkMember.school_id)
            .where(NetworkMember.network_id == network_id).order_by(NetworkMember.role, Person.display_name)
        ).all()
    data = [{"member_id": r[0], "name": r[1], "role": r[2], "school": r[3]} for r in rows]
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for d in data:
        click.echo(f"{d['member_id']:>5}  {d['role']:<10} {d['name'] or '–'}  {d['school'] or ''}".rstrip())


@network.command("set-role")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--member-id", required=True, type=int)
@click.option("--role", required=True, type=click.Choice(["manager", "authority", "leader", "media", "teacher", "guest"]))
@click.option("--school-number", help="Assign the member to this member school.")
@pass_ctx
def set_role(ctx: Context, network_id: int, member_id: int, role: str, school_number: str | None) -> None:
    """Change a member's network role (and school)."""
    from lti_tool.bridge import bridge
    from lti_tool.workspaces.models import MemberSchool, NetworkMember

    with bridge(ctx.app).db.sessions() as s:
        _network(s, network_id)
        member = s.get(NetworkMember, member_id)
        if member is None or member.network_id != network_id:
            raise click.ClickException(f"no member {member_id} in network {network_id}")
        if school_number:
            school = s.scalar(select(MemberSchool).where(MemberSchool.network_id == network_id,
                                                         MemberSchool.school_number == school_number))
            if school is None:
                raise click.ClickException(f"no school {school_number} in network {network_id}")
            member.school_id = school.id
        member.role = role
        s.commit()
    click.echo(f"member {member_id} is now {role}")
