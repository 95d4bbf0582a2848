import json
import logging


def access_lines(lines):
    return [line for line in lines if line["logger"] == "consular.access"]


def test_each_request_logs_one_json_line_with_a_request_id(api, log_lines):
    response = api.get("/healthz")
    (line,) = access_lines(log_lines)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["route"] == "/healthz"
    assert line["status"] == 200


def test_a_sane_client_request_id_is_kept(api, log_lines):
    response = api.get("/healthz", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert response["X-Request-ID"] == "abc-123-def-456"


def test_a_hostile_client_request_id_is_replaced(api, log_lines):
    response = api.get("/healthz", HTTP_X_REQUEST_ID='x" injected\n')
    assert response["X-Request-ID"] != 'x" injected\n'


def test_logs_carry_no_body_token_or_query_string(api, log_lines, client_for, olivia):
    api.post("/api/v1/auth/token", {"email": "victim@example.test", "password": "hunter2 secret words"}, format="json")
    client = client_for(olivia)
    client.get("/api/v1/posts?lat=-18.1416&lon=178.4419")
    api.get("/api/v1/advisories?lat=-18.1416&lon=178.4419")
    text = "\n".join(json.dumps(line) for line in log_lines)
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    for secret in ("victim", "hunter2", "178.4419", "-18.1416", token):
        assert secret not in text


def test_the_access_log_names_the_route_not_the_ids_in_the_path(api, log_lines, client_for, ada, pacific_post):
    client_for(ada).get(f"/api/v1/posts/{pacific_post.pk}")
    line = access_lines(log_lines)[-1]
    assert line["route"] == "/api/v1/posts/<uuid:post_id>"
    assert str(pacific_post.pk) not in json.dumps(log_lines)


def test_exception_messages_are_not_logged_but_their_type_and_stack_are(log_lines):
    try:
        raise ValueError("passport P1234567 for Ana")
    except ValueError:
        logging.getLogger("consular.test").exception("failed")
    (line,) = [line for line in log_lines if line["logger"] == "consular.test"]
    assert line["exception"]["type"] == "builtins.ValueError"
    assert line["exception"]["stack"]
    assert "P1234567" not in json.dumps(line)


def test_extra_objects_outside_the_allowlist_are_dropped(log_lines):
    logging.getLogger("consular.test").info("hello", extra={"email": "ana@example.test", "status": 201})
    (line,) = [line for line in log_lines if line["logger"] == "consular.test"]
    assert line["status"] == 201
    assert "email" not in line


def test_django_request_errors_are_logged_without_the_path(client_for, alice, log_lines, settings):
    # A 503 from a view (the erasure ledger cannot be written): Django's request logger reports it at ERROR.
    settings.ERASURE_LEDGER_FILE = "/proc/no-such-dir/ledger.jsonl"
    assert client_for(alice).delete("/api/v1/me?lat=-18.1416").status_code == 503
    (line,) = [line for line in log_lines if line["logger"] == "django.request"]
    assert line["message"] == "503 response"
    assert "api/v1/me" not in json.dumps(line) and "18.1416" not in json.dumps(line)


def test_a_csrf_failure_on_a_checkin_page_is_logged_without_the_token_in_its_path(log_lines):
    from django.test import Client

    Client(enforce_csrf_checks=True).post("/checkin/secret-capability-token", {"status": "safe"})
    (line,) = [line for line in log_lines if line["logger"].startswith("django.security")]
    assert "secret-capability-token" not in json.dumps(line)
    assert line["message"].startswith("Forbidden")


def test_gunicorn_warnings_and_errors_keep_only_their_template(log_lines):
    logging.getLogger("gunicorn.error").error("Error handling request %s", "/checkin/secret-capability-token?lat=1")
    logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 42)
    error, info = [line for line in log_lines if line["logger"] == "gunicorn.error"]
    assert error["message"] == "Error handling request %s"
    assert info["message"] == "Booting worker with pid: 42"


def test_a_failed_task_hands_django_q_only_the_type_of_its_error(log_lines):
    import pytest

    from consular.task_errors import TaskFailed, without_error_details

    @without_error_details
    def task():
        raise ValueError("passport P1234567 for Ana")

    with pytest.raises(TaskFailed) as failure:
        task()
    assert str(failure.value) == "ValueError"
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    (line,) = [line for line in log_lines if line["logger"] == "consular.tasks"]
    assert line["exception"]["type"] == "builtins.ValueError"
    assert "P1234567" not in json.dumps(line)


def test_gunicorns_refusal_of_a_request_logs_neither_the_address_nor_the_request_line(log_lines):
    # gunicorn formats both into the message itself before logging it.
    refused = "Invalid request from ip=203.0.113.7: Invalid HTTP request line: 'GET /checkin/secret-token HTTP/9'"
    logging.getLogger("gunicorn.error").warning(refused)
    (line,) = [line for line in log_lines if line["logger"] == "gunicorn.error"]
    assert line["message"] == "Invalid request refused by gunicorn"
