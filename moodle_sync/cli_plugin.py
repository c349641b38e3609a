"""``lms-bridge moodle-plugin``: package the companion Moodle plugin."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from moodle_sync.plugin import build_plugin_zip, plugin_version


@click.group("moodle-plugin")
def moodle_plugin() -> None:
    """The companion Moodle plugin local_lmsbridge (restores cartridges through web services)."""


@moodle_plugin.command("build")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("local_lmsbridge.zip"), show_default=True, help="Zip file to write.")
def build(output: Path) -> None:
    """Write the plugin as a zip for Moodle's plugin installer (Site administration → Plugins → Install)."""
    path = build_plugin_zip(output)
    info = plugin_version()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    click.echo(f"{path}: {info.get('component')} {info.get('release', '')} (version {info.get('version')}), "
               f"{path.stat().st_size} bytes, sha256 {digest}")
