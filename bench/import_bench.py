"""Bulk import benchmark: `manage.py import_registrations` on a generated register.

    .venv/bin/python bench/import_bench.py [--travellers 200000] [--workers N]

Prints the import rate and, from the same run, two references that bound it:
- "load path only": COPY of the same rows, already validated and encrypted,
  into an empty register (the database side of the import);
- "validate + encrypt, one process": the Python side without the database;
- "phone numbers only": the maintained library's parse + check of each line's
  two numbers, which the issue's validation rules require.
Target (PRODUCT.md §4): >= 20,000 travellers/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_bench_database
from bench.register_data import register_lines

TARGET_PER_SECOND = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20_000, help="lines used for the two references")
    args = parser.parse_args()

    fresh_bench_database("importbench")
    from django.db import connection

    from registrations import importer, validation

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.jsonl"
        with path.open("w") as handle:
            for line in register_lines(args.travellers, seed=11):
                handle.write(line + "\n")
        size_mb = path.stat().st_size / 1e6

        # The import itself, as the management command runs it.
        own_before, children_before = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with path.open("rb") as handle:
            report = importer.import_file(handle, batch_size=args.batch_size, workers=args.workers)
        import_seconds = time.perf_counter() - started
        parent_cpu = _cpu_seconds(resource.RUSAGE_SELF) - own_before
        workers_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - children_before
        # The import opened its connection after forking its workers, so the server
        # process behind it has worked for this import only.
        postgres_cpu = _backend_cpu_seconds(connection)
        if report.imported != args.travellers:
            raise SystemExit(f"imported {report.imported} of {args.travellers}: {report.rejected[:3]}")

        # Reference 1: the Python side alone, one process, on a sample.
        with path.open("rb") as handle:
            sample = [(n, text) for n, text in zip(range(1, args.sample + 1), handle, strict=False)]
        importer.prepare_chunk(sample[:200])  # warm the gazetteer and tag caches
        started = time.perf_counter()
        prepared = importer.prepare_chunk(sample)
        prepare_seconds = time.perf_counter() - started

        # Reference 1b: only the phone numbers of that sample (profile and emergency contact).
        numbers = []
        for _, text in sample:
            profile = json.loads(text)["profile"]
            numbers.append([profile["phone"], profile["emergency_contact"]["phone"]])
        started = time.perf_counter()
        for pair in numbers:
            for number in pair:
                validation.normalise_phone(number, "phone", validation.Errors(), required=True)
        phone_seconds = time.perf_counter() - started

        # Reference 2: the database side alone: COPY of those prepared rows into an empty register.
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE registrations_stay, registrations_trip, registrations_traveller, consular_datakey CASCADE"
            )
        batch = importer._Batch()
        started = time.perf_counter()
        for offset in range(0, len(prepared), args.batch_size):
            batch.load(prepared[offset : offset + args.batch_size], importer.Report())
        load_seconds = time.perf_counter() - started

    rate = args.travellers / import_seconds
    print(f"\nbulk import of {args.travellers:,} generated travellers ({size_mb:.0f} MB of JSON Lines), "
          f"{args.workers} worker processes, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'path':<44}{'travellers/s':>14}{'µs/traveller':>14}")
    rows = [
        ("import_registrations (validate+encrypt+COPY)", rate),
        ("reference: validate + encrypt, one process", len(sample) / prepare_seconds),
        ("reference: phone numbers only (2 a line)", len(sample) / phone_seconds),
        ("reference: COPY of prepared rows (load path)", len(sample) / load_seconds),
    ]
    for name, per_second in rows:
        print(f"{name:<44}{per_second:>14,.0f}{1e6 / per_second:>14,.0f}")
    print("CPU time of the import, µs a traveller (the 2-core budget at the target is 100):")
    cpu = {"worker processes (validate + encrypt)": workers_cpu, "parent process (dedup, COPY)": parent_cpu}
    if postgres_cpu is not None:
        cpu["PostgreSQL backend"] = postgres_cpu
    for name, seconds in cpu.items():
        print(f"  {name:<42}{seconds / args.travellers * 1e6:>14,.0f}")
    print(f"  {'total':<42}{sum(cpu.values()) / args.travellers * 1e6:>14,.0f}")
    verdict = "PASS" if rate >= TARGET_PER_SECOND else "MISS"
    print(f"target >= {TARGET_PER_SECOND:,} travellers/s: {verdict} ({rate / TARGET_PER_SECOND:.0%} of target)")
    print("command: .venv/bin/python bench/import_bench.py " + " ".join(sys.argv[1:]))


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu_seconds(connection) -> float | None:
    """User + system CPU of the server process behind ``connection`` (same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


if __name__ == "__main__":
    main()
