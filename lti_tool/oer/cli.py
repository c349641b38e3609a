"""``lms-bridge cc deliver``: deliver a collection of the OER library into a Moodle / LOGINEO course.

Register with ``cc.add_command(deliver)`` (``oer_packager.cli.cc`` is the ``cc`` group).

The delivery runs in the foreground through the same code as the page (a ``sync_run``
of the target with mode ``deliver``, holding the target's lock), so the workspace shows
it too. Without ``--course-id`` and ``--new-course`` it delivers into the course the
collection went to last time on that target (mode replace), or into a new course under
the short name derived from the collection: running the command again gives the same
course, not a copy.

Exit codes: 0 delivered; 1 refused or failed (also: the site needs the fallback – the
instructions are printed); 3 not finished yet (the restore is still running in Moodle,
or its answer was lost – see the report); 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy import select

from lti_tool.cli_context import Context, pass_ctx


def _target(s: Any, ref: str, network_id: int) -> Any:
    from lti_tool.sync.models import SyncTarget

    if ref.isdigit():
        target = s.get(SyncTarget, int(ref))
    else:
        found = list(s.scalars(select(SyncTarget).where(SyncTarget.name == ref, SyncTarget.network_id == network_id)))
        if len(found) > 1:
            raise click.ClickException(f"{len(found)} targets are named {ref!r}: give the target's id")
        target = found[0] if found else None
    if target is None or target.network_id != network_id:
        raise click.ClickException(f"no sync target {ref!r} in the collection's network")
    return target


@click.command("deliver")
@click.argument("collection_id", type=int)
@click.option("--target", "target_ref", required=True, help="Sync target (id or name) of the collection's network.")
@click.option("--course-id", type=int, help="Deliver into this existing Moodle course.")
@click.option("--new-course", "shortname", help="Deliver into a new course with this short name.")
@click.option("--fullname", help="Full name of the new course [default: the collection's title].")
@click.option("--category", type=int, help="Moodle category of the new course [default: the network's, else 1].")
@click.option("--mode", type=click.Choice(["replace", "merge"]), help="For an existing course [default: replace].")
@click.option("--timeout", type=float, default=900.0, show_default=True, help="Seconds to wait for Moodle's task.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def deliver(
    ctx: Context,
    collection_id: int,
    target_ref: str,
    course_id: int | None,
    shortname: str | None,
    fullname: str | None,
    category: int | None,
    mode: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Deliver collection COLLECTION_ID into a Moodle / LOGINEO NRW LMS course through the companion plugin."""
    from lti_tool.db import db_session
    from lti_tool.oer import delivery as dl
    from lti_tool.oer.models import OerCollection
    from moodle_sync.delivery import NewCourse
    from moodle_sync.instructions import restore_instructions

    if course_id is not None and shortname is not None:
        raise click.UsageError("give either --course-id or --new-course, not both")
    if mode is not None and shortname is not None:
        raise click.UsageError("--mode is for an existing course; a new course is always mode new")
    if course_id is not None and course_id <= 0:
        raise click.UsageError("--course-id must be a positive Moodle course id")
    # a request context (English) so that the tool's translated messages work on the command line
    with ctx.app.test_request_context("/?lang=en"):
        s = db_session()
        coll = s.get(OerCollection, collection_id)
        if coll is None:
            raise click.ClickException(f"no collection with id {collection_id}")
        target = _target(s, target_ref, coll.network_id)
        new_course = None
        if course_id is None and shortname is None:
            course_id = dl.delivered_course(s, coll, target) or None
            if course_id is not None:
                click.echo(f"delivering again into course {course_id} (delivered there before), mode replace", err=True)
            else:
                shortname = dl.default_shortname(coll)
        if shortname is not None:
            new_course = NewCourse(category or dl.network_category(s, target), fullname or coll.title, shortname)
        if new_course is not None and not (
            0 < len(new_course.shortname) <= dl.MAX_SHORTNAME and 0 < len(new_course.fullname) <= dl.MAX_FULLNAME
        ):
            raise click.UsageError(
                f"the short name needs 1 to {dl.MAX_SHORTNAME} characters, the full name 1 to {dl.MAX_FULLNAME}"
            )
        try:
            run = dl.start_delivery(
                s, coll, target, course_id=course_id, new_course=new_course, mode=mode, backend="foreground"
            )
        except dl.DeliveryRefused as exc:
            raise click.ClickException(str(exc.message)) from exc
        seen: set[str] = set()

        def echo(step: str, fraction: float) -> None:
            if step not in seen and not as_json:
                seen.add(step)
                click.echo(f"  {step} …", err=True)

        run = dl.execute_delivery(run.id, echo=echo, timeout=timeout)
        assert run is not None
        report = run.report or {}
        state = dl.delivery_state(run)
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "run": run.id,
                        "state": state,
                        "message": run.message,
                        "delivery": report.get("delivery"),
                        "fallback": report.get("fallback"),
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            click.echo(run.report_text or run.message)
            if state == "fallback":
                fb = report.get("fallback") or {}
                click.echo(f"\nthe site cannot take the cartridge: {fb.get('reason', '')}")
                click.echo("\n" + restore_instructions("moodle", "de", filename=dl.cartridge_name(coll)).render())
            elif state == "failed":
                click.echo(f"\nfailed: {run.message}")
    if state == "done":
        return
    sys.exit(3 if state in ("moodle_running", "unknown") else 1)
