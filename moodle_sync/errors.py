"""Errors of the Moodle client and the sync engine, under one root.

::

    SyncError
    ├── MoodleError            Moodle refused: .errorcode .message .debuginfo .wsfunction .exception .hint
    │   ├── ConfigurationError invalid/expired token, wrong site URL, web services or REST disabled,
    │   │                      every refusal of /login/token.php
    │   ├── AccessDenied       .function not in the token's service (``accessexception``, or
    │   │                      ``invalidrecordunknown`` when site info shows the function missing)
    │   │                      or .capability missing (``nopermissions``)
    │   ├── InvalidParameter   Moodle's parameter validation (``invalidparameter``, …);
    │   │   │                  .possibly_truncated when the request was large enough to be cut by PHP
    │   │   └── AlreadyExists  shortname / idnumber taken (a duplicate username is only
    │   │                      ``invalidparameter``, so it stays an InvalidParameter)
    │   ├── NotFound           the record does not exist (``invalidrecord…``, unknown ids)
    │   └── SiteBusy           Moodle's transient lock errors (``locktimeout``, ``sessionwaiterr``)
    ├── TransportError         connection, timeout, HTTP 408/429/5xx after the read retries;
    │                          .maybe_applied is True when a *write* may have been carried out
    ├── TruncatedRequest       a request would exceed max_input_vars, or PHP cut it (.detected)
    ├── SyncConflict           another sync holds the target's lock
    └── PlanError              the desired state or the plan cannot be used (invalid input, stale plan)

Moodle answers every error with HTTP 200 and ``exception``/``errorcode``/``message``
(``debuginfo`` only with debugging on); :func:`classify` turns such a payload into
the right class. Callers map the classes to exit codes or HTTP answers in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class SyncError(Exception):
    """Root of every error raised by ``moodle_sync``."""


class MoodleError(SyncError):
    """Moodle answered with an error payload (or in a way that shows it cannot be used)."""

    def __init__(
        self,
        message: str,
        *,
        errorcode: str | None = None,
        debuginfo: str | None = None,
        wsfunction: str | None = None,
        exception: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errorcode = errorcode
        self.debuginfo = debuginfo
        self.wsfunction = wsfunction
        self.exception = exception
        self.hint = hint

    def __str__(self) -> str:
        parts = [self.message]
        if self.errorcode:
            parts.append(f"[{self.errorcode}]")
        if self.wsfunction:
            parts.append(f"in {self.wsfunction}")
        if self.debuginfo:
            parts.append(f"({self.debuginfo})")
        text = " ".join(parts)
        return f"{text} – {self.hint}" if self.hint else text


class ConfigurationError(MoodleError):
    """The site, the token or the service is not set up so that the tool can work."""


class AccessDenied(MoodleError):
    """The token may not do this: a function missing from its service, or a capability."""

    def __init__(self, message: str, *, function: str | None = None, capability: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.function = function
        self.capability = capability


class InvalidParameter(MoodleError):
    """Moodle's parameter validation refused the request; a batch is rolled back as a whole."""

    def __init__(self, message: str, *, possibly_truncated: bool = False, nvars: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.possibly_truncated = possibly_truncated
        self.nvars = nvars


class AlreadyExists(InvalidParameter):
    """A unique value (course shortname, idnumber) is already used by another object."""


class NotFound(MoodleError):
    """The record asked for does not exist."""


class SiteBusy(MoodleError):
    """Moodle could not get one of its locks in time; nothing was changed."""


class TransportError(SyncError):
    """No usable answer: connection failure, timeout or HTTP 408/429/5xx."""

    def __init__(
        self,
        message: str,
        *,
        wsfunction: str | None = None,
        status: int | None = None,
        maybe_applied: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.wsfunction = wsfunction
        self.status = status
        self.maybe_applied = maybe_applied
        self.attempts = attempts

    def __str__(self) -> str:
        text = super().__str__()
        if self.wsfunction:
            text += f" in {self.wsfunction}"
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        if self.maybe_applied:
            text += " (the write may have been carried out: look the object up before creating it again)"
        return text


class TruncatedRequest(SyncError):
    """A request has more form variables than PHP's ``max_input_vars`` accepts."""

    def __init__(
        self, message: str, *, wsfunction: str | None = None, nvars: int = 0, limit: int = 0, detected: bool = False
    ) -> None:
        super().__init__(message)
        self.wsfunction = wsfunction
        self.nvars = nvars
        self.limit = limit
        self.detected = detected


class SyncConflict(SyncError):
    """Another sync on the same target is running."""

    def __init__(self, target: str, holder: str | None = None) -> None:
        who = f" (held by {holder})" if holder else ""
        super().__init__(f"another sync on {target} is running{who}; try again when it has finished")
        self.target = target
        self.holder = holder


class PlanError(SyncError):
    """The desired state is invalid, or a plan can no longer be applied."""


# -- classification of Moodle's error payloads ------------------------------------------------

#: token, site or service set up wrongly (webservice/lib.php, login/token.php)
CONFIGURATION_CODES = frozenset(
    {
        "invalidtoken",
        "invalidtimedtoken",
        "invalidiptoken",
        "invalidtokensession",
        "usernotallowed",
        "servicenotavailable",
        "servicerequireslogin",
        "missingrequiredcapability",
        "enablewsdescription",
        "wsaccessuserdeleted",
        "wsaccessusersuspended",
        "wsaccessusernologin",
        "wsaccessuserexpired",
        "wsaccessusernotconfirmed",
        "sitemaintenance",
        "upgraderunning",
        "invalidlogin",
        "usernamenotfound",
        "usernotconfirmed",
        "passwordisexpired",
        "restoredaccountresetpassword",
        "forbiddenwsuser",
        "noguest",
        "privatefilesupload",
    }
)
ACCESS_CODES = frozenset(
    {
        "accessexception",
        "nopermissions",
        "requireloginerror",
        "nocapabilitytousethisservice",
        "restrictedcontextexception",
    }
)
INVALID_CODES = frozenset({"invalidparameter", "invalidresponse", "codingerror", "wsusercannotassign", "wsnoinstance"})
EXISTS_CODES = frozenset(
    {
        "shortnametaken",
        "courseidnumbertaken",
        "categoryidnumbertaken",
        "idnumbertaken",
        "groupexistforcourse",
        "filenameexist",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "invalidrecord",
        "invalidrecordunknown",
        "invalidcourseid",
        "invalidgroupid",
        "invaliduser",
        "invaliduserid",
        "unknowncourse",
        "unknowncourseidnumber",
        "unknowngroup",
        "sectionnotexist",
        "coursenotfound",
    }
)
#: Moodle's transient lock errors: ``locktimeout`` (e.g. lib/modinfolib.php when two
#: requests rebuild one course's cache) and ``sessionwaiterr`` (session lock).
TRANSIENT_CODES = frozenset({"locktimeout", "sessionwaiterr"})

_CAPABILITY = re.compile(r"\b([a-z]+/[a-z0-9_]+:[a-z0-9_]+)\b")


def classify(payload: Mapping[str, Any], *, wsfunction: str | None = None) -> MoodleError:
    """Return the typed error for a Moodle error payload (REST ``exception`` or AJAX ``error`` form)."""
    errorcode = str(payload.get("errorcode") or "") or None
    message = str(payload.get("message") or payload.get("error") or "Moodle reported an error")
    debuginfo = payload.get("debuginfo")
    kw: dict[str, Any] = {
        "errorcode": errorcode,
        "debuginfo": str(debuginfo) if debuginfo else None,
        "wsfunction": wsfunction,
        "exception": payload.get("exception"),
    }
    code = errorcode or ""
    if code in CONFIGURATION_CODES:
        return ConfigurationError(message, hint=_configuration_hint(code), **kw)
    if code == "accessexception" and debuginfo and "expired" in str(debuginfo):
        return ConfigurationError(message, hint="the token has expired: create a new one", **kw)
    if code in ACCESS_CODES:
        capability = None
        match = _CAPABILITY.search(f"{debuginfo or ''} {message}")
        if code == "nopermissions":
            capability = match.group(1) if match else _parenthesised(message)
        function = wsfunction if code == "accessexception" else None
        return AccessDenied(message, function=function, capability=capability, **kw)
    if code in EXISTS_CODES:
        return AlreadyExists(message, **kw)
    if code in INVALID_CODES:
        return InvalidParameter(message, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(message, **kw)
    if code in TRANSIENT_CODES:
        return SiteBusy(message, hint="Moodle was busy; try again in a moment", **kw)
    return MoodleError(message, **kw)


def _parenthesised(message: str) -> str | None:
    match = re.search(r"\(([^()]+)\)\.?\s*$", message)
    return match.group(1) if match else None


def _configuration_hint(code: str) -> str:
    hints = {
        "invalidtoken": "the token is unknown to this site: check the site URL and create a token for the service",
        "invalidtimedtoken": "the token has expired: create a new one",
        "invalidiptoken": "the token is restricted to other IP addresses than the tool's",
        "usernotallowed": "the service has authorised users only: add the token's user to them",
        "servicenotavailable": "the service does not exist or is disabled",
        "enablewsdescription": "enable web services (Site administration > Advanced features)",
        "invalidlogin": "wrong username or password",
        "sitemaintenance": "the site is in maintenance mode",
        "upgraderunning": "the site is being upgraded; try again later",
    }
    return hints.get(code, "check the site's web-service setup")
