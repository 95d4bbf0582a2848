"""Profile + trip creation through the API, on the server the project ships, loaded by wrk.

Target (the project's issue): >= 300 requests/s with p99 <= 100 ms, measured with
a load generator in a second process. This is a benchmark, not a test: it prints
its figures, the commands that produced them, and references measured in the
same run on the same server (``GET /healthz``, which touches no database, and an
authenticated ``GET /api/v1/me/profile``) so that a reader sees how far the
write path is from the server's own ceiling on this machine.

What it does:

1. Creates a fresh ``<name>_api_bench`` database (never the development one, and
   not ``<name>_bench``, which the other benchmarks use and may be using right now).
2. Creates citizens with bearer tokens directly through ``accounts.services``:
   sign-up and login through HTTP would spend seconds in Argon2, which is
   deliberately slow and not what is measured. By default there are enough of
   them for every PUT to *create* a profile at the target rate.
3. For each log level asked for, starts gunicorn exactly as scripts/serve.sh does
   (same config module, worker class and flags; no qcluster, the measured
   requests queue no task) on a free 127.0.0.1 port, waits for /healthz, warms
   it up until its throughput settles, runs wrk against the three paths, and
   stops it, even on error.
4. Reports the CPU each request cost (gunicorn, the database's PostgreSQL
   backends, wrk) from /proc, and what other processes took meanwhile: on a
   2-core machine the load generator and the database share the cores with the
   server, and that bounds what any setting can reach.
5. Checks in the database that the 200/201 answers really wrote what they claim.

Run: ``.venv/bin/python bench/api_registration_bench.py [--help]`` after
``scripts/bootstrap.sh``. Needs ``wrk`` (Debian package ``wrk``; installed with
apt-get when run as root).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (needs ROOT on sys.path when run as a script)
from bench.register_data import register_line  # noqa: E402

LUA_SCRIPT = ROOT / "bench" / "wrk_registration.lua"
TARGET_RPS = 300.0
TARGET_P99_MS = 100.0
DATABASE_SUFFIX = "api"  # -> <name>_api_bench: cannot collide with <name>_bench
WARMUP_SECONDS = 3
WARMUP_MAX_ROUNDS = 8
READERS = 100
COMMAND = ".venv/bin/python bench/api_registration_bench.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds spent during one wrk run, by whom."""

    gunicorn: float = 0.0
    postgres: float = 0.0
    wrk: float = 0.0
    machine_busy: float = 0.0  # every process, from /proc/stat
    steal: float = 0.0  # CPU the hypervisor gave to someone else while we wanted it
    wall: float = 0.0

    @property
    def ours(self) -> float:
        return self.gunicorn + self.postgres + self.wrk

    @property
    def others(self) -> float:
        """Busy CPU not accounted to the server, its database backends, wrk or steal (other work on the machine)."""
        return max(0.0, self.machine_busy - self.steal - self.ours)


@dataclass
class WrkRun:
    """One wrk run's figures, as printed by the Lua script's done()."""

    label: str
    path: str
    command: list[str]
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    first_errors: list[str] = field(default_factory=list)
    cpu: CpuUse = field(default_factory=CpuUse)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status <= 299)

    @property
    def failures(self) -> int:
        """Answers that were not 2xx plus requests that got no answer at all."""
        return self.non_2xx + sum(self.socket_errors.values())

    def cpu_ms_per_request(self, seconds: float) -> float:
        return seconds * 1000 / self.requests if self.requests else 0.0


# --- Set-up ---------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Path of wrk, installing the Debian package when running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    command = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if os.geteuid() != 0:
        raise SystemExit(f"wrk is not installed; run as root: {shlex.join(command)}")
    print(f"$ {shlex.join(command)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk still not found after apt-get install")
    return found


