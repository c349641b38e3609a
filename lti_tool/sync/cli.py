"""``lms-bridge sync …`` and ``lms-bridge worker``: LMS sync from the command line.

A token never goes on the command line: arguments are visible to every user
of the machine (``ps``), land in shell history and in CI logs. It is read
from a file (``--token-file``, ``-`` for standard input) or from an
environment variable (``--token-env``).

Exit codes: 0 done, 1 refused or failed (also a sync that finished with
problems: failed or skipped objects), 2 wrong usage.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from sqlalchemy import select

from lti_tool.cli_context import Context, pass_ctx


@click.group("sync")
def sync() -> None:
    """Provision networks into LMS sites (Moodle, LOGINEO NRW LMS) through their web services."""


def _network(s: Any, network_id: int) -> Any:
    from lti_tool.workspaces.models import Network

    net = s.get(Network, network_id)
    if net is None:
        raise click.ClickException(f"no network with id {network_id}")
    return net


def _target(s: Any, ref: str, network_id: int | None = None) -> Any:
    """A target by id, or by name (within ``network_id`` if given)."""
    from lti_tool.sync.models import SyncTarget

    target = None
    if ref.isdigit():
        target = s.get(SyncTarget, int(ref))
    else:
        query = select(SyncTarget).where(SyncTarget.name == ref)
        if network_id is not None:
            query = query.where(SyncTarget.network_id == network_id)
        found = list(s.scalars(query))
        if len(found) > 1:
            raise click.ClickException(f"{len(found)} targets are named {ref!r}: give the target's id")
        target = found[0] if found else None
    if target is None:
        raise click.ClickException(f"no sync target {ref!r}")
    if network_id is not None and target.network_id != network_id:
        raise click.ClickException(f"target {ref!r} does not belong to network {network_id}")
    return target


def _read_token(token_file: Any, token_env: str | None) -> str:
    if (token_file is None) == (token_env is None):
        raise click.UsageError("give the token with exactly one of --token-file FILE (- for stdin) or --token-env VAR")
    if token_file is not None:
        return str(token_file.read()).strip()
    assert token_env is not None
    value = os.environ.get(token_env)
    if not value:
        raise click.ClickException(f"the environment variable {token_env} is not set or empty")
    return value.strip()


def _token_hint(target: Any) -> str:
    return f"set, ends …{target.token_hint}"


def _echo_preflight(result: dict[str, Any]) -> None:
    click.echo(result["text"])


@sync.command("target-add")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--name", required=True)
@click.option("--url", "site_url", required=True, help="The Moodle site's address, e.g. https://moodle.example.org")
@click.option("--token-file", type=click.File("r"), help="File holding the web-service token ('-' reads stdin).")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the web-service token.")
@click.option("--auth", "user_auth", default="nologin", show_default=True,
              type=click.Choice(["nologin", "oauth2", "saml2", "shibboleth", "ldap", "cas", "lti"]),
              help="Moodle sign-in of the accounts the tool creates (the site's single sign-on).")
@click.option("--school", "school_id", type=int, default=None,
              help="Member school id: provision into the school's course bound in the workspace (its own site).")
@click.option("--no-check", is_flag=True, help="Do not ask the site what the token may do now.")
@pass_ctx
def target_add(ctx: Context, network_id: int, name: str, site_url: str, token_file: Any, token_env: str | None,
               user_auth: str, school_id: int | None, no_check: bool) -> None:
    """Connect a network (or, with --school, one school's course) to a Moodle site. The token is stored
    encrypted; it never goes on the command line."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.service import SyncRefused, add_target, run_preflight, site_warning

    token = _read_token(token_file, token_env)
    app = ctx.app
    b = bridge(app)
    with app.app_context(), b.db.sessions() as s:
        net = _network(s, network_id)
        try:
            target = add_target(s, b.box, net, name=name, site_url=site_url, token=token, user_auth=user_auth,
                                 allow_http=b.settings.allow_insecure_platforms,
                                 scope="school" if school_id is not None else "network", school_id=school_id)
        except SyncRefused as exc:
            raise click.ClickException(exc.message) from exc
        s.commit()
        click.echo(f"target {target.id}: {target.name} -> {target.site_url} (token {_token_hint(target)})"
                   + (f", course of school {target.school_id}" if target.school_id is not None else ""))
        warning = site_warning(s, target)
        if warning:
            click.echo(f"warning: {warning.message}", err=True)
        if not no_check:
            result = run_preflight(s, b.box, target)
            s.commit()
            _echo_preflight(result)
            if result["error"]:
                raise click.ClickException("the target was saved, but the site cannot be used yet")


@sync.command("target-token")
@click.option("--target", "target_ref", required=True, help="Target id or name.")
@click.option("--token-file", type=click.File("r"), help="File holding the new token ('-' reads stdin).")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the new token.")
@pass_ctx
def target_token(ctx: Context, target_ref: str, token_file: Any, token_env: str | None) -> None:
    """Replace a target's token (then check it)."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.service import SyncRefused, run_preflight, set_token

    token = _read_token(token_file, token_env)
    app = ctx.app
    b = bridge(app)
    with app.app_context(), b.db.sessions() as s:
        target = _target(s, target_ref)
        try:
            set_token(target, b.box, token)
        except SyncRefused as exc:
            raise click.ClickException(exc.message) from exc
        result = run_preflight(s, b.box, target)
        s.commit()
        click.echo(f"target {target.id}: token {_token_hint(target)}")
        _echo_preflight(result)
        if result["error"]:
            raise click.ClickException("the site cannot be used with this token")


@sync.command("targets")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def targets(ctx: Context, network_id: int, as_json: bool) -> None:
    """List a network's targets with their last check and last run."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.models import SyncTarget
    from lti_tool.sync.service import last_run, mapping_count, run_label, state_of

    app = ctx.app
    with app.app_context(), bridge(app).db.sessions() as s:
        _network(s, network_id)
        rows: list[dict[str, Any]] = []
        for t in s.scalars(select(SyncTarget).where(SyncTarget.network_id == network_id).order_by(SyncTarget.id)):
            pf = t.last_preflight or {}
            last = last_run(s, t)
            rows.append({
                "id": t.id, "name": t.name, "kind": t.kind, "site_url": t.site_url, "scope": t.scope,
                "user_auth": t.user_auth, "token": _token_hint(t), "mappings": mapping_count(s, t),
                "checked_at": t.checked_at.isoformat() if t.checked_at else None,
                "check": ("not checked" if not pf else "error: " + pf["error"] if pf.get("error")
                          else f"works, {len(pf.get('missing_functions') or [])} function(s) to enable"),
                "missing_functions": pf.get("missing_functions") or [],
                "last_run": None if last is None else {"id": last.id, "mode": run_label(last),
                                                       "state": state_of(s, last), "message": last.message},
            })
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"network {network_id} has no sync targets")
    for r in rows:
        latest = r["last_run"]
        said = (f"last run #{latest['id']} {latest['mode']}: {latest['state']} ({latest['message']})" if latest
                else "no run yet")
        click.echo(f"{r['id']:>4}  {r['name']}  {r['site_url']}  token {r['token']}  {r['mappings']} mapped")
        click.echo(f"      check: {r['check']}; {said}")


