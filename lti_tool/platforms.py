"""Register, list and remove platforms: one code path for the CLI, Dynamic
Registration and the demo LMS."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lti_tool.models import Deployment, Platform, Registration
from lti_tool.protocol.errors import LtiError


class PlatformError(LtiError):
    """A platform registration cannot be stored as asked."""

    code = "platform_invalid"


def _check_url(name: str, value: str, allow_http: bool) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PlatformError(f"{name} must be an absolute http(s) URL: {value!r}")
    if parts.scheme == "http" and not allow_http:
        host = (parts.hostname or "").lower()
        if host not in ("localhost", "127.0.0.1", "::1"):
            raise PlatformError(f"{name} must use https: {value!r}")
    return value


@dataclass
class PlatformSpec:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None = None
    key_set: dict[str, Any] | None = None
    deployment_ids: list[str] = field(default_factory=list)
    name: str = ""
    auth_audience: str | None = None
    product_family: str | None = None
    source: str = "cli"

    def validate(self, allow_http: bool = False) -> None:
        _check_url("issuer", self.issuer, allow_http)
        _check_url("auth login URL", self.auth_login_url, allow_http)
        _check_url("auth token URL", self.auth_token_url, allow_http)
        if not self.client_id.strip():
            raise PlatformError("client_id must not be empty")
        if bool(self.key_set_url) == bool(self.key_set):
            raise PlatformError("give exactly one of key set URL or key set")
        if self.key_set_url:
            _check_url("key set URL", self.key_set_url, allow_http)
        if self.key_set is not None and not isinstance(self.key_set.get("keys"), list):
            raise PlatformError("the key set must be a JWKS document with a 'keys' list")
        if any(not d.strip() for d in self.deployment_ids):
            raise PlatformError("deployment ids must not be empty")


def add_platform(s: Session, spec: PlatformSpec, *, allow_http: bool = False, update: bool = False) -> Registration:
    """Store a registration (and its platform and deployments). Commits."""
    spec.validate(allow_http)
    platform = s.scalar(select(Platform).where(Platform.issuer == spec.issuer))
    if platform is None:
        platform = Platform(issuer=spec.issuer, name=spec.name or urlsplit(spec.issuer).netloc)
        s.add(platform)
        s.flush()
    elif spec.name:
        platform.name = spec.name
    if spec.product_family:
        platform.product_family = spec.product_family
    reg = s.scalar(
        select(Registration).where(
            Registration.platform_id == platform.id, Registration.client_id == spec.client_id
        )
    )
    if reg is not None and not update:
        raise PlatformError(
            f"client_id {spec.client_id!r} is already registered for {spec.issuer}", code="platform_exists"
        )
    if reg is None:
        reg = Registration(platform_id=platform.id, client_id=spec.client_id, source=spec.source)
        s.add(reg)
    reg.auth_login_url = spec.auth_login_url
    reg.auth_token_url = spec.auth_token_url
    reg.auth_audience = spec.auth_audience
    reg.key_set_url = spec.key_set_url
    reg.key_set = json.dumps(spec.key_set) if spec.key_set else None
    s.flush()
    existing = {d.deployment_id for d in s.scalars(select(Deployment).where(Deployment.registration_id == reg.id))}
    for dep in spec.deployment_ids:
        if dep not in existing:
            s.add(Deployment(registration_id=reg.id, deployment_id=dep, active=True))
            existing.add(dep)
    s.commit()
    return reg


def list_platforms(s: Session) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(Registration)
        .options(selectinload(Registration.platform), selectinload(Registration.deployments))
        .join(Platform)
        .order_by(Platform.issuer, Registration.client_id)
    ).all()
    return [
        {
            "issuer": r.platform.issuer,
            "name": r.platform.name,
            "client_id": r.client_id,
            "auth_login_url": r.auth_login_url,
            "auth_token_url": r.auth_token_url,
            "key_set_url": r.key_set_url,
            "key_set": "inline" if r.key_set else None,
            "source": r.source,
            "deployments": [{"id": d.deployment_id, "active": d.active} for d in r.deployments],
        }
        for r in rows
    ]


def _registration(s: Session, issuer: str, client_id: str | None) -> Registration:
    q = select(Registration).join(Platform).where(Platform.issuer == issuer)
    regs = s.scalars(q).all()
    if client_id is not None:
        regs = [r for r in regs if r.client_id == client_id]
    if not regs:
        raise PlatformError(f"no registration for {issuer}" + (f" / {client_id}" if client_id else ""), code="platform_unknown")
    if len(regs) > 1:
        raise PlatformError("the issuer has several client_ids: name one with --client-id", code="platform_ambiguous")
    return regs[0]


def remove_platform(s: Session, issuer: str, client_id: str | None = None) -> int:
    """Remove a registration (or the whole platform when it was the last one). Commits."""
    reg = _registration(s, issuer, client_id)
    platform = reg.platform
    s.delete(reg)
    s.flush()
    left = s.scalar(select(func.count()).select_from(Registration).where(Registration.platform_id == platform.id))
    if not left:
        s.delete(platform)
    s.commit()
    return 1


def set_deployment_active(s: Session, issuer: str, deployment_id: str, active: bool, client_id: str | None = None) -> None:
    reg = _registration(s, issuer, client_id)
    dep = s.scalar(
        select(Deployment).where(Deployment.registration_id == reg.id, Deployment.deployment_id == deployment_id)
    )
    if dep is None:
        raise PlatformError(f"no deployment {deployment_id!r} for {issuer}", code="deployment_unknown")
    dep.active = active
    s.commit()
