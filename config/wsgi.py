import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# The advisory look-up, every app's hot path, is answered before Django's request cycle when it
# needs nothing of it (api/advisories/edge.py); everything else is Django's.
from api.advisories.edge import LookupEdge  # noqa: E402 - needs Django set up

application = LookupEdge(django_application)

# Build the offline gazetteer's index (tens of thousands of cities) at start-up,
# not inside the first request that names a city. gunicorn preloads this module in
# its master (config.gunicorn_conf), so the index is built once and shared.
from registrations.gazetteer import find_city  # noqa: E402

find_city("FJ", "Suva")
