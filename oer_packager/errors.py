"""Errors of the OER packager.

One root, :class:`PackagingError`; the CLI maps every subclass to a
non-zero exit code and a message, the web views to a 4xx page::

    PackagingError
    ├── CollectionError      collection.yaml or the collection folder is unusable
    ├── LicenceError         unknown or non-open licence (unless allowed)
    ├── CartridgeError       a cartridge cannot be read at all
    │   └── UnsafeArchiveError  hostile input: zip bomb, zip slip, XXE, limits
    └── ImportRefused        an import into the library was refused as a whole
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oer_packager.findings import Finding


class PackagingError(Exception):
    """Root of every packager error."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.findings: list[Finding] = list(findings or [])


class CollectionError(PackagingError):
    """The collection folder or its collection.yaml cannot be built."""


class LicenceError(PackagingError):
    """A licence is unknown or not an open licence."""


class CartridgeError(PackagingError):
    """A cartridge cannot be read (not a zip, no manifest, unparsable XML)."""


class UnsafeArchiveError(CartridgeError):
    """The archive is hostile or exceeds a limit; nothing was extracted."""


class ImportRefused(PackagingError):
    """An import into the library was refused; nothing was stored."""
