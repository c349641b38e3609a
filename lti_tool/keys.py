"""The tool's own signing keys: generated on first use, rotated, retired.

The JWKS publishes every key that is ``active`` or ``retiring`` so that
platforms which cached the previous key set keep verifying messages signed
just before a rotation. Only the newest active key signs.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.crypto import SecretBox
from lti_tool.db import utcnow
from lti_tool.models import ToolKey

PUBLISHED = ("active", "retiring")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_jwk: dict[str, Any]


def _new_key() -> tuple[str, str, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    jwk = JWK.from_pem(pem.encode("ascii"))
    kid = jwk.thumbprint()
    public = json.loads(jwk.export_public())
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return kid, pem, public


class Keyring:
    """Access to the tool keys with a short in-process cache."""

    CACHE_SECONDS = 30.0

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box
        self._lock = threading.Lock()
        self._cached: tuple[float, SigningKey, dict[str, Any]] | None = None

    def _load(self) -> tuple[SigningKey, dict[str, Any]]:
        with self.sessions() as s:
            keys = s.scalars(
                select(ToolKey).where(ToolKey.status.in_(PUBLISHED)).order_by(ToolKey.id)
            ).all()
            active = [k for k in keys if k.status == "active"]
            if not active:
                self._generate(s)
                return self._load()
            newest = active[-1]
            signing = SigningKey(
                kid=newest.kid,
                private_pem=self.box.decrypt(newest.private_key_enc),
                public_jwk=json.loads(newest.public_jwk),
            )
            jwks = {"keys": [json.loads(k.public_jwk) for k in keys]}
            return signing, jwks

    def _generate(self, s: Session) -> ToolKey:
        kid, pem, public = _new_key()
        key = ToolKey(
            kid=kid, private_key_enc=self.box.encrypt(pem), public_jwk=json.dumps(public), status="active"
        )
        s.add(key)
        s.commit()
        return key

    def _current(self) -> tuple[SigningKey, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.CACHE_SECONDS:
                signing, jwks = self._load()
                self._cached = (now, signing, jwks)
            return self._cached[1], self._cached[2]

    def signing_key(self) -> SigningKey:
        return self._current()[0]

    def jwks(self) -> dict[str, Any]:
        return self._current()[1]

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def rotate(self) -> tuple[str, list[str]]:
        """Make a new active key; earlier active keys become ``retiring``."""
        with self.sessions() as s:
            previous = s.scalars(select(ToolKey).where(ToolKey.status == "active")).all()
            for key in previous:
                key.status = "retiring"
            new = self._generate(s)
            kid = new.kid
        self.invalidate()
        return kid, [k.kid for k in previous]

    def retire(self, kid: str) -> None:
        with self.sessions() as s:
            key = s.scalar(select(ToolKey).where(ToolKey.kid == kid))
            if key is None:
                raise LookupError(f"no tool key with kid {kid!r}")
            if key.status == "active":
                raise ValueError("the active key signs messages: rotate first, then retire it")
            key.status = "retired"
            key.retired_at = utcnow()
            s.commit()
        self.invalidate()

    def listing(self) -> list[dict[str, Any]]:
        with self.sessions() as s:
            return [
                {"kid": k.kid, "status": k.status, "created_at": k.created_at.isoformat()}
                for k in s.scalars(select(ToolKey).order_by(ToolKey.id))
            ]
