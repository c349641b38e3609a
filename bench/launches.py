"""Launch throughput and latency of LMS Bridge as served in production, against
a hello-world ceiling served the same way in the same run.

    make bench                    # or: .venv/bin/python bench/launches.py --help

Both servers are ``lms-bridge serve`` (gunicorn, gthread, N workers, access log
on) on 127.0.0.1 with free ports; the tool uses an SQLite file in a temporary
directory. A fake platform (RSA key made here, inline key set) is registered
directly in that database. C client threads, each with its own
``requests.Session``, then run K iterations per round:

* tool:  POST /lti/login (no redirect followed) -> state and nonce from the
  Location -> id_token signed with PyJWT -> POST /lti/launch with the state
  cookie -> expect 303. One iteration = one complete launch = two requests.
* hello: POST /hello with the login's form, POST /hello with a form as large
  as the launch's. One iteration = one pair = two requests.

Rounds alternate hello and tool so drift on a shared machine hits both. The
figures that matter are the ratios tool / hello; absolute numbers depend on
the machine. Everything stays on loopback, every loop is bounded, and the
servers are stopped at the end. Results: a markdown table on stdout and
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ISSUER = "https://moodle.bench.invalid"
CLIENT_ID = "bench-client"
DEPLOYMENT_ID = "1"
KID = "bench-key-1"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
# Each client cycles through its own learners: two clients never make the same
# new user at the same time (concurrent first launches of one user hit a unique
# constraint in record_launch, see bench/README.md).
USERS_PER_CLIENT = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the fake platform ------------------------------------------------------------


class Platform:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        self.jwks = {"keys": [jwk]}

    def login_form(self, launch_url: str) -> dict[str, str]:
        return {
            "iss": ISSUER,
            "target_link_uri": launch_url,
            "login_hint": "3",
            "lti_message_hint": json.dumps({"cmid": 15, "launchid": "ltilaunch7_1"}),
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }

    def id_token(self, nonce: str, launch_url: str, user: int) -> str:
        now = int(time.time())
        body = {
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": f"bench-user-{user}",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "target_link_uri": launch_url,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "roles": [LEARNER],
            LTI + "resource_link": {"id": "bench-link", "title": "Benchmark"},
            LTI + "context": {"id": "bench-course", "label": "B1", "title": "Benchmark course"},
            LTI + "launch_presentation": {"locale": "de", "document_target": "iframe"},
            LTI + "tool_platform": {"product_family_code": "moodle", "version": "2025100600"},
            "name": f"Learner {user}",
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": KID})


# -- servers ------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited:\n{self.log_tail()}")
            try:
                if requests.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} server not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of its workers
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only its workers
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_BRIDGE_")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env.get("PYTHONPATH")) if x)
    return env


def prepare_tool_database(url: str, settings: dict[str, str], plat: Platform) -> None:
    """Migrate the SQLite file and register the platform (operator path, inline keys)."""
    from config import load_settings
    from lti_tool import create_app
    from lti_tool.bridge import bridge
    from lti_tool.db import upgrade
    from lti_tool.platforms import PlatformSpec, add_platform

    upgrade(url)
    app = create_app(load_settings(settings))
    b = bridge(app)
    with b.db.sessions() as s:
        add_platform(
            s,
            PlatformSpec(
                issuer=ISSUER,
                client_id=CLIENT_ID,
                auth_login_url=ISSUER + "/mod/lti/auth.php",
                auth_token_url=ISSUER + "/mod/lti/token.php",
                key_set=plat.jwks,
                deployment_ids=[DEPLOYMENT_ID],
                name="Benchmark Moodle",
            ),
        )
    b.db.engine.dispose()


# -- clients ------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    iterations: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds per pair
    sign_times: list[float] = field(default_factory=list)
    #: the tool's two requests on their own (client-side signing excluded)
    login_times: list[float] = field(default_factory=list)
    launch_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, other: Phase) -> None:
        self.iterations += other.iterations
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.sign_times += other.sign_times
        self.login_times += other.login_times
        self.launch_times += other.launch_times
        self.errors += other.errors

    @property
    def per_second(self) -> float:
        return self.iterations / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


class ToolClient:
    def __init__(self, base: str, plat: Platform, index: int) -> None:
        self.base = base
        self.plat = plat
        self.index = index
        self.http = requests.Session()
        self.launch_url = base + "/lti/launch"

    def iteration(self, i: int, phase: Phase) -> None:
        self.http.cookies.clear()  # every launch is a fresh browser, connection kept alive
        t0 = time.perf_counter()
        form = self.plat.login_form(self.launch_url)
        login = self.http.post(self.base + "/lti/login", data=form, allow_redirects=False, timeout=60)
        if login.status_code != 302:
            phase.errors.append(f"login {login.status_code} {login.headers.get('X-LTI-Error', '')}")
            return
        location = login.headers["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        s0 = time.perf_counter()
        user = self.index * USERS_PER_CLIENT + i % USERS_PER_CLIENT
        token = self.plat.id_token(query["nonce"], self.launch_url, user)
        s1 = time.perf_counter()
        form = {"id_token": token, "state": query["state"]}
        launch = self.http.post(self.launch_url, data=form, allow_redirects=False, timeout=60)
        if launch.status_code != 303:
            code = launch.headers.get("X-LTI-Error", "")
            phase.errors.append(f"launch {launch.status_code} {code}")
            return
        t1 = time.perf_counter()
        phase.latencies.append(t1 - t0)
        phase.login_times.append(s0 - t0)
        phase.sign_times.append(s1 - s0)
        phase.launch_times.append(t1 - s1)
        phase.iterations += 1


class HelloClient:
    def __init__(self, base: str, plat: Platform, token_size: int) -> None:
        self.url = base + "/hello"
        self.http = requests.Session()
        self.login_form = plat.login_form(base + "/lti/launch")
        self.launch_form = {"id_token": "x" * token_size, "state": secrets.token_urlsafe(32)}

    def iteration(self, i: int, phase: Phase) -> None:
        self.http.cookies.clear()
        t0 = time.perf_counter()
        first = self.http.post(self.url, data=self.login_form, allow_redirects=False, timeout=60)
        second = self.http.post(self.url, data=self.launch_form, allow_redirects=False, timeout=60)
        if first.status_code != 200 or second.status_code != 200:
            phase.errors.append(f"hello {first.status_code}/{second.status_code}")
            return
        phase.latencies.append(time.perf_counter() - t0)
        phase.iterations += 1


def run_phase(name: str, clients: list[Any], iterations: int) -> Phase:
    """Every client runs ``iterations`` iterations; all start together."""
    barrier = threading.Barrier(len(clients))
    parts = [Phase(name) for _ in clients]

    def work(k: int) -> None:
        barrier.wait(timeout=60)
        for i in range(iterations):
            clients[k].iteration(i, parts[k])

    with ThreadPoolExecutor(len(clients)) as pool:
        t0 = time.perf_counter()
        list(pool.map(work, range(len(clients))))
        elapsed = time.perf_counter() - t0
    total = Phase(name, seconds=elapsed)
    for p in parts:
        total.add(p)
    total.seconds = elapsed
    return total


# -- main ---------------------------------------------------------------------------


def summary(p: Phase) -> dict[str, Any]:
    return {
        "pairs": p.iterations,
        "requests": 2 * p.iterations,
        "seconds": round(p.seconds, 4),
        "pairs_per_s": round(p.per_second, 2),
        "p50_ms": round(1000 * p.pct(50), 3),
        "p99_ms": round(1000 * p.pct(99), 3),
        "errors": len(p.errors),
        **(
            {
                "login_p50_ms": round(1000 * percentile(p.login_times, 50), 3),
                "login_p99_ms": round(1000 * percentile(p.login_times, 99), 3),
                "launch_p50_ms": round(1000 * percentile(p.launch_times, 50), 3),
                "launch_p99_ms": round(1000 * percentile(p.launch_times, 99), 3),
                "client_sign_p50_ms": round(1000 * percentile(p.sign_times, 50), 3),
            }
            if p.sign_times
            else {}
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = ap.add_argument
    add("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    add("--threads", type=int, default=4, help="threads per worker, as `lms-bridge serve` (default 4)")
    add("--concurrency", "-c", type=int, default=8, help="client threads (default 8)")
    add("--launches", "-k", type=int, default=40, help="launches per client per round (default 40)")
    add("--rounds", type=int, default=3, help="alternating hello/tool rounds (default 3)")
    add("--warmup", type=int, default=3, help="unmeasured iterations per client first (default 3)")
    ap.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = ap.parse_args(argv)
    for name in ("workers", "threads", "concurrency", "launches", "rounds"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")

    plat = Platform()
    tmp = Path(tempfile.mkdtemp(prefix="lms-bridge-bench-"))
    tool_port, hello_port = free_port(), free_port()
    db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = {
        "LMS_BRIDGE_DATABASE_URL": db_url,
        "LMS_BRIDGE_BASE_URL": f"http://127.0.0.1:{tool_port}",
        "LMS_BRIDGE_SECRET_KEY": secrets.token_urlsafe(48),
        "LMS_BRIDGE_INSTANCE_DIR": str(tmp / "instance"),
    }
    serve_opts = ["--host", "127.0.0.1", "--workers", str(args.workers)]
    serve_opts += ["--threads", str(args.threads)]
    tool = Server(
        "tool",
        [sys.executable, "-m", "lti_tool.cli", "serve", "--port", str(tool_port), *serve_opts],
        server_env(settings),
        tool_port,
        "/healthz",
        tmp / "tool.log",
    )
    hello = Server(
        "hello",
        [sys.executable, str(ROOT / "bench" / "hello_app.py"), "--port", str(hello_port)] + serve_opts,
        server_env({}),
        hello_port,
        "/hello",
        tmp / "hello.log",
    )
    rounds: list[dict[str, Any]] = []
    totals = {"tool": Phase("tool"), "hello": Phase("hello")}
    kept: list[str] = []
    failed = False
    try:
        prepare_tool_database(db_url, settings, plat)
        tool.start()
        hello.start()
        tool_clients = [ToolClient(tool.base, plat, k) for k in range(args.concurrency)]
        sample = plat.id_token("n" * 43, tool.base + "/lti/launch", 0)
        hello_clients = [HelloClient(hello.base, plat, len(sample)) for _ in range(args.concurrency)]
        # One launch alone first: it creates the course and resource link rows.
        prime = run_phase("tool", tool_clients[:1], 1)
        if prime.errors:
            raise RuntimeError(f"first launch failed: {prime.errors}")
        if args.warmup:
            for name, clients in (("hello", hello_clients), ("tool", tool_clients)):
                w = run_phase(name, clients, args.warmup)
                if w.errors:
                    raise RuntimeError(f"{name} warm-up failed: {w.errors[:3]}")
        for r in range(args.rounds):
            result: dict[str, Any] = {"round": r + 1}
            for name, clients in (("hello", hello_clients), ("tool", tool_clients)):
                phase = run_phase(name, clients, args.launches)
                totals[name].add(phase)
                result[name] = summary(phase)
                print(
                    f"round {r + 1}/{args.rounds} {name:5}: {phase.per_second:8.1f} pairs/s  "
                    f"p50 {1000 * phase.pct(50):7.2f} ms  p99 {1000 * phase.pct(99):7.2f} ms  "
                    f"errors {len(phase.errors)}",
                    file=sys.stderr,
                )
            rounds.append(result)
        for tc in tool_clients:
            tc.http.close()
        for hc in hello_clients:
            hc.http.close()
    except BaseException:
        failed = True
        raise
    finally:
        tool.stop()
        hello.stop()
        if failed or any(p.errors for p in totals.values()):
            RESULTS.mkdir(parents=True, exist_ok=True)
            for s in (tool, hello):
                if s.log_path.exists():
                    shutil.copy(s.log_path, RESULTS / s.log_path.name)
                    kept.append(str(RESULTS / s.log_path.name))
        shutil.rmtree(tmp, ignore_errors=True)

    t, h = totals["tool"], totals["hello"]
    errors = t.errors + h.errors
    ratios = {
        "throughput": round(t.per_second / h.per_second, 3),
        "p50": round(t.pct(50) / h.pct(50), 2),
        "p99": round(t.pct(99) / h.pct(99), 2),
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "gunicorn": version("gunicorn"),
            "flask": version("flask"),
        },
        "config": {
            "server": "lms-bridge serve (gunicorn gthread, access log on)",
            "database": "sqlite file",
            "workers": args.workers,
            "threads": args.threads,
            "concurrency": args.concurrency,
            "launches_per_client_per_round": args.launches,
            "rounds": args.rounds,
            "warmup": args.warmup,
        },
        "tool": summary(t),
        "hello": summary(h),
        "ratios_tool_over_hello": ratios,
        "rounds": rounds,
        "errors_sample": errors[:10],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"\nLMS Bridge launches: {args.workers} gunicorn workers x {args.threads} threads, "
        f"{args.concurrency} clients, {args.rounds} x {args.launches} launches each, "
        f"{os.cpu_count()} CPUs\n"
    )
    rows = [
        ("throughput (pairs/s)", t.per_second, h.per_second, ratios["throughput"], "%.1f", "%.3f"),
        ("p50 latency (ms)", 1000 * t.pct(50), 1000 * h.pct(50), ratios["p50"], "%.2f", "%.2f"),
        ("p99 latency (ms)", 1000 * t.pct(99), 1000 * h.pct(99), ratios["p99"], "%.2f", "%.2f"),
    ]
    print("| figure | LMS Bridge login+launch | hello pair (ceiling) | tool / hello |")
    print("|---|---:|---:|---:|")
    for label, tool_v, hello_v, ratio, fmt, rfmt in rows:
        print(f"| {label} | {fmt % tool_v} | {fmt % hello_v} | {rfmt % ratio} |")
    sign = 1000 * percentile(t.sign_times, 50)
    print(
        f"\n{t.iterations} launches, {h.iterations} hello pairs, {len(errors)} errors; "
        f"client-side RS256 signing p50 {sign:.2f} ms (inside the tool's latency)"
    )
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"written: {shown}")
    if errors:
        print(f"FAILED requests, e.g. {errors[:3]}; server logs kept: {', '.join(kept)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
