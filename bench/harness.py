"""What every benchmark shares: its database, the shipped server, wrk, CPU meters and timers.

- Database: ``fresh_bench_database(suffix)`` creates, migrates and sets Django up on ``<name>_<suffix>``;
  ``use_database(url)`` does the same on an existing one.
- Server: ``with Server(gunicorn_command(free_port(), workers=5, threads=1), env, log_path) as server:``
  runs what scripts/serve.sh runs and always stops it; call ``server.wait_healthy(base_url)`` first.
- Load: ``run_wrk(label, path, wrk_command(ensure_wrk(), url, ...), CpuMeter(server.pid, database))`` gives
  a ``WrkRun`` (req/s, p50/p99, statuses, CPU ms a request); wrk_command's default script GETs the URL,
  a POST script dofile()s wrk_result.lua. ``warm_up``, ``print_table``, ``print_cpu_use`` report.
- Timing: ``timed(function, runs)`` (median), ``cpu_seconds()``, ``backend_cpu_seconds(connection)``.
A new bench puts the repository root on sys.path, does ``from bench import harness`` and keeps its own
data, targets and wording: see api_registration_bench.py (server + wrk) or affected_bench.py (timed).
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_MODULE = "config.settings"
WRK_RESULT_SCRIPT = ROOT / "bench" / "wrk_result.lua"  # alone: GET the URL; other scripts dofile() it
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """``command: .venv/bin/python bench/<script> <arguments>``, the line each bench ends its report with."""
    arguments = shlex.join(argv if argv is not None else sys.argv[1:])
    return f"command: .venv/bin/python bench/{Path(script).name} {arguments}".rstrip()


# --- The bench database -----------------------------------------------------------------
# Benchmarks never touch the development database: they use ``<name>_<suffix>`` on the
# same server as DATABASE_URL. Django must only load its settings once DATABASE_URL points
# there, so nothing here imports config.settings before use_database().


def configured_database_url() -> str:
    """DATABASE_URL from the environment or .local/dev.env, read like config.settings does."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    dev_env = ROOT / ".local" / "dev.env"
    for line in dev_env.read_text().splitlines() if dev_env.exists() else []:
        key, _, value = line.partition("=")
        if key.strip() == "DATABASE_URL":
            return value.strip()
    raise SystemExit("No DATABASE_URL: run scripts/bootstrap.sh first.")


def bench_database_url(suffix: str = "bench") -> str:
    """The configured URL with database ``<name>_<suffix>`` (a bench's own database)."""
    parts = urlsplit(configured_database_url())
    name = parts.path.lstrip("/") or "consular"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def use_database(url: str) -> str:
    """Point Django at ``url``, migrate it (it may predate the latest migrations) and set Django up."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ.copy())
    import django

    django.setup()
    return url


def fresh_bench_database(suffix: str = "bench") -> str:
    """Create and migrate an empty ``<name>_<suffix>`` database; returns its URL and makes Django use it."""
    url = bench_database_url(suffix)
    name = database_name(url)
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(libpq_conninfo(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return use_database(url)


def libpq_conninfo(url: str) -> str:
    """dj-database-url style URLs (socket directory as %2F-encoded host) to a libpq conninfo."""
    import dj_database_url

    config = dj_database_url.parse(url)
    parts = {"dbname": config["NAME"], "user": config["USER"], "host": config["HOST"], "port": config["PORT"]}
    if config.get("PASSWORD"):
        parts["password"] = config["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


# --- Timing -----------------------------------------------------------------------------


def timed(function: Callable[[], Any], runs: int, *, give_up_after: float | None = None) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls and the last result; stops early after a call slower than ``give_up_after``."""
    durations, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
        if give_up_after is not None and durations[-1] > give_up_after:
            break
    return statistics.median(durations), result


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or, with RUSAGE_CHILDREN, of its waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _proc_stat(pid: int | str) -> tuple[str, list[str]]:
    """Command name and the fields after it in /proc/<pid>/stat (the name may hold spaces and parentheses)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()


def _ticks(fields: list[str]) -> int:
    return int(fields[11]) + int(fields[12])  # utime + stime


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds so far of any process on this machine; None if it is gone."""
    try:
        return _ticks(_proc_stat(pid)[1]) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return None


