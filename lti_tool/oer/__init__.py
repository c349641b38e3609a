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

bp = Blueprint("oer", __name__, url_prefix="/oer")


from lti_tool.oer import delivery, viewer, views  # noqa: E402,F401
