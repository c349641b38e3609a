"""Registrations from the database, shaped as pylti1p3 objects.

``DbToolConf`` is pylti1p3's ``ToolConfAbstract`` over our tables: many
issuers, several client_ids per issuer, several deployments per client. Unknown
issuers and clients raise ``RegistrationLookupError`` instead of pylti1p3's
bare ``Exception``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pylti1p3.deployment import Deployment as PyDeployment
from pylti1p3.registration import Registration as PyRegistration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.keys import Keyring
from lti_tool.models import Deployment, Platform, Registration
from lti_tool.protocol.errors import RegistrationLookupError


@dataclass(frozen=True)
class RegistrationInfo:
    pk: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    key_set_url: str | None
    key_set: dict[str, Any] | None
    platform_pk: int


def _info(reg: Registration) -> RegistrationInfo:
    return RegistrationInfo(
        pk=reg.id,
        issuer=reg.platform.issuer,
        client_id=reg.client_id,
        auth_login_url=reg.auth_login_url,
        auth_token_url=reg.auth_token_url,
        auth_audience=reg.auth_audience,
        key_set_url=reg.key_set_url,
        key_set=json.loads(reg.key_set) if reg.key_set else None,
        platform_pk=reg.platform_id,
    )


class Registry:
    """Look-ups of platforms, registrations and deployments."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def find(self, issuer: str, client_id: str | None) -> RegistrationInfo:
        with self.sessions() as s:
            platform = s.scalar(select(Platform).where(Platform.issuer == issuer))
            if platform is None:
                raise RegistrationLookupError(
                    "This LMS (issuer) is not registered with LMS Bridge.", code="issuer_unknown"
                )
            regs = s.scalars(select(Registration).where(Registration.platform_id == platform.id)).all()
            if client_id is None:
                if len(regs) == 1:
                    return _info(regs[0])
                raise RegistrationLookupError(
                    "The LMS did not say which client_id to use and it has several.",
                    code="client_unknown",
                )
            for reg in regs:
                if reg.client_id == client_id:
                    return _info(reg)
        raise RegistrationLookupError(
            "This client_id is not registered for the LMS.", code="client_unknown"
        )

    def has_issuer(self, issuer: str) -> bool:
        with self.sessions() as s:
            return s.scalar(select(Platform.id).where(Platform.issuer == issuer)) is not None

    def has_client(self, issuer: str, client_id: str) -> bool:
        with self.sessions() as s:
            return (
                s.scalar(
                    select(Registration.id)
                    .join(Platform)
                    .where(Platform.issuer == issuer, Registration.client_id == client_id)
                )
                is not None
            )

    def deployment(self, registration_pk: int, deployment_id: str) -> tuple[int, bool] | None:
        """(primary key, active) of a deployment, or None."""
        with self.sessions() as s:
            row = s.execute(
                select(Deployment.id, Deployment.active).where(
                    Deployment.registration_id == registration_pk,
                    Deployment.deployment_id == deployment_id,
                )
            ).first()
        return (row[0], row[1]) if row else None


def to_pylti1p3(info: RegistrationInfo, keyring: Keyring) -> PyRegistration:
    """A pylti1p3 ``Registration`` carrying the tool's current signing key."""
    signing = keyring.signing_key()
    reg = PyRegistration()
    reg.set_issuer(info.issuer).set_client_id(info.client_id)
    reg.set_auth_login_url(info.auth_login_url).set_auth_token_url(info.auth_token_url)
    if info.auth_audience:
        reg.set_auth_audience(info.auth_audience)
    reg.set_key_set_url(info.key_set_url).set_key_set(info.key_set)  # type: ignore[arg-type]
    reg.set_tool_private_key(signing.private_pem)
    reg.set_tool_public_key(None)
    # pylti1p3 derives the kid from the public key; ours is the RFC 7638 thumbprint.
    reg.get_kid = lambda: signing.kid  # type: ignore[method-assign]
    return reg


class DbToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """pylti1p3 tool configuration over the database (many issuers, many clients)."""

    def __init__(self, registry: Registry, keyring: Keyring) -> None:
        super().__init__()
        self.registry = registry
        self.keyring = keyring

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> PyRegistration:
        return to_pylti1p3(self.registry.find(iss, None), self.keyring)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> PyRegistration:
        return to_pylti1p3(self.registry.find(iss, client_id), self.keyring)

    def find_deployment(self, iss: str, deployment_id: str) -> PyDeployment | None:
        info = self.registry.find(iss, None)
        return self._deployment(info, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> PyDeployment | None:
        return self._deployment(self.registry.find(iss, client_id), deployment_id)

    def _deployment(self, info: RegistrationInfo, deployment_id: str) -> PyDeployment | None:
        found = self.registry.deployment(info.pk, deployment_id)
        if found is None or not found[1]:
            return None
        return PyDeployment().set_deployment_id(deployment_id)
