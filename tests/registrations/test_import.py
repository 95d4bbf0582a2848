import io
import json

import pytest
from django.core.management import CommandError, call_command

from registrations.models import Stay, Traveller, Trip
from registrations.selectors import profile_of
from tests.factories import profile_payload, trip_payload


def line(**profile_overrides) -> str:
    return json.dumps({"profile": profile_payload(**profile_overrides), "trips": [trip_payload()]})


def run_import(tmp_path, lines, *extra):
    path = tmp_path / "register.jsonl"
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_registrations", str(path), "--workers", "1", *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_valid_lines_are_imported_encrypted_with_their_trips(tmp_path):
    out, _ = run_import(tmp_path, [line(passport_number="AA111111", email="a@example.test"),
                                     line(passport_number="BB222222", email="b@example.test")])  # fmt: skip
    assert "imported 2, rejected 0, duplicates 0" in out
    assert Trip.objects.count() == 2
    assert Stay.objects.count() == 6
    traveller = Traveller.objects.select_related("data_key").order_by("created_at").first()
    assert traveller is not None
    assert traveller.user is None
    profile = profile_of(traveller=traveller, cipher=traveller.data_key.cipher())
    assert profile is not None
    assert profile["family_name"] == "Tuilagi"


def test_imported_stays_keep_their_precision_and_points(tmp_path):
    run_import(tmp_path, [line()])
    assert sorted(Stay.objects.values_list("precision", flat=True)) == ["city", "country", "point"]
    point = Stay.objects.get(precision="point").point
    assert point is not None
    assert point.x == pytest.approx(178.4419)


def test_an_imported_traveller_reads_back_as_the_api_would_have_stored_it(tmp_path):
    from django.utils import timezone

    from registrations.selectors import trip_as_dict

    before = timezone.now()
    run_import(tmp_path, [line(consent={"contact": False, "share_with_partners": True}, language="fr-CA")])
    after = timezone.now()
    traveller = Traveller.objects.select_related("data_key").get()
    cipher = traveller.data_key.cipher()
    assert (traveller.language, traveller.consent_contact, traveller.consent_share_with_partners) == (
        "fr-CA",
        False,
        True,
    )
    assert before <= traveller.created_at == traveller.updated_at <= after
    profile = profile_of(traveller=traveller, cipher=cipher)
    assert profile is not None
    assert profile["phone"] == "+64211234567"
    trip = trip_as_dict(trip=traveller.trips.get(), cipher=cipher)
    assert (trip["title"], trip["start_date"], trip["end_date"]) == ("Fiji field visit", "2026-11-01", "2026-11-30")
    assert [(stay["country"], stay["start_date"], stay["end_date"], stay["location"]) for stay in trip["stays"]] == [
        ("FJ", "2026-11-01", "2026-11-10", {"lat": -18.1416, "lon": 178.4419}),
        ("FJ", "2026-11-10", "2026-11-20", pytest.approx({"lat": -17.8, "lon": 177.42}, abs=0.1)),
        ("TO", "2026-11-20", "2026-11-30", None),
    ]
    assert trip["stays"][0]["address"] == "12 Victoria Parade"


def test_rejected_lines_are_reported_by_number_and_reason_and_the_rest_imported(tmp_path):
    lines = [
        line(passport_number="AA111111", email="a@example.test"),
        "{not json",
        line(passport_number="CC333333", email="c@example.test", phone="12345"),
        json.dumps({"profile": profile_payload(passport_number="DD4444444"), "extra": 1}),
        line(passport_number="EE555555", email="e@example.test"),
    ]
    out, err = run_import(tmp_path, lines)
    assert "imported 2, rejected 3" in out
    assert "line 2: rejected: not JSON" in err
    assert "line 3: rejected: profile.phone:" in err
    assert "line 4: rejected: top level: 1 unknown field (names not shown)." in err
    assert "12345" not in err  # reasons name fields, never echo values


def test_lines_the_api_would_refuse_as_malformed_are_rejected_not_fatal(tmp_path):
    lone_surrogate = line(passport_number="BB222222", email="b@example.test").replace('"Ana"', '"\\ud800"', 1)
    runaway_nesting = "[" * 5000 + "]" * 5000
    lines = [lone_surrogate, runaway_nesting, line(passport_number="AA111111", email="a@example.test")]
    out, err = run_import(tmp_path, lines)
    assert "imported 1, rejected 2" in out
    assert "line 1: rejected: not JSON" in err
    assert "line 2: rejected: not JSON" in err


def test_a_language_tag_too_long_once_standardised_is_a_rejected_line_not_a_failed_batch(tmp_path):
    lines = [
        line(passport_number="AA111111", email="a@example.test"),
        line(passport_number="BB222222", email="b@example.test", language="sh-x-aaaaaaaa-bbbbbbbb-cccccccc-ddd"),
    ]
    out, err = run_import(tmp_path, lines)
    assert "imported 1, rejected 1" in out
    assert "line 2: rejected: profile.language:" in err


