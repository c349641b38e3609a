"""Launch validation: an explicit chain, one typed error per failure.

Order: request params → state (single-use, bound to this browser by cookie or
platform storage) → JWT format and header → registration (iss, aud, azp) →
signature and time claims (exp required, leeway for Moodle's 60 s tokens) →
nonce (matches the login, single-use across all workers) → message (version,
type, required claims) → deployment (known, active) → target_link_uri (ours).

Nothing here writes application data; only the state is consumed and the
nonce recorded, so a refused launch leaves no rows behind.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_tool.protocol import claims as c
from lti_tool.protocol.errors import LaunchError, RegistrationLookupError, ReplayError
from lti_tool.protocol.login import is_ours
from lti_tool.protocol.platform_keys import PlatformKeyCache
from lti_tool.protocol.registry import RegistrationInfo, Registry
from lti_tool.protocol.roles import primary_role, tool_roles
from lti_tool.store import Store

ALLOWED_ALGS = ("RS256", "RS384", "RS512", "ES256", "ES384")


@dataclass
class StateRecord:
    state: str
    iss: str
    client_id: str
    nonce: str
    storage: bool
    storage_target: str | None = None
    auth_origin: str = ""
    login: dict[str, str] = field(default_factory=dict)


@dataclass
class ValidatedLaunch:
    """A launch that passed every check."""

    claims: dict[str, Any]
    registration: RegistrationInfo
    deployment_pk: int
    message_type: str
    roles: list[str]
    role: str

    @property
    def deployment_id(self) -> str:
        return str(self.claims[c.DEPLOYMENT_ID])

    @property
    def context(self) -> dict[str, Any]:
        ctx = self.claims.get(c.CONTEXT)
        return ctx if isinstance(ctx, dict) else {}

    @property
    def resource_link(self) -> dict[str, Any]:
        rl = self.claims.get(c.RESOURCE_LINK)
        return rl if isinstance(rl, dict) else {}

    @property
    def custom(self) -> dict[str, Any]:
        cu = self.claims.get(c.CUSTOM)
        return cu if isinstance(cu, dict) else {}

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == c.DEEP_LINKING_REQUEST

    @property
    def locale(self) -> str | None:
        lp = self.claims.get(c.LAUNCH_PRESENTATION)
        return lp.get("locale") if isinstance(lp, dict) else None


def _b64json(part: str) -> Any:
    pad = "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(part + pad))


class LaunchValidator:
    def __init__(
        self,
        *,
        registry: Registry,
        keys: PlatformKeyCache,
        store: Store,
        base_url: str,
        leeway: int = 60,
        replay_window: int = 24 * 3600,
    ) -> None:
        self.registry = registry
        self.keys = keys
        self.store = store
        self.base_url = base_url
        self.leeway = leeway
        self.replay_window = replay_window

    # -- state -------------------------------------------------------------
    def peek_state(self, state: str | None) -> StateRecord:
        """Look the state up without consuming it (for the storage relay)."""
        if not state:
            raise LaunchError("The launch has no state parameter.", code="state_missing")
        record = self.store.get("state:" + state)
        if record is None:
            if self.store.get("state-used:" + state) is not None:
                raise ReplayError("This launch was already used.", code="launch_replayed")
            raise LaunchError(
                "The launch state is unknown or expired. Start the tool again from the course.",
                code="state_not_found",
            )
        return StateRecord(
            state=state,
            iss=record["iss"],
            client_id=record["client_id"],
            nonce=record["nonce"],
            storage=bool(record.get("storage")),
            storage_target=record.get("storage_target"),
            auth_origin=record.get("auth_origin", ""),
            login=record.get("login") or {},
        )

    def consume_state(self, state: str) -> StateRecord:
        record = self.peek_state(state)
        if self.store.pop("state:" + state) is None:
            raise ReplayError("This launch was already used.", code="launch_replayed")
        self.store.put("state-used:" + state, 1, self.replay_window)
        return record

    # -- the chain -----------------------------------------------------------
    def validate(self, id_token: str | None, state: StateRecord) -> ValidatedLaunch:
        if not id_token:
            raise LaunchError("The launch has no id_token.", code="id_token_missing")
        header, body = self._parse(id_token)
        reg, client_id = self._registration(body, state)
        verified = self._verify(id_token, header, reg, client_id)
        self._nonce(verified, state)
        message_type = self._message(verified)
        deployment_pk = self._deployment(verified, reg)
        self._target(verified)
        roles = verified[c.ROLES]
        return ValidatedLaunch(
            claims=verified,
            registration=reg,
            deployment_pk=deployment_pk,
            message_type=message_type,
            roles=tool_roles(roles),
            role=primary_role(roles),
        )

    def _parse(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = token.split(".")
        if len(parts) != 3:
            raise LaunchError("The id_token is not a JWT.", code="jwt_malformed")
        try:
            header, body = _b64json(parts[0]), _b64json(parts[1])
        except (ValueError, UnicodeDecodeError) as exc:
            raise LaunchError("The id_token cannot be decoded.", code="jwt_malformed") from exc
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchError("The id_token cannot be decoded.", code="jwt_malformed")
        if not header.get("kid"):
            raise LaunchError("The id_token header has no kid.", code="kid_missing")
        if header.get("alg") not in ALLOWED_ALGS:
            raise LaunchError("The id_token uses an algorithm we do not accept.", code="alg_unsupported")
        return header, body

    def _registration(self, body: dict[str, Any], state: StateRecord) -> tuple[RegistrationInfo, str]:
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchError("The id_token has no issuer.", code="claim_missing_iss")
        aud = body.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not auds:
            raise LaunchError("The id_token has no audience.", code="aud_missing")
        azp = body.get("azp")
        if azp is not None and azp not in auds:
            raise LaunchError("azp is not one of the audiences.", code="azp_mismatch")
        if iss != state.iss:
            if not self.registry.has_issuer(iss):
                raise RegistrationLookupError(
                    "This LMS (issuer) is not registered with LMS Bridge.", code="issuer_unknown"
                )
            raise LaunchError("The token does not belong to this login.", code="state_mismatch")
        if state.client_id not in auds:
            if any(isinstance(a, str) and self.registry.has_client(iss, a) for a in auds):
                raise LaunchError("The token does not belong to this login.", code="state_mismatch")
            if isinstance(aud, list):
                raise LaunchError("The token's audiences do not include this tool.", code="aud_mismatch")
            raise RegistrationLookupError(
                "This client_id is not registered for the LMS.", code="client_unknown"
            )
        if len(auds) > 1 and azp is None:
            raise LaunchError("Several audiences but no azp.", code="azp_missing")
        if azp is not None and azp != state.client_id:
            raise LaunchError("The token was issued for another client (azp).", code="azp_mismatch")
        return self.registry.find(iss, state.client_id), state.client_id

    def _verify(
        self, token: str, header: dict[str, Any], reg: RegistrationInfo, client_id: str
    ) -> dict[str, Any]:
        key = self.keys.key_for(reg.key_set_url, reg.key_set, header["kid"], header["alg"])
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=client_id,
                issuer=reg.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"], "verify_iat": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError("The id_token has expired.", code="token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError("The id_token is not valid yet (iat/nbf).", code="token_not_yet_valid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError(f"The id_token has no {exc.claim}.", code=f"claim_missing_{exc.claim}") from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchError("The token is not meant for this tool (aud).", code="aud_mismatch") from exc
        except jwt.InvalidIssuerError as exc:
            raise LaunchError("The token issuer does not match.", code="issuer_mismatch") from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchError("The id_token signature is not valid.", code="signature_invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError("The id_token is not valid.", code="jwt_invalid") from exc

    def _nonce(self, body: dict[str, Any], state: StateRecord) -> None:
        nonce = body.get("nonce")
        if not nonce or not isinstance(nonce, str):
            raise LaunchError("The id_token has no nonce.", code="nonce_missing")
        if nonce != state.nonce:
            raise ReplayError("The nonce does not belong to this login.", code="nonce_mismatch")
        ttl = max(60, int(body["exp"]) + self.leeway - int(time.time()))
        if not self.store.add(f"nonce:{body['iss']}:{nonce}", 1, max(ttl, self.replay_window)):
            raise ReplayError("This id_token was already used.", code="nonce_replayed")

    def _deployment(self, body: dict[str, Any], reg: RegistrationInfo) -> int:
        dep = body.get(c.DEPLOYMENT_ID)
        if dep is None or dep == "":
            raise LaunchError("The launch has no deployment_id.", code="deployment_missing")
        found = self.registry.deployment(reg.pk, str(dep))
        if found is None:
            raise RegistrationLookupError("This deployment is not registered.", code="deployment_unknown")
        if not found[1]:
            raise RegistrationLookupError("This deployment has been deactivated.", code="deployment_inactive")
        return found[0]

    def _message(self, body: dict[str, Any]) -> str:
        if not any(isinstance(k, str) and k.startswith(c.LTI) for k in body):
            raise LaunchError("The token is not an LTI message.", code="not_lti_message")
        version = body.get(c.VERSION)
        if version is None:
            raise LaunchError("The launch has no LTI version.", code="version_missing")
        if version != "1.3.0":
            raise LaunchError("Only LTI 1.3.0 is supported.", code="version_wrong")
        message_type = body.get(c.MESSAGE_TYPE)
        if not message_type:
            raise LaunchError("The launch has no message type.", code="message_type_missing")
        if message_type not in c.ACCEPTED_MESSAGE_TYPES:
            raise LaunchError("This message type is not supported.", code="message_type_unknown")
        if not body.get("sub"):
            raise LaunchError("The launch has no user (sub).", code="sub_missing")
        roles = body.get(c.ROLES)
        if roles is None or not isinstance(roles, list):
            raise LaunchError("The launch has no roles claim.", code="roles_missing")
        if message_type == c.RESOURCE_LINK_REQUEST:
            rl = body.get(c.RESOURCE_LINK)
            if not isinstance(rl, dict) or not rl.get("id"):
                raise LaunchError("The launch has no resource link id.", code="resource_link_missing")
        else:
            settings = body.get(c.DL_SETTINGS)
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise LaunchError(
                    "The deep linking request has no return URL.", code="deep_linking_settings_missing"
                )
        return str(message_type)

    def _target(self, body: dict[str, Any]) -> None:
        target = body.get(c.TARGET_LINK_URI)
        if not target:
            if body.get(c.MESSAGE_TYPE) == c.DEEP_LINKING_REQUEST:
                return  # optional for deep linking requests
            raise LaunchError("The launch has no target_link_uri.", code="target_link_uri_missing")
        if not isinstance(target, str) or not is_ours(target, self.base_url):
            raise LaunchError(
                "The launch's target_link_uri does not point to this tool.", code="target_link_uri_foreign"
            )
