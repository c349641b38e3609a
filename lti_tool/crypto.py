"""Keyed pseudonyms and at-rest encryption derived from the tool's secret.

Both derive separate keys from ``LMS_BRIDGE_SECRET_KEY`` with HKDF, so the
one secret an operator manages protects private keys and LMS user ids. Changing
the secret makes stored pseudonyms and encrypted values unreadable: rotate
keys with ``lms-bridge keys rotate`` instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    def __init__(self, secret: str) -> None:
        self._pseudonym_key = self._derive(secret, b"lms-bridge pseudonym v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(self._derive(secret, b"lms-bridge at-rest v1")))

    @staticmethod
    def _derive(secret: str, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret.encode("utf-8")
        )

    def pseudonym(self, *parts: str) -> str:
        """A stable keyed hash of ``parts`` (e.g. issuer and sub)."""
        msg = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._pseudonym_key, msg, hashlib.sha256).hexdigest()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: LMS_BRIDGE_SECRET_KEY changed?") from exc
