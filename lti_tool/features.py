"""What a resource link can open. Later issues add self-evaluation, workspaces, OER."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Feature:
    key: str
    title: object
    description: object
    endpoint: str
    #: Post completion over AGS; the deep link then asks for a line item.
    graded: bool = False


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
    )
}
