"""Preflight: what the token's service lacks for each feature, and the fallbacks."""

from __future__ import annotations

from moodle_sync.client import MoodleClient
from moodle_sync.errors import ConfigurationError
from moodle_sync.preflight import Feature, preflight
from tests.sync.fakemoodle import ENGINE_EXTRAS, PLUGIN_FUNCTIONS, FakeMoodle, recorded_service


def test_the_recorded_service_provisions_but_cannot_title_prune_or_restore() -> None:
    with FakeMoodle(functions=recorded_service()) as fake, MoodleClient(fake.url, fake.token or "") as client:
        report = preflight(client, list(Feature))
        basic = preflight(client)  # provisioning and section titles
    assert basic.ok  # titles fall back to Moodle's default names
    assert not report.ok and report.error is None  # prune has no fallback
    assert (report.release, report.version) == ("5.1+ (Build: 20251017)", "2025100600.02")
    provisioning = report.checks[Feature.PROVISIONING]
    assert provisioning.available and provisioning.missing == ()
    assert [name for name, _ in provisioning.missing_optional] == [
        "core_group_update_groups",
        "core_role_unassign_roles",
    ]
    titles = report.checks[Feature.SECTION_TITLES]
    assert not titles.available and titles.missing == ("core_update_inplace_editable",)
    assert titles.fallback and "local_lmsbridge" in " ".join(titles.notes)
    prune = report.checks[Feature.PRUNE]
    assert prune.missing == ("core_group_delete_groups", "core_group_delete_group_members")
    cartridges = report.checks[Feature.CARTRIDGE_DELIVERY]
    assert cartridges.missing == PLUGIN_FUNCTIONS and "Deep Linking" in (cartridges.fallback or "")
    text = report.render()
    assert "add to the service: core_update_inplace_editable" in text
    assert "fallback: Deep Linking" in text and "External services" in text
    assert report.missing_functions[:2] == ["core_group_update_groups", "core_role_unassign_roles"]


def test_a_full_service_with_the_plugin_can_do_everything() -> None:
    functions = (*recorded_service(), *ENGINE_EXTRAS, *PLUGIN_FUNCTIONS)
    with FakeMoodle(functions=functions) as fake, MoodleClient(fake.url, fake.token or "") as client:
        report = preflight(client, list(Feature))
    assert all(check.available for check in report.checks.values())
    assert report.checks[Feature.SECTION_TITLES].via == "local_lmsbridge_set_section_names"
    assert report.checks[Feature.CARTRIDGE_DELIVERY].via == "local_lmsbridge (upload, restore, poll)"
    assert report.missing_functions == []


def test_cartridges_need_uploads_enabled_in_the_service() -> None:
    functions = (*recorded_service(), *PLUGIN_FUNCTIONS)
    with FakeMoodle(functions=functions, uploadfiles=False) as fake, MoodleClient(fake.url, fake.token or "") as client:
        check = preflight(client, [Feature.CARTRIDGE_DELIVERY]).checks[Feature.CARTRIDGE_DELIVERY]
    assert not check.available and check.missing == ("(service setting) Can upload files",)


def test_a_bad_token_is_reported_not_raised() -> None:
    with FakeMoodle() as fake, MoodleClient(fake.url, "wrong") as client:
        report = preflight(client)
    assert not report.ok and isinstance(report.error, ConfigurationError)
    assert "Invalid token" in report.render()


def test_a_site_calling_itself_by_another_address_is_pointed_out() -> None:
    with FakeMoodle() as fake, MoodleClient(fake.url.replace("127.0.0.1", "localhost"), fake.token or "") as client:
        report = preflight(client)
    assert not report.url_matches
    assert f"the site calls itself {fake.url}" in report.render()
