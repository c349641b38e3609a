"""Validate a cartridge: an explicit chain of small rules with stable codes.

``validate(path)`` never raises for a bad cartridge: everything it finds,
including a hostile or unreadable archive, comes back as findings. The
cartridge is valid when no finding has severity error
(:func:`oer_packager.findings.has_errors`).

The chain, in order (codes in brackets):

1. archive: the zip opens within the limits [unsafe-archive, zip], every
   entry is intact [zip], the manifest is at the root [manifest-missing];
2. manifest: safe XML [xml], a CC version [version], the official schema
   for 1.0/1.1 [xsd], CP structure for 1.2/1.3 [structure], Moodle's
   pre-checks [moodle-namespace, foreign-metadata, authorizations];
3. references: identifiers [identifier-duplicate, identifier-invalid],
   [identifierref], [dependency], paths [path], files [missing-file,
   resource-href, duplicate-file, unreferenced-file];
4. resource types and the CC profile rules [resource-type,
   descriptor-resource, dependency, question-bank, item-structure],
   descriptors [descriptor];
5. HTML pages [html-encoding, html-link, html-link-encoded, html-link-canvas];
6. licences [licence-missing, licence-inherited, licence-unknown,
   licence-not-open, licence-conflict].
"""

from __future__ import annotations

import os
from typing import BinaryIO

from oer_packager.errors import CartridgeError, UnsafeArchiveError
from oer_packager.findings import Finding, Severity
from oer_packager.rules import Package, Rule, archive, descriptors, html, licences, manifest, references, types
from oer_packager.safezip import Limits, SafeZip

#: Rules on the archive; a missing manifest ends the chain.
ARCHIVE_RULES: tuple[Rule, ...] = (
    archive.entries_intact,
    archive.manifest_at_root,
)

#: Rules on the parsed manifest and the files it names, in reporting order.
CARTRIDGE_RULES: tuple[Rule, ...] = (
    manifest.schema_valid,
    manifest.structure,
    manifest.moodle_namespace,
    manifest.foreign_metadata,
    manifest.no_authorizations,
    references.identifiers_unique,
    references.identifiers_well_formed,
    references.identifierrefs_resolve,
    references.dependencies_resolve,
    references.safe_hrefs,
    references.files_exist,
    references.resource_href_in_files,
    references.no_duplicate_files,
    references.files_referenced,
    types.types_allowed,
    types.resource_shapes,
    types.prohibited_dependencies,
    types.question_banks,
    types.learning_objects_have_no_children,
    descriptors.descriptors_valid,
    html.pages_utf8,
    html.links_resolve,
    licences.licence_present,
    licences.licence_known,
    licences.licence_consistent,
)


def validate(path: str | os.PathLike[str] | BinaryIO, limits: Limits | None = None) -> list[Finding]:
    """Check a cartridge; return every finding (empty or without errors = valid)."""
    try:
        zf = SafeZip(path, limits)
    except UnsafeArchiveError as exc:
        return [
            Finding(
                "unsafe-archive",
                Severity.ERROR,
                _label(path),
                exc.message,
                "do not import this file; it is hostile or far beyond the limits",
            )
        ]
    except CartridgeError as exc:
        return [Finding("zip", Severity.ERROR, _label(path), exc.message, "export the cartridge again as a .imscc zip")]
    with zf:
        pkg = Package(zf)
        findings: list[Finding] = []
        for rule in ARCHIVE_RULES:
            findings += rule(pkg)
        if any(f.code == "manifest-missing" for f in findings) or "imsmanifest.xml" in pkg.broken:
            return findings
        findings += manifest.load(pkg)
        if pkg.root is None:
            return findings
        for rule in CARTRIDGE_RULES:
            findings += rule(pkg)
        return findings


def _label(path: str | os.PathLike[str] | BinaryIO) -> str:
    if isinstance(path, (str, os.PathLike)):
        return os.path.basename(os.fspath(path))
    return os.path.basename(getattr(path, "name", "archive"))
