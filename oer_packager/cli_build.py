"""``lms-bridge cc build FOLDER``: a collection folder → an .imscc cartridge.

Exit codes: 0 built (warnings allowed), 1 refused (collection errors,
licence problems, unwritable output), 2 usage error (click's own).
``--json`` prints one JSON object on stdout; the progress bar goes to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from oer_packager import builder
from oer_packager.builder import SUPPORTED_VERSIONS, BuildReport
from oer_packager.collection import load_collection
from oer_packager.errors import PackagingError
from oer_packager.findings import Finding
from oer_packager.names import safe_segment

#: Collections with fewer items build too fast for a progress bar to help.
PROGRESS_FROM = 50


@click.command("build")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
    help="Cartridge to write [default: FOLDER-NAME.imscc in the current folder].",
)  # fmt: skip
@click.option("--cc-version", type=click.Choice(SUPPORTED_VERSIONS), default="1.1", show_default=True,
              help="1.1 for Moodle and LOGINEO; 1.3 for Canvas and itslearning.")  # fmt: skip
@click.option("--allow-non-oer", is_flag=True, help="Build even with unknown or non-open (NC, ND) licences.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def build(folder: Path, output: Path | None, cc_version: str, allow_non_oer: bool, as_json: bool) -> None:
    """Build an IMS Common Cartridge from an OER collection FOLDER (with collection.yaml)."""
    out = output or Path.cwd() / f"{safe_segment(folder.resolve().name)}.imscc"
    loaded: list[Finding] = []
    try:
        collection, source, loaded = load_collection(folder)
        with _Progress(len(collection.items()), enabled=not as_json) as progress:
            report = builder.build(
                collection, source, out, cc_version=cc_version, allow_non_oer=allow_non_oer, progress=progress
            )
    except PackagingError as exc:
        _fail(exc.message, merge_findings(loaded, exc.findings), as_json)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}", loaded, as_json)
    _succeed(out, report, merge_findings(loaded, report.findings), as_json)


def merge_findings(loaded: list[Finding], built: list[Finding]) -> list[Finding]:
    """Loader and builder findings without repeats.

    Both report licence problems; the builder's location is the field path
    (``modules[0].items[2].licence``), the loader's adds the line
    (``collection.yaml:14 modules[0].items[2].licence``). The loader's
    location is kept with the builder's severity (which knows --allow-non-oer).
    """
    by_key = {(f.code, f.location.split(" ", 1)[-1]): f for f in loaded}
    merged: list[Finding] = []
    used: set[tuple[str, str]] = set()
    for f in built:
        key = (f.code, f.location)
        if key in by_key:
            used.add(key)
            f = Finding(f.code, f.severity, by_key[key].location, f.message, f.hint)
        merged.append(f)
    rest = [f for f in loaded if (f.code, f.location.split(" ", 1)[-1]) not in used]
    return rest + merged


class _Progress:
    """A click progress bar on stderr, shown for large collections only."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.bar: Any = None
        if enabled and total >= PROGRESS_FROM:
            self.bar = click.progressbar(length=total, label="building", file=sys.stderr)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)


def _succeed(out: Path, report: BuildReport, findings: list[Finding], as_json: bool) -> None:
    if as_json:
        data = {"ok": True, "output": str(out), **report.as_dict(), "findings": [f.as_dict() for f in findings]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for f in findings:
        click.echo(str(f))
    size = (
        f"{report.bytes_written / 2**20:.1f} MB" if report.bytes_written >= 2**20 else f"{report.bytes_written:,} bytes"
    )
    click.echo(f"built {out} (CC {report.cc_version}): {report.item_count} items, {report.file_count} files, {size}")


def _fail(message: str, findings: list[Finding], as_json: bool) -> NoReturn:
    if as_json:
        data = {"ok": False, "error": message, "findings": [f.as_dict() for f in findings]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for f in findings:
            click.echo(str(f), err=True)
        click.echo(f"refused: {message}", err=True)
    sys.exit(1)