def test_a_line_that_is_not_utf8_is_rejected_and_the_lines_after_it_imported(tmp_path):
    profile = profile_payload(passport_number="BB222222", email="b@example.test", given_name="Ren\u00e9")
    latin1 = json.dumps({"profile": profile, "trips": [trip_payload()]}, ensure_ascii=False).encode("latin-1")
    lines = [line(passport_number="AA111111", email="a@example.test"), latin1,
             line(passport_number="CC333333", email="c@example.test")]  # fmt: skip
    out, err = run_import(tmp_path, lines)
    assert "imported 2, rejected 1" in out
    assert "line 2: rejected: not UTF-8" in err


def test_a_second_run_imports_nothing_new(tmp_path):
    lines = [line(passport_number="AA111111", email="a@example.test")]
    run_import(tmp_path, lines)
    out, _ = run_import(tmp_path, lines)
    assert "imported 0, rejected 0, duplicates 1" in out
    assert Traveller.objects.count() == 1


def test_duplicates_within_one_file_are_imported_once(tmp_path):
    out, _ = run_import(tmp_path, [line(passport_number="AA111111", email="x@example.test"),
                                   line(passport_number="AA111111", email="y@example.test")])  # fmt: skip
    assert "imported 1, rejected 0, duplicates 1" in out


def test_duplicates_in_different_batches_are_imported_once(tmp_path):
    first = line(passport_number="AA111111", email="x@example.test")
    others = [line(passport_number=f"BB{n:06d}", email=f"b{n}@example.test") for n in range(3)]
    same_email = line(passport_number="CC222222", email="x@example.test")
    out, _ = run_import(tmp_path, [first, *others, same_email, first], "--batch-size", "2")
    assert "imported 4, rejected 0, duplicates 2" in out
    assert Traveller.objects.count() == 4


def test_a_traveller_already_registered_through_the_api_is_not_imported_again(tmp_path):
    from tests.factories import registered_citizen

    registered_citizen(profile=profile_payload(passport_number="ZZ999999", email="api@example.test"))
    out, _ = run_import(tmp_path, [line(passport_number="ZZ999999", email="other@example.test")])
    assert "duplicates 1" in out


def test_a_line_without_passport_or_email_is_rejected(tmp_path):
    out, err = run_import(tmp_path, [line(passport_number=None, email=None)])
    assert "rejected 1" in out
    assert "passport_number or an email" in err


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_import_the_same_as_one(tmp_path):
    lines = [line(passport_number=f"PX{n:06d}", email=f"p{n}@example.test") for n in range(30)]
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    call_command("import_registrations", str(path), "--workers", "2", "--batch-size", "7", stdout=out)
    assert "imported 30" in out.getvalue()
    assert Traveller.objects.count() == 30


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_registrations", str(tmp_path / "missing.jsonl"))


def test_imported_rows_get_time_ordered_ids(tmp_path):
    run_import(tmp_path, [line()])
    traveller = Traveller.objects.get()
    ids = [traveller.id, traveller.data_key_id, *Trip.objects.values_list("id", flat=True)]
    ids += Stay.objects.values_list("id", flat=True)
    assert {row_id.version for row_id in ids} == {7}
    assert {row_id.variant for row_id in ids} == {"specified in RFC 4122"}


def test_time_ordered_ids_sort_as_postgresql_compares_them_by_creation_time():
    import time

    from registrations.import_rows import time_ordered_uuid

    first = time_ordered_uuid()
    time.sleep(0.002)
    second = time_ordered_uuid()
    assert first.bytes < second.bytes  # uuid order in PostgreSQL is byte order
    assert abs(int.from_bytes(first.bytes[:6], "big") - time.time() * 1000) < 1000


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_file_at_the_same_time_import_each_traveller_once(tmp_path, monkeypatch):
    import time

    from registrations import importer
    from tests.concurrency import run_together

    real_existing = importer._existing

    def slow_existing(column, values):
        found = real_existing(column, values)
        time.sleep(0.3)  # widen the window between the duplicate check and the load
        return found

    monkeypatch.setattr(importer, "_existing", slow_existing)
    lines = [line(passport_number=f"PX{n:06d}", email=f"p{n}@example.test") for n in range(20)]
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    _, errors = run_together(lambda: run_import(first, lines), lambda: run_import(second, lines))
    assert errors == []
    assert Traveller.objects.count() == 20


