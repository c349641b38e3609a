"""Errors of the instrument library.

Exception tree::

    InstrumentError                 root; carries ``findings`` (may be empty)
    ├── InstrumentSyntaxError       the file is not readable YAML/JSON
    ├── InstrumentInvalid           schema or semantic rules broken
    └── AnswerError                 answers do not fit the instrument
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in an instrument file, located by line/column and field path."""

    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "line ?"
        return f"{where}, {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class InstrumentError(Exception):
    """Root of the instrument errors; ``findings`` lists every problem found."""

    def __init__(self, message: str, findings: Iterable[Finding] = (), source: str = "<text>") -> None:
        self.findings: list[Finding] = list(findings)
        self.source = source
        details = "".join(f"\n  {f}" for f in self.findings)
        super().__init__(f"{source}: {message}{details}")


class InstrumentSyntaxError(InstrumentError):
    """The file cannot be parsed as YAML or JSON."""


class InstrumentInvalid(InstrumentError):
    """The file parses but breaks the schema or a semantic rule."""


class AnswerError(InstrumentError):
    """Answers name unknown items or values outside the item's scale."""
