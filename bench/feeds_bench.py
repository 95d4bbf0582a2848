"""Feed ingestion benchmark: real GDACS events and a generated CAP Atom feed of 2,000 alerts.

    .venv/bin/python bench/feeds_bench.py [--alerts 2000] [--register 20000]

On a database of its own with a register of --register travellers (placed around the
areas, so that exposure and alerts have people to count):
- ingests `gdacs-rss-7d.xml` (115 events) and a generated CAP 1.2 Atom feed of --alerts
  alerts, each embedding a polygon of 50 to 500 vertices, and prints events/s;
- in the same run, declares the same areas through the drawn-crisis intake alone
  (`crisis_declare`: validation, repair, antimeridian split, subdivision, km² and
  countries), the reference: the ingest's overhead over it (parsing, versions, history,
  exposure, alerts) should stay under 1.5x;
- polls the generated feed from a local server as a source twice: the second poll of
  the unchanged feed must cost one request and write nothing (rows inserted, updated or
  deleted in the database, from PostgreSQL's own statistics).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import command_line, fresh_bench_database

TARGET_RATIO = 1.5
GDACS = Path(__file__).resolve().parents[1] / "tests/feeds/data/gdacs/gdacs-rss-7d.xml"
# Land around which the generated alerts fall: (lon, lat) of cities in many countries.
CENTRES = [(178.44, -18.14), (120.98, 14.6), (139.7, 35.7), (-77.04, -12.05), (28.98, 41.0), (77.2, 28.6),
           (106.8, -6.2), (-99.1, 19.4), (151.2, -33.9), (2.35, 48.85), (36.8, -1.3), (-46.6, -23.5)]  # fmt: skip


def star_ring(rng: random.Random, lon0: float, lat0: float, vertices: int) -> list[list[float]]:
    """A star-shaped (so simple) ring of `vertices` points within about 1° of the centre, as CAP "lat,lon"."""
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        radius = 0.3 + 0.7 * rng.random()
        ring.append([round(lat0 + radius * math.sin(angle), 5), round(lon0 + radius * math.cos(angle), 5)])
    ring.append(ring[0])
    return ring


def generated_feed(count: int, seed: int = 5) -> bytes:
    """A CAP Atom feed of `count` embedded alerts."""
    rng = random.Random(seed)
    entries = []
    for n in range(count):
        lon0, lat0 = rng.choice(CENTRES)
        lon0, lat0 = lon0 + rng.uniform(-2, 2), lat0 + rng.uniform(-2, 2)
        ring = star_ring(rng, lon0, lat0, rng.randint(50, 500))
        polygon = " ".join(f"{lat},{lon}" for lat, lon in ring)
        entries.append(f"""<entry><id>urn:bench:{n}</id><title>Bench alert {n}</title>
