import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Build the offline gazetteer's index (tens of thousands of cities) at start-up,
# not inside the first request that names a city. gunicorn preloads this module in
# its master (config.gunicorn_conf), so the index is built once and shared.
from registrations.gazetteer import find_city  # noqa: E402

find_city("FJ", "Suva")
