"""``lms-bridge sync …`` and ``lms-bridge worker`` against the fake Moodle, with exit codes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_tool.bridge import bridge
from lti_tool.cli import main
from lti_tool.sync.models import SyncMapping, SyncRun, SyncTarget
from lti_tool.sync.service import start_run
from lti_tool.sync.store import DbTargetLock
from tests.sync.fakemoodle import FakeMoodle


@pytest.fixture
def fake() -> Iterator[FakeMoodle]:
    with FakeMoodle() as site:
        yield site
        assert not site.crashes


@pytest.fixture
def cli(world, monkeypatch, tmp_path):
    """Runs ``lms-bridge`` on the world's database (a fresh app from the environment, as in production)."""
    settings = bridge(world.app).settings
    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_BRIDGE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", settings.instance_dir)
    monkeypatch.setenv("LMS_BRIDGE_BASE_URL", settings.base_url)
    monkeypatch.setenv("LMS_BRIDGE_ALLOW_INSECURE_PLATFORMS", "1")
    runner = CliRunner()

    def run(*args: str, code: int = 0, stdin: str | None = None) -> Any:
        result = runner.invoke(main, list(args), input=stdin, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def token_file(tmp_path, token: str) -> str:
    path = tmp_path / "token.txt"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return str(path)


def add(cli, world, fake, tmp_path, *, name: str = "Moodle Musterstadt", token: str | None = None,
        code: int = 0) -> Any:
    return cli("sync", "target-add", "--network", str(world.network_id), "--name", name, "--url", fake.url,
               "--token-file", token_file(tmp_path, token or fake.token), code=code)


def target_id(world, name: str = "Moodle Musterstadt") -> int:
    with bridge(world.app).db.sessions() as s:
        return int(s.scalar(select(SyncTarget.id).where(SyncTarget.name == name)))


def count(world, model, *where) -> int:
    with bridge(world.app).db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)))


def test_target_add_reads_the_token_from_a_file_and_checks_the_site(cli, world, fake, tmp_path):
    out = add(cli, world, fake, tmp_path).output
    assert re.search(r"target \d+: Moodle Musterstadt -> http://127\.0\.0\.1:\d+ \(token set, ends …cdef\)", out)
    assert "provisioning: yes" in out and "cartridge_delivery: no" in out
    assert fake.token not in out
    assert count(world, SyncTarget) == 1


def test_target_add_reads_the_token_from_stdin_or_the_environment(cli, world, fake, monkeypatch):
    cli("sync", "target-add", "--network", str(world.network_id), "--name", "Von stdin", "--url", fake.url,
        "--token-file", "-", "--no-check", stdin=fake.token + "\n")
    monkeypatch.setenv("MOODLE_TOKEN", fake.token)
    out = cli("sync", "target-add", "--network", str(world.network_id), "--name", "Aus der Umgebung",
              "--url", fake.url + "/zwei", "--token-env", "MOODLE_TOKEN", "--no-check").output
    assert "ends …cdef" in out and fake.token not in out
    with bridge(world.app).db.sessions() as s:
        hints = set(s.scalars(select(SyncTarget.token_hint)))
    assert hints == {"cdef"}
    assert fake.calls == []  # --no-check asks nothing


def test_a_token_never_goes_on_the_command_line(cli, world, fake, tmp_path, monkeypatch):
    base = ["sync", "target-add", "--network", str(world.network_id), "--name", "X", "--url", fake.url]
    assert "No such option" in cli(*base, "--token", fake.token, code=2).output
    assert "exactly one of" in cli(*base, code=2).output
    monkeypatch.setenv("MOODLE_TOKEN", fake.token)
    assert "exactly one of" in cli(*base, "--token-env", "MOODLE_TOKEN", "--token-file",
                                   token_file(tmp_path, fake.token), code=2).output
    assert "is not set" in cli(*base, "--token-env", "NOT_THERE", code=1).output
    assert count(world, SyncTarget) == 0


def test_target_add_refusals_exit_1(cli, world, fake, tmp_path):
    out = cli("sync", "target-add", "--network", str(world.network_id), "--name", "X", "--url", "ftp://x.example",
              "--token-file", token_file(tmp_path, fake.token), code=1).output
    assert "not a web address" in out
    assert "no network with id 999" in cli("sync", "target-add", "--network", "999", "--name", "X", "--url",
                                           fake.url, "--token-file", token_file(tmp_path, fake.token),
                                           code=1).output
    out = add(cli, world, fake, tmp_path, token="wrong-token-000000000000", code=1).output
    assert "invalidtoken" in out and "saved" in out and "wrong-token-000000000000" not in out


