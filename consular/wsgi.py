import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consular.settings")
application = get_wsgi_application()

# Build the offline gazetteer's index (tens of thousands of cities) while the
# worker boots, not inside the first request that names a city.
from registrations.gazetteer import find_city  # noqa: E402

find_city("FJ", "Suva")
