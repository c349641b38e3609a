"""Rules on resource types and the CC profile's rules about them.

The official 1.1 schema embeds these rules (schematron) but tests the 1.0
type strings, so they never fire on a 1.1 cartridge; here they are written
against :func:`~oer_packager.cc.resource_kind`, whatever the version token.
Rule numbers in the docstrings are those of the schema's rule sets.
"""

from __future__ import annotations

from collections.abc import Iterator

from oer_packager.cc import ResourceKind, allowed_types, own_types, resource_kind, type_version
from oer_packager.findings import Finding
from oer_packager.rules import Package, error, for_moodle, item_path, kids, resource_path, warning, where

K = ResourceKind

#: kind → kinds it must not depend on (rule sets 1, 3, 4, 5, 6, 11).
_PROHIBITED: dict[ResourceKind, frozenset[ResourceKind]] = {
    K.DISCUSSION: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.LTI}),
    K.ASSESSMENT: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.LTI}),
    K.QUESTION_BANK: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.LTI}),
    K.WEBCONTENT: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.ASSOCIATED, K.LTI}),
    K.ASSOCIATED: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.ASSOCIATED, K.LTI}),
    K.LTI: frozenset({K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK, K.WEBCONTENT, K.LTI}),
}
#: Kinds whose resource is exactly one descriptor file and has no @href (rule sets 1-4).
_ONE_DESCRIPTOR = (K.DISCUSSION, K.WEBLINK, K.ASSESSMENT, K.QUESTION_BANK)


def types_allowed(pkg: Package) -> Iterator[Finding]:
    """resource-type: the type strings of the declared CC version."""
    allowed = allowed_types(pkg.version)
    for res in pkg.resources:
        type_ = res.get("type", "")
        if type_ in allowed:
            continue
        kind = resource_kind(type_)
        location = where(res, resource_path(res))
        if kind is not None:
            own = [t for t, k in allowed.items() if k is kind]
            fix = f"use {own[-1]!r}" if own else f"CC {pkg.version} has no such resource type; remove it"
            yield error(
                "resource-type",
                location,
                f"type {type_!r} belongs to CC {type_version(type_)}, not to CC {pkg.version}",
                fix,
            )
        else:
            make = error if for_moodle(pkg) else warning
            yield make(
                "resource-type",
                location,
                f"unknown resource type {type_!r}; importers skip it",
                f"use a CC {pkg.version} type: {', '.join(sorted(own_types(pkg.version)))}",
            )


def resource_shapes(pkg: Package) -> Iterator[Finding]:
    """descriptor-resource: discussions, web links, quizzes, banks: one file, no @href; LTI: a descriptor."""
    for res in pkg.resources:
        kind = resource_kind(res.get("type", ""))
        location = where(res, resource_path(res))
        files = kids(res, "file")
        if kind in _ONE_DESCRIPTOR:
            if len(files) != 1:
                yield error(
                    "descriptor-resource",
                    location,
                    f"a {kind.value} resource needs exactly one <file> (its descriptor), found {len(files)}",
                    "list only the descriptor XML as <file>",
                )
            if res.get("href") is not None:
                yield error(
                    "descriptor-resource",
                    location,
                    f"a {kind.value} resource must not have @href",
                    "remove href from <resource>",
                )
            if kind is K.WEBLINK and kids(res, "dependency"):
                yield error(
                    "descriptor-resource",
                    location,
                    "a web link resource must not have dependencies",
                    "remove the <dependency> elements",
                )
        elif kind is K.LTI and not files:
            yield error(
                "descriptor-resource",
                location,
                "an LTI link resource has no descriptor <file>",
                "add the cartridge_basiclti_link XML as <file>",
            )


def prohibited_dependencies(pkg: Package) -> Iterator[Finding]:
    """dependency: kinds a resource must not depend on (e.g. web content on a discussion)."""
    for res in pkg.resources:
        kind = resource_kind(res.get("type", ""))
        if kind is None or kind not in _PROHIBITED:
            continue
        prohibited = _PROHIBITED[kind]
        for dep in kids(res, "dependency"):
            ref = dep.get("identifierref", "")
            target = pkg.resource_by_id.get(ref)
            target_kind = resource_kind(target.get("type", "")) if target is not None else None
            if target_kind is not None and target_kind in prohibited:
                yield error(
                    "dependency",
                    where(dep, f"{resource_path(res)}/dependency[@identifierref='{ref}']"),
                    f"a {kind.value} resource must not depend on a {target_kind.value} resource ({ref!r})",
                    "remove the dependency; link the two in the outline instead",
                )


def question_banks(pkg: Package) -> Iterator[Finding]:
    """question-bank: at most one bank, and no item points at it (rules 4a, 8a)."""
    banks = [r for r in pkg.resources if resource_kind(r.get("type", "")) is K.QUESTION_BANK]
    for extra in banks[1:]:
        yield error(
            "question-bank",
            where(extra, resource_path(extra)),
            "more than one question bank",
            "merge the question banks into one",
        )
    bank_ids = {b.get("identifier") for b in banks}
    for item in pkg.items:
        if item.get("identifierref") in bank_ids:
            yield error(
                "question-bank",
                where(item, item_path(item)),
                "an item points at a question bank",
                "remove the item; a question bank is not a learning object",
            )


def learning_objects_have_no_children(pkg: Package) -> Iterator[Finding]:
    """item-structure: an item with a resource has no child items (rule 8b)."""
    for item in pkg.items:
        if item.get("identifierref") and kids(item, "item"):
            yield error(
                "item-structure",
                where(item, item_path(item)),
                "an item with identifierref contains child items",
                "make it a sibling of its children, or move the children into a module item",
            )
