"""``lms-bridge selfeval …``: delete a round or one school's data, export a school's aggregates,
add and list a network's own instruments."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.cli_context import Context, pass_ctx


@click.group()
def selfeval() -> None:
    """Self-evaluation rounds: delete data, export school reports."""


def _round(s: Any, round_id: int) -> Any:
    from lti_tool.selfeval.models import SelfevalRound

    rnd = s.get(SelfevalRound, round_id)
    if rnd is None:
        raise click.ClickException(f"no round with id {round_id}")
    return rnd


def _school(s: Any, rnd: Any, school_number: str) -> Any:
    from sqlalchemy import select

    from lti_tool.workspaces.models import MemberSchool

    school = s.scalar(select(MemberSchool).where(MemberSchool.network_id == rnd.network_id,
                                                 MemberSchool.school_number == school_number))
    if school is None:
        raise click.ClickException(f"no school with number {school_number} in the network of round {rnd.id}")
    return school


@selfeval.command("delete-round")
@click.option("--round", "round_id", required=True, type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def delete_round_cmd(ctx: Context, round_id: int, yes: bool) -> None:
    """Delete a round with all its answers and responses (one transaction)."""
    from lti_tool.bridge import bridge
    from lti_tool.selfeval.reports import delete_round

    with bridge(ctx.app).db.sessions() as s:
        rnd = _round(s, round_id)
        if not yes:
            click.confirm(f"Delete round {rnd.id} ({rnd.title}) with all its answers?", abort=True)
        answers, responses = delete_round(s, rnd.id)
    click.echo(f"round {round_id} deleted ({responses} responses, {answers} answers)")


@selfeval.command("delete-school-data")
@click.option("--round", "round_id", required=True, type=int)
@click.option("--school-number", required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def delete_school_cmd(ctx: Context, round_id: int, school_number: str, yes: bool) -> None:
    """Delete one school's answers and responses of a round."""
    from lti_tool.bridge import bridge
    from lti_tool.selfeval.reports import delete_school_data

    with bridge(ctx.app).db.sessions() as s:
        rnd = _round(s, round_id)
        school = _school(s, rnd, school_number)
        if not yes:
            click.confirm(f"Delete the answers of {school.name} in round {rnd.id}?", abort=True)
        answers, responses = delete_school_data(s, rnd.id, school.id)
    click.echo(f"school {school_number}: {responses} responses, {answers} answers deleted from round {round_id}")


@selfeval.command("export")
@click.option("--round", "round_id", required=True, type=int)
@click.option("--school-number", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@pass_ctx
def export_cmd(ctx: Context, round_id: int, school_number: str, fmt: str) -> None:
    """Print a school's privacy-filtered aggregates of a round (CSV with BOM, or JSON)."""
    from lti_tool.bridge import bridge
    from lti_tool.selfeval.library import resolve
    from lti_tool.selfeval.reports import ReportData, export_csv, export_json

    app = ctx.app
    with app.test_request_context(), bridge(app).db.sessions() as s:
        rnd = _round(s, round_id)
        school = _school(s, rnd, school_number)
        instrument = resolve(rnd.instrument_key, rnd.network_id, s)
        if instrument is None:
            raise click.ClickException(f"instrument {rnd.instrument_key} is not available")
        data = ReportData(s, rnd, instrument)
        text = export_csv(data, school.id) if fmt == "csv" else export_json(data, school)
    click.echo(text, nl=fmt == "json")


def _network(s: Any, network_id: int) -> Any:
    from lti_tool.workspaces.models import Network

    net = s.get(Network, network_id)
    if net is None:
        raise click.ClickException(f"no network with id {network_id}")
    return net


@selfeval.command("instrument-add")
@click.option("--network", "network_id", required=True, type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@pass_ctx
def instrument_add_cmd(ctx: Context, network_id: int, file: str) -> None:
    """Check FILE (YAML or JSON) and store it as a version of one of the network's own instruments.

    A broken file is refused with one line per problem (line and field) and exit code 1."""
    from pathlib import Path

    from flask_babel import force_locale

    from lti_tool.bridge import bridge
    from lti_tool.selfeval import library

    app = ctx.app
    path = Path(file)
    with path.open("rb") as fh:
        data = fh.read(library.MAX_BYTES + 1)
    with app.test_request_context(), force_locale("en"), bridge(app).db.sessions() as s:
        _network(s, network_id)
        try:
            added = library.add(s, network_id, data, path.name, None)
        except library.InstrumentRefused as exc:
            lines = [f"{path.name}: {exc.message}", *(f"  {f}" for f in exc.findings)]
            raise click.ClickException("\n".join(lines)) from None
        key = added.row.key
    if added.created:
        click.echo(f"added {key} to network {network_id}")
    else:
        click.echo(f"unchanged: {key} is already stored in network {network_id} with the same content")


@selfeval.command("instrument-list")
@click.option("--network", "network_id", required=True, type=int)
@pass_ctx
def instrument_list_cmd(ctx: Context, network_id: int) -> None:
    """List the shipped instruments and the network's own versions, with the rounds using each."""
    from lti_tool.bridge import bridge
    from lti_tool.selfeval import library

    app = ctx.app
    with app.test_request_context(), bridge(app).db.sessions() as s:
        _network(s, network_id)
        used = library.usage(s, network_id)
        rows = [("shipped", key, "", ins.title.de, len(used.get(key, []))) for key, ins in library.shipped().items()]
        for row in library.own_rows(s, network_id):
            ins = library.parsed(row)
            status = "withdrawn" if row.withdrawn_at else "offered"
            rows.append(("own", row.key, status, ins.title.de if ins else "(cannot be read)",
                         len(used.get(row.key, []))))
    for origin, key, status, title, rounds in rows:
        click.echo("\t".join([origin, key, status or "offered", f"rounds={rounds}", title]))
