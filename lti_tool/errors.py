"""Map typed errors to HTTP answers in one place; never show a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from lti_tool.protocol.errors import LtiError

log = logging.getLogger("lms_bridge")


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def _translated(exc: LtiError) -> str:
    return gettext(exc.template, **exc.params) if exc.template else ""


def lti_error_response(exc: LtiError) -> Response:
    # Codes and safe messages only: no tokens, no user ids in logs.
    log.info("LTI request refused: %s (%s %s)", exc.code, request.method, request.path)
    if _wants_json():
        resp = jsonify(error=exc.code, message=exc.message)  # machine clients get English
        resp.status_code = exc.status
    else:
        html = render_template("error.html", code=exc.code, message=_translated(exc), status=exc.status)
        resp = Response(html, status=exc.status, mimetype="text/html")
    resp.headers["X-LTI-Error"] = exc.code
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(LtiError)
    def _lti(exc: LtiError) -> Response:
        return lti_error_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        html = render_template(
            "error.html", code=exc.name, message=exc.description or "", status=exc.code or 500
        )
        return Response(html, status=exc.code or 500, mimetype="text/html")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        try:
            html = render_template("error.html", code="internal_error", message="", status=500)
        except Exception:  # the error page itself failed: answer plainly
            html = "<!doctype html><title>Error</title><p>Internal error (internal_error)</p>"
        return Response(html, status=500, mimetype="text/html")