def bench_database() -> str:
    """Fresh, migrated ``<name>_api_bench`` database; Django is set up on it."""
    # bench.common names its database after DATABASE_URL's: pointing that at
    # "<name>_api" first gives this benchmark a database of its own without
    # changing the shared helper.
    parts = urlsplit(common._configured_database_url())
    name = parts.path.lstrip("/") or "consular"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}_{DATABASE_SUFFIX}"))
    return common.fresh_bench_database()


def create_citizens(count: int, *, first_index: int, with_profile: bool = False) -> list[tuple[str, dict]]:
    """``count`` citizens with a bearer token each; returns (token, register line) pairs."""
    from django.db import transaction

    from accounts import services as accounts
    from registrations import services as registrations

    rng = random.Random(first_index)  # deterministic bodies, different per batch
    created = []
    # One transaction: thousands of commits would each wait for a WAL flush.
    with transaction.atomic():
        for index in range(first_index, first_index + count):
            user = accounts.user_create(email=f"citizen{index}@bench.example", password=None, role="citizen")
            line = register_line(index, rng, start=date.today())
            if with_profile:
                registrations.profile_write(user=user, data=line["profile"], partial=False)
            created.append((accounts.token_issue(user=user).token, line))
    return created


def write_data_file(path: Path, citizens: list[tuple[str, dict]]) -> Path:
    """The Lua script's input: "<token>\\t<profile JSON>\\t<trip JSON>" a line (json.dumps escapes tabs)."""
    with path.open("w") as out:
        for token, line in citizens:
            profile = json.dumps(line["profile"], separators=(",", ":"))
            trip = json.dumps(line["trips"][0], separators=(",", ":"))
            out.write(f"{token}\t{profile}\t{trip}\n")
    return path


# --- The server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(port: int, *, workers: int, threads: int) -> list[str]:
    """scripts/serve.sh's web_cmd, bound to 127.0.0.1:port."""
    # Kept identical to serve.sh's flags, so that what is measured is the
    # server the project ships.
    return [
        ".venv/bin/gunicorn",
        "config.wsgi:application",
        "--config",
        "python:config.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-control-socket",
    ]


class Server:
    """gunicorn in its own process group, always stopped on exit from the ``with`` block."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command, self.env, self.log_path = command, env, log_path
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("gunicorn is not running")
        return self.process.pid

    def __enter__(self) -> Server:
        # The log goes to a file: with LOG_LEVEL=INFO each request writes a JSON
        # access line, and a pipe nobody reads would block the workers.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: the master and its workers stop together
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)  # graceful: gunicorn finishes in-flight requests
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def wait_healthy(self, base_url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:  # noqa: S310  (our own http URL)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"/healthz did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def serious_log_lines(self) -> int:
        """ERROR or CRITICAL lines (500s, worker timeouts): the JSON logs never say "Traceback"."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return sum('"level": "ERROR"' in line or '"level": "CRITICAL"' in line for line in text.splitlines())

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --- CPU accounting -------------------------------------------------------------------


def _machine_ticks() -> tuple[int, int]:
    """Busy (including steal) and steal ticks of all CPUs so far, from /proc/stat."""
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    fields += [0] * (8 - len(fields))
    return sum(fields) - fields[3] - fields[4], fields[7]


def _process_ticks(server_pgid: int, database: str) -> dict[str, dict[int, int]]:
    """CPU ticks so far of the gunicorn process group and of the database's backends, by pid."""
    found: dict[str, dict[int, int]] = {"gunicorn": {}, "postgres": {}}
    marker = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # The command name is in parentheses and may hold spaces: count fields after it.
            command_name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            if int(fields[2]) == server_pgid:
                found["gunicorn"][int(entry.name)] = ticks
            elif command_name == "postgres" and marker in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                # Backends retitle themselves "postgres: <user> <database> ...".
                found["postgres"][int(entry.name)] = ticks
        except (OSError, ValueError, IndexError):
            continue  # the process ended while being read
    return found


