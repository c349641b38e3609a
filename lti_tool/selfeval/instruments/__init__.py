"""Instrument library: survey instruments as validated data (YAML or JSON).

An instrument file follows ``instrument.schema.json`` (JSON Schema 2020-12);
:func:`load_instrument` checks it against the schema and against semantic
rules, and reports each problem with its line and field path. Two instruments
ship with the package (:func:`list_instruments`): the *Selbstevaluationsraster
Digitale Schulentwicklung* and the *Medienhaus*.
"""

from __future__ import annotations

from .errors import AnswerError, Finding, InstrumentError, InstrumentInvalid, InstrumentSyntaxError
from .house import Colour, HouseReport, house_colours, house_report, problems, todo, works_well
from .loader import list_instruments, load_instrument, schema
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

__all__ = [
    "AnswerError",
    "Colour",
    "Finding",
    "FreeTextQuestion",
    "House",
    "HousePart",
    "HouseReport",
    "Instrument",
    "InstrumentError",
    "InstrumentInvalid",
    "InstrumentSyntaxError",
    "Item",
    "Output",
    "RespondentGroup",
    "Scale",
    "ScalePoint",
    "Section",
    "Source",
    "Text",
    "Thresholds",
    "house_colours",
    "house_report",
    "list_instruments",
    "load_instrument",
    "problems",
    "schema",
    "todo",
    "works_well",
]
