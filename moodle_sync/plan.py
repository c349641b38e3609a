"""``plan``: read the target's current state and say, per object, what a sync would do.

The plan is a readable diff – ``create``, ``update``, ``leave`` or ``remove``
with a reason – built from a handful of *reads* (site info, category, course,
sections, groups, group members, users, enrolments; batched). It writes
nothing. Rules:

* An object is found by its stable key (idnumber, username) whatever the
  mapping says; a mapped id that vanished from Moodle means "create again".
* ``update`` only when the tool's values changed since the last sync (the
  stored content hash) *and* Moodle does not already hold them. Edits made by
  hand in Moodle stay until the tool's own data changes.
* Found but unmapped objects are adopted (``leave``/``update`` with
  ``remember``); the mapping then records ``created=False`` – ``prune`` never
  removes what the tool did not create, and never sections or accounts.
* An action Moodle's service cannot carry out is ``blocked`` with the function
  to add; it costs no call.
* An existing course (``DesiredNetwork.existing_course_id``, a school's own
  course) is looked up by id and only ever ``leave``: adopted with
  ``created=False``, never created, updated or pruned; no category. Its
  sections are found by mapping or title, never by position (the school's own
  sections are not the tool's). A missing course is a :class:`PlanError`.
"""

from __future__ import annotations

import dataclasses
import html
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from moodle_sync.client import MoodleClient
from moodle_sync.desired import DEFAULT_ROLE_IDS, MOODLE_ROLES, DesiredNetwork
from moodle_sync.errors import AccessDenied, PlanError
from moodle_sync.mapping import Mapped, MappingStore, content_hash
from moodle_sync.preflight import INPLACE_EDITABLE, PLUGIN_SECTION_NAMES
from moodle_sync.records import Course, EnrolledUser, MoodleUser, Section, SiteInfo

CREATE, UPDATE, LEAVE, REMOVE = "create", "update", "leave", "remove"

#: Reads the planner needs; without them it cannot see the current state.
READS_NEEDED = (
    "core_course_get_categories",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_group_get_course_groups",
    "core_group_get_group_members",
    "core_user_get_users_by_field",
    "core_enrol_get_enrolled_users",
)
#: (kind, op) -> functions an action needs.
WRITES_NEEDED: dict[tuple[str, str], tuple[str, ...]] = {
    ("category", CREATE): ("core_course_create_categories",),
    ("category", UPDATE): ("core_course_update_categories",),
    ("course", CREATE): ("core_course_create_courses",),
    ("course", UPDATE): ("core_course_update_courses",),
    ("section", CREATE): ("core_courseformat_update_course",),
    ("group", CREATE): ("core_group_create_groups",),
    ("group", UPDATE): ("core_group_update_groups",),
    ("group", REMOVE): ("core_group_delete_groups",),
    ("user", CREATE): ("core_user_create_users",),
    ("user", UPDATE): ("core_user_update_users",),
    ("enrolment", CREATE): ("enrol_manual_enrol_users",),
    ("enrolment", UPDATE): ("enrol_manual_enrol_users",),
    ("enrolment", REMOVE): ("enrol_manual_unenrol_users",),
    ("membership", CREATE): ("core_group_add_group_members",),
    ("membership", REMOVE): ("core_group_delete_group_members",),
}
UNTITLED = content_hash({"title": ""})


@dataclass(frozen=True)
class Action:
    """One object's fate. ``fields`` hold what will be sent (parents by key, not id)."""

    op: str
    kind: str
    key: str
    reason: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    moodle_id: int | None = None
    remember: bool = False
    created: bool = True
    blocked: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def does_something(self) -> bool:
        """True when apply must call Moodle or write the mapping for this action."""
        return self.op != LEAVE or self.remember

    def describe(self) -> str:
        text = f"{self.op:<7} {self.kind:<10} {self.key}: {self.reason}"
        return f"{text} [blocked: {self.blocked}]" if self.blocked else text


