"""The officer console under load that matters: a post's situation map with 50 large crises, and the
drawing preview on the 1,000,000-traveller register.

    .venv/bin/python bench/console_bench.py [--crises 50] [--vertices 10000] [--skip-preview]

1. On a database of its own: a post over East and South-East Asia, its officer, and --crises active
   crises of --vertices vertices each (the affected bench's "coastline" rings) around its cities.
   The shipped gunicorn serves it; Debian's Chromium (as the browser tests start it) signs in and
   opens the situation map, three times. Printed: first contentful paint, the time until every
   crisis is drawn and the country outlines too, and what was transferred (the page, scripts,
   styles and the two JSON documents), against the target of under 2 s.
2. On bench/affected_bench.py's register (run that bench first; it keeps its database): the
   preview of each of that bench's areas (`crises.selectors.area_preview`, what the console asks
   while an officer draws), median of 3, beside `affected_counts` on the same area saved as a
   crisis in the same run (the reference). Target: under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.harness import Server

MAP_TARGET_SECONDS = 2.0
PREVIEW_TARGET_SECONDS = 0.3
CITIES = [(139.7, 35.7), (135.5, 34.7), (120.98, 14.6), (106.8, -6.2), (100.5, 13.75), (103.8, 1.35),
          (121.5, 25.05), (126.98, 37.57), (114.17, 22.3), (105.85, 21.03)]  # fmt: skip
POST_COUNTRIES = ["JP", "PH", "ID", "TH", "SG", "TW", "KR", "HK", "VN", "MY", "CN"]
PASSWORD = "bench password 1234"  # noqa: S105 - the bench's own throwaway account
# The affected bench's crisis window.
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))


def situation_map(crises: int, vertices: int) -> None:
    database_url = harness.fresh_bench_database("consolebench")
    from django.db import transaction

    from accounts.models import Role
    from accounts.services import post_upsert, user_create
    from bench.affected_bench import coastline
    from crises.services.lifecycle import crisis_declare, crisis_transition
    from tests.console.browser import Problems, start_chromium, wait_for

    post = post_upsert(name="Bench East Asia", countries=POST_COUNTRIES)
    officer = user_create(email="officer@bench.invalid", password=PASSWORD, role=Role.OFFICER, post=post)
    rng = random.Random(5)
    started = time.perf_counter()
    for n in range(crises):
        lon0, lat0 = CITIES[n % len(CITIES)]
        area = coastline(vertices, lon0 + rng.uniform(-0.3, 0.3), lat0 + rng.uniform(-0.3, 0.3), 0.6, seed=n)
        with transaction.atomic():
            crisis = crisis_declare(user=officer, title=f"Bench crisis {n}", severity=rng.choice(
                ["minor", "moderate", "severe", "extreme"]), starts_at=harness_now(), area=area)  # fmt: skip
            crisis_transition(crisis=crisis, user=officer, action="activate")
    print(
        f"set-up: {crises} active crises of {vertices:,} vertices for one post in {time.perf_counter() - started:.0f} s"
    )

    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory(prefix="console-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        port = harness.free_port()
        base = f"http://127.0.0.1:{port}"
        with Server(harness.gunicorn_command(port, workers=5, threads=1), env, scratch / "gunicorn.log") as server:
            server.wait_healthy(base)
            driver = start_chromium(scratch / "chromium")
            try:
                from selenium.webdriver.common.by import By

                driver.get(base + "/console/login/")
                driver.find_element(By.ID, "email").send_keys("officer@bench.invalid")
                driver.find_element(By.ID, "password").send_keys(PASSWORD)
                driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
                wait_for(lambda: driver.current_url.rstrip("/").endswith("/console"), what="sign-in")
                runs = []
                for _ in range(3):
                    driver.get(base + "/console/")
                    wait_for(lambda: driver.find_element(By.ID, "map").get_attribute("data-loaded"), timeout=60,
                             what="the crises on the map")  # fmt: skip
                    wait_for(lambda: driver.find_element(By.ID, "map").get_attribute("data-countries-loaded"),
                             timeout=60, what="the country outlines")  # fmt: skip
                    runs.append(driver.execute_script(MEASURE))
                Problems(driver).collect()
            finally:
                driver.quit()
    fcp = statistics.median(run["fcp"] for run in runs) / 1000
    drawn = statistics.median(run["drawn"] for run in runs) / 1000
    sizes = runs[-1]["sizes"]
    print(f"situation map, {crises} crises x {vertices:,} vertices, shipped gunicorn, Chromium (median of 3 loads):")
    print(f"  first contentful paint {fcp:.2f} s; every crisis and the outlines drawn {drawn:.2f} s "
          f"(target < {MAP_TARGET_SECONDS:g} s: {'PASS' if drawn < MAP_TARGET_SECONDS else 'MISS'})")  # fmt: skip
    total = sum(sizes.values())
    print(f"  transferred {total / 1e6:.2f} MB: " + ", ".join(f"{name} {n / 1e3:.0f} kB" for name, n in sizes.items()))


# Times from navigation start: "drawn" is when the page's scripts had added both layers to the map
# (they note performance.now() then); sizes as sent (the server does not compress).
MEASURE = """
const paint = performance.getEntriesByName('first-contentful-paint')[0];
const map = document.getElementById('map');
const sizes = {};
for (const entry of performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))) {
  const name = entry.name.split('/').slice(-1)[0] || 'page';
  sizes[name] = (sizes[name] || 0) + (entry.transferSize || entry.encodedBodySize || 0);
}
const drawn = Math.max(Number(map.getAttribute('data-loaded-at')),
                       Number(map.getAttribute('data-countries-loaded-at')));
