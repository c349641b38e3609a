"""Read an instrument from YAML or JSON, check it, and build the frozen model."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from functools import cache
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

import jsonschema

from ._source import Parsed, Path, format_path, looks_like_json, parse
from .errors import Finding, InstrumentError, InstrumentInvalid
from .model import (
    FreeTextQuestion,
    House,
    HousePart,
    Instrument,
    Item,
    Output,
    RespondentGroup,
    Scale,
    ScalePoint,
    Section,
    Source,
    Text,
    Thresholds,
)

_PACKAGE = __package__ or "lti_tool.selfeval.instruments"
_FILE_SUFFIXES = (".yaml", ".yml", ".json")
SHIPPED = ("selbstevaluationsraster.yaml", "medienhaus.yaml")


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package."""
    return json.loads(resources.files(_PACKAGE).joinpath("instrument.schema.json").read_text("utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def load_instrument(path_or_text: str | bytes | FsPath) -> Instrument:
    """Load an instrument from a file path or from YAML/JSON text.

    A ``str`` is a path when it is one line ending in .yaml/.yml/.json.
    Raises :class:`InstrumentError` subclasses with line-numbered findings.
    """
    if isinstance(path_or_text, FsPath) or (
        isinstance(path_or_text, str) and "\n" not in path_or_text and path_or_text.lower().endswith(_FILE_SUFFIXES)
    ):
        file = FsPath(path_or_text)
        raw: str | bytes = file.read_bytes()
        source, as_json = str(file), file.suffix.lower() == ".json"
    else:
        raw, source, as_json = path_or_text, "<text>", None
    text = _decode(raw, source)
    if as_json is None:
        as_json = looks_like_json(text)
    return _build_checked(parse(text, as_json=as_json, source=source), source)


def list_instruments() -> tuple[Instrument, ...]:
    """The instruments shipped with LMS Bridge."""
    return _shipped()


@cache
def _shipped() -> tuple[Instrument, ...]:
    folder = resources.files(_PACKAGE)
    return tuple(load_instrument(folder.joinpath(name).read_text("utf-8")) for name in SHIPPED)


def _decode(raw: str | bytes, source: str) -> str:
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InstrumentError("not UTF-8 text", [Finding(line, None, "", "file is not UTF-8 encoded")], source) from None


def _build_checked(parsed: Parsed, source: str) -> Instrument:
    findings = list(parsed.findings)
    schema_findings = [_schema_finding(e, parsed) for e in _validator().iter_errors(parsed.data)]
    findings += schema_findings
    if not schema_findings:  # semantic rules assume the shape is right
        findings += [_at(parsed, path, message) for path, message in _semantic_problems(parsed.data)]
    if findings:
        findings = sorted(set(findings), key=lambda f: (f.line or 0, f.column or 0, f.path, f.message))
        raise InstrumentInvalid(f"{len(findings)} problem(s) in instrument", findings, source)
    return _build(parsed.data)


def _at(parsed: Parsed, path: Path, message: str) -> Finding:
    line, column = parsed.locate(path)
    return Finding(line, column, format_path(path), message)


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def _type_name(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _schema_finding(error: jsonschema.ValidationError, parsed: Parsed) -> Finding:
    path: Path = tuple(error.absolute_path)
    kind, arg, value = error.validator, error.validator_value, error.instance
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if kind == "required":
        missing = next((name for name in arg if isinstance(value, dict) and name not in value), "?")
        line, column = parsed.locate(path)
        return Finding(line, column, format_path((*path, missing)), "missing required field")
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = next((k for k in value if k not in allowed), "?")
        return _at(parsed, (*path, extra), "unknown field")
    if kind == "type":
        message = f"expected {arg if isinstance(arg, str) else ' or '.join(arg)}, got {_type_name(value)} {value!r}"
    elif custom:
        message = custom
    elif kind in ("enum", "const"):
        options = arg if kind == "enum" else [arg]
        message = f"must be one of {', '.join(repr(o) for o in options)}, got {value!r}"
    elif kind == "minItems":
        message = f"needs at least {arg} entr{'y' if arg == 1 else 'ies'}"
    elif kind == "minLength":
        message = "must not be empty"
    elif kind == "uniqueItems":
        message = "contains duplicates"
    else:
        message = error.message
    return _at(parsed, path, message)


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """Rules a schema cannot express; ``data`` already matches the schema."""
    source = data["source"]
    if not source.get("authors") and not source.get("publisher"):
        yield ("source",), "needs 'authors' or 'publisher'"

    scale_ids = yield from _unique(data["scales"], ("scales",), "scale")
    for s, scale in enumerate(data["scales"]):
        seen: set[int] = set()
        for p, point in enumerate(scale["points"]):
            if point["value"] in seen:
                yield ("scales", s, "points", p, "value"), f"duplicate value {point['value']} in scale '{scale['id']}'"
            seen.add(point["value"])
    group_ids = yield from _unique(data["respondent_groups"], ("respondent_groups",), "respondent group")
    yield from _unique(data["sections"], ("sections",), "section")

    items: list[tuple[Path, dict[str, Any]]] = [
        (("sections", s, "items", i), item)
        for s, section in enumerate(data["sections"])
        for i, item in enumerate(section["items"])
    ]
    free = [(("free_text", q), question) for q, question in enumerate(data.get("free_text", []))]
    seen_ids: set[str] = set()
    for path, entry in items + free:
        if entry["id"] in seen_ids:
            yield (*path, "id"), f"duplicate item id '{entry['id']}'"
        seen_ids.add(entry["id"])
    for path, entry in items:
        if entry["scale"] not in scale_ids:
            yield (*path, "scale"), f"unknown scale '{entry['scale']}'"
    for path, entry in items + free:
        for g, group in enumerate(entry.get("groups", [])):
            if group not in group_ids:
                yield (*path, "groups", g), f"unknown respondent group '{group}'"

    languages = set(data["languages"])
    for path, text in _texts(data, ()):
        for lang in text:
            if lang not in languages:
                yield (*path, lang), f"language '{lang}' is not listed in languages"

    house = data.get("house")
    if data["output"] == Output.SCORE_PROFILE and house is not None:
        yield ("house",), "a house is only used with output 'traffic_light_house'"
    if house is not None:
        yield from _house_problems(house, {entry["id"] for _, entry in items})


def _house_problems(house: dict[str, Any], item_ids: set[str]) -> Iterator[tuple[Path, str]]:
    yield from _thresholds_problems(house["thresholds"], ("house", "thresholds"))
    yield from _unique(house["parts"], ("house", "parts"), "house part")
    placed: dict[str, str] = {}
    for p, part in enumerate(house["parts"]):
        base = ("house", "parts", p)
        if "thresholds" in part:
            yield from _thresholds_problems(part["thresholds"], (*base, "thresholds"))
        for i, item_id in enumerate(part["items"]):
            if item_id not in item_ids:
                yield (*base, "items", i), f"unknown item '{item_id}'"
            elif item_id in placed:
                yield (*base, "items", i), f"item '{item_id}' is already in part '{placed[item_id]}'"
            else:
                placed[item_id] = part["id"]
    for item_id in sorted(item_ids - placed.keys()):
        yield ("house", "parts"), f"item '{item_id}' is in no house part"


def _thresholds_problems(thresholds: dict[str, float], path: Path) -> Iterator[tuple[Path, str]]:
    if not thresholds["amber"] < thresholds["green"]:
        yield (*path, "amber"), f"amber ({thresholds['amber']}) must be below green ({thresholds['green']})"


def _unique(entries: list[dict[str, Any]], path: Path, what: str) -> Generator[tuple[Path, str], None, set[str]]:
    """Yield duplicate-id problems; return the set of ids (use with ``yield from``)."""
    ids: set[str] = set()
    for index, entry in enumerate(entries):
        if entry["id"] in ids:
            yield (*path, index, "id"), f"duplicate {what} id '{entry['id']}'"
        ids.add(entry["id"])
    return ids


_TEXT_KEYS = {"title", "description", "label", "text", "explanation", "licence_note"}


def _texts(node: Any, path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """Every per-language text in the document (the schema fixed where they are)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _TEXT_KEYS and isinstance(value, dict):
                yield (*path, key), value
            elif key == "examples":
                yield from (((*path, key, i), v) for i, v in enumerate(value))
            else:
                yield from _texts(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, (*path, index))


def _text(value: dict[str, str] | None) -> Text | None:
    return None if value is None else Text(tuple(value.items()))


def _groups(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _build(data: dict[str, Any]) -> Instrument:
    src = data["source"]
    house = data.get("house")
    return Instrument(
        id=data["id"],
        version=data["version"],
        title=Text(tuple(data["title"].items())),
        description=_text(data.get("description")),
        languages=tuple(data["languages"]),
        source=Source(
            title=src["title"],
            licence_note=Text(tuple(src["licence_note"].items())),
            condensed_in_own_words=src["condensed_in_own_words"],
            part=src.get("part"),
            authors=tuple(src.get("authors", ())),
            publisher=src.get("publisher"),
            based_on=src.get("based_on"),
            year=src.get("year"),
            url=src.get("url"),
        ),
        scales=tuple(
            Scale(
                id=s["id"],
                points=tuple(ScalePoint(p["value"], Text(tuple(p["label"].items()))) for p in s["points"]),
                label=_text(s.get("label")),
                not_applicable=_text(s["not_applicable"]["label"]) if "not_applicable" in s else None,
            )
            for s in data["scales"]
        ),
        respondent_groups=tuple(
            RespondentGroup(g["id"], Text(tuple(g["label"].items()))) for g in data["respondent_groups"]
        ),
        sections=tuple(
            Section(
                id=sec["id"],
                title=Text(tuple(sec["title"].items())),
                description=_text(sec.get("description")),
                items=tuple(
                    Item(
                        id=it["id"],
                        text=Text(tuple(it["text"].items())),
                        scale=it["scale"],
                        explanation=_text(it.get("explanation")),
                        examples=tuple(Text(tuple(e.items())) for e in it.get("examples", ())),
                        groups=_groups(it.get("groups")),
                    )
                    for it in sec["items"]
                ),
            )
            for sec in data["sections"]
        ),
        free_text=tuple(
            FreeTextQuestion(q["id"], Text(tuple(q["text"].items())), _groups(q.get("groups")))
            for q in data.get("free_text", ())
        ),
        output=Output(data["output"]),
        answered_for=data.get("answered_for", "person"),
        house=None
        if house is None
        else House(
            thresholds=_thresholds(house["thresholds"]),
            parts=tuple(
                HousePart(
                    id=p["id"],
                    label=Text(tuple(p["label"].items())),
                    items=tuple(p["items"]),
                    thresholds=_thresholds(p["thresholds"]) if "thresholds" in p else None,
                )
                for p in house["parts"]
            ),
        ),
    )


def _thresholds(value: dict[str, float]) -> Thresholds:
    return Thresholds(green=float(value["green"]), amber=float(value["amber"]))
