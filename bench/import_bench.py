"""Bulk import benchmark: `manage.py import_registrations` on a generated register.

    .venv/bin/python bench/import_bench.py [--travellers 200000] [--workers N]
        [--companions-per-registration 1.5] [--residents 0.30]

Each generated line is a registration: a registrant with a trip, 0-4 companions
(1.5 on average) on the trip and, for 30 % of the lines, a residence abroad with them;
`--companions-per-registration 0 --residents 0` gives the register of lone travellers
measured before households. Rates are per registration and per person (registrant and
companions).

Prints the import rate and, from the same run, two references that bound it:
- "load path only": COPY of the same rows, already validated and encrypted,
  into an empty register (the database side of the import);
- "validate + encrypt, one process": the Python side without the database;
- "phone numbers only": the maintained library's parse + check of each line's
  two numbers, which the issue's validation rules require;
- "JSON parse only" and "encryption only": parsing each line, and its data key,
  key wrapping and AES-GCM values, with nothing else.
It then adds the parts no import can skip (PostgreSQL's CPU on this very load,
the JSON parse, the phone numbers' check and the encryption) into a floor of
CPU per traveller, and the rate that floor allows on this machine's CPUs.
Target (PRODUCT.md §4): >= 20,000 travellers/s on a 2-core machine (set for lone
travellers: a registration of 2.5 people holds 2.5 people's values to check and encrypt).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import backend_cpu_seconds, command_line, cpu_seconds, fresh_bench_database
from bench.register_data import COMPANION_SLOTS, register_lines

TARGET_PER_SECOND = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20_000, help="lines used for the two references")
    parser.add_argument("--companions-per-registration", type=float, default=1.5, help="0-4 a line, on average")
    parser.add_argument("--residents", type=float, default=0.30, help="share of lines with a residence abroad")
    args = parser.parse_args()
    if not 0 <= args.companions_per_registration <= COMPANION_SLOTS or not 0 <= args.residents <= 1:
        parser.error(f"--companions-per-registration must be within 0-{COMPANION_SLOTS}, --residents within 0-1")

    fresh_bench_database("importbench")
    from django.db import connection

    from consular import validation
    from registrations import importer

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.jsonl"
        with path.open("w") as handle:
            for line in register_lines(
                args.travellers,
                seed=11,
                companions_per_registration=args.companions_per_registration,
                residents=args.residents,
            ):
                handle.write(line + "\n")
        size_mb = path.stat().st_size / 1e6

        # The import itself, as the management command runs it.
        own_before, children_before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with path.open("rb") as handle:
            report = importer.import_file(handle, batch_size=args.batch_size, workers=args.workers)
        import_seconds = time.perf_counter() - started
        parent_cpu = cpu_seconds(resource.RUSAGE_SELF) - own_before
        workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children_before
        # The import opened its connection after forking its workers, so the server
        # process behind it has worked for this import only.
        postgres_cpu = backend_cpu_seconds(connection)
        if report.imported != args.travellers:
            raise SystemExit(f"imported {report.imported} of {args.travellers}: {report.rejected[:3]}")

        # Reference 1: the Python side alone, one process, on a sample.
        with path.open("rb") as handle:
            sample = [(n, text) for n, text in zip(range(1, args.sample + 1), handle, strict=False)]
        importer.prepare_chunk(sample[:200])  # warm the gazetteer and tag caches
        started = time.perf_counter()
        results = importer.prepare_chunk(sample)
        prepare_seconds = time.perf_counter() - started
        # The COPY reference below loads prepared rows only, as the import does (it reports rejections apart).
        prepared = [result for result in results if isinstance(result, importer.Prepared)]
        if len(prepared) != len(results):
            raise SystemExit(f"{len(results) - len(prepared)} sample lines rejected: the references would be off")

        # Reference 1b: only the phone numbers of that sample (profile, emergency contact, companions).
        numbers = []
        for _, text in sample:
            line = json.loads(text)
            profile = line["profile"]
            companion_phones = [c["phone"] for c in line.get("companions", []) if c.get("phone")]
            numbers.append([profile["phone"], profile["emergency_contact"]["phone"], *companion_phones])
        started = time.perf_counter()
        for pair in numbers:
            for number in pair:
                validation.normalise_phone(number, "phone", validation.Errors(), required=True)
        phone_seconds = time.perf_counter() - started

        # Reference 1c and 1d: parsing the lines, and encrypting their values (the line's
        # data key, its wrapping, and each value the import seals), each alone.
        started = time.perf_counter()
        for _, text in sample:
            orjson.loads(text)
        parse_seconds = time.perf_counter() - started
        sealed_values = [_sealed_values(orjson.loads(text)) for _, text in sample]
        started = time.perf_counter()
        for values in sealed_values:
            _encrypt_alone(values)
        encrypt_seconds = time.perf_counter() - started

        # Reference 2: the database side alone: COPY of those prepared rows into an empty register.
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE registrations_stay, registrations_trip, registrations_companion, registrations_residence,"
                " registrations_traveller, consular_datakey CASCADE"
            )
        batch = importer._Batch()
        started = time.perf_counter()
        for offset in range(0, len(prepared), args.batch_size):
            batch.load(prepared[offset : offset + args.batch_size], importer.Report())
        load_seconds = time.perf_counter() - started

    rate = args.travellers / import_seconds
    per_line = report.persons / report.imported  # people a registration
    print(f"\nbulk import of {args.travellers:,} generated registrations holding {report.persons:,} people "
          f"({per_line:.2f} a registration; {size_mb:.0f} MB of JSON Lines), "
          f"{args.workers} worker processes, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'path':<44}{'travellers/s':>14}{'people/s':>12}{'µs/traveller':>14}")
    rows = [
        ("import_registrations (validate+encrypt+COPY)", rate),
        ("reference: validate + encrypt, one process", len(sample) / prepare_seconds),
        ("reference: phone numbers only (all a line)", len(sample) / phone_seconds),
        ("reference: JSON parse only", len(sample) / parse_seconds),
        ("reference: encryption only", len(sample) / encrypt_seconds),
        ("reference: COPY of prepared rows (load path)", len(sample) / load_seconds),
    ]
    for name, per_second in rows:
        print(f"{name:<44}{per_second:>14,.0f}{per_second * per_line:>12,.0f}{1e6 / per_second:>14,.0f}")
    print("CPU time of the import, µs a traveller (the 2-core budget at the target is 100):")
    cpu = {"worker processes (validate + encrypt)": workers_cpu, "parent process (dedup, COPY)": parent_cpu}
    if postgres_cpu is not None:
        cpu["PostgreSQL backend"] = postgres_cpu
    for name, seconds in cpu.items():
        print(f"  {name:<42}{seconds / args.travellers * 1e6:>14,.0f}")
    print(f"  {'total':<42}{sum(cpu.values()) / args.travellers * 1e6:>14,.0f}")
    if postgres_cpu is not None:
        floor = {
            "PostgreSQL backend (as above)": postgres_cpu / args.travellers,
            "JSON parse": parse_seconds / len(sample),
            "phone numbers (library check)": phone_seconds / len(sample),
            "encryption": encrypt_seconds / len(sample),
        }
        floor_us = sum(floor.values()) * 1e6
        cpus = os.cpu_count() or 1
        print("Floor: CPU per traveller of the parts no import can skip, µs:")
        for name, seconds in floor.items():
            print(f"  {name:<42}{seconds * 1e6:>14,.0f}")
        print(f"  {'floor':<42}{floor_us:>14,.0f}")
        allowed = cpus * 1e6 / floor_us
        print(
            f"  at most {allowed:,.0f} travellers/s ({allowed * per_line:,.0f} people/s) on {cpus} CPUs, all else free;"
            f" the import reached {rate / allowed:.0%} of it"
        )
    verdict = "PASS" if rate >= TARGET_PER_SECOND else "MISS"
    print(
        f"target >= {TARGET_PER_SECOND:,} travellers/s: {verdict} ({rate / TARGET_PER_SECOND:.0%} of target);"
        f" {rate * per_line:,.0f} people/s"
    )
    print(command_line(__file__))


def _sealed_values(line: dict) -> list[tuple[str, str, str]]:
    """(table, field, text) of every value the import encrypts for one generated line."""
    profile = line["profile"]
    values = [
        ("registrations_traveller", name, orjson.dumps(value).decode() if isinstance(value, dict) else value)
        for name, value in profile.items()
        if name not in ("language", "consent")
    ]
    for trip in line["trips"]:
        values.append(("registrations_trip", "title", trip["title"]))
        for stay in trip["stays"]:
            values.extend(("registrations_stay", name, stay[name]) for name in ("city", "address") if stay.get(name))
    for companion in line.get("companions", []):
        values.extend(
            ("registrations_companion", name, value)
            for name, value in companion.items()
            if name not in ("ref", "contact_directly", "language") and value is not None
        )
    for residence in line.get("residences", []):
        values.extend(
            ("registrations_residence", name, residence[name]) for name in ("city", "address") if residence.get(name)
        )
    return values


def _encrypt_alone(values: list[tuple[str, str, str]]) -> None:
    from consular import crypto

    key_id = uuid.uuid4()
    data_key = crypto.new_data_key()
    crypto.wrap_data_key(data_key, key_id=key_id)
    cipher = crypto.Cipher(key_id=key_id, data_key=data_key)
    row_id = str(uuid.uuid4())
    for table, name, text in values:
        cipher.encrypt(text, table=table, field=name, row_id=row_id)


if __name__ == "__main__":
    main()