return {fcp: paint ? paint.startTime : -1, drawn: drawn, sizes: sizes};
"""


def preview_on_the_register(url: str) -> None:
    harness.use_database(url)
    from django.db import connection, transaction

    from accounts.models import Role, User
    from bench.affected_bench import AREAS
    from crises.models import Crisis
    from crises.selectors import AffectedCounts, AreaPreview, affected_counts, area_preview
    from crises.services.lifecycle import crisis_declare

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registrations_traveller")
        (travellers,) = cursor.fetchone()
    if travellers < 100_000:
        print(
            f"preview: the affected bench's register holds {travellers:,} travellers; run bench/affected_bench.py first"
        )
        return
    admin = User.objects.filter(role=Role.ADMIN).first()
    if admin is None:
        print("preview: no admin in the affected bench's database; run bench/affected_bench.py first")
        return
    print(f"preview while drawing, on {travellers:,} registrations (median of 3; reference: the saved crisis's join):")
    print(f"  {'area':40} {'preview s':>10} {'saved s':>9} {'ratio':>6} {'located':>9}")
    for name, (area, _) in AREAS.items():
        with transaction.atomic():

            def preview_now(area: dict = area) -> AreaPreview:
                return area_preview(user=admin, area=area, starts_at=MARCH[0], ends_at=MARCH[1])

            preview_seconds, preview = harness.timed(preview_now, 3)
            crisis = crisis_declare(user=admin, title="preview reference", severity="severe", starts_at=MARCH[0],
                                    ends_at=MARCH[1], area=area)  # fmt: skip

            def saved_now(crisis: Crisis = crisis) -> AffectedCounts:
                return affected_counts(crisis=crisis, user=admin)

            saved_seconds, counts = harness.timed(saved_now, 3)
            transaction.set_rollback(True)  # nothing stays
        located = sum(preview.counts.located.values())
        if located != sum(counts.located.values()):
            raise SystemExit(f"{name}: the preview counted {located}, the saved crisis {sum(counts.located.values())}")
        verdict = "PASS" if preview_seconds < PREVIEW_TARGET_SECONDS else "MISS"
        print(f"  {name:40} {preview_seconds:10.3f} {saved_seconds:9.3f} {preview_seconds / saved_seconds:6.2f} "
              f"{located:9,}  {verdict}")  # fmt: skip


def harness_now():
    from django.utils import timezone

    return timezone.now()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crises", type=int, default=50)
    parser.add_argument("--vertices", type=int, default=10_000)
    parser.add_argument("--skip-preview", action="store_true")
    parser.add_argument("--preview-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    harness.exit_on_sigterm()
    if args.preview_only:
        preview_on_the_register(harness.configured_database_url())
        return
    register = harness.bench_database_url("joinbench")  # named before another bench database is in use
    situation_map(args.crises, args.vertices)
    if not args.skip_preview:
        # In a process of its own: Django's settings hold one database a process.
        env = {**os.environ, "DATABASE_URL": register}
        subprocess.run([sys.executable, __file__, "--preview-only"], check=True, env=env)
    print(harness.command_line(__file__))


if __name__ == "__main__":
    main()
