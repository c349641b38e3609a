"""What a resource link can open. Later issues add self-evaluation, workspaces, OER."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Feature:
    key: str
    title: object
    description: object
    endpoint: str
    #: Post completion over AGS; the deep link then asks for a line item.
    graded: bool = False
    #: Offered on its own in the Deep Linking picker and the link setup page.
    #: False for features that need parameters (e.g. which round) from a provider.
    standalone: bool = True


FEATURES: dict[str, Feature] = {
    f.key: f
    for f in (
        Feature(
            "welcome",
            _l("Welcome page"),
            _l("A start page for the course: who you are here, the course roster and a completion mark."),
            "lti.welcome",
            graded=True,
        ),
        Feature(
            "workspace",
            _l("Network workspace"),
            _l("The shared workspace of your school network: Zukunftswerkstatt, meetings, barcamp, working groups."),
            "workspaces.enter",
        ),
        Feature(
            "selfeval",
            _l("Self-evaluation"),
            _l("A self-evaluation round of your school network, e.g. the Selbstevaluationsraster or the Medienhaus."),
            "selfeval.answer",
            graded=True,
            standalone=False,
        ),
        Feature(
            "oer",
            _l("OER library item"),
            _l("A page, file, link or module from your network's OER library, with its licence and attribution."),
            "oer.view",
            standalone=False,
        ),
    )
}


@dataclass(frozen=True)
class DeepLinkChoice:
    """One item a teacher can put into their course through Deep Linking."""

    key: str
    title: object
    description: object
    custom: dict[str, str] = field(default_factory=dict)
    graded: bool = False
    group: object = ""


#: Features add choices that depend on the person (e.g. "our network's board").
DEEP_LINK_PROVIDERS: list[Callable[[Any], list[DeepLinkChoice]]] = []


def deep_link_choices(launch: Any) -> list[DeepLinkChoice]:
    choices = [
        DeepLinkChoice(f.key, f.title, f.description, {"feature": f.key}, f.graded)
        for f in FEATURES.values()
        if f.standalone
    ]
    for provider in DEEP_LINK_PROVIDERS:
        choices.extend(provider(launch))
    return choices