@dataclass
class Plan:
    target: str
    network: DesiredNetwork
    actions: list[Action]
    prune: bool
    siteinfo: SiteInfo
    role_ids: dict[str, int]
    section_titles_via: str | None
    section_component: str
    fingerprint: str
    reads: int
    notes: list[str] = field(default_factory=list)

    def by_kind(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    def find(self, kind: str, key: str) -> Action | None:
        return next((a for a in self.actions if a.kind == kind and a.key == key), None)

    @property
    def counts(self) -> Counter[str]:
        return Counter(a.op for a in self.actions)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.does_something]

    @property
    def blocked(self) -> list[Action]:
        return [a for a in self.actions if a.blocked and a.does_something]

    @property
    def is_noop(self) -> bool:
        """True when applying would make no Moodle write and no mapping change."""
        return all(a.blocked for a in self.changes)

    def render(self, *, verbose: bool = False) -> str:
        """Return the plan as text: the changes (all actions with ``verbose``) and a summary."""
        info = self.siteinfo
        where = self.target
        if self.network.existing_course_id is not None:
            where += f", existing course id {self.network.existing_course_id}"
        lines = [f"Plan for network {self.network.key!r} on {where} (Moodle {info.release})"]
        for action in self.actions:
            if verbose or action.does_something:
                lines.append("  " + action.describe())
        counts = self.counts
        summary = ", ".join(f"{counts.get(op, 0)} {op}" for op in (CREATE, UPDATE, LEAVE, REMOVE))
        blocked = len(self.blocked)
        lines.append(f"Summary: {summary}" + (f" ({blocked} blocked)" if blocked else ""))
        lines.extend(f"Note: {note}" for note in self.notes)
        if self.is_noop:
            lines.append("Nothing to do: Moodle matches the network.")
        return "\n".join(lines)


def plan(
    client: MoodleClient,
    desired: DesiredNetwork,
    store: MappingStore,
    *,
    target: str | None = None,
    prune: bool = False,
    role_ids: Mapping[str, int] | None = None,
) -> Plan:
    """Compare ``desired`` with the target's state and mappings; make no write."""
    desired.validate()
    before = client.stats.copy()
    info = client.site_info(refresh=True)
    missing = info.missing(READS_NEEDED)
    if missing:
        raise AccessDenied(
            f"the token's service lacks functions to read the current state: {', '.join(missing)}",
            function=missing[0],
            hint="add them to the external service (or run the preflight for the full list)",
        )
    planner = _Planner(
        client, desired, store, target or client.site_url, prune, info, dict(role_ids or DEFAULT_ROLE_IDS)
    )
    actions = planner.run()
    return Plan(
        target=planner.target,
        network=desired,
        actions=actions,
        prune=prune,
        siteinfo=info,
        role_ids=planner.role_ids,
        section_titles_via=planner.titles_via,
        section_component=planner.section_component,
        fingerprint=fingerprint(store, planner.target, [(a.kind, a.key) for a in actions]),
        reads=client.stats.since(before).reads,
        notes=planner.notes,
    )


def fingerprint(store: MappingStore, target: str, keys: list[tuple[str, str]]) -> str:
    """Hash the store's mappings for ``keys``; apply refuses a plan whose mappings changed since."""
    state = [[kind, key, _mapped_tuple(store.get(target, kind, key))] for kind, key in sorted(set(keys))]
    return content_hash({"state": state})


def _mapped_tuple(mapped: Mapped | None) -> list[Any] | None:
    return None if mapped is None else [mapped.moodle_id, mapped.content_hash, mapped.created]


def _same(a: Any, b: Any) -> bool:
    """Compare a value Moodle returns with one the tool sends (Moodle may HTML-escape text)."""
    if isinstance(a, str) and isinstance(b, str):
        return html.unescape(a).strip() == html.unescape(b).strip()
    return bool(a == b)


