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
import shlex
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, when run as a script

from bench import harness
from bench.harness import Server, WrkRun
from bench.register_data import register_line

LUA_SCRIPT = harness.ROOT / "bench" / "wrk_registration.lua"
TARGET_RPS = 300.0
TARGET_P99_MS = 100.0
DATABASE_SUFFIX = "api_bench"  # -> <name>_api_bench: cannot collide with <name>_bench
WARMUP_SECONDS = 3
WARMUP_MAX_ROUNDS = 8
READERS = 100


# --- Set-up ---------------------------------------------------------------------------


def create_citizens(count: int, *, first_index: int, with_profile: bool = False) -> list[tuple[str, dict]]:
    """``count`` citizens with a bearer token each; returns (token, register line) pairs."""
    from django.db import transaction

    from accounts import services as accounts
    from registrations.services import profiles

    rng = random.Random(first_index)  # deterministic bodies, different per batch
    created = []
    # One transaction: thousands of commits would each wait for a WAL flush.
    with transaction.atomic():
        for index in range(first_index, first_index + count):
            user = accounts.user_create(email=f"citizen{index}@bench.example", password=None, role="citizen")
            line = register_line(index, rng, start=date.today())
            if with_profile:
                profiles.profile_write(user=user, data=line["profile"], partial=False)
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


# --- The load -------------------------------------------------------------------------


def wrk_command(
    wrk: str, url: str, *, mode: str, data_file: Path | None, args: argparse.Namespace, seconds: int
) -> list[str]:
    """wrk with wrk_registration.lua in ``mode`` (register, read or get) on ``data_file``'s users."""
    connections_per_thread = max(1, args.connections // args.threads)
    return harness.wrk_command(
        wrk,
        url,
        seconds=seconds,
        connections=args.connections,
        threads=args.threads,
        script=LUA_SCRIPT,
        script_args=[
            mode,
            data_file or "-",
            args.threads,
            connections_per_thread,  # LAG: a user's trip trails its profile by this many pairs
        ],
    )


def warm_up(wrk: str, base_url: str, data_file: Path, args: argparse.Namespace) -> tuple[list[WrkRun], bool]:
    """Registration load in short rounds until the server has settled; returns the rounds and whether it did."""
    # Besides importing lazily and connecting, a cold worker builds the gazetteer's
    # city index on its first city look-up: seconds of CPU, in every thread that gets
    # there before the first build is done, during which that worker's requests (even
    # /healthz) queue. See harness.warm_up for when a round counts as settled.
    command = wrk_command(wrk, base_url + "/", mode="register", data_file=data_file, args=args, seconds=WARMUP_SECONDS)
    return harness.warm_up(command, max_rounds=WARMUP_MAX_ROUNDS)


# --- Report ---------------------------------------------------------------------------


def verdict(run: WrkRun) -> str:
    rps_ok = run.rps >= TARGET_RPS
    p99_ok = run.p99_ms <= TARGET_P99_MS
    clean = run.failures == 0
    parts = [f"{'PASS' if rps_ok else 'MISS'} req/s", f"{'PASS' if p99_ok else 'MISS'} p99"]
    if not clean:
        parts.append("ERRORS")
    return ("PASS" if rps_ok and p99_ok and clean else "MISS") + f" ({', '.join(parts)})"


def report_registration(run: WrkRun, reference: WrkRun | None, users: int) -> None:
    profiles, trips = run.statuses.get(200, 0), run.statuses.get(201, 0)
    pairs = min(profiles, trips)
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
    harness.print_cpu_use(run)
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
    harness.exit_on_sigterm()
    wrk = harness.ensure_wrk()
    started = time.perf_counter()
    database_url = harness.fresh_bench_database(DATABASE_SUFFIX)
    database = harness.database_name(database_url)
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
            port = harness.free_port()
            base_url = f"http://127.0.0.1:{port}"
            server_command = harness.gunicorn_command(port, workers=args.workers, threads=args.web_threads)
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

                meter = harness.CpuMeter(server.pid, database)
                plan = [
                    ("GET /healthz", "/healthz", "get", None, args.reference_duration),
                    ("PUT profile + POST trip", "/api/v1/me/profile, /me/trips", "register", users_file, args.duration),
                    ("GET /api/v1/me/profile", "/api/v1/me/profile", "read", readers_file, args.reference_duration),
                ]
                health = None
                for label, path, mode, data_file, seconds in plan:
                    url = base_url + ("/healthz" if mode == "get" else "/")
                    command = wrk_command(wrk, url, mode=mode, data_file=data_file, args=args, seconds=seconds)
                    run = harness.run_wrk(f"{label} [LOG_LEVEL={level}]", path, command, meter)
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
    print(harness.command_line(__file__, argv))
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
    harness.print_table(runs)
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