def test_rejection_reasons_never_echo_a_name_the_format_does_not_have(tmp_path):
    keyed_by_person = {"profile": profile_payload(passport_number="AA111111"), "Ana Tuilagi LA123456\x1b[2J": 1}
    nested = {"profile": {**profile_payload(passport_number="BB222222"), "LA999999": "x", "12.04.90": 1}, "trips": []}
    stay_key = {"profile": profile_payload(passport_number="CC333333"), "trips": [trip_payload(stays=[
        {"country": "FJ", "start_date": "2026-11-01", "end_date": "2026-11-02", "679.991.234": 1}])]}  # fmt: skip
    _, err = run_import(tmp_path, [json.dumps(keyed_by_person), json.dumps(nested), json.dumps(stay_key)])
    for value in ("LA123456", "\x1b", "LA999999", "12", "04.90", "679", "991", "234"):
        assert value not in err
    assert "line 1: rejected: top level: 1 unknown field (names not shown)." in err
    assert "line 2: rejected: profile: 2 unknown fields (names not shown)." in err
    assert "line 3: rejected: trips.0.stays.0: 1 unknown field (names not shown)." in err


def test_an_import_stopped_by_an_error_reports_what_it_did_before(tmp_path, monkeypatch):
    from registrations import importer

    real_load = importer._Batch.load
    calls = []

    def load_then_fail(self, prepared, report):
        calls.append(len(prepared))
        if len(calls) == 3:
            raise RuntimeError("connection lost, detail naming a row")
        return real_load(self, prepared, report)

    monkeypatch.setattr(importer._Batch, "load", load_then_fail)
    lines = [line(passport_number="AA111111", email="a@example.test"), line(phone="nope"),
             line(passport_number="CC333333", email="c@example.test")]  # fmt: skip
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as stopped:
        call_command("import_registrations", str(path), "--workers", "1", "--batch-size", "1", stdout=out, stderr=err)
    assert "imported 1, rejected 1, duplicates 0" in out.getvalue()
    assert "line 2: rejected: profile.phone" in err.getvalue()
    assert "The import stopped: RuntimeError." in str(stopped.value)
    assert "The 1 travellers above are imported" in str(stopped.value)
    assert "naming a row" not in str(stopped.value)
    assert Traveller.objects.count() == 1


def numbered_lines(count: int) -> list[str]:
    return [line(passport_number=f"PX{n:06d}", email=f"p{n}@example.test") for n in range(count)]


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_read_only_a_few_chunks_ahead_of_a_slow_load(tmp_path, monkeypatch):
    import time

    from registrations import importer

    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(numbered_lines(60)) + "\n")
    chunks_read = []
    real_chunks, real_load = importer._chunks, importer._Batch.load

    def counted_chunks(handle, size):
        for chunk in real_chunks(handle, size):
            chunks_read.append(chunk[0][0])
            yield chunk

    read_during_first_load: list[int] = []

    def slow_first_load(self, prepared, report):
        if not read_during_first_load:
            time.sleep(1)  # a slow database, or another import holding the batch lock
            read_during_first_load.append(len(chunks_read))
        return real_load(self, prepared, report)

    monkeypatch.setattr(importer, "_chunks", counted_chunks)
    monkeypatch.setattr(importer._Batch, "load", slow_first_load)
    with path.open("rb") as handle:
        report = importer.import_file(handle, batch_size=1, workers=2)
    assert report.imported == 60
    assert read_during_first_load[0] <= 2 * 2 + 1  # two chunks in flight per worker, not the whole file


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_dies_stops_the_import_instead_of_hanging_it(tmp_path, monkeypatch):
    import os
    from concurrent.futures.process import BrokenProcessPool

    from registrations import importer

    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(numbered_lines(6)) + "\n")
    real_prepare = importer.prepare_line

    def dies_on_line_3(line_no, line, now):
        if line_no == 3:
            os._exit(137)  # as the out-of-memory killer would end it
        return real_prepare(line_no, line, now)

    # In the workers, which inherit the patch when they are forked.
    monkeypatch.setattr(importer, "prepare_line", dies_on_line_3)
    with path.open("rb") as handle, pytest.raises(BrokenProcessPool):
        importer.import_file(handle, batch_size=1, workers=2)


@pytest.mark.parametrize("workers", ["0", "-4", "100000"])
def test_a_worker_count_out_of_range_is_refused_before_anything_starts(tmp_path, workers):
    with pytest.raises(CommandError, match="--workers must be between 1 and"):
        run_import(tmp_path, [line()], "--workers", workers)
    assert not Traveller.objects.exists()