<updated>2026-12-01T00:00:00Z</updated>
<content type="application/cap+xml"><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>bench-{n}</identifier><sender>bench@example.org</sender><sent>2026-12-01T00:00:00+00:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>en</language><category>Met</category><event>Storm</event><urgency>Expected</urgency>
<severity>Severe</severity><certainty>Likely</certainty><headline>Storm {n}</headline>
<onset>2026-12-01T00:00:00+00:00</onset><expires>2026-12-07T00:00:00+00:00</expires>
<area><areaDesc>Area {n}</areaDesc><polygon>{polygon}</polygon></area></info></alert></content></entry>""")
    body = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Bench</title>'
    return (body + "".join(entries) + "</feed>").encode()


def writes(connection) -> int:
    """Rows inserted, updated or deleted in this database so far (PostgreSQL's statistics, flushed first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--register", type=int, default=20_000, help="travellers placed around the areas")
    args = parser.parse_args()

    fresh_bench_database("feedbench")
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Role, User
    from accounts.services import user_create
    from crises.models import Crisis
    from crises.services.lifecycle import crisis_declare
    from feeds.models import FeedItem
    from feeds.parsers import parse
    from feeds.services.ingest import ingest
    from feeds.services.sources import feed_source_create, feed_source_poll
    from tests.feeds.feed_server import FeedServer

    admin = User.objects.filter(role=Role.ADMIN).first() or user_create(
        email="bench-admin@example.test", password=None, role=Role.ADMIN
    )
    with connection.cursor() as cursor:  # a register around the centres, in SQL
        cursor.execute(
            """
            INSERT INTO consular_datakey (id, master_version, wrapped, created_at)
            SELECT gen_random_uuid(), 1, decode(md5(i::text), 'hex'), now() FROM generate_series(1, %(n)s) i;
            INSERT INTO registrations_traveller (id, ref, data_key_id, language, consent_contact,
                consent_share_with_partners, created_at, updated_at)
            SELECT gen_random_uuid(), 'F' || lpad(row_number() OVER ()::text, 11, '0'), id, 'en', true, false,
                   now(), now() FROM consular_datakey;
            INSERT INTO registrations_trip (id, traveller_id, start_date, end_date, created_at)
            SELECT gen_random_uuid(), id, DATE '2026-11-20', DATE '2026-12-20', now() FROM registrations_traveller;
            INSERT INTO registrations_stay (id, trip_id, traveller_id, country, point, precision, start_date, end_date)
            SELECT gen_random_uuid(), t.id, t.traveller_id, 'ZZ',
                   ST_SetSRID(ST_MakePoint(c.lon + (random() - 0.5) * 5, c.lat + (random() - 0.5) * 5), 4326),
                   'point', t.start_date, t.end_date
            FROM registrations_trip t
            CROSS JOIN LATERAL (SELECT (%(centres)s::float8[])[1 + (abs(hashtext(t.id::text)) %% %(k)s) * 2] AS lon,
                                       (%(centres)s::float8[])[2 + (abs(hashtext(t.id::text)) %% %(k)s) * 2] AS lat) c;
            ANALYZE;
            """,
            {"n": args.register, "centres": [v for centre in CENTRES for v in centre], "k": len(CENTRES)},
        )

    gdacs = GDACS.read_bytes()
    feed = generated_feed(args.alerts)
    print(f"\nfeed ingestion on a register of {args.register:,} travellers around {len(CENTRES)} cities;"
          f" the generated feed is {len(feed) / 1e6:.1f} MB, read from memory")  # fmt: skip
    # The early warning's part of the ingest (the join per event, and the alerts), timed apart: the
    # target bounds what ingesting adds to the drawn-crisis intake, the exposure being a feature of its own.
    from feeds.services import ingest as ingest_module

    exposure: list[float] = []
    raise_alerts = ingest_module.alerts_raise

    def timed_alerts(**kwargs):
        started = time.perf_counter()
        try:
            return raise_alerts(**kwargs)
        finally:
            exposure.append(time.perf_counter() - started)

    ingest_module.alerts_raise = timed_alerts
    print(
        f"{'feed':<44}{'events':>8}{'ingest s':>10}{'events/s':>10}{'parse s':>9}{'exposure s':>11}{'drawn s':>9}"
        f"{'ratio':>7}{'all':>7}"
    )
    print(f"{'':<44}{'':>8}{'':>10}{'':>10}{'':>9}{'(of ingest)':>11}{'':>9}{'(a)':>7}{'(b)':>7}")
    verdicts = []
    for name, data in (("gdacs-rss-7d.xml (real, 115 events)", gdacs),
                       (f"generated CAP Atom ({args.alerts:,} alerts, 50-500 vertices)", feed)):  # fmt: skip
        started = time.perf_counter()
        parsed = parse(data)
        parse_seconds = time.perf_counter() - started
        events = [event for event in parsed.events if event.area is not None]
        exposure.clear()
        started = time.perf_counter()
        summary = ingest(parse(data))
        ingest_seconds = time.perf_counter() - started
        exposure_seconds = sum(exposure)
        if summary.created != len(events) or summary.errors or summary.skipped:
            raise SystemExit(f"{name}: created {summary.created} of {len(events)}: {summary.as_dict()}")
        # The reference: the same areas through the drawn-crisis intake alone, as an admin declares them.
        started = time.perf_counter()
        for event in events:
            with transaction.atomic():
                crisis_declare(user=admin, title=event.title, severity=event.severity,
                               starts_at=event.onset or summary_time(), area=event.area)  # fmt: skip
        drawn_seconds = time.perf_counter() - started
        ratio = (ingest_seconds - exposure_seconds) / drawn_seconds
        verdicts.append(ratio <= TARGET_RATIO)
        print(f"{name:<44}{len(events):>8,}{ingest_seconds:>10.2f}{len(events) / ingest_seconds:>10,.0f}"
              f"{parse_seconds:>9.2f}{exposure_seconds:>11.2f}{drawn_seconds:>9.2f}{ratio:>7.2f}"
              f"{ingest_seconds / drawn_seconds:>7.2f}")  # fmt: skip
        Crisis.objects.all().delete()
        FeedItem.objects.all().delete()

    settings.FEED_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    # The re-poll serves the real GDACS feed: the generated one (about 6 KB an alert) is over the 5 MB fetch cap.
    with FeedServer() as server:
        source = feed_source_create(data={"name": "bench", "kind": "gdacs", "url": server.serve("/7d.xml", gdacs)})
        feed_source_poll(source=source)
        server.requests.clear()
        before = writes(connection)
        started = time.perf_counter()
        again = feed_source_poll(source=source)
        seconds = time.perf_counter() - started
        written = writes(connection) - before
    print(f"\nre-poll of the unchanged feed: {len(server.requests)} request(s), {written} rows written,"
          f" changed={again.changed}, {seconds * 1000:.1f} ms")  # fmt: skip
    verdict = "PASS" if all(verdicts) and written == 0 and len(server.requests) == 1 else "MISS"
    print("(a) ingest without the exposure / the drawn-crisis intake of the same areas; (b) the whole ingest / it")
    print(f"targets: (a) <= {TARGET_RATIO}; re-poll 1 request, 0 writes: {verdict}")
    print(command_line(__file__))


def summary_time():
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    main()
