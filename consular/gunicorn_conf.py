"""Gunicorn settings used by scripts/serve.sh (``-c python:consular.gunicorn_conf``).

Gunicorn's access log is off on purpose: its format includes query strings,
which for the advisory lookup are a person's coordinates. The application logs
each request itself (consular.middleware.RequestContextMiddleware).

The application is loaded once, in the master, before the workers fork
(``preload_app``): the gazetteer's city index (built in consular.wsgi) and
Django's start-up objects are then shared by every worker, and frozen out of the
garbage collector's sight (consular.prefork). A code change therefore needs a
restart, not a HUP.
"""

preload_app = True

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
