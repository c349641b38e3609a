"""Targets, preflight and runs: what the CLI and the workspace pages share.

Nothing here renders or parses requests. Refusals raise :class:`SyncRefused`
with an English message template (``N_``-marked, so the catalog picks it up);
pages translate the template, the CLI prints ``message``.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox
from lti_tool.db import utcnow
from lti_tool.protocol.errors import LtiError
from lti_tool.sync.desired import BoundCourse, Built, bound_courses, same_site, school_course
from lti_tool.sync.models import ACTIVE, FAILED, MODES, QUEUED, SCOPES, SyncLock, SyncMapping, SyncRun, SyncTarget
from lti_tool.sync.store import QUEUED_TTL, DbTargetLock, aware
from lti_tool.workspaces.models import MemberSchool, Network
from moodle_sync.client import MoodleClient
from moodle_sync.plan import CREATE, LEAVE, REMOVE, UPDATE, Plan
from moodle_sync.preflight import Feature, PreflightReport, preflight

#: Permission of every sync page and action; add ``"sync.manage": frozenset({MANAGER})`` to roles.PERMISSIONS.
SYNC_MANAGE = "sync.manage"
#: Moodle auth plugins the tool may give the accounts it creates: the site's single sign-on, or no login.
#: Never ``manual``/``email``: the tool does not create password accounts somebody would have to be told about.
USER_AUTHS = ("nologin", "oauth2", "saml2", "shibboleth", "ldap", "cas", "lti")
#: What the preflight checks (cartridge delivery too, so the operator sees what the OER delivery will need).
FEATURES = (Feature.PROVISIONING, Feature.SECTION_TITLES, Feature.PRUNE, Feature.CARTRIDGE_DELIVERY)
#: Page clients wait less than background runs: a page should not hang for minutes.
QUICK_TIMEOUT = (5.0, 20.0)
RUN_TIMEOUT = (10.0, 60.0)
OPS = (CREATE, UPDATE, REMOVE, LEAVE)

_TOKEN = re.compile(r"^[\x21-\x7e]{8,255}$")
_REST_SUFFIXES = ("/webservice/rest/server.php", "/login/token.php", "/webservice/upload.php", "/index.php")


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction only"
    return message


class SyncRefused(LtiError):
    """A sync request is refused; ``message`` says why (safe to show: no token, no stack trace)."""

    code = "sync_refused"


class SyncWarning(SyncRefused):
    """Not a refusal: something an operator should check (``message``; pages translate ``template``)."""

    code = "sync_warning"


# -- targets ----------------------------------------------------------------------------------------


def normalize_url(raw: str, *, allow_http: bool = False) -> str:
    """Return the site's base URL (scheme://host[:port][/path], no trailing slash) or refuse it."""
    text = (raw or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SyncRefused(N_("This is not a web address: give the Moodle site's address, e.g. https://moodle.example.org."),
                          code="sync_url_invalid") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SyncRefused(N_("This is not a web address: give the Moodle site's address, e.g. https://moodle.example.org."),
                          code="sync_url_invalid")
    if parts.scheme == "http" and not allow_http:
        raise SyncRefused(N_("The site address must start with https:// (the token travels with every request)."),
                          code="sync_url_insecure")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SyncRefused(N_("Give the site's address only, without user name, query or fragment."),
                          code="sync_url_invalid")
    path = parts.path.rstrip("/")
    for suffix in _REST_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    host = parts.hostname.lower() + (f":{port}" if port else "")
    url = urlunsplit((parts.scheme, host, path.rstrip("/"), "", ""))
    if len(url) > 2000:
        raise SyncRefused(N_("The site address is too long."), code="sync_url_invalid")
    return url


def check_token(raw: str | None) -> str:
    token = (raw or "").strip()
    if not _TOKEN.match(token):
        raise SyncRefused(N_("The token is missing or malformed: paste the web-service token exactly as Moodle shows it."),
                          code="sync_token_invalid")
    return token


def check_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > 255:
        raise SyncRefused(N_("Give the target a name of at most 255 characters."), code="sync_name_invalid")
    return name


def check_auth(raw: str | None) -> str:
    value = (raw or "nologin").strip()
    if value not in USER_AUTHS:
        raise SyncRefused(N_("Unknown sign-in method for the accounts: choose one of %(choices)s."),
                          code="sync_auth_invalid", choices=", ".join(USER_AUTHS))
    return value


def schools_with_course(s: Session, network: Network) -> list[tuple[MemberSchool, BoundCourse]]:
    """The network's schools with a course bound in the workspace (the first bound one), by name."""
    schools = list(s.scalars(select(MemberSchool).where(MemberSchool.network_id == network.id)
                             .order_by(MemberSchool.name, MemberSchool.id)))
    first: dict[int, BoundCourse] = {}
    for course in bound_courses(s, [school.id for school in schools]):
        first.setdefault(course.school_id, course)
    return [(school, first[school.id]) for school in schools if school.id in first]


def check_school(s: Session, network: Network, school_id: int | str | None, site_url: str) -> MemberSchool:
    """The member school of a school target, which must have a Moodle course bound in the workspace."""
    school = s.get(MemberSchool, int(school_id)) if str(school_id or "").strip().isdigit() else None
    if school is None or school.network_id != network.id:
        raise SyncRefused(N_("Choose one of the network's schools for a target in a school's course."),
                          code="sync_school_invalid")
    bound = school_course(s, school.id, site_url)
    if bound is None:
        raise SyncRefused(N_("%(school)s has no course bound in the workspace yet: bind the school's course first."),
                          code="sync_school_unbound", school=school.name)
    if bound.course_id is None:
        raise SyncRefused(N_("The course bound to %(school)s has the context id %(context)s, which is not a Moodle "
                             "course id: a target in a school's course needs a Moodle course."),
                          code="sync_school_not_moodle", school=school.name, context=bound.context_id)
    return school


def site_warning(s: Session, target: SyncTarget) -> SyncWarning | None:
    """For a school target whose site is not the LMS the school's course was launched from: a warning."""
    if target.scope != "school" or target.school_id is None:
        return None
    school = s.get(MemberSchool, target.school_id)
    bound = school_course(s, target.school_id, target.site_url)
    if school is None or bound is None or same_site(bound.issuer, target.site_url):
        return None
    return SyncWarning(N_("The site %(url)s is not the LMS the course of %(school)s was bound from (%(issuer)s): "
                          "check that this is the school's own site."),
                       code="sync_site_mismatch", url=target.site_url, school=school.name, issuer=bound.issuer)


def add_target(s: Session, box: SecretBox, network: Network, *, name: str, site_url: str, token: str,
               user_auth: str = "nologin", created_by: int | None = None, allow_http: bool = False,
               scope: str = "network", school_id: int | str | None = None) -> SyncTarget:
    """Validate and add a Moodle target (not committed).

    ``scope`` ``network``: the network's own category and course. ``school``: the
    course bound to member school ``school_id`` in the workspace, on the school's
    own site (:func:`site_warning` says when the site looks like another one).
    """
    name = check_name(name)
    url = normalize_url(site_url, allow_http=allow_http)
    token = check_token(token)
    auth = check_auth(user_auth)
    if scope not in SCOPES:
        raise SyncRefused(N_("Choose whether the target gets the network's course or a school's course."),
                          code="sync_scope_invalid")
    school = check_school(s, network, school_id, url) if scope == "school" else None
    targets = list(s.scalars(select(SyncTarget).where(SyncTarget.network_id == network.id)))
    if any(t.name.lower() == name.lower() for t in targets):
        raise SyncRefused(N_("The network already has a target named %(name)s."), code="sync_name_taken", name=name)
    if school is None and any(t.site_url == url and t.scope == "network" for t in targets):
        raise SyncRefused(N_("The network already has a target for %(url)s."), code="sync_url_taken", url=url)
    if school is not None and any(t.site_url == url and t.school_id == school.id for t in targets):
        raise SyncRefused(N_("The network already has a target for the course of %(school)s on %(url)s."),
                          code="sync_url_taken", school=school.name, url=url)
    target = SyncTarget(network_id=network.id, name=name, kind="moodle", site_url=url, scope=scope,
                        school_id=school.id if school else None, user_auth=auth, created_by=created_by)
    set_token(target, box, token)
    s.add(target)
    s.flush()
    return target


def set_token(target: SyncTarget, box: SecretBox, token: str) -> None:
    token = check_token(token)
    target.token_enc = box.encrypt(token)
    target.token_hint = token[-4:]
    target.token_set_at = utcnow()


def token_of(box: SecretBox, target: SyncTarget) -> str:
    try:
        return box.decrypt(target.token_enc)
    except ValueError:
        raise SyncRefused(N_("The stored token cannot be read any more (was the tool's secret key changed?): enter the token again."),
                          code="sync_token_unreadable") from None


def client_for(box: SecretBox, target: SyncTarget, *, quick: bool = False) -> MoodleClient:
    if target.kind != "moodle":
        raise SyncRefused(N_("Targets of kind %(kind)s cannot be synced yet."), code="sync_kind", kind=target.kind)
    return MoodleClient(target.site_url, token_of(box, target), timeout=QUICK_TIMEOUT if quick else RUN_TIMEOUT,
                        retries=1 if quick else 3)


def scrub(text: str, token: str | None) -> str:
    """Never let the token through, whatever an error message echoed."""
    if token and token in text:
        text = text.replace(token, "[token]")
    return text


# -- preflight --------------------------------------------------------------------------------------


def preflight_dict(report: PreflightReport) -> dict[str, Any]:
    """The preflight as stored in ``sync_target.last_preflight`` (and shown by page and CLI)."""
    info = report.siteinfo
    return {
        "ok": report.ok,
        "error": str(report.error) if report.error is not None else None,
        "site_name": info.sitename if info else "",
        "release": report.release,
        "version": report.version,
        "site_calls_itself": info.siteurl if info else "",
        "url_matches": report.url_matches,
        "token_user": info.username if info else "",
        "checks": {
            check.feature.value: {
                "available": check.available,
                "missing": list(check.missing),
                "missing_optional": [list(pair) for pair in check.missing_optional],
                "via": check.via,
                "fallback": check.fallback,
                "notes": list(check.notes),
            }
            for check in report.checks.values()
        },
        "missing_functions": report.missing_functions,
        "text": report.render(),
    }


def run_preflight(s: Session, box: SecretBox, target: SyncTarget) -> dict[str, Any]:
    """Ask the site what the token may do; store and return the result (committed by the caller)."""
    token = token_of(box, target)
    with client_for(box, target, quick=True) as client:
        result = preflight_dict(preflight(client, FEATURES))
    result["error"] = scrub(result["error"], token) if result["error"] else None
    result["text"] = scrub(result["text"], token)
    target.last_preflight = result
    target.checked_at = utcnow()
    return result


# -- runs ---------------------------------------------------------------------------------------------


def start_run(s: Session, lock: DbTargetLock, target: SyncTarget, *, mode: str, prune: bool = False,
              dry_run: bool = False, requested_by: int | None = None, backend: str = "") -> SyncRun:
    """Take the target's lock for a new run and record it (committed); refuse (409) while another runs.

    The lock is taken first, under a fresh holder id, and only then the run is
    written: two requests racing for one target cannot both get a run. Runs
    that were still queued or running under an older holder have lost the
    target (their worker died and the lock lapsed): they are marked failed.
    """
    if mode not in MODES:
        raise SyncRefused(N_("Unknown run mode %(mode)s."), code="sync_mode", mode=mode)
    holder = "run-" + secrets.token_hex(8)
    if not lock.acquire(target.id, holder, ttl=QUEUED_TTL):
        current = active_run(s, target)
        raise SyncRefused(N_("Another plan or sync of this target is running (run %(run)s). Wait until it has finished."),
                          code="sync_busy", status=409, run=current.id if current else "?")
    with released_on_error(s, lock, target.id, holder):
        s.execute(update(SyncRun).where(SyncRun.target_id == target.id, SyncRun.status.in_(ACTIVE))
                  .values(status=FAILED, finished_at=utcnow(),
                          message="stopped without finishing (the worker ended or lost the target's lock); "
                                  "run the sync again: it resumes where it stopped"))
        run = SyncRun(target_id=target.id, mode=mode, prune=prune, dry_run=dry_run or mode == "plan",
                      status=QUEUED, backend=backend, lock_holder=holder, requested_by=requested_by,
                      message="waiting to start")
        s.add(run)
        s.commit()
    return run


@contextmanager
def released_on_error(s: Session, lock: DbTargetLock, target_id: int, holder: str) -> Iterator[None]:
    """Record a run under a lock just taken: if that fails, roll back and give the target's lock back."""
    try:
        yield
    except Exception:
        s.rollback()
        lock.release(target_id, holder)
        raise


def active_run(s: Session, target: SyncTarget) -> SyncRun | None:
    return s.scalar(select(SyncRun).where(SyncRun.target_id == target.id, SyncRun.status.in_(ACTIVE))
                    .order_by(SyncRun.id.desc()).limit(1))


def state_of(s: Session, run: SyncRun, now: datetime | None = None) -> str:
    """queued, running, done, failed – or stalled: active on paper, but its lock lapsed or passed on."""
    if run.status not in ACTIVE:
        return run.status
    row = s.get(SyncLock, run.target_id)
    expires = aware(row.expires_at) if row is not None else None
    if row is None or row.holder != run.lock_holder or expires is None or expires < (now or utcnow()):
        return "stalled"
    return run.status


def is_active(s: Session, run: SyncRun) -> bool:
    return state_of(s, run) in ACTIVE


def runs_of(s: Session, target: SyncTarget, limit: int = 10) -> list[SyncRun]:
    return list(s.scalars(select(SyncRun).where(SyncRun.target_id == target.id)
                          .order_by(SyncRun.id.desc()).limit(limit)))


def last_run(s: Session, target: SyncTarget) -> SyncRun | None:
    return s.scalar(select(SyncRun).where(SyncRun.target_id == target.id).order_by(SyncRun.id.desc()).limit(1))


def run_label(run: SyncRun) -> str:
    """plan, dry run, sync – or the mode of runs other features record on a target (e.g. deliver)."""
    if run.mode == "plan":
        return "plan"
    if run.mode == "apply":
        return "dry run" if run.dry_run else "sync"
    return run.mode


def mapping_count(s: Session, target: SyncTarget) -> int:
    return int(s.scalar(select(func.count()).select_from(SyncMapping).where(SyncMapping.target_id == target.id))
               or 0)


def plan_dict(plan: Plan, built: Built | None = None) -> dict[str, Any]:
    """A plan for the page: changes grouped by what happens (create/update/remove), unchanged ones counted."""
    groups: dict[str, list[dict[str, Any]]] = {CREATE: [], UPDATE: [], REMOVE: []}
    leave: Counter[str] = Counter()
    adopted: list[dict[str, Any]] = []
    for action in plan.actions:
        item = {"kind": action.kind, "key": action.key, "reason": action.reason, "blocked": action.blocked,
                "label": built.label(action.kind, action.key) if built else ""}
        if action.op == LEAVE:
            leave[action.kind] += 1
            if action.remember:
                adopted.append(item)
        else:
            groups[action.op].append(item)
    counts = plan.counts
    return {
        "counts": {op: counts.get(op, 0) for op in OPS},
        "changes": groups,
        "leave": dict(leave),
        "remembered": adopted,
        "blocked": len(plan.blocked),
        "noop": plan.is_noop,
        "notes": list(plan.notes),
        "release": plan.siteinfo.release,
        "prune": plan.prune,
        "reads": plan.reads,
    }


def report_counts(report: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """result -> kind -> number, from a stored ApplyReport.to_dict()."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for item in (report or {}).get("done", []):
        bucket = counts[item["result"]]
        bucket[item["kind"]] = bucket.get(item["kind"], 0) + 1
    return dict(counts)
