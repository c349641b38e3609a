"""Preflight: what a site's token can do for the features the tool wants to use.

``core_webservice_get_site_info`` lists the functions the token's service
allows. :func:`preflight` compares them with what each :class:`Feature`
needs and tells the operator precisely what to add – or which fallback the
tool will use (without the companion plugin: Deep Linking plus a cartridge
file with manual restore instructions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from moodle_sync.client import MoodleClient
from moodle_sync.errors import SyncError
from moodle_sync.records import SiteInfo

#: Moodle 4.0 brought ``core_courseformat_update_course`` (adding sections).
MOODLE_4_0 = 2022041900
#: The companion plugin supports Moodle 4.1 LTS to 5.1.
MOODLE_4_1 = 2022112800

PLUGIN_RESTORE = "local_lmsbridge_restore_cartridge"
PLUGIN_STATUS = "local_lmsbridge_get_restore_status"
PLUGIN_SECTION_NAMES = "local_lmsbridge_set_section_names"
INPLACE_EDITABLE = "core_update_inplace_editable"

SERVICE_PATH = "Site administration > Server > Web services > External services > (the token's service) > Functions"


class Feature(StrEnum):
    PROVISIONING = "provisioning"
    SECTION_TITLES = "section_titles"
    PRUNE = "prune"
    CARTRIDGE_DELIVERY = "cartridge_delivery"


@dataclass(frozen=True)
class Need:
    """What a feature needs: all of ``required``; each of ``optional`` adds something (the text says what)."""

    required: tuple[str, ...]
    optional: tuple[tuple[str, str], ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()


NEEDS: dict[Feature, Need] = {
    Feature.PROVISIONING: Need(
        required=(
            "core_webservice_get_site_info",
            "core_course_get_categories",
            "core_course_create_categories",
            "core_course_get_courses_by_field",
            "core_course_create_courses",
            "core_course_update_courses",
            "core_course_get_contents",
            "core_group_get_course_groups",
            "core_group_create_groups",
            "core_group_get_group_members",
            "core_group_add_group_members",
            "core_user_get_users_by_field",
            "core_user_create_users",
            "core_enrol_get_enrolled_users",
            "enrol_manual_enrol_users",
        ),
        optional=(
            ("core_course_update_categories", "renaming the network's category"),
            ("core_courseformat_update_course", "adding sections to an existing course (Moodle 4.0+)"),
            ("core_group_update_groups", "renaming a school's group"),
            ("core_user_update_users", "updating people's names"),
            ("core_role_unassign_roles", "taking back the old role when a person's role changes"),
        ),
    ),
    Feature.SECTION_TITLES: Need(required=(), any_of=((PLUGIN_SECTION_NAMES,), (INPLACE_EDITABLE,))),
    Feature.PRUNE: Need(
        required=("core_group_delete_groups", "core_group_delete_group_members", "enrol_manual_unenrol_users"),
    ),
    Feature.CARTRIDGE_DELIVERY: Need(required=(PLUGIN_RESTORE, PLUGIN_STATUS, PLUGIN_SECTION_NAMES)),
}


@dataclass(frozen=True)
class FeatureCheck:
    feature: Feature
    available: bool
    missing: tuple[str, ...]
    missing_optional: tuple[tuple[str, str], ...]
    via: str | None
    fallback: str | None
    notes: tuple[str, ...] = ()


@dataclass
class PreflightReport:
    site_url: str
    siteinfo: SiteInfo | None = None
    checks: dict[Feature, FeatureCheck] = field(default_factory=dict)
    error: SyncError | None = None

    @property
    def release(self) -> str:
        return self.siteinfo.release if self.siteinfo else ""

    @property
    def version(self) -> str:
        return self.siteinfo.version if self.siteinfo else ""

    @property
    def url_matches(self) -> bool:
        info = self.siteinfo
        return info is not None and info.siteurl.rstrip("/") == self.site_url.rstrip("/")

    @property
    def ok(self) -> bool:
        """True when the site answered and every asked feature works (possibly through its fallback)."""
        return self.error is None and all(c.available or c.fallback for c in self.checks.values())

    @property
    def missing_functions(self) -> list[str]:
        """Every function to add to the service so that all asked features work fully."""
        names: list[str] = []
        for check in self.checks.values():
            for name in [*check.missing, *(n for n, _ in check.missing_optional)]:
                if name not in names:
                    names.append(name)
        return names

    def render(self) -> str:
        """Return the report as plain text for the CLI and the workspace UI."""
        lines = [f"Moodle site {self.site_url}"]
        if self.error is not None:
            lines.append(f"  cannot use the site: {self.error}")
            return "\n".join(lines)
        info = self.siteinfo
        assert info is not None
        lines.append(
            f"  release {info.release} (version {info.version}), token user {info.username} (id {info.userid})"
        )
        if not self.url_matches:
            lines.append(f"  note: the site calls itself {info.siteurl}; use that address as the site URL")
        for check in self.checks.values():
            state = f"yes, via {check.via}" if check.available and check.via else "yes" if check.available else "no"
            lines.append(f"  {check.feature.value}: {state}")
            if check.missing:
                lines.append(f"    add to the service: {', '.join(check.missing)}")
            for name, what in check.missing_optional:
                lines.append(f"    optional, add {name} for {what}")
            for note in check.notes:
                lines.append(f"    {note}")
            if not check.available and check.fallback:
                lines.append(f"    fallback: {check.fallback}")
        if self.missing_functions:
            lines.append(f"  where: {SERVICE_PATH}")
        return "\n".join(lines)


def preflight(
    client: MoodleClient, needs: Iterable[Feature | str] = (Feature.PROVISIONING, Feature.SECTION_TITLES)
) -> PreflightReport:
    """Ask the site what the token may do and check it against ``needs``; errors land in ``report.error``."""
    report = PreflightReport(site_url=client.site_url)
    try:
        info = client.site_info(refresh=True)
    except SyncError as error:
        report.error = error
        return report
    report.siteinfo = info
    for feature in (Feature(n) for n in needs):
        report.checks[feature] = _check(feature, info)
    return report


def _check(feature: Feature, info: SiteInfo) -> FeatureCheck:
    need = NEEDS[feature]
    missing = info.missing(need.required)
    missing_optional = tuple((n, what) for n, what in need.optional if n not in info.functions)
    notes: list[str] = []
    via: str | None = None
    fallback: str | None = None
    if need.any_of:
        usable = [group for group in need.any_of if not info.missing(group)]
        if usable:
            via = ", ".join(usable[0])
        else:
            missing = [*missing, *need.any_of[-1]]
            notes.append(f"or install the companion plugin local_lmsbridge for {', '.join(need.any_of[0])}")
    if feature is Feature.PROVISIONING and info.version_number and info.version_number < MOODLE_4_0:
        notes.append(
            "Moodle before 4.0 cannot add sections through web services; create the course with enough sections"
        )
    if feature is Feature.SECTION_TITLES and not via:
        fallback = "sections keep Moodle's default names; a teacher renames them by hand"
    if feature is Feature.CARTRIDGE_DELIVERY:
        if not info.uploadfiles:
            missing = [*missing, "(service setting) Can upload files"]
        if missing:
            notes.append(
                "install local_lmsbridge (lms-bridge moodle-plugin build), enable its service or add its functions"
            )
            fallback = (
                "Deep Linking: a teacher adds the OER through the tool from the course; the CC 1.1 file can be "
                "restored by hand (course > More > Restore; itslearning: Course Importer)"
            )
        else:
            via = "local_lmsbridge (upload, restore, poll)"
        if info.version_number and info.version_number < MOODLE_4_1:
            notes.append("the companion plugin needs Moodle 4.1 or later")
    return FeatureCheck(
        feature=feature,
        available=not missing,
        missing=tuple(missing),
        missing_optional=missing_optional,
        via=via,
        fallback=fallback,
        notes=tuple(notes),
    )
