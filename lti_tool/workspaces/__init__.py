"""The ``workspaces`` blueprint: a regional school network's shared workspace.

Core (``models``, ``roles``, ``access``, ``services``, ``views``) holds networks,
schools, people and provisioning; each part of the network year is its own
package registering routes on the same blueprint: ``board``
(Zukunftswerkstatt), ``meetings`` (network year, iCalendar), ``barcamp`` and
``groups`` (Arbeitsgruppen).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workspaces", __name__, url_prefix="/w")

#: Navigation of a network: (endpoint, label); parts add themselves when loaded.
NAV: list[tuple[str, object]] = []

from lti_tool.workspaces import (  # noqa: E402,F401
    barcamp,
    board,
    groups,
    meetings,
    views,  # noqa: E402,F401
)
