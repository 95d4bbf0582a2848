"""Gunicorn settings used by scripts/serve.sh (``-c python:consular.gunicorn_conf``).

Gunicorn's access log is off on purpose: its format includes query strings,
which for the advisory lookup are a person's coordinates. The application logs
each request itself (consular.middleware.RequestContextMiddleware).
"""

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
