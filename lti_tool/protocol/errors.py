"""Typed LTI errors, each with a stable machine-readable ``code``.

Exception tree::

    LtiError                      (400 unless said otherwise)
    ├── LoginError                 OIDC login initiation refused
    ├── LaunchError                id_token/state refused
    │   └── ReplayError            state or nonce seen before
    ├── RegistrationLookupError    unknown issuer / client / deployment (403)
    ├── DynamicRegistrationError   tool registration with a platform failed (400/502)
    └── ServiceError               AGS/NRPS/token call to the platform failed (502)

The code goes to the ``X-LTI-Error`` header; the message is safe to show
(no secrets, no personal data).
"""

from __future__ import annotations


class LtiError(Exception):
    status = 400
    code = "lti_error"

    def __init__(self, message: str, code: str | None = None, status: int | None = None, **params: object) -> None:
        # ``message`` is an English template (``%(name)s`` placeholders filled
        # from ``params``); the web layer translates the template, not the result.
        self.template = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
        if code:
            self.code = code
        if status:
            self.status = status


class LoginError(LtiError):
    code = "login_invalid"


class LaunchError(LtiError):
    code = "launch_invalid"


class ReplayError(LaunchError):
    code = "launch_replayed"


class RegistrationLookupError(LtiError):
    status = 403
    code = "registration_unknown"


class DynamicRegistrationError(LtiError):
    code = "registration_failed"


class ServiceError(LtiError):
    status = 502
    code = "platform_service_failed"
