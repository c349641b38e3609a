"""The ``oer`` blueprint: the school network's OER library inside the LMS.

Authors of a network build *collections* (Sammlungen) from uploaded files,
web links, discussion prompts, links to the network's self-evaluation and the
working groups' materials; the licence panel lists every attribution problem
(TULLU: Titel, Urheber, Lizenz, Link, Ursprungsort) before a Common Cartridge
is built with ``oer_packager``. Cartridges are imported as new collections.
Teachers put items into their courses through Deep Linking; the viewer shows
them with their attribution line.

Modules: ``models`` (rows), ``blobs`` (file storage), ``media`` (file types,
HTML cleaning), ``store`` (rows <-> neutral model), ``checks`` (licence
panel), ``cartridges`` (import/export), ``views`` (library pages),
``viewer`` (launch-bound viewer, Deep Linking).
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("oer", __name__, url_prefix="/oer")


def _add_to_network_nav() -> None:
    """List the library in the network navigation, before "Schools and people"."""
    from lti_tool.workspaces.views import PARTS

    if any(endpoint == "oer.library" for endpoint, _label in PARTS):
        return
    at = next((i for i, (endpoint, _label) in enumerate(PARTS) if endpoint == "workspaces.people"), len(PARTS))
    PARTS.insert(at, ("oer.library", _l("OER library")))


from lti_tool.oer import delivery, viewer, views  # noqa: E402,F401

_add_to_network_nav()
