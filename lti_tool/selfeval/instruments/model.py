"""The instrument model: frozen dataclasses built by :func:`load_instrument`.

Domain words: a *Kriterium* (criterion) is a :class:`Section`, an *Indikator*
(indicator) an :class:`Item`; *Befragtengruppe* is a :class:`RespondentGroup`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Text:
    """A text in several languages; German (``de``) is always there."""

    translations: tuple[tuple[str, str], ...]

    @property
    def de(self) -> str:
        return dict(self.translations)["de"]

    @property
    def en(self) -> str | None:
        return dict(self.translations).get("en")

    def get(self, lang: str) -> str:
        """The text in ``lang``, falling back to German."""
        values = dict(self.translations)
        return values.get(lang) or values["de"]

    def __str__(self) -> str:
        return self.de


@dataclass(frozen=True)
class Source:
    title: str
    licence_note: Text
    condensed_in_own_words: bool
    part: str | None = None
    authors: tuple[str, ...] = ()
    publisher: str | None = None
    based_on: str | None = None
    year: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class ScalePoint:
    value: int
    label: Text


@dataclass(frozen=True)
class Scale:
    id: str
    points: tuple[ScalePoint, ...]
    label: Text | None = None
    not_applicable: Text | None = None  # label of the option stored as None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.points)

    def accepts(self, value: int | None) -> bool:
        if value is None:
            return self.not_applicable is not None
        return not isinstance(value, bool) and value in self.values


@dataclass(frozen=True)
class RespondentGroup:
    id: str
    label: Text


@dataclass(frozen=True)
class Item:
    """An indicator: a statement rated on a scale."""

    id: str
    text: Text
    scale: str
    explanation: Text | None = None
    examples: tuple[Text, ...] = ()
    groups: tuple[str, ...] | None = None  # None: every respondent group answers it

    def asked_of(self, group: str) -> bool:
        return self.groups is None or group in self.groups


@dataclass(frozen=True)
class Section:
    """A criterion with its indicators."""

    id: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None


@dataclass(frozen=True)
class FreeTextQuestion:
    id: str
    text: Text
    groups: tuple[str, ...] | None = None


class Output(StrEnum):
    SCORE_PROFILE = "score_profile"
    TRAFFIC_LIGHT_HOUSE = "traffic_light_house"


@dataclass(frozen=True)
class Thresholds:
    """Mean at or above ``green`` lights green, at or above ``amber`` amber, else red."""

    green: float
    amber: float


@dataclass(frozen=True)
class HousePart:
    id: str
    label: Text
    items: tuple[str, ...]
    thresholds: Thresholds | None = None  # None: the house's thresholds


@dataclass(frozen=True)
class House:
    thresholds: Thresholds
    parts: tuple[HousePart, ...]

    def thresholds_for(self, part: HousePart) -> Thresholds:
        return part.thresholds or self.thresholds


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: Text
    languages: tuple[str, ...]
    source: Source
    scales: tuple[Scale, ...]
    respondent_groups: tuple[RespondentGroup, ...]
    sections: tuple[Section, ...]
    output: Output
    description: Text | None = None
    free_text: tuple[FreeTextQuestion, ...] = ()
    house: House | None = None
    #: "person" or "school" (one answer per school, given for the school)
    answered_for: str = "person"

    @property
    def key(self) -> str:
        """Identity of this exact version; results are stored against it."""
        return f"{self.id}@{self.version}"

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def scale(self, scale_id: str) -> Scale:
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(scale_id)

    def scale_of(self, item: Item) -> Scale:
        return self.scale(item.scale)
