"""Rules on the zip itself: integrity and the manifest at the root."""

from __future__ import annotations

from collections.abc import Iterator

from oer_packager.cc import MANIFEST
from oer_packager.errors import CartridgeError, UnsafeArchiveError
from oer_packager.findings import Finding
from oer_packager.rules import Package, error


def entries_intact(pkg: Package) -> Iterator[Finding]:
    """zip: every entry inflates to its declared size with a matching CRC."""
    for name in pkg.names:
        try:
            pkg.archive.check(name)
        except UnsafeArchiveError as exc:
            pkg.broken.add(name)
            yield error("unsafe-archive", name, exc.message, "rebuild the archive with an ordinary zip tool")
        except CartridgeError as exc:
            pkg.broken.add(name)
            yield error("zip", name, exc.message, "rebuild the archive; the entry is damaged")


def manifest_at_root(pkg: Package) -> Iterator[Finding]:
    """manifest-missing: imsmanifest.xml must be at the root of the zip."""
    if pkg.archive.exists(MANIFEST):
        return
    nested = [n for n in pkg.names if n.rsplit("/", 1)[-1].lower() == MANIFEST]
    if nested:
        hint = (
            f"found {nested[0]!r}: zip the contents of the folder, not the folder itself"
            if nested[0].endswith("/" + MANIFEST)
            else f"found {nested[0]!r}: the name must be exactly {MANIFEST!r}"
        )
    else:
        hint = "a cartridge needs an imsmanifest.xml at the root of the zip"
    yield error("manifest-missing", MANIFEST, f"no {MANIFEST} at the root of the archive", hint)
