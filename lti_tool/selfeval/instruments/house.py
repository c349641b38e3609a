"""Traffic-light house (Medienhaus): colours per part and the three lists.

Pure functions over an instrument and one school's answers
(``{item_id: value or None}``; ``None`` is "keine Rückmeldung").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import AnswerError, Finding
from .model import House, Instrument, Item, Thresholds

Answers = Mapping[str, int | None]


class Colour(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_DATA = "no data"  # nothing answered: never shown as green


@dataclass(frozen=True)
class HouseReport:
    """What the house shows for one school.

    ``works_well``: green items, best first. ``problems``: red items, worst
    first. ``todo``: every answered item below green, worst first (the
    problems, then the amber ones). ``unanswered``: items without a value.
    """

    colours: dict[str, Colour]
    works_well: tuple[Item, ...]
    problems: tuple[Item, ...]
    todo: tuple[Item, ...]
    unanswered: tuple[Item, ...]


def colour_for(value: float | None, thresholds: Thresholds) -> Colour:
    if value is None:
        return Colour.NO_DATA
    if value >= thresholds.green:
        return Colour.GREEN
    if value >= thresholds.amber:
        return Colour.AMBER
    return Colour.RED


def house_colours(instrument: Instrument, answers: Answers) -> dict[str, Colour]:
    """Colour of each house part from the mean of its answered items."""
    house = _house(instrument)
    _check_answers(instrument, answers)
    colours: dict[str, Colour] = {}
    for part in house.parts:
        values = [v for v in (answers.get(item_id) for item_id in part.items) if v is not None]
        mean = sum(values) / len(values) if values else None
        colours[part.id] = colour_for(mean, house.thresholds_for(part))
    return colours


def house_report(instrument: Instrument, answers: Answers) -> HouseReport:
    """Colours plus the "works well / problems / to do" lists."""
    house = _house(instrument)
    colours = house_colours(instrument, answers)
    rated: list[tuple[int, Colour, Item]] = []
    unanswered: list[Item] = []
    for part in house.parts:
        for item_id in part.items:
            value = answers.get(item_id)
            item = instrument.item(item_id)
            if value is None:
                unanswered.append(item)
            else:
                rated.append((value, colour_for(value, house.thresholds_for(part)), item))
    worst_first = sorted(rated, key=lambda r: r[0])  # stable: keeps house order within a value
    return HouseReport(
        colours=colours,
        works_well=tuple(item for _, c, item in sorted(rated, key=lambda r: -r[0]) if c is Colour.GREEN),
        problems=tuple(item for _, c, item in worst_first if c is Colour.RED),
        todo=tuple(item for _, c, item in worst_first if c is not Colour.GREEN),
        unanswered=tuple(unanswered),
    )


def works_well(instrument: Instrument, answers: Answers) -> tuple[Item, ...]:
    return house_report(instrument, answers).works_well


def problems(instrument: Instrument, answers: Answers) -> tuple[Item, ...]:
    return house_report(instrument, answers).problems


def todo(instrument: Instrument, answers: Answers) -> tuple[Item, ...]:
    return house_report(instrument, answers).todo


def _house(instrument: Instrument) -> House:
    if instrument.house is None:
        raise AnswerError(f"instrument {instrument.key} has no house", source=instrument.key)
    return instrument.house


def _check_answers(instrument: Instrument, answers: Answers) -> None:
    items = {item.id: item for item in instrument.items()}
    findings = []
    for item_id, value in answers.items():
        if item_id not in items:
            findings.append(Finding(None, None, item_id, "unknown item"))
        elif not instrument.scale_of(items[item_id]).accepts(value):
            findings.append(Finding(None, None, item_id, f"value {value!r} is not on scale '{items[item_id].scale}'"))
    if findings:
        raise AnswerError("answers do not fit the instrument", findings, source=instrument.key)
