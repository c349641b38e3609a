"""Fixtures that read like the domain: a tool, schools' LMS sites, launches."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from config import load_settings
from lti_tool import create_app
from lti_tool.bridge import bridge
from lti_tool.db import upgrade
from lti_tool.platforms import PlatformSpec, add_platform
from tests.ltiplatform import FakePlatform, login_redirect_params

TOOL_URL = "http://localhost"
LAUNCH_URL = TOOL_URL + "/lti/launch"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated with Alembic; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    target = tmp_path / "tool.sqlite3"
    shutil.copy(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def app(tmp_path: Path, database_url: str, settings_overrides: dict[str, Any]) -> Iterator[Flask]:
    params: dict[str, Any] = {
        "database_url": database_url,
        "instance_dir": str(tmp_path / "instance"),
        "base_url": TOOL_URL,
        "secret_key": "test-secret-" + "x" * 32,
        "allow_insecure_platforms": True,
    }
    params.update(settings_overrides)
    settings = load_settings({}, **params)
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    bridge(app).db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def school_lms(httpserver: HTTPServer, app: Flask) -> FakePlatform:
    """A Moodle site of one school, registered with the tool via the operator path."""
    base = httpserver.url_for("").rstrip("/")
    platform = FakePlatform(
        issuer=base, client_id="YtFJlpHtc8jkEXW", deployment_id="5", jwks_url=base + "/mod/lti/certs.php"
    )
    httpserver.expect_request("/mod/lti/certs.php").respond_with_handler(
        lambda req: __import__("werkzeug").Response(
            __import__("json").dumps(platform.jwks()), content_type="application/json"
        )
    )
    with bridge(app).db.sessions() as s:
        add_platform(
            s,
            PlatformSpec(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.jwks_url,
                deployment_ids=[platform.deployment_id],
                name="Gesamtschule Musterstadt",
            ),
            allow_http=True,
        )
    return platform


class Launcher:
    """Drives the browser side of a launch with the Flask test client."""

    def __init__(self, client: FlaskClient, platform: FakePlatform) -> None:
        self.client = client
        self.platform = platform

    def login(self, **extra: str) -> dict[str, str]:
        resp = self.client.post("/lti/login", data=self.platform.login_params(LAUNCH_URL, **extra))
        assert resp.status_code == 302, resp.data
        return login_redirect_params(resp.headers["Location"])

    def launch(self, token: str, state: str, **form: str) -> Any:
        return self.client.post("/lti/launch", data={"id_token": token, "state": state, **form})

    def resource_launch(self, **claim_overrides: Any) -> Any:
        auth = self.login()
        body = self.platform.claims(auth["nonce"], LAUNCH_URL, **claim_overrides)
        return self.launch(self.platform.sign(body), auth["state"])


@pytest.fixture
def launcher(client: FlaskClient, school_lms: FakePlatform) -> Launcher:
    return Launcher(client, school_lms)


def count_rows(app: Flask, *models: Any) -> dict[str, int]:
    with bridge(app).db.sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in models}


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("LMS_BRIDGE_") and not key.startswith("LMS_BRIDGE_TEST_"):
            monkeypatch.delenv(key)


@pytest.fixture
def world(app: Flask):
    """A network ("Lernen 25") of two schools on two LMS sites, a person per role, and an outsider."""
    from tests.world import build_world

    return build_world(app)
