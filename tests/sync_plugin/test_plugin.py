"""The companion Moodle plugin local_lmsbridge: its installable zip and the PHP it ships.

``php -l`` needs Debian's php-cli. Without it the lint tests skip, unless
``LMS_BRIDGE_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``) or
``LMS_BRIDGE_REQUIRE_SERVICES=1`` is set: then a missing php fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync.plugin import COMPONENT, PLUGIN_DIR, TOP_FOLDER, build_plugin_zip, plugin_files, plugin_version

RECORDINGS = Path(__file__).parent / "recordings"
REQUIRE_VARS = ("LMS_BRIDGE_TEST_REQUIRE_SERVICES", "LMS_BRIDGE_REQUIRE_SERVICES")
PLUGIN_FUNCTIONS = {
    "local_lmsbridge_restore_cartridge",
    "local_lmsbridge_get_restore_status",
    "local_lmsbridge_set_section_names",
}
PHP_FILES = sorted(rel for rel in plugin_files() if rel.suffix == ".php")


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(build_plugin_zip(tmp_path_factory.mktemp("zip") / "lmsbridge.zip")) as archive:
        yield archive


def php_binary() -> str:
    """Return the php command; skip without it, or fail when services are required."""
    found = shutil.which("php")
    if found:
        return found
    if any(os.environ.get(var) == "1" for var in REQUIRE_VARS):
        pytest.fail("php is not installed (Debian: apt-get install php-cli) but services are required", pytrace=False)
    pytest.skip("php is not installed (Debian: apt-get install php-cli)")


def read(rel: str) -> str:
    return (PLUGIN_DIR / rel).read_text(encoding="utf-8")


# -- the zip ---------------------------------------------------------------------


def test_zip_holds_every_plugin_file_under_the_plugin_name(plugin_zip: zipfile.ZipFile) -> None:
    files = {name for name in plugin_zip.namelist() if not name.endswith("/")}

    assert files == {f"{TOP_FOLDER}/{rel.as_posix()}" for rel in plugin_files()}
    assert all(name.startswith(f"{TOP_FOLDER}/") for name in plugin_zip.namelist())
    for required in (
        "version.php",
        "lang/en/local_lmsbridge.php",
        "db/access.php",
        "db/services.php",
        "db/install.xml",
        "classes/privacy/provider.php",
        "classes/task/restore_cartridge.php",
    ):
        assert f"{TOP_FOLDER}/{required}" in files
    for rel in plugin_files():
        assert plugin_zip.read(f"{TOP_FOLDER}/{rel.as_posix()}") == (PLUGIN_DIR / rel).read_bytes()


def test_zip_is_deterministic(tmp_path: Path) -> None:
    first = build_plugin_zip(tmp_path / "a" / "lmsbridge.zip").read_bytes()
    second = build_plugin_zip(tmp_path / "b" / "lmsbridge.zip").read_bytes()

    assert first == second


def test_zip_entries_carry_the_date_of_the_plugin_version(plugin_zip: zipfile.ZipFile) -> None:
    version = plugin_version()["version"]
    stamps = {info.date_time[:3] for info in plugin_zip.infolist()}

    assert stamps == {(int(version[:4]), int(version[4:6]), int(version[6:8]))}


def test_version_php_names_the_component_and_the_supported_moodle_versions() -> None:
    version = plugin_version()

    assert version["component"] == COMPONENT == "local_" + TOP_FOLDER
    assert re.fullmatch(r"20\d{8}", version["version"])
    assert version["requires"] == "2022112800"  # Moodle 4.1 LTS
    assert version["supported"] == "[401, 501]"
    assert version["maturity"].startswith("MATURITY_")
    assert version["release"]


# -- the PHP ---------------------------------------------------------------------


@pytest.mark.parametrize("rel", PHP_FILES, ids=str)
def test_php_lint(plugin_zip: zipfile.ZipFile, tmp_path: Path, rel: Path) -> None:
    php = php_binary()
    shipped = tmp_path / rel.name
    shipped.write_bytes(plugin_zip.read(f"{TOP_FOLDER}/{rel.as_posix()}"))

    result = subprocess.run([php, "-l", str(shipped)], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rel", PHP_FILES, ids=str)
def test_php_files_carry_the_gpl_header(rel: Path) -> None:
    head = read(rel.as_posix())[:1200]

    assert "GNU General Public License" in head
    assert "either version 3 of the License, or" in head
    assert "(at your option) any later version" in head


def services() -> dict[str, dict[str, str]]:
    """Parse the function definitions of db/services.php: name -> {classname, methodname, type}."""
    text = read("db/services.php")
    functions = text[text.index("$functions") : text.index("$services")]
    return {
        name: dict(re.findall(r"'(classname|methodname|type)' => '([^']+)'", body))
        for name, body in re.findall(r"'(local_lmsbridge_\w+)' => \[(.*?)\n    \],", functions, re.DOTALL)
    }


def test_services_php_defines_the_three_functions_and_the_lmsbridge_service() -> None:
    text = read("db/services.php")
    service = text[text.index("$services") :]

    assert set(services()) == PLUGIN_FUNCTIONS
    assert "'shortname' => 'lmsbridge'" in service
    for name in PLUGIN_FUNCTIONS | {"core_webservice_get_site_info"}:
        assert f"'{name}'" in service
    assert "'uploadfiles' => 1" in service
    assert "'downloadfiles' => 1" in service
    assert "'restrictedusers' => 1" in service


@pytest.mark.parametrize("function", sorted(PLUGIN_FUNCTIONS))
def test_each_function_has_an_external_class_with_execute_parameters_and_returns(function: str) -> None:
    definition = services()[function]
    namespace, _, classname = definition["classname"].rpartition("\\")
    source = read(f"classes/external/{classname}.php")

    assert namespace == "local_lmsbridge\\external"
    assert definition["methodname"] == "execute"
    assert definition["type"] in {"read", "write"}
    assert f"namespace {namespace};" in source
    assert re.search(rf"^class {classname} extends external_api \{{", source, re.MULTILINE)
    assert "use core_external\\external_api;" in source
    for method in ("execute", "execute_parameters", "execute_returns"):
        assert re.search(rf"public static function {method}\(", source), method


def test_every_language_string_the_code_uses_exists() -> None:
    strings = set(re.findall(r"^\$string\['([^']+)'\]", read("lang/en/local_lmsbridge.php"), re.MULTILINE))
    code = "\n".join(read(rel.as_posix()) for rel in PHP_FILES)
    used = set(re.findall(r"get_string\('([^']+)', 'local_lmsbridge'", code))
    used |= set(re.findall(r"moodle_exception\('([^']+)', 'local_lmsbridge'", code))
    capabilities = re.findall(r"'local/lmsbridge:(\w+)' =>", read("db/access.php"))

    assert used and capabilities
    assert used <= strings
    assert {f"lmsbridge:{cap}" for cap in capabilities} <= strings
    assert {"pluginname", "privacy:metadata"} <= strings


def test_install_xml_is_well_formed_and_matches_the_plugin_path() -> None:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(read("db/install.xml"))

    assert root.get("PATH") == "local/lmsbridge/db"
    assert [table.get("NAME") for table in root.iter("TABLE")] == ["local_lmsbridge_restores"]


# -- the recordings of a real Moodle -------------------------------------------------


def test_recordings_answer_only_plugin_functions_and_upload() -> None:
    recordings = sorted(RECORDINGS.glob("*.json"))
    assert recordings
    for path in recordings:
        entry = json.loads(path.read_text(encoding="utf-8"))
        assert {"function", "http_method", "endpoint", "params", "http_status", "response"} <= set(entry), path.name
        assert "wstoken" not in entry["params"] and "token" not in entry["params"], path.name
        if isinstance(entry["response"], dict):
            assert entry["response"].get("userprivateaccesskey", "REDACTED") == "REDACTED", path.name
        if entry["endpoint"] == "/webservice/rest/server.php":
            assert entry["params"]["wsfunction"] == entry["function"], path.name
            assert entry["function"] in PLUGIN_FUNCTIONS | {"core_webservice_get_site_info"}, path.name
        else:
            assert entry["endpoint"] == "/webservice/upload.php", path.name


def test_cli_builds_the_installable_zip(tmp_path):
    from click.testing import CliRunner

    from lti_tool.cli import main

    out = tmp_path / "local_lmsbridge.zip"
    result = CliRunner().invoke(main, ["moodle-plugin", "build", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "local_lmsbridge" in result.output and "sha256" in result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert "lmsbridge/version.php" in names and "lmsbridge/db/services.php" in names
    assert all(n.startswith("lmsbridge/") for n in names)
