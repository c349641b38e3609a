"""``lms-bridge cc``: build, validate, inspect and convert Common Cartridges.

Pure packager commands (no database, no Flask); exit codes: 0 success or
valid, 1 findings with errors or refused input, 2 usage error.
"""

from __future__ import annotations

import click

from oer_packager.cli_build import build
from oer_packager.cli_read import convert, inspect, validate


@click.group("cc")
def cc() -> None:
    """IMS Common Cartridges for OER: build (CC 1.1/1.3), validate, inspect, convert to 1.1 for Moodle."""


for command in (build, validate, inspect, convert):
    cc.add_command(command)
