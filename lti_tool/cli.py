"""``lms-bridge``: every operator task in one command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from config import load_settings
from lti_tool.cli_context import Context, pass_ctx  # noqa: E402  (shared with feature commands)


@click.group()
@click.version_option(package_name="lms-bridge")
def main() -> None:
    """LMS Bridge operator commands (settings come from LMS_BRIDGE_* variables)."""


# -- db -----------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations."""
    from lti_tool.db import upgrade

    settings = load_settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {_redact(settings.database_url)}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# -- serve ----------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the tool with gunicorn (production WSGI server)."""
    from gunicorn.app.base import BaseApplication

    from lti_tool import create_app

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("accesslog", "-")
            # Query strings may carry launch ids: log the path only.
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("timeout", 60)

        def load(self) -> Any:
            return create_app()

    _App().run()


# -- platforms ------------------------------------------------------------------


@main.group()
def platform() -> None:
    """LMS platforms (issuers, client ids, deployments)."""


@platform.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url")
@click.option("--key-set-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--auth-audience")
@click.option("--name", default="")
@click.option("--update", is_flag=True, help="Replace an existing registration's endpoints and keys.")
@pass_ctx
def platform_add(ctx: Context, key_set_file: Path | None, update: bool, **opts: Any) -> None:
    """Register a platform (manual registration)."""
    from lti_tool.bridge import bridge
    from lti_tool.platforms import PlatformError, PlatformSpec, add_platform

    key_set = None
    if key_set_file is not None:
        try:
            key_set = json.loads(key_set_file.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{key_set_file}: not a JSON key set ({exc})") from exc
    if not opts["key_set_url"] and key_set is None:
        raise click.UsageError("give --key-set-url or --key-set-file")
    spec = PlatformSpec(
        issuer=opts["issuer"],
        client_id=opts["client_id"],
        auth_login_url=opts["auth_login_url"],
        auth_token_url=opts["auth_token_url"],
        key_set_url=opts["key_set_url"],
        key_set=key_set,
        deployment_ids=list(opts["deployment_ids"]),
        name=opts["name"],
        auth_audience=opts["auth_audience"],
    )
    b = bridge(ctx.app)
    with b.db.sessions() as s:
        try:
            add_platform(s, spec, allow_http=b.settings.allow_insecure_platforms, update=update)
        except PlatformError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"registered {spec.issuer} client {spec.client_id} with {len(spec.deployment_ids)} deployment(s)")


@platform.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def platform_list(ctx: Context, as_json: bool) -> None:
    """List registrations."""
    from lti_tool.bridge import bridge
    from lti_tool.platforms import list_platforms

    with bridge(ctx.app).db.sessions() as s:
        rows = list_platforms(s)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no platforms registered")
    for r in rows:
        deps = ", ".join(d["id"] + ("" if d["active"] else " (inactive)") for d in r["deployments"])
        click.echo(f"{r['issuer']}  client={r['client_id']}  deployments=[{deps}]  via {r['source']}")


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id")
@click.option("--yes", is_flag=True, help="Do not ask.")
@pass_ctx
def platform_remove(ctx: Context, issuer: str, client_id: str | None, yes: bool) -> None:
    """Remove a registration (launches from it stop working)."""
    from lti_tool.bridge import bridge
    from lti_tool.platforms import PlatformError, remove_platform

    if not yes:
        click.confirm(f"Remove {issuer} {client_id or ''}?", abort=True)
    with bridge(ctx.app).db.sessions() as s:
        try:
            remove_platform(s, issuer, client_id)
        except PlatformError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"removed {issuer} {client_id or ''}".rstrip())


@platform.command("deactivate-deployment")
@click.option("--issuer", required=True)
@click.option("--deployment-id", required=True)
@click.option("--client-id")
@click.option("--activate", is_flag=True, help="Re-activate instead.")
@pass_ctx
def platform_deactivate(ctx: Context, issuer: str, deployment_id: str, client_id: str | None, activate: bool) -> None:
    """Deactivate (or re-activate) one deployment."""
    from lti_tool.bridge import bridge
    from lti_tool.platforms import PlatformError, set_deployment_active

    with bridge(ctx.app).db.sessions() as s:
        try:
            set_deployment_active(s, issuer, deployment_id, activate, client_id)
        except PlatformError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"deployment {deployment_id} of {issuer} {'activated' if activate else 'deactivated'}")


# -- keys -------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """The tool's signing keys."""


@keys.command("list")
@pass_ctx
def keys_list(ctx: Context) -> None:
    from lti_tool.bridge import bridge

    kr = bridge(ctx.app).keyring
    kr.jwks()  # generates the first key on first use
    for k in kr.listing():
        click.echo(f"{k['kid']}  {k['status']}  {k['created_at']}")


@keys.command("rotate")
@pass_ctx
def keys_rotate(ctx: Context) -> None:
    """Make a new signing key; the old one stays published until retired."""
    from lti_tool.bridge import bridge

    kid, previous = bridge(ctx.app).keyring.rotate()
    click.echo(f"new signing key {kid}")
    for old in previous:
        click.echo(f"still published (retiring): {old} – retire it with `lms-bridge keys retire --kid {old}`")


@keys.command("retire")
@click.option("--kid", required=True)
@pass_ctx
def keys_retire(ctx: Context, kid: str) -> None:
    """Stop publishing a retiring key."""
    from lti_tool.bridge import bridge

    try:
        bridge(ctx.app).keyring.retire(kid)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"retired {kid}")


def _register_feature_commands() -> None:
    """Feature packages keep their commands next to their code."""
    from lti_tool.demo.cli import demo
    from lti_tool.oer.cli import deliver
    from lti_tool.selfeval.cli import selfeval
    from lti_tool.sync.cli import sync, worker
    from lti_tool.workspaces.cli import network
    from moodle_sync.cli_plugin import moodle_plugin
    from oer_packager.cli import cc

    main.add_command(demo)
    main.add_command(moodle_plugin)
    cc.add_command(deliver)  # the one cc command that needs the tool's database
    main.add_command(cc)
    main.add_command(network)
    main.add_command(selfeval)
    main.add_command(sync)
    main.add_command(worker)


_register_feature_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
