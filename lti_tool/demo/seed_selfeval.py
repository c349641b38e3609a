"""Self-evaluation example data of the demo network: rounds with synthetic, submitted responses.

Two rounds of the *Selbstevaluationsraster* (one closed last spring, one open
now) and an open *Medienhaus* round, each with enough submitted responses per
bound school that the privacy rules let the reports show numbers, group
disagreement, change between the rounds and a coloured house. Respondents are
synthetic: their keys are random hex, not users. The answers come from a fixed
``random.Random`` so the demo looks the same every time. A "Selbstevaluation"
link to the open grid round is placed in the bound courses. Idempotent: a
round that exists (by title) is left alone.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.demo import seed_network
from lti_tool.demo.models import DemoCourse, DemoLink, DemoSite
from lti_tool.demo.platform import tool
from lti_tool.selfeval.instruments import Instrument, list_instruments
from lti_tool.selfeval.models import SUBMITTED, SelfevalAnswer, SelfevalResponse, SelfevalRound
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, Person

BERLIN = ZoneInfo("Europe/Berlin")
SEED = 2025
RASTER_ID, HOUSE_ID = "selbstevaluationsraster", "medienhaus"
SPRING_TITLE = "Schuljahr 2025/26 Frühjahr"
AUTUMN_TITLE = "Schuljahr 2026/27 Herbst"
HOUSE_TITLE = "Medienhaus Schuljahr 2026/27"
LINK_TITLE = "Selbstevaluation"
LINK_TEXT = "Selbstevaluationsraster Digitale Schulentwicklung – Ihre Einschätzung zählt (anonym)."
HOUSE_LINK_TITLE = "Medienhaus"
HOUSE_LINK_TEXT = "Medienhaus-Befragung: eine Antwort pro Schule, von der oder dem Medienbeauftragten."

#: (school type, respondent group) -> (min, max) respondents
GROUP_SIZES = {"school_leader": (5, 6), "teacher": (8, 14), "media_coordinator": (5, 5)}
#: criterion means per school type and group (autumn round); the spring round is lower
RASTER_PROFILE = {
    "Gesamtschule": {
        "k1_implementierung": 3.4, "k2_paedagogik": 3.0, "k3_qualifizierung": 2.6,
        "k4_schulorganisation": 3.6, "k5_vernetzung": 2.4, "k6_technik": 3.9,
    },
    "Gymnasium": {
        "k1_implementierung": 2.8, "k2_paedagogik": 3.5, "k3_qualifizierung": 3.1,
        "k4_schulorganisation": 3.0, "k5_vernetzung": 3.3, "k6_technik": 2.7,
    },
}
#: leaders see some things brighter than the staff (shows as disagreement)
GROUP_SHIFT = {
    "school_leader": {"k1_implementierung": 1.2, "k3_qualifizierung": 1.1},
    "media_coordinator": {"k6_technik": -0.6},
    "teacher": {},
}
#: autumn minus spring per criterion (shows as change)
CHANGE = {"k1_implementierung": 0.4, "k2_paedagogik": 0.6, "k3_qualifizierung": 0.2,
          "k4_schulorganisation": 0.1, "k5_vernetzung": 0.5, "k6_technik": 0.7}
#: Medienhaus: mean satisfaction per house part and school type (>= 4 green, >= 2.5 amber)
HOUSE_PROFILE = {
    "Gesamtschule": {"fundament": 4.5, "etagen": 3.2, "dach": 1.9},
    "Gymnasium": {"fundament": 2.0, "etagen": 4.6, "dach": 3.3},
    "Grundschule": {"fundament": 3.2, "etagen": 2.1, "dach": 4.5},
    "Realschule": {"fundament": 4.4, "etagen": 3.0, "dach": 2.0},
    "Berufskolleg": {"fundament": 4.6, "etagen": 4.3, "dach": 3.1},
}
FREE_TEXTS = {
    RASTER_ID: {
        "staerken": ["Die Lernplattform ist im Kollegium gut angekommen.",
                     "Das Team Digitalisierung trifft sich regelmäßig."],
        "handlungsbedarf": ["Mehr Zeit für kollegiale Fortbildung.",
                            "Absprachen mit anderen Schulen im Netzwerk fehlen noch."],
    },
    HOUSE_ID: {
        "gute_praxis": ["Der Support durch die Medienberatung ist schnell."],
        "vorhaben": ["Geräteverwaltung vereinheitlichen."],
    },
}


def _at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), BERLIN).astimezone(UTC)


def _instrument(instrument_id: str) -> Instrument | None:
    return next((i for i in list_instruments() if i.id == instrument_id), None)


def _clamp(value: float) -> int:
    return max(1, min(5, round(value)))


def _key(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _respond(rows: list[dict], responses: list[dict], rnd: SelfevalRound, school_id: int, group: str,
             key: str, answers: dict[str, int | None], when: datetime, free: dict[str, str]) -> None:
    responses.append(dict(round_id=rnd.id, school_id=school_id, group_id=group, respondent_key=key,
                          status=SUBMITTED, free_text=json.dumps(free, ensure_ascii=False),
                          updated_at=when, submitted_at=when))
    rows.extend(dict(round_id=rnd.id, school_id=school_id, group_id=group, respondent_key=key, item_id=item,
                     value=value) for item, value in answers.items())


def _when(rng: random.Random, rnd: SelfevalRound, now: datetime) -> datetime:
    start = rnd.opens_at if rnd.opens_at.tzinfo else rnd.opens_at.replace(tzinfo=UTC)
    end = min(rnd.closes_at if rnd.closes_at.tzinfo else rnd.closes_at.replace(tzinfo=UTC), now)
    span = max(60, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(span))


def _fill_raster(s: Session, rnd: SelfevalRound, instrument: Instrument, schools: list[MemberSchool],
                 rng: random.Random, *, earlier: bool, now: datetime) -> None:
    responses: list[dict] = []
    rows: list[dict] = []
    free_texts = FREE_TEXTS[RASTER_ID]
    for school in schools:
        profile = RASTER_PROFILE.get(school.school_type, RASTER_PROFILE["Gesamtschule"])
        for group, (low, high) in GROUP_SIZES.items():
            for n in range(rng.randint(low, high)):
                person_bias = rng.gauss(0, 0.4)
                answers: dict[str, int | None] = {}
                for section in instrument.sections:
                    mean = profile.get(section.id, 3.0) + GROUP_SHIFT[group].get(section.id, 0.0) + person_bias
                    if earlier:
                        mean -= CHANGE.get(section.id, 0.3)
                    for item in section.items:
                        # only larger groups say "can't say" now and then: small groups stay above the minimum
                        if group == "teacher" and rng.random() < 0.04:
                            answers[item.id] = None
                        else:
                            answers[item.id] = _clamp(rng.gauss(mean, 0.7))
                free = {}
                if group == "teacher" and n < 2:
                    free = {qid: texts[n % len(texts)] for qid, texts in free_texts.items()}
                _respond(rows, responses, rnd, school.id, group, _key(rng), answers, _when(rng, rnd, now), free)
    s.execute(insert(SelfevalResponse), responses)
    s.execute(insert(SelfevalAnswer), rows)


def _fill_house(s: Session, rnd: SelfevalRound, instrument: Instrument, schools: list[MemberSchool],
                rng: random.Random, *, now: datetime) -> None:
    assert instrument.house is not None
    part_of = {item_id: part.id for part in instrument.house.parts for item_id in part.items}
    responses: list[dict] = []
    rows: list[dict] = []
    box = bridge().box
    for school in schools:
        # One answer per school, under the same key the answering page uses, so a
        # demo media coordinator opening the link sees (and can change) it.
        profile = HOUSE_PROFILE.get(school.school_type, HOUSE_PROFILE["Gesamtschule"])
        # one considered answer per school: little noise around the school's profile
        answers: dict[str, int | None] = {item.id: _clamp(rng.gauss(profile.get(part_of.get(item.id, ""), 3.0), 0.3))
                                          for item in instrument.items()}
        free = {qid: texts[0] for qid, texts in FREE_TEXTS[HOUSE_ID].items()}
        key = box.pseudonym("selfeval-school", str(rnd.id), str(school.id))
        _respond(rows, responses, rnd, school.id, "media_coordinator", key, answers, _when(rng, rnd, now), free)
    s.execute(insert(SelfevalResponse), responses)
    s.execute(insert(SelfevalAnswer), rows)


def _round(s: Session, network: Network, instrument: Instrument, title: str, opens: datetime, closes: datetime,
           manager: Person) -> tuple[SelfevalRound, bool]:
    rnd = s.scalar(select(SelfevalRound).where(SelfevalRound.network_id == network.id, SelfevalRound.title == title,
                                               SelfevalRound.instrument_key == instrument.key))
    if rnd is not None:
        return rnd, False
    rnd = SelfevalRound(network_id=network.id, instrument_key=instrument.key, title=title, opens_at=opens,
                        closes_at=closes, created_by=manager.id)
    s.add(rnd)
    s.flush()
    return rnd, True


def _bound(s: Session, network: Network) -> list[tuple[MemberSchool, DemoCourse]]:
    out = []
    for slug, course_short, number, _type in seed_network.BOUND_SCHOOLS:
        school = s.scalar(select(MemberSchool).where(MemberSchool.network_id == network.id,
                                                     MemberSchool.school_number == number))
        course = s.scalar(select(DemoCourse).join(DemoSite, DemoSite.id == DemoCourse.site_id)
                          .where(DemoSite.slug == slug, DemoCourse.shortname == course_short))
        if school is not None and course is not None:
            out.append((school, course))
    return out


def _place_link(s: Session, course: DemoCourse, round_id: int, title: str, text: str) -> None:
    custom = json.dumps({"feature": "selfeval", "round": str(round_id)})
    exists = s.scalar(select(DemoLink).where(DemoLink.course_id == course.id, DemoLink.custom == custom))
    if exists is None:
        s.add(DemoLink(course_id=course.id, title=title, text=text, url=tool().launch, custom=custom))


def seed_selfeval(s: Session, network: Network, manager: Person, members: dict[int, NetworkMember]) -> None:
    raster, house = _instrument(RASTER_ID), _instrument(HOUSE_ID)
    if raster is None:
        return
    bound = _bound(s, network)
    # every member school has answered (the pending ones through their own LMS),
    # so the network comparison and the network's Medienhaus are meaningful
    schools = list(s.scalars(select(MemberSchool).where(MemberSchool.network_id == network.id)
                             .order_by(MemberSchool.id)))
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    today = datetime.now(BERLIN).date()
    spring_year = today.year if today.month > 6 else today.year - 1
    spring, fresh = _round(s, network, raster, SPRING_TITLE, _at(date(spring_year, 3, 2)),
                           _at(date(spring_year, 5, 29), 18), manager)
    if fresh:
        _fill_raster(s, spring, raster, schools, rng, earlier=True, now=now)
    autumn, fresh = _round(s, network, raster, AUTUMN_TITLE, _at(today - timedelta(days=14)),
                           _at(today + timedelta(weeks=6), 18), manager)
    if fresh:
        _fill_raster(s, autumn, raster, schools, rng, earlier=False, now=now)
    if house is not None:
        medienhaus, fresh = _round(s, network, house, HOUSE_TITLE, _at(today - timedelta(days=14)),
                                   _at(today + timedelta(weeks=6), 18), manager)
        if fresh:
            _fill_house(s, medienhaus, house, schools, rng, now=now)
    for _school, course in bound:
        _place_link(s, course, autumn.id, LINK_TITLE, LINK_TEXT)
        if house is not None:
            _place_link(s, course, medienhaus.id, HOUSE_LINK_TITLE, HOUSE_LINK_TEXT)
    s.flush()


def _register() -> None:
    if seed_selfeval not in seed_network.PART_SEEDERS:
        seed_network.PART_SEEDERS.append(seed_selfeval)


_register()
