"""OER library example of the demo network: one collection, and a page of it placed in the courses.

The collection lives as package data in ``oer_sample/`` (a collection folder
with ``collection.yaml``, as OER authors keep one for ``lms-bridge cc
build``): three short German pages, one with a small image, a discussion
prompt and a web link. The network's own material is CC BY-SA 4.0; the page on
passwords is CC BY 4.0 by a named author with its source and changes, so the
viewer shows a full TULLU line. When the network has an open
Selbstevaluationsraster round, an LTI link to it (teachers only) is added,
exactly as the collection editor adds one.

The folder is read with ``oer_packager.collection.load_collection`` and stored
with ``lti_tool.oer.store.save_model`` — the code path a cartridge import
takes after reading the cartridge — so pages are cleaned and files stored
by content as for every import. A "Passwörter sicher wählen" link is placed in
each bound course, with the custom parameters Deep Linking gives it.
Idempotent: a collection that exists (by title) is left alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.bridge import bridge
from lti_tool.demo import seed_network
from lti_tool.demo import seed_parts as _seed_parts  # noqa: F401  (registered before us, whatever imports first)
from lti_tool.demo import seed_selfeval as _seed_selfeval  # registered before us: its open round exists when we run
from lti_tool.demo.models import DemoCourse, DemoLink, DemoSite
from lti_tool.demo.platform import tool
from lti_tool.oer import blobs
from lti_tool.oer.attribution import label
from lti_tool.oer.models import OerCollection, OerNode
from lti_tool.oer.store import save_model
from lti_tool.oer.viewer import signature
from lti_tool.selfeval.models import SelfevalRound
from lti_tool.workspaces.models import Network, NetworkMember, Person
from oer_packager.collection import FolderSource, load_collection
from oer_packager.model import Collection, Item, ItemKind

SAMPLE = Path(__file__).resolve().parent / "oer_sample"
#: the page placed in the bound courses (a title of oer_sample/collection.yaml)
PLACED_TITLE = "Passwörter sicher wählen"
PLACED_TEXT = "Seite aus der OER-Bibliothek des Netzwerks Lernen 25 ({licence}) – mit Quellenangabe nach TULLU."
#: the LTI item to the network's open Selbstevaluationsraster round
SELFEVAL_TITLE = "Selbstevaluation: Wo steht unsere Schule?"
SELFEVAL_DESCRIPTION = "Selbstevaluationsraster Digitale Schulentwicklung, Runde „{round}“ – Ihre Einschätzung (anonym)."
SELFEVAL_MODULE = -1  # the last module (for teachers)


def load_sample() -> tuple[Collection, FolderSource]:
    """The sample collection as the neutral model, and its files (refuses a broken sample)."""
    collection, source, _findings = load_collection(SAMPLE)
    return collection, source


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def open_round(s: Session, network: Network) -> SelfevalRound | None:
    """The network's open self-evaluation round, the Selbstevaluationsraster first."""
    now = datetime.now(UTC)
    rounds = [r for r in s.scalars(select(SelfevalRound).where(SelfevalRound.network_id == network.id)
                                   .order_by(SelfevalRound.opens_at.desc(), SelfevalRound.id.desc()))
              if _aware(r.opens_at) <= now < _aware(r.closes_at)]
    rounds.sort(key=lambda r: not r.instrument_key.startswith(_seed_selfeval.RASTER_ID + "@"))
    return rounds[0] if rounds else None


def _selfeval_item(rnd: SelfevalRound) -> Item:
    """The LTI item the collection editor's "link to a self-evaluation" form makes."""
    return Item(ItemKind.LTI, SELFEVAL_TITLE, url=bridge().url("/lti/launch"),
                custom={"feature": "selfeval", "round": str(rnd.id)},
                description=SELFEVAL_DESCRIPTION.format(round=rnd.title), instructor_only=True)


def _store(s: Session, network: Network, manager: Person) -> OerCollection:
    collection, source = load_sample()
    rnd = open_round(s, network)
    if rnd is not None:
        collection.modules[SELFEVAL_MODULE].children.append(_selfeval_item(rnd))
    created: list[str] = []
    try:
        coll = save_model(s, network.id, manager.id, collection, source, created)
        s.flush()
    except BaseException:
        blobs.unlink(created)  # the caller's transaction is not committed; keep no files of it
        raise
    return coll


def _place_link(s: Session, course: DemoCourse, node: OerNode, licence: str) -> None:
    custom = {"feature": "oer", "oer_node": str(node.id), "oer_sig": signature(node.id)}
    for link in s.scalars(select(DemoLink).where(DemoLink.course_id == course.id)):
        try:
            placed = json.loads(link.custom or "{}")
        except ValueError:
            continue
        if placed.get("feature") == "oer" and placed.get("oer_node") == str(node.id):
            link.custom = json.dumps(custom)  # keeps working when the demo's secret key changed
            return
    s.add(DemoLink(course_id=course.id, title=node.title, text=PLACED_TEXT.format(licence=label(licence)),
                   url=tool().launch, custom=json.dumps(custom)))


def _bound_courses(s: Session) -> list[DemoCourse]:
    out = []
    for slug, course_short, _number, _type in seed_network.BOUND_SCHOOLS:
        course = s.scalar(select(DemoCourse).join(DemoSite, DemoSite.id == DemoCourse.site_id)
                          .where(DemoSite.slug == slug, DemoCourse.shortname == course_short))
        if course is not None:
            out.append(course)
    return out


def seed_oer(s: Session, network: Network, manager: Person, members: dict[int, NetworkMember]) -> None:
    title = load_sample()[0].title
    coll = s.scalar(select(OerCollection).where(OerCollection.network_id == network.id,
                                                OerCollection.title == title).order_by(OerCollection.id))
    if coll is None:
        coll = _store(s, network, manager)
    page = s.scalar(select(OerNode).where(OerNode.collection_id == coll.id, OerNode.kind == "page",
                                          OerNode.title == PLACED_TITLE))
    if page is not None:
        for course in _bound_courses(s):
            _place_link(s, course, page, page.licence or coll.licence)
    s.flush()


def _register() -> None:
    if seed_oer not in seed_network.PART_SEEDERS:
        seed_network.PART_SEEDERS.append(seed_oer)


_register()
