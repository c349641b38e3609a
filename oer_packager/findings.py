"""Findings: what a check found, where, how bad, and how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the cartridge will not import (or not correctly)
    WARNING = "warning"  # imports, but something is lost or looks wrong
    INFO = "info"  # worth knowing (e.g. extra files of a Canvas export)


@dataclass(frozen=True)
class Finding:
    """One result of a check.

    ``code`` is stable (tests and --json consumers key on it, e.g.
    ``xsd``, ``identifierref``, ``missing-file``); ``location`` names the
    file inside the package and, where known, the line or element
    (``imsmanifest.xml:42`` or ``imsmanifest.xml resource[@identifier='R1']``).
    """

    code: str
    severity: Severity
    location: str
    message: str
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d

    def __str__(self) -> str:
        text = f"{self.severity.value.upper():7} {self.location}: {self.message}"
        return f"{text}\n        fix: {self.hint}" if self.hint else text


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
