"""What a cartridge holds: version, title, outline, licences and findings.

:func:`inspect_cartridge` reads any cartridge (1.0–1.3) and validates it;
:func:`render` prints the result for people, :meth:`Inspection.as_dict`
for machines. The outline is the organisation as found, with the resource
type of every item and what the reader makes of it (including items that
are not carried over into the model).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from oer_packager import licences
from oer_packager.findings import Finding, Severity
from oer_packager.reader import OutlineNode, read_cartridge
from oer_packager.validator import validate


@dataclass
class Inspection:
    file: str
    version: str
    title: str
    licence: str  # the cartridge's licence id, or its rights text when none was recognised
    outline: list[OutlineNode]
    findings: list[Finding] = field(default_factory=list)

    def items(self) -> list[OutlineNode]:
        """Outline entries that point at a resource, depth first."""
        out: list[OutlineNode] = []

        def walk(nodes: list[OutlineNode]) -> None:
            for node in nodes:
                if node.identifierref:
                    out.append(node)
                walk(node.children)

        walk(self.outline)
        return out

    def effective_licence(self, node: OutlineNode) -> str:
        return node.licence or self.licence or "none"

    def licence_counts(self) -> dict[str, int]:
        """Items per licence (an item without its own licence counts under the cartridge's)."""
        counts = Counter(self.effective_licence(n) for n in self.items())
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict[str, Any]:
        def node(n: OutlineNode) -> dict[str, Any]:
            out: dict[str, Any] = {"identifier": n.identifier, "title": n.title, "kind": n.kind}
            if n.identifierref:
                out |= {
                    "identifierref": n.identifierref,
                    "type": n.type,
                    "licence": self.effective_licence(n),
                    "licence_inherited": not n.licence,
                    "instructor_only": n.instructor_only,
                }
            if n.children:
                out["children"] = [node(c) for c in n.children]
            return out

        return {
            "file": self.file,
            "version": self.version,
            "title": self.title,
            "licence": self.licence,
            "outline": [node(n) for n in self.outline],
            "licences": self.licence_counts(),
            "findings": [f.as_dict() for f in self.findings],
            "valid": not any(f.severity is Severity.ERROR for f in self.findings),
        }


def inspect_cartridge(path: str | os.PathLike[str]) -> Inspection:
    """Read and validate a cartridge; raise CartridgeError if it cannot be read at all."""
    with read_cartridge(path) as cartridge:
        inspection = Inspection(
            file=os.fspath(path),
            version=cartridge.version,
            title=cartridge.collection.title,
            licence=cartridge.collection.licence or cartridge.rights,
            outline=cartridge.outline,
        )
        reader_findings = cartridge.findings
    seen: set[tuple[str, str]] = set()
    for f in [*validate(path), *reader_findings]:
        # The validator and the reader both see e.g. a missing file; report it once.
        key = (f.code, f.location)
        if key not in seen:
            seen.add(key)
            inspection.findings.append(f)
    return inspection


def _licence_label(ident: str) -> str:
    lic = licences.get(ident)
    return f"{lic.id} ({lic.short})" if lic else ident


def render(inspection: Inspection) -> str:
    """The inspection as readable text."""
    lines = [
        inspection.title,
        f"Common Cartridge {inspection.version} · {inspection.file}",
        f"Licence: {_licence_label(inspection.licence) if inspection.licence else 'none stated'}",
        "",
        "Outline",
    ]

    def walk(nodes: list[OutlineNode], depth: int) -> None:
        for n in nodes:
            pad = "  " * depth
            if not n.identifierref:
                lines.append(f"{pad}{n.title or '(untitled)'}")
            else:
                licence = inspection.effective_licence(n) + ("" if n.licence else " (inherited)")
                teachers = " · teachers only" if n.instructor_only else ""
                lines.append(
                    f"{pad}- {n.title or '(untitled)'}  [{n.kind} · {n.type or 'no resource'}{teachers}]  {licence}"
                )
            walk(n.children, depth + 1)

    walk(inspection.outline, 1)
    lines += ["", "Licences"]
    for ident, count in inspection.licence_counts().items():
        lines.append(f"  {count:4}  {_licence_label(ident)}")
    counts = Counter(f.severity for f in inspection.findings)
    lines += [
        "",
        f"Findings ({counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} info)",
    ]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for f in sorted(inspection.findings, key=lambda f: order[f.severity]):
        lines.append(str(f))
    return "\n".join(lines)
