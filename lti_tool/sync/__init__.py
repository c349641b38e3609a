"""The ``sync`` blueprint: provision a network into an LMS site (Moodle, LOGINEO NRW LMS) from the workspace.

A network manager adds a *target* (site address and web-service token), checks
what the token may do (preflight), looks at the plan (what would be created,
updated, left or removed) and applies it – from the workspace pages or with
``lms-bridge sync …``. Runs are carried out in the background (RQ with
``LMS_BRIDGE_REDIS_URL``, a thread otherwise), one per target at a time, and
re-running an unchanged sync makes no write call. The engine is ``moodle_sync``.

Modules: ``models`` (rows), ``store`` (the engine's mapping store and target
lock on the database), ``desired`` (the network as Moodle should hold it),
``service`` (targets, preflight, starting runs), ``jobs`` (carrying a run
out, RQ and threads), ``access``, ``views``, ``cli``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sync", __name__, url_prefix="/sync")


from lti_tool.sync import views  # noqa: E402,F401