class CpuMeter:
    """Measures CpuUse around one wrk run."""

    def __init__(self, server_pgid: int, database: str) -> None:
        self.server_pgid, self.database = server_pgid, database

    def __enter__(self) -> CpuMeter:
        self.cpu = CpuUse()
        self._processes = _process_ticks(self.server_pgid, self.database)
        self._machine = _machine_ticks()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        self._children = children.ru_utime + children.ru_stime
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        processes = _process_ticks(self.server_pgid, self.database)

        def spent(kind: str) -> float:
            before = self._processes[kind]
            return sum(ticks - before.get(pid, 0) for pid, ticks in processes[kind].items()) / CLOCK_TICKS

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.gunicorn = spent("gunicorn")
        self.cpu.postgres = spent("postgres")
        self.cpu.wrk = children.ru_utime + children.ru_stime - self._children
        busy, steal = _machine_ticks()
        self.cpu.machine_busy = (busy - self._machine[0]) / CLOCK_TICKS
        self.cpu.steal = (steal - self._machine[1]) / CLOCK_TICKS
        self.cpu.wall = time.monotonic() - self._wall


# --- The load generator ---------------------------------------------------------------


def wrk_command(
    wrk: str, url: str, *, mode: str, data_file: Path | None, args: argparse.Namespace, seconds: int
) -> list[str]:
    connections_per_thread = max(1, args.connections // args.threads)
    return [
        wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        "--timeout=10s",  # a slow answer must count in the latencies, not vanish as a timeout
        f"--script={LUA_SCRIPT.relative_to(ROOT)}",
        url,
        "--",
        mode,
        str(data_file) if data_file else "-",
        str(args.threads),
        str(connections_per_thread),  # LAG: a user's trip trails its profile by this many pairs
    ]


def run_wrk(label: str, path: str, command: list[str], meter: CpuMeter | None = None) -> WrkRun:
    """Run wrk to completion and parse the WRK_RESULT line its Lua done() prints."""
    if meter is None:
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        cpu = CpuUse()
    else:
        with meter:
            finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        cpu = meter.cpu
    result_lines = [line for line in finished.stdout.splitlines() if line.startswith("WRK_RESULT ")]
    if finished.returncode != 0 or not result_lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    data = json.loads(result_lines[-1].removeprefix("WRK_RESULT "))
    return WrkRun(
        label=label,
        path=path,
        command=command,
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        p999_ms=data["p999_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        statuses={int(status): count for status, count in data["statuses"].items()},
        socket_errors=data["socket_errors"],
        first_errors=data["first_errors"],
        cpu=cpu,
    )


def warm_up(wrk: str, base_url: str, data_file: Path, args: argparse.Namespace) -> tuple[list[WrkRun], bool]:
    """Registration load in short rounds until the server has settled; returns the rounds and whether it did."""
    # A cold worker imports lazily, opens a database connection per thread and
    # builds the gazetteer's city index on its first city look-up: seconds of
    # CPU, in every thread that gets there before the first build is done,
    # during which that worker's requests (even /healthz) queue. A fixed short
    # warm-up would leave part of that inside the measured phase, so: rounds
    # until one has no request slower than a second and its throughput is
    # within 15% of the round before.
    rounds: list[WrkRun] = []
    for _ in range(WARMUP_MAX_ROUNDS):
        command = wrk_command(
            wrk, base_url + "/", mode="register", data_file=data_file, args=args, seconds=WARMUP_SECONDS
        )
        rounds.append(run_wrk("warm-up", "", command))
        if len(rounds) >= 2:
            last, before = rounds[-1], rounds[-2]
            steady = min(last.rps, before.rps) >= 0.85 * max(last.rps, before.rps)
            if last.requests and before.requests and last.max_ms < 1000 and steady:
                return rounds, True
    return rounds, False


# --- Report ---------------------------------------------------------------------------


def verdict(run: WrkRun) -> str:
    rps_ok = run.rps >= TARGET_RPS
    p99_ok = run.p99_ms <= TARGET_P99_MS
    clean = run.failures == 0
    parts = [f"{'PASS' if rps_ok else 'MISS'} req/s", f"{'PASS' if p99_ok else 'MISS'} p99"]
    if not clean:
        parts.append("ERRORS")
    return ("PASS" if rps_ok and p99_ok and clean else "MISS") + f" ({', '.join(parts)})"


def print_table(runs: list[WrkRun]) -> None:
    header = (
        f"{'run':<44} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'failed':>6}"
        f" {'CPU ms/req: app':>15} {'pg':>5} {'wrk':>5}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        print(
            f"{run.label:<44} {run.rps:>7.1f} {run.p50_ms:>7.1f} {run.p90_ms:>7.1f} {run.p99_ms:>7.1f}"
            f" {run.max_ms:>7.1f} {run.failures:>6} {run.cpu_ms_per_request(run.cpu.gunicorn):>15.2f}"
            f" {run.cpu_ms_per_request(run.cpu.postgres):>5.2f} {run.cpu_ms_per_request(run.cpu.wrk):>5.2f}"
        )


def report_registration(run: WrkRun, reference: WrkRun | None, users: int) -> None:
    profiles, trips = run.statuses.get(200, 0), run.statuses.get(201, 0)
    pairs = min(profiles, trips)
    cpus = os.cpu_count() or 1
    print(f"\n[{run.label}]")
    print(
        f"  {run.requests} requests in {run.duration_s:.1f}s: "
        f"{profiles} PUT /api/v1/me/profile -> 200, {trips} POST /api/v1/me/trips -> 201"
    )
    print(f"  registrations (profile + trip pairs): {pairs / run.duration_s:.1f}/s")
    if profiles > users:
        print(f"  note: {profiles - users} PUTs updated a profile created earlier in the run (only {users} users)")
    print(f"  target >= {TARGET_RPS:.0f} req/s and p99 <= {TARGET_P99_MS:.0f} ms: {verdict(run)}")
    if reference is not None and reference.rps:
        print(
            f"  vs GET /healthz on the same server: {run.rps / reference.rps:.1%} of its throughput, "
            f"p99 {run.p99_ms:.1f} ms vs {reference.p99_ms:.1f} ms"
        )
    cpu = run.cpu
    if run.requests and cpu.wall:
        per_request = cpu.ours * 1000 / run.requests
        print(
            f"  CPU per request: gunicorn {run.cpu_ms_per_request(cpu.gunicorn):.2f} ms, "
            f"PostgreSQL backends {run.cpu_ms_per_request(cpu.postgres):.2f} ms, "
            f"wrk {run.cpu_ms_per_request(cpu.wrk):.2f} ms = {per_request:.2f} ms"
            f" -> {cpus} CPUs fully busy at that cost would serve ~{cpus * 1000 / per_request:.0f} req/s"
        )
        print(
            f"  machine busy {cpu.machine_busy / cpu.wall / cpus:.0%} of {cpus} CPUs, of which other processes "
            f"{cpu.others / cpu.wall / cpus:.0%} and hypervisor steal {cpu.steal / cpu.wall / cpus:.0%}"
        )
        if (cpu.others + cpu.steal) / cpu.wall / cpus > 0.10:
            print("  !!! other processes or the hypervisor took more than 10% of the CPUs: the figures understate")
    if run.failures:
        print(f"  !!! {run.failures} FAILED REQUESTS: statuses {run.statuses}, socket errors {run.socket_errors}")
        for message in run.first_errors:
            print(f"  !!! first error: {message}")


def check_database(profiles: tuple[int, int], trips: tuple[int, int]) -> str:
    """Whether the 200/201 answers really wrote rows (a benchmark of no-ops would be worthless).

    Both counts are ranges: requests in flight when wrk stops are still served
    (and written) without being counted, and once a wrk thread has gone through
    its slice of users its PUTs update profiles instead of creating them.
    """
    from registrations.models import Traveller, Trip

    with_profile = Traveller.objects.filter(given_name_enc__isnull=False).count()
    trip_count = Trip.objects.count()
    ok = profiles[0] <= with_profile <= profiles[1] and trips[0] <= trip_count <= trips[1]
    return (
        f"database check: {with_profile} travellers with a profile ({profiles[0]}..{profiles[1]} expected), "
        f"{trip_count} trips ({trips[0]}..{trips[1]} expected): {'OK' if ok else 'MISMATCH'}"
    )


# --- Main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--users",
        type=int,
        help="citizens per log level (default: enough for every PUT to create a profile at the target rate)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of registration load (default %(default)s)")
    parser.add_argument(
        "--reference-duration", type=int, default=5, help="seconds for each reference path (default %(default)s)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default %(default)s)")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "5")),
        help="gunicorn workers (default WEB_CONCURRENCY or 5, as config/gunicorn_conf.py)",
    )
    parser.add_argument(
        "--web-threads",
        type=int,
        default=int(os.environ.get("WEB_THREADS", "1")),
        help="gunicorn threads per worker (default WEB_THREADS or 1, as config/gunicorn_conf.py; >1 is gthread)",
    )
    parser.add_argument(
        "--log-levels",
        default="WARNING,INFO",
        help="server LOG_LEVELs to measure, comma-separated (default %(default)s; INFO is the shipped default)",
    )
    args = parser.parse_args(argv)
    args.log_levels = [level.strip().upper() for level in args.log_levels.split(",") if level.strip()]
    if args.users is None:
        args.users = math.ceil(args.duration * TARGET_RPS / 2)
    if args.threads < 1 or args.connections < args.threads:
        parser.error("need --threads >= 1 and --connections >= --threads")
    if args.users < args.threads * 2:
        parser.error("need at least two users per wrk thread")
    if not args.log_levels:
        parser.error("need at least one --log-levels entry")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM must unwind through the `with Server(...)` blocks like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wrk = ensure_wrk()
    started = time.perf_counter()
    database_url = bench_database()
    database = urlsplit(database_url).path.lstrip("/")
    print(f"bench database: {database} (fresh, migrated)", flush=True)

    setup_started = time.perf_counter()
    index = 0
    readers = create_citizens(READERS, first_index=index, with_profile=True)
    index += READERS
    warmup = create_citizens(max(args.threads * 2, 50), first_index=index)
    index += len(warmup)
    batches = {}
    for level in args.log_levels:
        batches[level] = create_citizens(args.users, first_index=index)
        index += args.users
    print(f"set-up: {index} citizens with tokens in {time.perf_counter() - setup_started:.1f}s", flush=True)

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SIGNUPS_PER_ADDRESS": "1000000",  # the sign-up throttle is per address, and every request here is local
        "PYTHONUNBUFFERED": "1",
    }
    runs: list[WrkRun] = []
    registration_runs: list[tuple[WrkRun, WrkRun | None]] = []
    warmups: dict[str, list[WrkRun]] = {}
    unsettled: set[str] = set()
    # Expected rows, as ranges (see check_database).
    trips = [0, 0]
    profiles = [READERS, READERS]
    with tempfile.TemporaryDirectory(prefix="api-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        readers_file = write_data_file(scratch / "readers.tsv", readers)
        warmup_file = write_data_file(scratch / "warmup.tsv", warmup)
        for level in args.log_levels:
            users_file = write_data_file(scratch / f"users-{level}.tsv", batches[level])
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            server_command = gunicorn_command(port, workers=args.workers, threads=args.web_threads)
            print(f"\n== $ LOG_LEVEL={level} {shlex.join(server_command)}", flush=True)
            with Server(server_command, {**env, "LOG_LEVEL": level}, scratch / f"gunicorn-{level}.log") as server:
                server.wait_healthy(base_url)
                # Not measured: see warm_up().
                warmups[level], settled = warm_up(wrk, base_url, warmup_file, args)
                if not settled:
                    unsettled.add(level)
                    print(
                        f"  !!! the server had not settled after {len(warmups[level])} warm-up rounds: "
                        "the figures below include cold-start effects"
                    )
                print(
                    f"  warm-up rounds ({WARMUP_SECONDS}s each, req/s): "
                    + ", ".join(f"{run.rps:.0f}" for run in warmups[level]),
                    flush=True,
                )
                for run in warmups[level]:
                    trips[0] += run.statuses.get(201, 0)
                    trips[1] += run.statuses.get(201, 0) + args.connections
                # Each round starts the warm-up users over again: their PUTs create
                # anywhere between none and all of their profiles.
                profiles[1] += len(warmup)

                meter = CpuMeter(server.pid, database)
                plan = [
                    ("GET /healthz", "/healthz", "get", None, args.reference_duration),
                    ("PUT profile + POST trip", "/api/v1/me/profile, /me/trips", "register", users_file, args.duration),
                    ("GET /api/v1/me/profile", "/api/v1/me/profile", "read", readers_file, args.reference_duration),
                ]
                health = None
                for label, path, mode, data_file, seconds in plan:
                    url = base_url + ("/healthz" if mode == "get" else "/")
                    command = wrk_command(wrk, url, mode=mode, data_file=data_file, args=args, seconds=seconds)
                    run = run_wrk(f"{label} [LOG_LEVEL={level}]", path, command, meter)
                    print(f"  {label}: {run.rps:.1f} req/s, p99 {run.p99_ms:.1f} ms, {run.failures} failed", flush=True)
                    runs.append(run)
                    if mode == "get":
                        health = run
                    elif mode == "register":
                        registration_runs.append((run, health))
                        created = run.statuses.get(201, 0)
                        trips[0] += created
                        trips[1] += created + args.connections
                        written = run.statuses.get(200, 0)
                        profiles[0] += min(written, args.users // args.threads)
                        profiles[1] += min(written + args.connections, args.users)
                serious = server.serious_log_lines()
                if serious:
                    print(f"  !!! the server logged {serious} ERROR/CRITICAL lines; last lines:\n{server.log_tail()}")

    print("\n" + "=" * 100)
    print(f"command: {COMMAND} {shlex.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    worker_class = "sync" if args.web_threads == 1 else "gthread"
    print(
        f"machine: {os.cpu_count()} CPUs shared by wrk ({args.threads} threads, {args.connections} connections), "
        f"gunicorn ({args.workers} workers x {args.web_threads} threads, {worker_class}) and PostgreSQL"
    )
    print(f"users:   {args.users} citizens per log level (bearer tokens made in set-up, outside the measurement)")
    print(f"target:  >= {TARGET_RPS:.0f} requests/s and p99 <= {TARGET_P99_MS:.0f} ms for PUT profile + POST trip")
    print(
        "logs:    LOG_LEVEL=WARNING drops the per-request JSON access line; INFO is the shipped default "
        "(written to a file here, not a terminal)"
    )
    for level, rounds in warmups.items():
        print(
            f"cold start [LOG_LEVEL={level}], not in the table: first {WARMUP_SECONDS}s of registration load "
            f"{rounds[0].rps:.0f} req/s, p99 {rounds[0].p99_ms:.0f} ms, max {rounds[0].max_ms:.0f} ms; "
            + (
                f"NOT settled after {len(rounds)} rounds"
                if level in unsettled
                else f"settled after {len(rounds)} rounds"
            )
        )
    print()
    print_table(runs)
    for run, reference in registration_runs:
        report_registration(run, reference, args.users)
    print("\n" + check_database((profiles[0], profiles[1]), (trips[0], trips[1])))
    print("\nwrk commands (from the repository root; the data files were temporary):")
    for run in runs:
        print(f"  $ {shlex.join(run.command)}")
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    failed = any(run.failures for run in runs)
    if failed:
        print("\n!!! SOME REQUESTS FAILED: the figures above are not valid measurements !!!")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
