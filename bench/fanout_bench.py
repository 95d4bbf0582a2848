"""Campaign fan-out and delivery benchmark.

    .venv/bin/python bench/fanout_bench.py [--deliver 3000] [--runs 3]

Needs the register of bench/affected_bench.py (run it first; 1,000,000 travellers).
Part 1 launches a campaign to every one of them (a world-wide crisis, SMS):
deliveries written with one INSERT … SELECT from the join and batches of 1,000
queued on django-q2, timed end to end, beside a plain INSERT … SELECT of as
many rows into the same table (the floor) in the same run.
Part 2 sends a campaign of --deliver real, encrypted travellers through a real
django-q2 worker cluster with the shipped settings to a local fake SMS provider,
and reports messages/s beside the provider's own capacity measured in the run.
Target (PRODUCT.md §4): deliveries written and batches queued <= 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, bench_database_url, command_line, use_database

TARGET_SECONDS = 15.0


def checkpoint() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # the bench cluster's role is its owner; elsewhere grant pg_checkpoint


# The reference that does the campaign's join and its insert in one statement, and nothing else.
JOIN_INSERT = """
INSERT INTO bench_floor (campaign_id, traveller_id, companion_id, channel, status, attempts, provider_message_id,
                         last_error, persons)
SELECT %(campaign_id)s, traveller_id, companion_id, 'sms', 'pending', 0, '', '', 1 FROM persons
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliver", type=int, default=3000, help="real messages sent in part 2")
    parser.add_argument("--runs", type=int, default=3, help="fan-outs timed in part 1 (the median is reported)")
    args = parser.parse_args()

    use_database(bench_database_url("joinbench"))  # affected_bench.py's register, migrated
    from django.conf import settings
    from django.db import connection, transaction
    from django_q.models import OrmQ, Schedule

    from accounts.models import Role, User
    from crises.selectors import affected_parameters, affected_persons_cte
    from crises.services.lifecycle import crisis_transition
    from notifications.models import Campaign, Delivery
    from notifications.services import campaigns
    from registrations.models import Traveller
    from tests.factories import declared_crisis, traveller_with_stay

    join_insert_sql = affected_persons_cte() + JOIN_INSERT  # fixed fragments only
    from tests.notifications.fake_sms import FakeSmsProvider

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registrations_traveller")
        travellers = cursor.fetchone()[0]
    if travellers < 100_000:
        raise SystemExit("Run bench/affected_bench.py first: it builds the register this benchmark reuses.")
    admin = User.objects.filter(role=Role.ADMIN).first()
    if admin is None:
        raise SystemExit("No admin account: run bench/affected_bench.py first, it creates one with the register.")
    # No schedules in the bench worker: the daily retention purge would erase the generated register.
    Schedule.objects.all().delete()
    Campaign.objects.all().delete()
    OrmQ.objects.all().delete()
    with connection.cursor() as cursor:
        # The generated register has no contact data; give everyone a (dummy) phone.
        cursor.execute("UPDATE registrations_traveller SET phone_enc = '\\x00' WHERE phone_enc IS NULL")
        # Deleting an earlier run's million deliveries left dead rows in the table and its
        # indexes; a ministry's database never deletes campaigns, so start from a clean one.
        cursor.execute("VACUUM ANALYZE notifications_delivery")

    # Travellers an earlier run of part 2 added would be counted and messaged again: remove
    # them. They are the ones with a name; the generated register's travellers have no profile.
    Traveller.objects.filter(stays__country="ZZ", given_name_enc__isnull=False).distinct().delete()

    with FakeSmsProvider() as sms:
        settings.SMS_PROVIDER_URL, settings.SMS_PROVIDER_TOKEN = sms.url, sms.token
        # Midpoints at 0°: a single edge from -180 to 180 would read as crossing the antimeridian.
        world = {"type": "Polygon", "coordinates": [[
            [-180, -85], [0, -85], [180, -85], [180, 85], [0, 85], [-180, 85], [-180, -85]]]}  # fmt: skip
        crisis = declared_crisis(admin, area=world, starts_at="2026-01-01T00:00:00Z", ends_at="2026-12-31T00:00:00Z")
        crisis = crisis_transition(crisis=crisis, user=admin, action="activate")
        request = campaigns.campaign_validate(
            {"messages": {"en": "Alert {given_name}"}, "default_language": "en", "channels": ["sms"],
             "ask_checkin": False, "include_country_only": True},
            crisis=crisis,
        )  # fmt: skip
        join_parameters = affected_parameters(crisis, admin, include_country_only=True)

        # Part 1: fan-out, --runs times (median). Each timed statement starts after a
        # checkpoint, so that neither pays for flushing the other's writes, and each run
        # starts from a vacuumed table (the previous run's campaign deleted).
        launches, floors, joins = [], [], []
        join_rows = 0
        for _ in range(args.runs):
            checkpoint()
            started = time.perf_counter()
            with transaction.atomic():
                campaign = campaigns.campaign_launch(crisis=crisis, user=admin, request=request)
            launches.append(time.perf_counter() - started)  # includes the on-commit queueing of every batch
            batches = OrmQ.objects.count()
            written = Delivery.objects.filter(campaign=campaign).count()
            with connection.cursor() as cursor:
                # A table like the deliveries' (same columns and indexes, written to the WAL), filled
                # from a plain list of as many traveller ids: the cost of the rows alone.
                cursor.execute("DROP TABLE IF EXISTS bench_floor")  # left by a run that stopped
                cursor.execute("CREATE TABLE bench_floor (LIKE notifications_delivery INCLUDING ALL)")
                cursor.execute(
                    "CREATE TEMP TABLE floor_ids AS SELECT id FROM registrations_traveller ORDER BY id LIMIT %s",
                    [written],
                )
                checkpoint()
                started = time.perf_counter()
                cursor.execute(
                    "INSERT INTO bench_floor (campaign_id, traveller_id, channel, status, attempts, "
                    "provider_message_id, last_error, persons) SELECT %s, id, 'sms', 'pending', 0, '', '', 1"
                    " FROM floor_ids",
                    [campaign.pk],
                )
                floors.append(time.perf_counter() - started)
                # The same join and the insert in one statement: every affected person's row, without
                # the campaign's rules (consent, channels, the household's persons and covers).
                cursor.execute("TRUNCATE bench_floor")
                checkpoint()
                started = time.perf_counter()
                with transaction.atomic():
                    cursor.execute("SET LOCAL work_mem = '256MB'")  # as campaign_launch
                    cursor.execute(join_insert_sql, {**join_parameters, "campaign_id": campaign.pk})
                    join_rows = cursor.rowcount
                joins.append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_floor")
                cursor.execute("DROP TABLE floor_ids")
            recipients = campaign.recipients
            Campaign.objects.filter(pk=campaign.pk).delete()
            OrmQ.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE notifications_delivery")
        fan_out = statistics.median(launches)
        print(f"\nfan-out to {recipients:,} recipients ({written:,} deliveries, {batches:,} batches queued)")
        print(f"{'path (median of ' + str(args.runs) + ' runs)':<58}{'seconds':>9}  runs")
        runs = ", ".join(f"{t:.2f}" for t in launches)
        print(f"{'campaign_launch: join + INSERT … SELECT + queue batches':<58}{fan_out:>9.2f}  {runs}")
        runs = ", ".join(f"{t:.2f}" for t in floors)
        print(f"{'reference: bare INSERT … SELECT of as many rows':<58}{statistics.median(floors):>9.2f}  {runs}")
        runs = ", ".join(f"{t:.2f}" for t in joins)
        label = f"reference: the join + INSERT in one statement ({join_rows:,} rows)"
        print(f"{label:<58}{statistics.median(joins):>9.2f}  {runs}")
        print(f"ratios: {fan_out / statistics.median(floors):.1f}x the bare insert, "
              f"{fan_out / statistics.median(joins):.2f}x the join + insert")  # fmt: skip
        print(f"target <= {TARGET_SECONDS:g} s: {'PASS' if fan_out <= TARGET_SECONDS else 'MISS'}")

        if args.deliver <= 0:
            print(command_line(__file__))
            return
        # Part 2: delivery throughput with real workers.
        ocean = {"type": "Polygon", "coordinates": [[[-40, -40], [-30, -40], [-30, -30], [-40, -30], [-40, -40]]]}
        small = declared_crisis(admin, area=ocean, starts_at="2026-01-01T00:00:00Z")
        small = crisis_transition(crisis=small, user=admin, action="activate")
        for n in range(args.deliver):
            traveller_with_stay(lon=-35.0, lat=-35.0, country="ZZ", phone=f"+6421{n:07d}")
        request = campaigns.campaign_validate(
            {"messages": {"en": "Alert {given_name}"}, "default_language": "en", "channels": ["sms"],
             "ask_checkin": True, "include_country_only": False},
            crisis=small,
        )  # fmt: skip
        env = {**os.environ, "SMS_PROVIDER_URL": sms.url, "SMS_PROVIDER_TOKEN": sms.token, "LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            time.sleep(3)  # let the cluster start
            with transaction.atomic():
                campaign = campaigns.campaign_launch(crisis=small, user=admin, request=request)
            started = time.perf_counter()
            unsettled = Delivery.objects.filter(campaign=campaign, status__in=["pending", "sending"])
            while unsettled.exists() and time.perf_counter() - started < 600:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        sent = len(sms.delivered)  # before the provider's own ceiling below adds its posts
        rate = sent / elapsed
        # Travellers of the generated register have no decryptable contact data: they fail, as they must.
        failed = Delivery.objects.filter(campaign=campaign, status="failed").count()

        # The provider's own ceiling: two threads posting as fast as they can.
        def post(n: int) -> None:
            for i in range(n):
                body = json.dumps({"to": "+64210000000", "text": "x"}).encode()
                headers = {
                    "Authorization": f"Bearer {sms.token}",
                    "Idempotency-Key": f"ref-{threading.get_ident()}-{i}",
                    "Content-Type": "application/json",
                }
                request = urllib.request.Request(sms.url, data=body, method="POST", headers=headers)  # noqa: S310
                urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 - our local fake provider

        started = time.perf_counter()
        threads = [threading.Thread(target=post, args=(1000,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ceiling = 2000 / (time.perf_counter() - started)
        print(
            f"\ndelivery of {campaign.recipients:,} SMS through a real worker cluster (Q_WORKERS={settings.Q_WORKERS})"
        )
        print(f"{'worker cluster (decrypt, render, send, record)':<58}{rate:>9,.0f} messages/s")
        print(f"  {sent:,} sent, {failed:,} failed (generated travellers without real contact data)")
        print(f"{'reference: the fake provider alone, 2 client threads':<58}{ceiling:>9,.0f} requests/s")
        print(command_line(__file__))


if __name__ == "__main__":
    main()
