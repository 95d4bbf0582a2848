from datetime import timedelta

from django.utils import timezone

from consular.models import WorkerHeartbeat
from consular.tasks import record_worker_heartbeat


def test_healthz_answers_without_touching_anything(api, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_naming_the_worker_when_no_worker_was_seen(api):
    response = api.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    assert list(body["error"]["fields"]) == ["worker"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_is_ready_with_database_postgis_and_a_recent_worker(api):
    record_worker_heartbeat()
    response = api.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["postgis"]["version"].startswith("3.")
    assert checks["worker"]["ok"] is True


def test_readyz_is_503_when_the_worker_heartbeat_is_stale(api, settings):
    WorkerHeartbeat.objects.create(
        name="old", seen_at=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS + 5)
    )
    response = api.get("/readyz")
    assert response.status_code == 503
    assert "worker" in response.json()["error"]["fields"]


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(api, monkeypatch):
    from django.db import OperationalError

    from consular import health

    def unreachable():
        raise OperationalError("connection refused to 10.0.0.1 user=consular")

    monkeypatch.setattr(health, "CHECKS", (("database", unreachable), *health.CHECKS[1:]))
    response = api.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert set(body["error"]["fields"]) == {"database", "postgis", "worker"}
    assert "10.0.0.1" not in response.content.decode()


def test_the_heartbeat_schedule_is_installed_by_migrations():
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="consular.tasks.record_worker_heartbeat", repeats=-1).exists()


def test_load_balancers_may_probe_with_head(api):
    assert api.head("/healthz").status_code == 200
    assert api.head("/readyz").status_code in (200, 503)  # never 405


def test_a_worker_busy_with_other_tasks_counts_as_alive(api, monkeypatch):
    # Behind a large campaign's batches the scheduled heartbeat waits in the queue;
    # a worker starting any task proves it is alive all the same.
    from django_q.signals import pre_execute

    from consular import tasks
    from consular.models import WorkerHeartbeat

    monkeypatch.setattr(tasks, "_last_beat", 0.0)
    assert not WorkerHeartbeat.objects.exists()
    pre_execute.send(sender="django_q", func=print, task={"name": "a batch"})
    assert WorkerHeartbeat.objects.exists()
    assert api.get("/readyz").status_code == 200


def test_a_not_ready_answer_is_no_error_in_the_log(api, log_lines):
    assert api.get("/readyz").status_code == 503  # no worker has beaten in the test database
    assert [line for line in log_lines if line["level"] == "ERROR"] == []
    (access,) = [line for line in log_lines if line["logger"] == "consular.access"]
    assert access["status"] == 503
