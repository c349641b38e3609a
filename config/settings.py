"""Settings from the environment.

Every setting has a documented default so that ``make demo`` works with no
configuration at all: an embedded SQLite file, in-process work, demo off.
The README lists the same table for operators.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PREFIX = "LMS_BRIDGE_"
DEFAULT_INSTANCE = Path(os.environ.get(PREFIX + "INSTANCE_DIR", "instance"))


class SettingsError(ValueError):
    """A setting has a value the tool cannot use."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    """All settings; field docs double as the README table."""

    #: SQLAlchemy URL; default an SQLite file in the instance folder.
    database_url: str = ""
    #: Optional Redis URL for the shared launch store (state, nonces, caches) and the job queue (lms-bridge worker).
    redis_url: str = ""
    #: Public base URL the tool announces to platforms (no trailing slash).
    base_url: str = "http://127.0.0.1:5000"
    #: Secret for sessions, signing and keyed pseudonyms. Set it in production.
    secret_key: str = ""
    #: Serve the embedded demo LMS under /demo.
    demo: bool = False
    #: Number of reverse proxies whose X-Forwarded-Proto/Host to trust (0 = none).
    proxy_fix: int = 0
    #: Allowed clock skew for iat/exp/nbf in seconds.
    jwt_leeway: int = 60
    #: Minimum seconds between two JWKS refetches of one platform on unknown kid.
    jwks_refetch_interval: int = 60
    #: Lifetime of a login state (seconds) between OIDC login and launch.
    state_ttl: int = 600
    #: Lifetime of a launch session (seconds).
    launch_ttl: int = 8 * 3600
    #: Default UI language (de or en).
    default_locale: str = "de"
    #: Folder for the SQLite file and generated secrets.
    instance_dir: str = str(DEFAULT_INSTANCE)
    #: HTTP timeout for calls to platforms (seconds).
    http_timeout: float = 10.0
    #: Allow plain-http platform URLs in dynamic registration (demo and tests only).
    allow_insecure_platforms: bool = False
    #: Hard limit of member schools per network (a warning shows above 12).
    network_max_schools: int = 16
    #: Comma-separated host patterns allowed to use Dynamic Registration (empty = any).
    registration_hosts: tuple[str, ...] = ()
    #: Smallest number of respondents a self-evaluation aggregate may describe (never below 3).
    selfeval_min_group: int = 5

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _coerce(name: str, kind: Any, raw: str) -> Any:
    try:
        if kind in (bool, "bool"):
            return _bool(raw)
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind == "tuple[str, ...]":
            return tuple(p.strip() for p in raw.split(",") if p.strip())
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name.upper()}: {exc}") from exc
    return raw


def _default_secret(instance_dir: Path) -> str:
    """Return a persistent random secret kept in the instance folder.

    A generated secret keeps a single-host install safe without setup; a
    cluster must set LMS_BRIDGE_SECRET_KEY so all workers agree.
    """
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) plus overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = PREFIX + f.name.upper()
        if key in env:
            values[f.name] = _coerce(f.name, f.type, env[key])
    values.update(overrides)
    settings = Settings(**values)
    instance = Path(settings.instance_dir)
    if not settings.database_url:
        instance.mkdir(parents=True, exist_ok=True)
        settings = replace(settings, database_url=f"sqlite:///{(instance / 'lms_bridge.sqlite3').resolve()}")
    if not settings.secret_key:
        settings = replace(settings, secret_key=_default_secret(instance))
    if settings.default_locale not in ("de", "en"):
        raise SettingsError(f"{PREFIX}DEFAULT_LOCALE must be de or en, not {settings.default_locale!r}")
    if settings.jwt_leeway < 0 or settings.jwt_leeway > 600:
        raise SettingsError(f"{PREFIX}JWT_LEEWAY must be between 0 and 600 seconds")
    if settings.selfeval_min_group < 3:
        raise SettingsError(f"{PREFIX}SELFEVAL_MIN_GROUP must be at least 3 respondents")
    return replace(settings, base_url=settings.base_url.rstrip("/"))
