"""The app's services, built once per app from settings."""

from __future__ import annotations

import requests
from flask import Flask, current_app

from config import Settings
from lti_tool.crypto import SecretBox
from lti_tool.db import Database
from lti_tool.keys import Keyring
from lti_tool.protocol.launch import LaunchValidator
from lti_tool.protocol.platform_keys import PlatformKeyCache
from lti_tool.protocol.registry import DbToolConf, RegistrationInfo, Registry, to_pylti1p3
from lti_tool.protocol.services import CachingServiceConnector
from lti_tool.store import make_store

USER_AGENT = "LMS-Bridge/0.1 (+LTI 1.3 tool)"


class Bridge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.box = SecretBox(settings.secret_key)
        self.store = make_store(settings.redis_url, self.db.engine)
        self.keyring = Keyring(self.db.sessions, self.box)
        self.registry = Registry(self.db.sessions)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.platform_keys = PlatformKeyCache(
            self.http, refetch_interval=settings.jwks_refetch_interval, timeout=settings.http_timeout
        )
        self.validator = LaunchValidator(
            registry=self.registry,
            keys=self.platform_keys,
            store=self.store,
            base_url=settings.base_url,
            leeway=settings.jwt_leeway,
        )
        self.tool_conf = DbToolConf(self.registry, self.keyring)

    def init_app(self, app: Flask) -> None:
        self.db.init_app(app)
        app.extensions["lms_bridge"] = self

    def url(self, path: str) -> str:
        return self.settings.base_url + path

    def connector(self, info: RegistrationInfo) -> CachingServiceConnector:
        return CachingServiceConnector(
            to_pylti1p3(info, self.keyring), self.store, self.http, timeout=self.settings.http_timeout
        )


def bridge(app: Flask | None = None) -> Bridge:
    return (app or current_app).extensions["lms_bridge"]
