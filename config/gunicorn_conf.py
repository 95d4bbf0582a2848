"""Gunicorn settings used by scripts/serve.sh (``-c python:config.gunicorn_conf``).

Gunicorn's access log is off on purpose: its format includes paths and query
strings, which carry ids and check-in tokens. The application logs
each request itself (consular.middleware.RequestContextMiddleware).

Workers are sync processes by default (``WEB_CONCURRENCY``, default 5: gunicorn's
2 x cores + 1 on the 2-core reference machine). A sync worker takes a connection
only when it is free, so load spreads evenly; with threaded (gthread) workers a
keep-alive connection stays with the worker that accepted it, and 16 clients
ended up split 12/4/0 or 2/2/12 over three workers, which set the p99. The price:
one request at a time per process, no keep-alive, and slow clients hold a process
while they send, so production runs behind a buffering reverse proxy (nginx, or
the load balancer that terminates TLS). ``WEB_THREADS`` > 1 selects gthread.

The application is loaded once, in the master, before the workers fork
(``preload_app``): the gazetteer's city index (built in config.wsgi) and
Django's start-up objects are then shared by every worker, and frozen out of the
garbage collector's sight (consular.prefork). A code change therefore needs a
restart, not a HUP.
"""

import os

preload_app = True
# No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) would be shared by two
# instances on one host, and nothing here uses it.
control_socket_disable = True
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))
threads = int(os.environ.get("WEB_THREADS", "1"))
worker_class = "sync"  # gunicorn itself switches to gthread when threads > 1
# A sync worker is killed when one request runs longer than this. The longest is a
# campaign launch, whose fan-out to a million people takes 11-15 s here.
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))

accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "consular.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}


def pre_fork(server, worker) -> None:
    from consular.prefork import prepare_to_fork

    prepare_to_fork()


# gunicorn answers requests it cannot parse (a request line over 4 KiB: 414; too many
# or too large headers: 431; a NUL or a bad character in a header: 400) itself, before
# the application sees them, with an HTML page. Clients expect the API's error shape on
# every answer, so its error writer is replaced by one that sends that shape, without
# echoing the refused request (which may hold a check-in token).
_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}


def _write_error_as_json(sock: object, status_int: int, reason: str, mesg: str) -> None:
    import json
    from http import HTTPStatus

    from gunicorn import util

    # The status's own phrase: gunicorn passes "Bad Request" with some of its 501s.
    phrase = HTTPStatus(status_int).phrase
    body = json.dumps({"error": {"code": _ERROR_CODES.get(status_int, "bad_request"), "message": f"{phrase}."}})
    response = (
        f"HTTP/1.1 {status_int} {phrase}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    util.write_nonblock(sock, response.encode("latin1"))


def _answer_refusals_in_the_error_shape() -> None:
    from gunicorn import util

    util.write_error = _write_error_as_json


_answer_refusals_in_the_error_shape()