class _Planner:
    def __init__(
        self,
        client: MoodleClient,
        desired: DesiredNetwork,
        store: MappingStore,
        target: str,
        prune: bool,
        info: SiteInfo,
        role_ids: dict[str, int],
    ) -> None:
        self.client = client
        self.desired = desired
        self.store = store
        self.target = target
        self.prune = prune
        self.info = info
        self.role_ids = role_ids
        self.actions: list[Action] = []
        self.notes: list[str] = []
        if PLUGIN_SECTION_NAMES in info.functions:
            self.titles_via: str | None = "plugin"
        elif INPLACE_EDITABLE in info.functions:
            self.titles_via = "inplace"
        else:
            self.titles_via = None
        self.section_component = f"format_{desired.course.format if desired.course else 'topics'}"
        self.course: Course | None = None
        self.course_id: int | None = None
        self.users: dict[str, MoodleUser] = {}
        self.enrolled: dict[str, EnrolledUser] = {}
        self.group_ids: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------------

    def mapped(self, kind: str, key: str) -> Mapped | None:
        return self.store.get(self.target, kind, key)

    def blocked(self, kind: str, op: str) -> str | None:
        missing = self.info.missing(WRITES_NEEDED.get((kind, op), ()))
        return f"needs {', '.join(missing)} in the token's service" if missing else None

    def add(self, action: Action) -> Action:
        self.actions.append(action)
        return action

    def decide(
        self,
        kind: str,
        key: str,
        fields: Mapping[str, Any],
        mapped: Mapped | None,
        found_id: int | None,
        differences: list[str],
        *,
        details: Mapping[str, Any] | None = None,
    ) -> Action:
        """The common rule for objects found by key: create, update, leave (and adopt)."""
        digest = content_hash(fields)
        details = details or {}
        if found_id is None:
            reason = (
                "not in Moodle yet" if mapped is None else f"was id {mapped.moodle_id}, gone from Moodle: create again"
            )
            return Action(
                CREATE, kind, key, reason, fields, digest, blocked=self.blocked(kind, CREATE), details=details
            )
        if mapped is not None and mapped.moodle_id == found_id:
            if mapped.content_hash == digest:
                return Action(
                    LEAVE, kind, key, "unchanged", fields, digest, found_id, created=mapped.created, details=details
                )
            if not differences:
                return Action(
                    LEAVE,
                    kind,
                    key,
                    "changed in the tool, Moodle already has it",
                    fields,
                    digest,
                    found_id,
                    remember=True,
                    created=mapped.created,
                    details=details,
                )
            return Action(
                UPDATE,
                kind,
                key,
                "; ".join(differences),
                fields,
                digest,
                found_id,
                remember=True,
                created=mapped.created,
                blocked=self.blocked(kind, UPDATE),
                details=details,
            )
        created = mapped.created if mapped is not None else False
        origin = (
            "found by its key" if mapped is None else f"found by its key as id {found_id} (mapped {mapped.moodle_id})"
        )
        if not differences:
            return Action(
                LEAVE,
                kind,
                key,
                f"{origin}; now mapped",
                fields,
                digest,
                found_id,
                remember=True,
                created=created,
                details=details,
            )
        return Action(
            UPDATE,
            kind,
            key,
            f"{origin}; " + "; ".join(differences),
            fields,
            digest,
            found_id,
            remember=True,
            created=created,
            blocked=self.blocked(kind, UPDATE),
            details=details,
        )

    @staticmethod
    def diff(pairs: list[tuple[str, Any, Any]]) -> list[str]:
        return [f"{name} {have!r} -> {want!r}" for name, have, want in pairs if not _same(have, want)]

    # -- objects ---------------------------------------------------------------------------------

    def run(self) -> list[Action]:
        if self.desired.existing_course_id is not None:
            self.plan_existing_course(self.desired.existing_course_id)
        else:
            self.plan_course(self.plan_category())
        self.plan_sections()
        self.plan_groups()
        self.plan_users()
        self.plan_enrolments()
        self.plan_memberships()
        return self.actions

    def plan_category(self) -> Action:
        desired = self.desired
        key = desired.category_idnumber
        found = self.client.category_by_idnumber(key)
        fields = {"name": desired.category_name, "idnumber": key, "parent": desired.category_parent}
        differences = (
            self.diff([("name", found.name, desired.category_name), ("parent", found.parent, desired.category_parent)])
            if found
            else []
        )
        return self.add(
            self.decide("category", key, fields, self.mapped("category", key), found.id if found else None, differences)
        )

    def plan_existing_course(self, course_id: int) -> Action:
        """A course the tool does not own: find it by id, adopt it, never change it."""
        key = self.desired.course_key
        found = next(iter(self.client.courses_by_field("id", course_id)), None)
        if found is None:
            raise PlanError(
                f"course id {course_id} does not exist on {self.info.siteurl or self.target} "
                "(or the token's user cannot see it): check that the school's course is bound in the workspace "
                "and that the target is the school's own site; nothing was changed"
            )
        self.course, self.course_id = found, found.id
        if found.format:
            self.section_component = f"format_{found.format}"
        mapped = self.mapped("course", key)
        fields = {"id": found.id}
        digest = content_hash(fields)
        remember = mapped is None or mapped.moodle_id != found.id or mapped.content_hash != digest or mapped.created
        reason = f"the school's course {found.fullname!r} (id {found.id}): used as it is, never changed" + (
            "; now mapped" if remember else ""
        )
        return self.add(
            Action(LEAVE, "course", key, reason, fields, digest, found.id, remember=remember, created=False)
        )

    def plan_course(self, category: Action) -> Action:
        course = self.desired.course
        assert course is not None  # validate() makes sure
        key = course.idnumber
        found = self.client.course_by_idnumber(key)
        fields = {
            "fullname": course.fullname,
            "shortname": course.shortname,
            "idnumber": key,
            "summary": course.summary,
            "category": self.desired.category_idnumber,
        }
        differences: list[str] = []
        if found:
            differences = self.diff(
                [
                    ("fullname", found.fullname, course.fullname),
                    ("shortname", found.shortname, course.shortname),
                    ("summary", found.summary, course.summary),
                ]
            )
            if category.moodle_id is None or found.categoryid != category.moodle_id:
                differences.append(f"category id {found.categoryid} -> {category.moodle_id or 'the new category'}")
            self.course, self.course_id = found, found.id
            if found.format and found.format != course.format:
                self.section_component = f"format_{found.format}"
                self.notes.append(f"the course uses format {found.format!r}, not {course.format!r}; kept")
        action = self.decide(
            "course", key, fields, self.mapped("course", key), found.id if found else None, differences
        )
        if action.op == CREATE and not action.blocked:
            other = self.client.course_by_shortname(course.shortname)
            if other is not None:
                action = Action(
                    CREATE,
                    "course",
                    key,
                    action.reason,
                    action.fields,
                    action.content_hash,
                    blocked=f"shortname {course.shortname!r} is taken by course id {other.id} "
                    f"({other.idnumber or 'no idnumber'}); choose another shortname",
                )
        return self.add(action)

    def plan_sections(self) -> None:
        desired = self.desired
        prefix = f"{desired.course_key}#"
        existing = desired.existing_course_id is not None
        title_block = (
            None
            if self.titles_via
            else (f"titles need {INPLACE_EDITABLE} or the companion plugin ({PLUGIN_SECTION_NAMES})")
        )
        if self.course_id is None:
            for number, section in enumerate(desired.sections, start=1):
                key = prefix + section.key
                self.mapped("section", key)
                self.add(
                    Action(
                        CREATE,
                        "section",
                        key,
                        f"comes with the new course as section {number}, titled {section.title!r}",
                        {"title": section.title},
                        content_hash({"title": section.title}),
                        blocked=title_block,
                        details={"number": number, "with_course": True},
                    )
                )
            return
        contents = [s for s in self.client.course_contents(self.course_id) if s.component is None]
        by_id = {s.id: s for s in contents}
        by_number = {s.number: s for s in contents}
        wanted = {prefix + s.key for s in desired.sections}
        mapped_ids = {
            self.store.get(self.target, "section", k).moodle_id: k  # type: ignore[union-attr]
            for k in self.store.keys(self.target, "section")
            if k.startswith(prefix)
        }
        for number, section in enumerate(desired.sections, start=1):
            key = prefix + section.key
            mapped = self.mapped("section", key)
            fields = {"title": section.title}
            found: Section | None = None
            if mapped is not None and mapped.moodle_id in by_id:
                found = by_id[mapped.moodle_id]
            elif existing:  # a school's course: its sections are its own; only one with our title is ours
                found = next(
                    (s for s in contents if _same(s.name, section.title) and mapped_ids.get(s.id, key) == key), None
                )
            elif number in by_number and mapped_ids.get(by_number[number].id, key) == key:
                found = by_number[number]
            if found is None:
                action = self.decide("section", key, fields, mapped, None, [], details={"number": None})
                block = self.blocked("section", CREATE) or title_block
                action = Action(
                    CREATE,
                    "section",
                    key,
                    f"{action.reason}: add a section titled {section.title!r}",
                    fields,
                    action.content_hash,
                    blocked=block,
                    details={"number": None},
                )
            else:
                differences = self.diff([("title", found.name, section.title)])
                action = self.decide(
                    "section", key, fields, mapped, found.id, differences, details={"number": found.number}
                )
                if action.op == UPDATE:
                    action = _with(action, blocked=title_block)
            self.add(action)
        for key in sorted(set(mapped_ids.values()) - wanted):
            self.mapped("section", key)
            self.add(
                Action(LEAVE, "section", key, "no longer wanted; sections are never removed (they may hold content)")
            )

    def plan_groups(self) -> None:
        desired = self.desired
        existing = {g.idnumber: g for g in self.client.course_groups(self.course_id)} if self.course_id else {}
        wanted: set[str] = set()
        for school in desired.schools:
            key = desired.group_idnumber(school.key)
            wanted.add(key)
            found = existing.get(key)
            fields = {"name": school.name, "idnumber": key, "description": school.description}
            differences = (
                self.diff([("name", found.name, school.name), ("description", found.description, school.description)])
                if found
                else []
            )
            action = self.add(
                self.decide("group", key, fields, self.mapped("group", key), found.id if found else None, differences)
            )
            if action.moodle_id:
                self.group_ids[key] = action.moodle_id
        prefix = desired.group_idnumber("")
        for key in self.store.keys(self.target, "group"):
            if key.startswith(prefix) and key not in wanted:
                mapped = self.mapped("group", key)
                found = existing.get(key)
                self.add(self.removal("group", key, mapped, found.id if found else None))
                if found:
                    self.group_ids[key] = found.id

    def removal(self, kind: str, key: str, mapped: Mapped | None, found_id: int | None, **details: Any) -> Action:
        """What happens to a mapped object the network no longer wants."""
        if found_id is None:
            if self.prune:
                return Action(
                    REMOVE,
                    kind,
                    key,
                    "no longer wanted and already gone from Moodle: forget it",
                    details={"forget_only": True, **details},
                )
            return Action(LEAVE, kind, key, "no longer wanted, already gone from Moodle (prune forgets it)")
        if not self.prune:
            return Action(LEAVE, kind, key, "no longer wanted; kept (run with prune to remove it)", moodle_id=found_id)
        if mapped is None or not mapped.created:
            return Action(LEAVE, kind, key, "no longer wanted; kept: the tool did not create it", moodle_id=found_id)
        return Action(
            REMOVE,
            kind,
            key,
            "no longer wanted (prune)",
            moodle_id=found_id,
            blocked=self.blocked(kind, REMOVE),
            details=details,
        )

    def resolve_own_accounts(self) -> dict[str, int]:
        """Swap people with a known account of this site to that account's username (username -> id)."""
        known = [p for p in self.desired.people if p.moodle_user_id]
        self.own_accounts: dict[str, int] = {}
        self.own_users: dict[str, Any] = {}
        if not known:
            return {}
        by_id = {u.id: u for u in self.client.users_by_field("id", [p.moodle_user_id for p in known])}
        own: dict[str, int] = {}
        people = []
        for person in self.desired.people:
            account = by_id.get(person.moodle_user_id) if person.moodle_user_id else None
            if account is not None:
                person = dataclasses.replace(person, username=account.username)
                own[account.username] = account.id
                self.own_users[account.username] = account
            elif person.moodle_user_id:
                person = dataclasses.replace(person, moodle_user_id=None)  # account gone: a tool account
            people.append(person)
        self.desired = dataclasses.replace(self.desired, people=people)
        self.own_accounts = own
        return own

    def plan_users(self) -> None:
        own = self.resolve_own_accounts()
        people = [p for p in self.desired.people if p.username not in own]
        for username, user_id in own.items():
            mapped = self.mapped("user", username)
            self.add(Action(LEAVE, "user", username, "the person's own account on this site, used as it is",
                            moodle_id=user_id, remember=mapped is None or mapped.moodle_id != user_id,
                            created=False))
        self.users = self.client.users_by_username([p.username for p in people]) if people else {}
        self.users.update(self.own_users)  # memberships look people up here
        for person in people:
            found = self.users.get(person.username)
            fields = {
                "username": person.username,
                "firstname": person.firstname,
                "lastname": person.lastname,
                "email": person.email_address,
                "auth": person.auth,
            }
            differences: list[str] = []
            if found:
                differences = self.diff(
                    [
                        ("firstname", found.firstname, person.firstname),
                        ("lastname", found.lastname, person.lastname),
                        ("email", found.email.lower(), person.email_address.lower()),
                        ("auth", found.auth or person.auth, person.auth),
                    ]
                )
            self.add(
                self.decide(
                    "user",
                    person.username,
                    fields,
                    self.mapped("user", person.username),
                    found.id if found else None,
                    differences,
                )
            )

    def plan_enrolments(self) -> None:
        course_key = self.desired.course_key
        if self.course_id is not None:
            self.enrolled = {u.username: u for u in self.client.enrolled_users(self.course_id)}
            self.learn_role_ids()
        wanted: set[str] = set()
        for person in self.desired.people:
            key = f"{course_key}/{person.username}"
            wanted.add(key)
            mapped = self.mapped("enrolment", key)
            fields = {"role": person.role}
            digest = content_hash(fields)
            enrolled = self.enrolled.get(person.username)
            ours = mapped is not None and mapped.created
            if enrolled is None:
                reason = "not enrolled" if mapped is None else "was enrolled by the tool, is not any more: enrol again"
                self.add(
                    Action(
                        CREATE,
                        "enrolment",
                        key,
                        f"{reason} (as {person.role})",
                        fields,
                        digest,
                        blocked=self.blocked("enrolment", CREATE),
                        details={"username": person.username},
                    )
                )
                continue
            if person.username in self.own_accounts and not ours:
                # the person's own account, already in the school's course: its roles are the school's business
                self.add(Action(LEAVE, "enrolment", key, "already enrolled with their own account; roles left as they are",
                                fields, digest, enrolled.id, remember=mapped is None or mapped.moodle_id != enrolled.id,
                                created=False, details={"username": person.username}))
                continue
            stale = sorted((enrolled.role_names & set(MOODLE_ROLES)) - {person.role}) if ours else []
            if person.role in enrolled.role_names and (
                not stale or (mapped is not None and mapped.content_hash == digest)
            ):
                remember = mapped is None or mapped.content_hash != digest or mapped.moodle_id != enrolled.id
                reason = (
                    "unchanged"
                    if not remember
                    else ("already enrolled with this role; now mapped" if mapped is None else "role already as wanted")
                )
                self.add(
                    Action(
                        LEAVE,
                        "enrolment",
                        key,
                        reason,
                        fields,
                        digest,
                        enrolled.id,
                        remember=remember,
                        created=mapped.created if mapped else False,
                        details={"username": person.username},
                    )
                )
                continue
            have = ", ".join(sorted(enrolled.role_names)) or "no role"
            self.add(
                Action(
                    UPDATE,
                    "enrolment",
                    key,
                    f"role {have} -> {person.role}",
                    fields,
                    digest,
                    enrolled.id,
                    remember=True,
                    created=mapped.created if mapped else False,
                    blocked=self.blocked("enrolment", UPDATE),
                    details={"username": person.username, "unassign": stale},
                )
            )
        prefix = f"{course_key}/"
        for key in self.store.keys(self.target, "enrolment"):
            if key.startswith(prefix) and key not in wanted:
                username = key[len(prefix) :]
                enrolled = self.enrolled.get(username)
                self.add(
                    self.removal(
                        "enrolment",
                        key,
                        self.mapped("enrolment", key),
                        enrolled.id if enrolled else None,
                        username=username,
                    )
                )

    def learn_role_ids(self) -> None:
        for user in self.enrolled.values():
            for role in user.roles:
                if role.shortname in MOODLE_ROLES and self.role_ids.get(role.shortname) != role.roleid:
                    self.notes.append(
                        f"role {role.shortname} has id {role.roleid} on this site "
                        f"(not {self.role_ids.get(role.shortname)})"
                    )
                    self.role_ids[role.shortname] = role.roleid

    def plan_memberships(self) -> None:
        desired = self.desired
        members: dict[int, frozenset[int]] = {}
        if self.group_ids:
            members = self.client.group_members(sorted(set(self.group_ids.values())))
        wanted: set[str] = set()
        for person in desired.people:
            if person.school is None:
                continue
            group_key = desired.group_idnumber(person.school)
            key = f"{group_key}/{person.username}"
            wanted.add(key)
            mapped = self.mapped("membership", key)
            fields = {"member": True}
            digest = content_hash(fields)
            group_id = self.group_ids.get(group_key)
            user = self.users.get(person.username)
            details = {"group": group_key, "username": person.username}
            if group_id and user and user.id in members.get(group_id, frozenset()):
                remember = mapped is None or mapped.moodle_id != user.id
                reason = "unchanged" if not remember else "already a member; now mapped"
                self.add(
                    Action(
                        LEAVE,
                        "membership",
                        key,
                        reason,
                        fields,
                        digest,
                        user.id,
                        remember=remember,
                        created=mapped.created if mapped else False,
                        details=details,
                    )
                )
            else:
                self.add(
                    Action(
                        CREATE,
                        "membership",
                        key,
                        f"not yet in the group of {person.school}",
                        fields,
                        digest,
                        blocked=self.blocked("membership", CREATE),
                        details=details,
                    )
                )
        prefix = desired.group_idnumber("")
        removed_groups = {a.key for a in self.actions if a.kind == "group" and a.op == REMOVE and not a.blocked}
        removed_users = {
            a.details.get("username")
            for a in self.actions
            if a.kind == "enrolment" and a.op == REMOVE and not a.blocked
        }
        for key in self.store.keys(self.target, "membership"):
            if not key.startswith(prefix) or key in wanted:
                continue
            group_key, _, username = key.rpartition("/")
            mapped = self.mapped("membership", key)
            group_id = self.group_ids.get(group_key)
            user_id = mapped.moodle_id if mapped else None
            is_member = bool(group_id and user_id and user_id in members.get(group_id, frozenset()))
            if self.prune and (group_key in removed_groups or username in removed_users):
                self.add(
                    Action(REMOVE, "membership", key, "goes with its group or enrolment", details={"forget_only": True})
                )
                continue
            self.add(
                self.removal(
                    "membership",
                    key,
                    mapped,
                    user_id if is_member else None,
                    group=group_key,
                    username=username,
                    groupid=group_id,
                )
            )


def _with(action: Action, **changes: Any) -> Action:
    return replace(action, **changes)
