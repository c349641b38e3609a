"""``lms-bridge demo``: prepare and run the tool together with the demo LMS."""

from __future__ import annotations

import os
from typing import Any

import click

from config import Settings, SettingsError, load_settings


@click.group()
def demo() -> None:
    """The embedded demo LMS (two school sites registered with the tool)."""


def _prepare(settings: Settings) -> None:
    """Migrate the database, seed the demo and register its sites with the tool."""
    from lti_tool import create_app
    from lti_tool.bridge import bridge
    from lti_tool.db import upgrade
    from lti_tool.demo.platform import demo_origin
    from lti_tool.demo.seed import seed

    upgrade(settings.database_url)
    app = create_app(settings)
    try:
        for site in seed(app):
            click.echo(f"  {site.name}: client_id {site.client_id}, deployment {site.deployment_id}")
    finally:
        bridge(app).db.engine.dispose()  # no open connections across gunicorn's fork
    click.echo(f"demo LMS ready at {demo_origin(settings)}/demo/")


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(None, **overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@demo.command("seed")
def seed_cmd() -> None:
    """Create the demo sites, courses and people (idempotent) and register them with the tool."""
    _prepare(_settings(demo=True))


@demo.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--base-url", help="The tool's base URL (default: LMS_BRIDGE_BASE_URL or http://127.0.0.1:PORT).")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.pass_context
def run(ctx: click.Context, host: str, port: int, base_url: str | None, workers: int, threads: int) -> None:
    """Seed the demo and serve tool and demo LMS with gunicorn (like `lms-bridge serve`)."""
    from lti_tool.cli import serve
    from lti_tool.demo.platform import demo_origin, tool_origin

    # The gunicorn workers build the app from the environment: set it there.
    os.environ["LMS_BRIDGE_DEMO"] = "1"
    if base_url:
        os.environ["LMS_BRIDGE_BASE_URL"] = base_url
    os.environ.setdefault("LMS_BRIDGE_BASE_URL", f"http://127.0.0.1:{port}")
    settings = _settings()
    _prepare(settings)
    origin = demo_origin(settings)
    click.echo("")
    click.echo(f"  Open the demo LMS:  {origin}/demo/")
    click.echo(f"  The tool runs at:   {settings.base_url} (inside the demo's course pages)")
    if origin == tool_origin(settings):
        click.echo("  Note: the base URL is neither 127.0.0.1 nor localhost, so demo and tool share one site.")
    click.echo("")
    ctx.invoke(serve, host=host, port=port, workers=workers, threads=threads)
