"""Rules on identifiers, references and files (what libxml2 does not check)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from oer_packager.cc import CANVAS_EXTRA_PREFIXES, MANIFEST, is_ncname
from oer_packager.findings import Finding
from oer_packager.rules import (
    Package,
    error,
    file_path,
    info,
    item_path,
    kids,
    local,
    resource_path,
    warning,
    where,
)
from oer_packager.safezip import check_name

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _identified(pkg: Package) -> list:
    """Elements whose @identifier shares the manifest's one ID space."""
    root = pkg.root
    if root is None:
        return []
    out = [root]
    if pkg.organization is not None:
        out.append(pkg.organization)
    return out + pkg.items + pkg.resources


def _path_of(el) -> str:
    name = local(el)
    return f"{name}[@identifier='{el.get('identifier', '')}']"


def identifiers_unique(pkg: Package) -> Iterator[Finding]:
    """identifier-duplicate: manifest, organisation, items and resources share one ID space."""
    seen: dict[str, object] = {}
    for el in _identified(pkg):
        ident = el.get("identifier")
        if ident is None:
            continue
        if ident in seen:
            yield error(
                "identifier-duplicate",
                where(el, _path_of(el)),
                f"identifier {ident!r} is used more than once",
                "give every element its own identifier",
            )
        else:
            seen[ident] = el


def identifiers_well_formed(pkg: Package) -> Iterator[Finding]:
    """identifier-invalid: identifiers are XML NCNames (letter or _ first; no spaces, ':' or '|')."""
    for el in _identified(pkg):
        ident = el.get("identifier")
        if ident is not None and not is_ncname(ident):
            yield error(
                "identifier-invalid",
                where(el, _path_of(el)),
                f"identifier {ident!r} is not a valid NCName",
                "start with a letter or '_' and use only letters, digits, '.', '-' and '_'",
            )


def identifierrefs_resolve(pkg: Package) -> Iterator[Finding]:
    """identifierref: every item's identifierref names a resource."""
    for item in pkg.items:
        ref = item.get("identifierref")
        if ref is not None and ref not in pkg.resource_by_id:
            yield error(
                "identifierref",
                where(item, item_path(item)),
                f"identifierref {ref!r} names no resource",
                "point it at a resource/@identifier",
            )


def dependencies_resolve(pkg: Package) -> Iterator[Finding]:
    """dependency: dependencies name another existing resource, once each."""
    for res in pkg.resources:
        seen: set[str] = set()
        for dep in kids(res, "dependency"):
            ref = dep.get("identifierref", "")
            location = where(dep, f"{resource_path(res)}/dependency[@identifierref='{ref}']")
            if ref not in pkg.resource_by_id:
                yield error(
                    "dependency",
                    location,
                    f"dependency {ref!r} names no resource",
                    "point it at a resource/@identifier",
                )
            elif ref == res.get("identifier"):
                yield error("dependency", location, "a resource depends on itself", "remove the dependency")
            elif ref in seen:
                yield error("dependency", location, f"dependency {ref!r} is listed twice", "list it once")
            seen.add(ref)


def _href_problem(href: str) -> str | None:
    if _SCHEME.match(href) and not re.match(r"^[A-Za-z]:[\\/]", href):
        return "is a URL, not a path inside the package"
    return check_name(href)


def safe_hrefs(pkg: Package) -> Iterator[Finding]:
    """path: hrefs are relative paths inside the package (no absolute, '..' or backslash)."""
    for res in pkg.resources:
        href = res.get("href")
        if href is not None:
            problem = _href_problem(href)
            if problem:
                yield error(
                    "path",
                    where(res, resource_path(res)),
                    f"resource href {href!r}: {problem}",
                    "use a relative path with forward slashes inside the package",
                )
        for f in kids(res, "file"):
            href = f.get("href", "")
            problem = _href_problem(href)
            if problem:
                yield error(
                    "path",
                    where(f, file_path(res, href)),
                    f"file href {href!r}: {problem}",
                    "use a relative path with forward slashes inside the package",
                )


def files_exist(pkg: Package) -> Iterator[Finding]:
    """missing-file: every file/@href exists in the zip exactly as written."""
    folded = {n.casefold(): n for n in pkg.names}
    for res in pkg.resources:
        for f in kids(res, "file"):
            href = f.get("href", "")
            if _href_problem(href) or pkg.exists(href):
                continue
            decoded = unquote(href)
            if decoded != href and pkg.exists(decoded):
                hint = (
                    f"the file is packaged as {decoded!r}; Moodle uses hrefs literally and drops "
                    "percent-encoded paths - write the href exactly as the file name"
                )
            elif href.casefold() in folded:
                hint = f"the file is packaged as {folded[href.casefold()]!r}; names are case-sensitive"
            else:
                hint = "add the file to the package or remove the reference"
            yield error("missing-file", where(f, file_path(res, href)), f"file {href!r} is not in the package", hint)


def resource_href_in_files(pkg: Package) -> Iterator[Finding]:
    """resource-href: a resource's @href is one of its file/@href (CC rules 10a/10b)."""
    for res in pkg.resources:
        href = res.get("href")
        if href is None:
            continue
        files = pkg.file_hrefs(res)
        if not files:
            yield error(
                "resource-href",
                where(res, resource_path(res)),
                f"resource has href {href!r} but no <file>",
                f'add <file href="{href}"/>',
            )
        elif href not in files:
            yield error(
                "resource-href",
                where(res, resource_path(res)),
                f"resource href {href!r} is not one of its files",
                "make resource/@href equal to a file/@href",
            )


def no_duplicate_files(pkg: Package) -> Iterator[Finding]:
    """duplicate-file: a resource lists each file once (CC rule 9a)."""
    for res in pkg.resources:
        seen: set[str] = set()
        for f in kids(res, "file"):
            href = f.get("href", "")
            if href in seen:
                yield error(
                    "duplicate-file",
                    where(f, file_path(res, href)),
                    f"file {href!r} is listed twice in the resource",
                    "list it once",
                )
            seen.add(href)


def files_referenced(pkg: Package) -> Iterator[Finding]:
    """unreferenced-file: every packaged file is listed by a resource.

    Importers copy only listed files, so an unlisted file is lost (warning).
    Canvas writes its own course data next to the CC content
    (course_settings/, non_cc_assessments/); other LMSs ignore it by design,
    so those files are only worth knowing about (info).
    """
    referenced = {MANIFEST}
    for res in pkg.resources:
        referenced.update(pkg.file_hrefs(res))
        referenced.update(unquote(h) for h in pkg.file_hrefs(res))
    for name in pkg.names:
        if name in referenced:
            continue
        if name.startswith(CANVAS_EXTRA_PREFIXES):
            yield info("unreferenced-file", name, "Canvas course data that other LMSs ignore")
        else:
            yield warning(
                "unreferenced-file",
                name,
                "file is in the package but no resource lists it; importers drop it",
                "list it as <file> of the resource that uses it, or remove it",
            )
