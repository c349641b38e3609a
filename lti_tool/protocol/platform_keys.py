"""Platform public keys (JWKS), cached with respect to rotation.

A launch signed with a ``kid`` we know is verified from memory. An unknown
``kid`` (the platform rotated its key) triggers one refetch of the key set;
further unknown kids within ``refetch_interval`` seconds of that refetch are
refused without fetching, so a flood of forged tokens cannot make us hammer
the platform. Key sets are per worker process; each fetches once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from lti_tool.protocol.errors import LaunchError


class PlatformKeyCache:
    def __init__(self, http: requests.Session, refetch_interval: float = 60.0, timeout: float = 10.0):
        self.http = http
        self.refetch_interval = refetch_interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sets: dict[str, dict[str, Any]] = {}
        self._forced: dict[str, float] = {}
        self.fetches = 0

    def _fetch(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        try:
            resp = self.http.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
            resp.raise_for_status()
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise LaunchError(
                "The LMS key set could not be fetched.", code="platform_keys_unavailable", status=502
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise LaunchError(
                "The LMS key set is not a JWKS document.", code="platform_keys_unavailable", status=502
            )
        return data

    @staticmethod
    def _select(keyset: dict[str, Any], kid: str) -> dict[str, Any] | None:
        for key in keyset.get("keys", []):
            if isinstance(key, dict) and key.get("kid") == kid:
                return key
        return None

    def key_for(self, url: str | None, inline: dict[str, Any] | None, kid: str, alg: str) -> PyJWK:
        if inline is not None:
            jwk = self._select(inline, kid)
        else:
            assert url is not None
            with self._lock:
                cached = self._sets.get(url)
                last_forced = self._forced.get(url)
            jwk = self._select(cached, kid) if cached is not None else None
            if jwk is None:
                now = time.monotonic()
                may_refetch = last_forced is None or now - last_forced >= self.refetch_interval
                if cached is None or may_refetch:
                    keyset = self._fetch(url)
                    with self._lock:
                        self._sets[url] = keyset
                        if cached is not None:
                            self._forced[url] = now
                    jwk = self._select(keyset, kid)
        if jwk is None:
            raise LaunchError("The token was signed with a key the LMS does not publish.", code="kid_unknown")
        if jwk.get("alg", alg) != alg:
            raise LaunchError("The key's algorithm does not match the token.", code="alg_mismatch")
        try:
            return PyJWK(jwk, algorithm=alg)
        except PyJWKError as exc:
            raise LaunchError("The LMS published an unusable key.", code="kid_unknown") from exc
