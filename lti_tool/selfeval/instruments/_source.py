"""Parse YAML/JSON text into plain data plus the source position of every field.

Positions come from ``yaml`` nodes: a mapping value is located at its key, a
sequence entry at its first character. JSON is parsed with :mod:`json` (exact
JSON errors) and located with the same YAML composer, since JSON is YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Finding, InstrumentSyntaxError

Path = tuple[str | int, ...]


@dataclass
class Parsed:
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # problems seen while walking (duplicate keys)

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        """Line/column of ``path``, or of its nearest located ancestor."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.positions:
                return self.positions[path[:cut]]
        return None, None


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def looks_like_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def parse(text: str, *, as_json: bool, source: str) -> Parsed:
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            finding = Finding(exc.lineno, exc.colno, "", f"JSON syntax error: {exc.msg}")
            raise InstrumentSyntaxError("not valid JSON", [finding], source) from None
        # Tabs are legal JSON whitespace but not YAML indentation; swapping keeps columns.
        try:
            node = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return Parsed(data)  # still valid JSON; findings just lose their line numbers
        parsed = Parsed(data)
        if node is not None:
            _walk(node, (), parsed)
        return parsed

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if exc.context_mark is not None and mark is not exc.context_mark:
            problem += f" (started on line {exc.context_mark.line + 1})"
        raise InstrumentSyntaxError("not valid YAML", [Finding(line, col, "", f"YAML syntax error: {problem}")], source) from None
    except yaml.YAMLError as exc:
        raise InstrumentSyntaxError("not valid YAML", [Finding(None, None, "", f"YAML error: {exc}")], source) from None
    finally:
        loader.dispose()
    parsed = Parsed(data)
    if node is not None:
        _walk(node, (), parsed)
    return parsed


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, path: Path, parsed: Parsed) -> None:
    if path == ():
        parsed.positions[()] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*path, key)
            if key in seen:
                line, col = _mark(key_node)
                parsed.findings.append(Finding(line, col, format_path(child), "duplicate key"))
                continue
            seen.add(key)
            parsed.positions[child] = _mark(key_node)
            _walk(value_node, child, parsed)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            parsed.positions[child] = _mark(item)
            _walk(item, child, parsed)
