"""The operator CLI: migrations, platform registration, deployments, keys."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lti_tool.cli import main
from tests.ltiplatform import FakePlatform


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("db", "upgrade")
    return run


def add_args(issuer="https://42.logineonrw-lms.example", client="abc", *extra: str) -> list[str]:
    return ["platform", "add", "--issuer", issuer, "--client-id", client,
            "--auth-login-url", issuer + "/mod/lti/auth.php", "--auth-token-url", issuer + "/mod/lti/token.php",
            "--key-set-url", issuer + "/mod/lti/certs.php", "--deployment-id", "1", "--deployment-id", "2",
            "--name", "Realschule am See", *extra]


def test_platform_add_list_and_remove(cli):
    out = cli(*add_args()).output
    assert "2 deployment(s)" in out
    listed = json.loads(cli("platform", "list", "--json").output)
    assert listed == [{
        "issuer": "https://42.logineonrw-lms.example", "name": "Realschule am See", "client_id": "abc",
        "auth_login_url": "https://42.logineonrw-lms.example/mod/lti/auth.php",
        "auth_token_url": "https://42.logineonrw-lms.example/mod/lti/token.php",
        "key_set_url": "https://42.logineonrw-lms.example/mod/lti/certs.php", "key_set": None, "source": "cli",
        "deployments": [{"id": "1", "active": True}, {"id": "2", "active": True}],
    }]
    cli("platform", "deactivate-deployment", "--issuer", "https://42.logineonrw-lms.example", "--deployment-id", "2")
    listed = json.loads(cli("platform", "list", "--json").output)
    assert listed[0]["deployments"][1] == {"id": "2", "active": False}
    cli("platform", "remove", "--issuer", "https://42.logineonrw-lms.example", "--yes")
    assert json.loads(cli("platform", "list", "--json").output) == []


def test_second_client_for_same_issuer(cli):
    cli(*add_args())
    cli(*add_args("https://42.logineonrw-lms.example", "second"))
    rows = json.loads(cli("platform", "list", "--json").output)
    assert [r["client_id"] for r in rows] == ["abc", "second"]
    bad = cli("platform", "remove", "--issuer", "https://42.logineonrw-lms.example", "--yes", ok=False)
    assert bad.exit_code == 1 and "several client_ids" in bad.output


def test_duplicate_registration_is_refused_without_update(cli):
    cli(*add_args())
    dup = cli(*add_args(), ok=False)
    assert dup.exit_code == 1 and "already registered" in dup.output
    cli(*add_args(), "--update")


@pytest.mark.parametrize(
    "change,message",
    [
        (("--issuer", "ftp://x"), "issuer must be an absolute http(s) URL"),
        (("--issuer", "http://school.example"), "must use https"),
    ],
)
def test_bad_platform_input_is_refused_and_nothing_written(cli, change, message):
    args = add_args()
    args[args.index(change[0]) + 1] = change[1]
    res = cli(*args, ok=False)
    assert res.exit_code == 1 and message in res.output
    assert json.loads(cli("platform", "list", "--json").output) == []


def test_key_set_file(cli, tmp_path):
    p = FakePlatform(issuer="https://s.example", client_id="c", deployment_id="1", jwks_url="")
    f = tmp_path / "jwks.json"
    f.write_text(json.dumps(p.jwks()))
    args = add_args("https://s.example", "c")
    i = args.index("--key-set-url")
    args[i:i + 2] = ["--key-set-file", str(f)]
    cli(*args)
    assert json.loads(cli("platform", "list", "--json").output)[0]["key_set"] == "inline"
    f.write_text("{not json")
    res = cli(*add_args("https://t.example", "c")[:-6], "--key-set-file", str(f), "--deployment-id", "1", ok=False)
    assert res.exit_code != 0


def test_missing_key_source_is_a_usage_error(cli):
    args = add_args()
    i = args.index("--key-set-url")
    del args[i:i + 2]
    res = cli(*args, ok=False)
    assert res.exit_code == 2 and "--key-set-url or --key-set-file" in res.output


def test_keys_rotate_and_retire(cli):
    first = cli("keys", "list").output.split()[0]
    out = cli("keys", "rotate").output
    new = out.split("new signing key ")[1].split()[0]
    assert f"still published (retiring): {first}" in out
    listing = cli("keys", "list").output
    assert f"{first}  retiring" in listing and f"{new}  active" in listing
    assert cli("keys", "retire", "--kid", new, ok=False).exit_code == 1
    cli("keys", "retire", "--kid", first)
    assert f"{first}  retired" in cli("keys", "list").output


def test_bad_setting_is_a_clear_error(cli, monkeypatch):
    monkeypatch.setenv("LMS_BRIDGE_JWT_LEEWAY", "lots")
    res = cli("platform", "list", ok=False)
    assert res.exit_code == 1 and "LMS_BRIDGE_JWT_LEEWAY" in res.output
