"""Embedded demo LMS: two school sites acting as LTI 1.3 platforms.

Served under ``/demo`` only when the ``demo`` setting (``LMS_BRIDGE_DEMO``)
is on. The pages are answered on ``demo_origin`` (the tool's host with
127.0.0.1 and localhost swapped), so the tool runs in a cross-site iframe as
it does inside a real school LMS.

Modules: ``models`` (demo_ tables), ``platform`` (keys, id_tokens, checking the
tool's messages), ``views`` (pages, OIDC auth, deep linking return),
``services`` (token endpoint, AGS, NRPS), ``seed`` and ``cli``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.record_once
def _setup(state: Any) -> None:
    from lti_tool.demo.platform import DemoExtension

    state.app.extensions.setdefault("lms_bridge_demo", DemoExtension())


@bp.before_request
def _demo_request() -> Response | None:
    from lti_tool.bridge import bridge
    from lti_tool.demo.platform import demo_origin

    origin = demo_origin(bridge().settings)
    if request.host_url.rstrip("/") != origin:
        # Opened on the tool's host: move to the demo's own site (keeps it cross-site).
        query = "?" + request.query_string.decode() if request.query_string else ""
        return redirect(origin + request.script_root + request.path + query, code=308)  # type: ignore[return-value]
    return None


from lti_tool.demo import services, views  # noqa: E402,F401  (register routes)