def backend_cpu_seconds(connection) -> float | None:
    """User + system CPU of the PostgreSQL process behind a Django ``connection`` (same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu_seconds(pid)


# --- The server -------------------------------------------------------------------------


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


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind through ``with Server(...)`` blocks like Ctrl-C does."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


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


# --- CPU accounting around a load -------------------------------------------------------


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


def machine_ticks() -> tuple[int, int]:
    """Busy (including steal) and steal ticks of all CPUs so far, from /proc/stat."""
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    fields += [0] * (8 - len(fields))
    return sum(fields) - fields[3] - fields[4], fields[7]


def process_ticks(server_pgid: int, database: str) -> dict[str, dict[int, int]]:
    """CPU ticks so far of the server's process group and of the database's backends, by pid."""
    found: dict[str, dict[int, int]] = {"gunicorn": {}, "postgres": {}}
    marker = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command_name, fields = _proc_stat(entry.name)
            if int(fields[2]) == server_pgid:
                found["gunicorn"][int(entry.name)] = _ticks(fields)
            elif command_name == "postgres" and marker in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                # Backends retitle themselves "postgres: <user> <database> ...".
                found["postgres"][int(entry.name)] = _ticks(fields)
        except (OSError, ValueError, IndexError):
            continue  # the process ended while being read
    return found


class CpuMeter:
    """Measures CpuUse around one wrk run: ``with meter: ...`` then ``meter.cpu``.

    ``server_pgid`` is the server's process group (``Server.pid``), ``database`` the name of
    the database whose backends count; wrk is counted as this process's waited-for children.
    """

    def __init__(self, server_pgid: int, database: str) -> None:
        self.server_pgid, self.database = server_pgid, database

    def __enter__(self) -> CpuMeter:
        self.cpu = CpuUse()
        self._processes = process_ticks(self.server_pgid, self.database)
        self._machine = machine_ticks()
        self._children = cpu_seconds(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        processes = process_ticks(self.server_pgid, self.database)

        def spent(kind: str) -> float:
            before = self._processes[kind]
            return sum(ticks - before.get(pid, 0) for pid, ticks in processes[kind].items()) / CLOCK_TICKS

        self.cpu.gunicorn = spent("gunicorn")
        self.cpu.postgres = spent("postgres")
        self.cpu.wrk = cpu_seconds(resource.RUSAGE_CHILDREN) - self._children
        busy, steal = machine_ticks()
        self.cpu.machine_busy = (busy - self._machine[0]) / CLOCK_TICKS
        self.cpu.steal = (steal - self._machine[1]) / CLOCK_TICKS
        self.cpu.wall = time.monotonic() - self._wall


# --- The load generator -----------------------------------------------------------------


@dataclass
class WrkRun:
    """One wrk run's figures, as printed by wrk_result.lua's done()."""

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


def wrk_command(
    wrk: str,
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    script: Path = WRK_RESULT_SCRIPT,
    script_args: Sequence[object] = (),
) -> list[str]:
    """wrk's command line, run from ROOT. The default script GETs ``url``; any other must dofile() wrk_result.lua."""
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",  # a slow answer must count in the latencies, not vanish as a timeout
        f"--script={shown}",
        url,
    ]
    if script_args:
        command += ["--", *(str(argument) for argument in script_args)]
    return command


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


def warm_up(command: list[str], *, max_rounds: int = 8) -> tuple[list[WrkRun], bool]:
    """Runs ``command`` (a short wrk load) until the server has settled; returns the rounds and whether it did.

    Settled: a round with no request slower than a second and a throughput within 15%
    of the round before. Cold workers import lazily and open their database connections
    on first use; a fixed short warm-up would leave part of that inside the measurement.
    """
    rounds: list[WrkRun] = []
    for _ in range(max_rounds):
        rounds.append(run_wrk("warm-up", "", command))
        if len(rounds) >= 2:
            last, before = rounds[-1], rounds[-2]
            steady = min(last.rps, before.rps) >= 0.85 * max(last.rps, before.rps)
            if last.requests and before.requests and last.max_ms < 1000 and steady:
                return rounds, True
    return rounds, False


def print_table(runs: list[WrkRun]) -> None:
    """One line per run: req/s, latency percentiles, failures and CPU ms a request (server, PostgreSQL, wrk)."""
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


def print_cpu_use(run: WrkRun) -> None:
    """CPU a request cost (server, PostgreSQL backends, wrk), the rate that allows, and what else used the CPUs."""
    cpu = run.cpu
    if not (run.requests and cpu.wall):
        return
    cpus = os.cpu_count() or 1
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
