"""LMS Bridge: an LTI 1.3 tool for German school networks.

``create_app`` is the only place that wires the application. Importing the
package has no side effects.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from config import Settings, load_settings


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from settings (environment by default)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from lti_tool import errors, i18n, web
    from lti_tool.bridge import Bridge
    from lti_tool.lti import bp as lti_bp
    from lti_tool.oer import bp as oer_bp
    from lti_tool.selfeval.views import bp as selfeval_bp
    from lti_tool.sync import bp as sync_bp
    from lti_tool.workspaces import bp as workspaces_bp

    if isinstance(config, Settings):
        settings = config
    else:
        settings = load_settings(**(config or {}))

    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="lms_bridge_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE="None" if settings.secure_cookies else "Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # CHIPS: browsers that block third-party cookies still keep partitioned
        # ones inside the LMS iframe (seen with Chromium in a real Moodle).
        SESSION_COOKIE_PARTITIONED=settings.secure_cookies,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        LMS_BRIDGE=settings,
        JSON_SORT_KEYS=False,
    )
    if settings.proxy_fix:
        n = settings.proxy_fix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    Bridge(settings).init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    app.register_blueprint(lti_bp)
    app.register_blueprint(workspaces_bp)
    app.register_blueprint(selfeval_bp)
    app.register_blueprint(oer_bp)
    app.register_blueprint(sync_bp)

    if settings.demo:
        from lti_tool.demo import bp as demo_bp

        app.register_blueprint(demo_bp)

    @app.after_request
    def _security_headers(resp: Any) -> Any:
        # The tool is embedded by LMSs on other sites: no X-Frame-Options.
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Launch ids travel in URLs inside the iframe: never leak them to other sites.
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        from sqlalchemy import text

        from lti_tool.bridge import bridge

        with bridge().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}, 200

    @app.get("/")
    def index() -> Any:
        from flask import redirect, url_for

        return redirect(url_for("lti.setup"))

    return app