def test_targets_and_check(cli, world, fake, tmp_path):
    add(cli, world, fake, tmp_path)
    out = cli("sync", "targets", "--network", str(world.network_id)).output
    assert "Moodle Musterstadt" in out and "token set, ends …cdef" in out and "no run yet" in out
    rows = json.loads(cli("sync", "targets", "--network", str(world.network_id), "--json").output)
    assert rows[0]["name"] == "Moodle Musterstadt" and rows[0]["mappings"] == 0
    assert "local_lmsbridge_restore_cartridge" in rows[0]["missing_functions"]
    assert fake.token not in json.dumps(rows)
    assert "provisioning: yes" in cli("sync", "check", "--target", str(target_id(world))).output
    fake.remove_function("enrol_manual_enrol_users")
    out = cli("sync", "check", "--target", "Moodle Musterstadt", code=1).output
    assert "add to the service: enrol_manual_enrol_users" in out
    fake.new_token()
    assert "invalidtoken" in cli("sync", "check", "--target", str(target_id(world)), code=1).output
    assert "no sync target" in cli("sync", "check", "--target", "4711", code=1).output


def test_plan_apply_and_an_unchanged_second_apply(cli, world, fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    add(cli, world, fake, tmp_path)
    tid = str(target_id(world))
    net = str(world.network_id)
    fake.clear_log()
    out = cli("sync", "plan", "--network", net, "--target", tid).output
    assert "Summary: 34 create, 0 update, 0 leave, 0 remove" in out
    assert fake.writes() == [] and count(world, SyncMapping) == 0
    out = cli("sync", "apply", "--network", net, "--target", tid, "--dry-run").output
    assert "Summary: 34 create" in out and fake.writes() == []
    out = cli("sync", "apply", "--network", net, "--target", tid).output
    assert "Sync of network" in out and ": complete" in out and "created: " in out
    assert count(world, SyncMapping) == 34 and fake.course_by_idnumber(f"lmsb-net-{net}-ws") is not None
    fake.clear_log()
    out = cli("sync", "apply", "--network", net, "--target", "Moodle Musterstadt").output
    assert "0 writes" in out and fake.writes() == []
    runs = json.loads(cli("sync", "runs", "--target", tid, "--json").output)
    assert [(r["mode"], r["dry_run"], r["state"]) for r in runs] == [
        ("apply", False, "done"), ("apply", False, "done"), ("apply", True, "done"), ("plan", True, "done")]
    assert runs[0]["calls"]["writes"] == 0 and runs[1]["calls"]["writes"] > 0
    listed = cli("sync", "runs", "--target", tid).output
    assert f"#{runs[0]['id']}" in listed and "done" in listed
    shown = cli("sync", "show", str(runs[1]["id"])).output
    assert "complete" in shown and "Plan for network" in shown
    assert "no sync run" in cli("sync", "show", "99999", code=1).output
    assert fake.token not in caplog.text


def test_apply_exits_1_when_it_fails_or_the_target_is_busy(cli, world, fake, tmp_path):
    add(cli, world, fake, tmp_path)
    tid, net = str(target_id(world)), str(world.network_id)
    with world.app.app_context():
        from lti_tool.db import db_session

        s = db_session()
        held = start_run(s, DbTargetLock(bridge(world.app).db.sessions), s.get(SyncTarget, int(tid)), mode="apply")
    out = cli("sync", "apply", "--network", net, "--target", tid, code=1).output
    assert f"Another plan or sync of this target is running (run {held.id})" in out
    DbTargetLock(bridge(world.app).db.sessions).release(int(tid), held.lock_holder)
    fake.new_token()
    out = cli("sync", "apply", "--network", net, "--target", tid, code=1).output
    assert "failed" in out and "invalidtoken" in out
    assert "does not belong to network" in cli("sync", "plan", "--network", str(world.other_network_id),
                                               "--target", tid, code=1).output
    with bridge(world.app).db.sessions() as s:
        assert [r.status for r in s.scalars(select(SyncRun).order_by(SyncRun.id))] == ["failed", "failed"]


def test_apply_exits_1_when_objects_fail(cli, world, fake, tmp_path):
    add(cli, world, fake, tmp_path)
    fake.remove_function("core_group_add_group_members")  # memberships are blocked: not everything can be done
    out = cli("sync", "apply", "--network", str(world.network_id), "--target", str(target_id(world)), code=1).output
    assert "complete with problems" in out and "skipped" in out


def test_worker_needs_redis(cli, monkeypatch):
    out = cli("worker", "--burst", code=1).output
    assert "LMS_BRIDGE_REDIS_URL is not set" in out
    monkeypatch.setenv("LMS_BRIDGE_REDIS_URL", "redis://127.0.0.1:1/0")
    assert "does not answer" in cli("worker", "--burst", code=1).output