def test_an_over_long_line_is_rejected_without_being_read_whole(tmp_path):
    import tracemalloc

    from registrations import importer

    path = tmp_path / "register.jsonl"
    with path.open("wb") as out:  # a register exported as one 16 MB JSON array
        out.write(b"[" + b"1," * (8 * 1024 * 1024) + b"1]\n")
        out.write(line().encode() + b"\n")
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            chunks = list(importer._chunks(handle, 2000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * importer.MAX_LINE_BYTES
    assert [line_no for line_no, _ in chunks[0]] == [1, 2]
    assert importer.prepare_chunk(chunks[0][:1]) == [(1, f"line longer than {importer.MAX_LINE_BYTES} bytes")]


def test_a_byte_order_mark_does_not_reject_the_first_line(tmp_path):
    lines = numbered_lines(2)
    out, err = run_import(tmp_path, [b"\xef\xbb\xbf" + lines[0].encode() + b"\r", lines[1].encode() + b"\r"])
    assert "imported 2, rejected 0" in out
    assert err == ""


def test_the_workers_end_when_the_import_is_killed():
    import os
    import select
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = (
        "import django, os, signal, time\n"
        "django.setup()\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the workers\n"
        "from registrations import importer\n"
        "pool = importer.worker_pool(2)\n"
        "pool.submit(int).result()\n"
        "print(*[process.pid for process in pool._processes.values()], flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    importer = subprocess.Popen([sys.executable, "-c", script], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    assert importer.stdout is not None  # stdout=PIPE
    try:
        ready, _, _ = select.select([importer.stdout], [], [], 60)
        assert ready, "the import's pool did not start"
        workers = [int(pid) for pid in importer.stdout.readline().split()]
        assert len(workers) == 2
    finally:
        importer.send_signal(signal.SIGKILL)  # no chance to shut its pool down
        importer.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # not left behind if this fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended, waiting for init to reap it


def test_a_stay_the_gazetteer_could_not_place_is_reported_as_the_api_would_warn(tmp_path):
    stays = [
        {"country": "US", "city": "Portland", "start_date": "2026-11-01", "end_date": "2026-11-02"},
        {"country": "FJ", "city": "Atlantis", "start_date": "2026-11-02", "end_date": "2026-11-03"},
    ]
    lines = [json.dumps({"profile": profile_payload(), "trips": [trip_payload(stays=stays)]})]
    out, err = run_import(tmp_path, lines)
    assert "imported 1, rejected 0" in out
    assert err.splitlines() == [
        "line 1: imported with a warning: trips.0.stays.0: city matches several places in this country; recorded at "
        "country precision. Send a location to place the stay exactly.",
        "line 1: imported with a warning: trips.0.stays.1: city not found in the gazetteer; recorded at country "
        "precision.",
    ]
    assert sorted(Stay.objects.values_list("precision", flat=True)) == ["country", "country"]


def household_line(**overrides) -> str:
    from tests.factories import companion_payload, residence_payload

    body = {
        "profile": profile_payload(passport_number="HH111111", email="household@example.test"),
        "companions": [
            {"ref": "wife", **companion_payload(given_name="Losa", date_of_birth="1988-02-11", relation="wife")},
            {"ref": "mele", **companion_payload(given_name="Mele", date_of_birth="2014-06-02")},
        ],
        "trips": [trip_payload(companions=["wife", "mele"])],
        "residences": [residence_payload(companions=["wife"])],
        **overrides,
    }
    return json.dumps(body)


def test_a_household_is_imported_with_its_companions_on_their_trips_and_residences(tmp_path):
    from registrations.models import Companion, Residence

    out, _ = run_import(tmp_path, [household_line()])
    assert "imported 1, rejected 0" in out and "2 people" not in out and "3 people" in out
    traveller = Traveller.objects.select_related("data_key").get()
    companions = Companion.objects.filter(traveller=traveller)
    assert companions.count() == 2
    assert [str(c.birth_month) for c in companions.order_by("birth_month")] == ["1988-02-01", "2014-06-01"]
    assert Trip.objects.get().companions.count() == 2
    residence = Residence.objects.get()
    assert [c.pk for c in residence.companions.all()] == [companions.get(birth_month="1988-02-01").pk]
    assert residence.until is None and residence.precision == "city"


def test_a_line_whose_trip_names_an_unknown_companion_is_rejected_whole_with_its_number(tmp_path):
    from registrations.models import Companion

    bad = household_line(trips=[trip_payload(companions=["wife", "uncle"])])
    out, err = run_import(tmp_path, [line(passport_number="AA111111", email="a@example.test"), bad])
    assert "imported 1, rejected 1" in out
    assert "line 2: rejected: trips.0.companions.1: No companion of the line has this ref." in err
    assert not Companion.objects.exists()


def test_companions_without_refs_or_with_one_twice_are_rejected(tmp_path):
    wife, mele = json.loads(household_line())["companions"]
    twice = household_line(companions=[wife, {**mele, "ref": "wife"}], trips=[], residences=[])
    without = household_line(companions=[{k: v for k, v in wife.items() if k != "ref"}], trips=[], residences=[])
    out, err = run_import(tmp_path, [twice, without])
    assert "imported 0, rejected 2" in out
    assert "line 1: rejected: companions.1.ref" in err and "line 2: rejected: companions.0.ref" in err
