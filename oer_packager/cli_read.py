"""``lms-bridge cc validate | inspect | convert``: reading cartridges.

Exit codes: 0 valid / inspected / converted; 1 findings with errors, an
unreadable or refused cartridge, or a conversion that cannot be packaged;
2 usage error (click's own). ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from oer_packager.builder import SUPPORTED_VERSIONS
from oer_packager.convert import convert as convert_cartridge
from oer_packager.errors import LicenceError, PackagingError
from oer_packager.findings import Finding, Severity, has_errors
from oer_packager.inspect import inspect_cartridge, render
from oer_packager.validator import validate as validate_cartridge

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(message: str, findings: list[Finding], as_json: bool, hint: str = "") -> NoReturn:
    if as_json:
        _echo_json({"ok": False, "error": message, "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            click.echo(str(f), err=True)
        click.echo(f"refused: {message}" + (f" ({hint})" if hint else ""), err=True)
    sys.exit(1)


def _summary(findings: list[Finding]) -> str:
    count = {s: sum(f.severity is s for f in findings) for s in Severity}
    return f"{count[Severity.ERROR]} errors, {count[Severity.WARNING]} warnings, {count[Severity.INFO]} info"


@click.command("validate")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def validate(file: Path, as_json: bool) -> None:
    """Check a cartridge FILE: exit 0 only when it is valid (no errors)."""
    findings = validate_cartridge(file)
    valid = not has_errors(findings)
    if as_json:
        _echo_json({"ok": valid, "file": str(file), "valid": valid, "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            click.echo(str(f))
        click.echo(f"{'valid' if valid else 'INVALID'}: {file} ({_summary(findings)})")
    sys.exit(0 if valid else 1)


@click.command("inspect")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the inspection as JSON.")
def inspect(file: Path, as_json: bool) -> None:
    """Show version, title, outline, licences and findings of a cartridge FILE."""
    try:
        inspection = inspect_cartridge(file)
    except PackagingError as exc:
        _fail(exc.message, exc.findings, as_json)
    if as_json:
        _echo_json({"ok": True, **inspection.as_dict()})
    else:
        click.echo(render(inspection))


@click.command("convert")
@click.argument("source", metavar="IN", type=_FILE)
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cc-version", type=click.Choice(SUPPORTED_VERSIONS), default="1.1", show_default=True,
              help="1.1 for Moodle and LOGINEO; 1.3 for Canvas and itslearning.")  # fmt: skip
@click.option("--allow-non-oer", is_flag=True, help="Convert even with missing, unknown or non-open licences.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def convert(source: Path, target: Path, cc_version: str, allow_non_oer: bool, as_json: bool) -> None:
    """Rebuild the cartridge IN (CC 1.0–1.3) as OUT, reporting what could not be carried over."""
    try:
        report = convert_cartridge(source, target, cc_version, allow_non_oer=allow_non_oer)
    except LicenceError as exc:
        _fail(exc.message, exc.findings, as_json, "convert with --allow-non-oer to keep the licences as they are")
    except PackagingError as exc:
        _fail(exc.message, exc.findings, as_json)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}", [], as_json)
    if as_json:
        _echo_json({"ok": report.valid, "input": str(source), "output": str(target), **report.as_dict()})
    else:
        if report.not_carried:
            click.echo("Not carried over:")
            for f in report.not_carried:
                click.echo(str(f))
        for f in report.findings + report.validation:
            click.echo(str(f))
        b = report.build
        click.echo(
            f"converted {source} (CC {report.source_version}) → {target} (CC {report.cc_version}): "
            f"{b.item_count} items, {b.file_count} files, {len(report.not_carried)} parts not carried over"
        )
    if not report.valid:
        click.echo(f"the converted cartridge does not validate ({_summary(report.validation)})", err=True)
        sys.exit(1)


#: The commands this module adds to ``lms-bridge cc``.
COMMANDS = (validate, inspect, convert)