@sync.command("check")
@click.option("--target", "target_ref", required=True, help="Target id or name.")
@pass_ctx
def check(ctx: Context, target_ref: str) -> None:
    """Ask the site what the token may do and what an operator must enable (preflight)."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.service import SyncRefused, run_preflight

    app = ctx.app
    b = bridge(app)
    with app.app_context(), b.db.sessions() as s:
        target = _target(s, target_ref)
        try:
            result = run_preflight(s, b.box, target)
        except SyncRefused as exc:
            raise click.ClickException(exc.message) from exc
        s.commit()
    _echo_preflight(result)
    if result["error"]:
        raise click.ClickException("the site cannot be used")
    if not result["ok"]:
        raise click.ClickException("the token's service lacks functions the sync needs (listed above)")


def _foreground(ctx: Context, network_id: int, target_ref: str, *, mode: str, prune: bool, dry_run: bool,
                verbose: bool = False) -> None:
    """Start a run under the target's lock and carry it out here, with a progress bar for apply."""
    from lti_tool.db import db_session, get_database
    from lti_tool.sync import jobs
    from lti_tool.sync.models import DONE
    from lti_tool.sync.service import SyncRefused, start_run
    from lti_tool.sync.store import DbTargetLock

    app = ctx.app
    with app.app_context():
        s = db_session()
        _network(s, network_id)
        target = _target(s, target_ref, network_id)
        try:
            run = start_run(s, DbTargetLock(get_database().sessions), target, mode=mode, prune=prune,
                            dry_run=dry_run, backend="foreground")
        except SyncRefused as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"run #{run.id}: {'plan' if mode == 'plan' else 'dry run' if dry_run else 'sync'} of network "
                   f"{network_id} to {target.name} ({target.site_url}){' with prune' if prune else ''}", err=True)
        bar: Any = None
        shown = 0

        def on_progress(done: int, total: int, _message: str) -> None:
            nonlocal bar, shown
            if bar is None:
                bar = click.progressbar(length=max(total, 1), label="applying", file=sys.stderr)
                bar.__enter__()
            if done > shown:
                bar.update(done - shown)
                shown = done

        try:
            finished = jobs.execute(run.id, on_progress=None if mode == "plan" or dry_run else on_progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        assert finished is not None
        if finished.plan_text and (mode == "plan" or dry_run or verbose):
            click.echo(finished.plan_text)
        if finished.report_text:
            click.echo(finished.report_text)
        ok = finished.status == DONE and (finished.report is None or finished.report.get("ok", False))
        if finished.status != DONE:
            raise click.ClickException(f"run #{finished.id} failed: {finished.message}")
        if not ok:
            raise click.ClickException(f"run #{finished.id}: {finished.message}")
        click.echo(f"run #{finished.id}: {finished.message}", err=True)


@sync.command("plan")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--target", "target_ref", required=True, help="Target id or name.")
@click.option("--prune", is_flag=True, help="Also plan the removal of what the network no longer has.")
@pass_ctx
def plan_cmd(ctx: Context, network_id: int, target_ref: str, prune: bool) -> None:
    """Print what a sync would create, update, leave and remove. Reads only; changes nothing in the LMS."""
    _foreground(ctx, network_id, target_ref, mode="plan", prune=prune, dry_run=True)


@sync.command("apply")
@click.option("--network", "network_id", required=True, type=int)
@click.option("--target", "target_ref", required=True, help="Target id or name.")
@click.option("--prune", is_flag=True, help="Remove what the network no longer has (only objects the tool made).")
@click.option("--dry-run", is_flag=True, help="Plan only, as `sync plan` does.")
@click.option("--show-plan", is_flag=True, help="Print the plan before the report.")
@pass_ctx
def apply_cmd(ctx: Context, network_id: int, target_ref: str, prune: bool, dry_run: bool, show_plan: bool) -> None:
    """Sync the network into the target now, in the foreground; exit 1 unless everything was done."""
    _foreground(ctx, network_id, target_ref, mode="apply", prune=prune, dry_run=dry_run, verbose=show_plan)


@sync.command("runs")
@click.option("--target", "target_ref", required=True, help="Target id or name.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def runs(ctx: Context, target_ref: str, limit: int, as_json: bool) -> None:
    """The target's last runs: state, progress, result."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.service import run_label, runs_of, state_of

    app = ctx.app
    with app.app_context(), bridge(app).db.sessions() as s:
        target = _target(s, target_ref)
        rows: list[dict[str, Any]] = [{
            "id": r.id, "mode": r.mode, "what": run_label(r), "dry_run": r.dry_run, "prune": r.prune, "state": state_of(s, r),
            "backend": r.backend, "progress": [r.progress_done, r.progress_total], "message": r.message,
            "requested_at": r.requested_at.isoformat() if r.requested_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "calls": (r.report or {}).get("calls"),
        } for r in runs_of(s, target, limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"target {target_ref} has no runs yet")
    for r in rows:
        what = r["what"]
        progress = f" {r['progress'][0]}/{r['progress'][1]}" if r["state"] in ("queued", "running") else ""
        click.echo(f"#{r['id']:<5} {what}{' +prune' if r['prune'] else ''}  {r['state']}{progress}  "
                   f"{r['requested_at']}  {r['message']}")


@sync.command("show")
@click.argument("run_id", type=int)
@pass_ctx
def show(ctx: Context, run_id: int) -> None:
    """Print a run's plan and report (or why it failed)."""
    from lti_tool.bridge import bridge
    from lti_tool.sync.models import SyncRun
    from lti_tool.sync.service import run_label, state_of

    app = ctx.app
    with app.app_context(), bridge(app).db.sessions() as s:
        run = s.get(SyncRun, run_id)
        if run is None:
            raise click.ClickException(f"no sync run {run_id}")
        click.echo(f"run #{run.id} ({run_label(run)}{', prune' if run.prune else ''}): {state_of(s, run)} – "
                   f"{run.message}")
        if run.status in ("queued", "running"):
            click.echo(f"progress {run.progress_done}/{run.progress_total}")
        for text in (run.plan_text, run.report_text):
            if text:
                click.echo(text)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
def worker(burst: bool, name: str | None) -> None:
    """Run background jobs (LMS syncs) from the Redis queue 'lms-bridge' (needs LMS_BRIDGE_REDIS_URL)."""
    from config import SettingsError, load_settings
    from lti_tool.sync.jobs import QUEUE, queue, redis_connection

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.redis_url:
        raise click.ClickException(
            "LMS_BRIDGE_REDIS_URL is not set: without Redis the web process runs syncs itself and no worker is needed"
        )
    from redis.exceptions import RedisError
    from rq import Worker

    connection = redis_connection(settings.redis_url)
    try:
        connection.ping()
    except RedisError as exc:
        raise click.ClickException(f"Redis at LMS_BRIDGE_REDIS_URL does not answer ({type(exc).__name__})") from exc
    click.echo(f"worker on queue {QUEUE!r}" + (" (burst)" if burst else ""), err=True)
    Worker([queue(connection)], connection=connection, name=name).work(burst=burst, with_scheduler=False)
