"""Test settings: the real ones plus a test-only app whose model exercises the geometry field."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.geometry_app"]
STATIC_ROOT = None  # tests serve static files from the apps (WhiteNoise finders)
# Tests that need audit anchors point this at a temporary file; none write to .local/.
AUDIT_ANCHOR_FILE = ""
# SMS goes to the local fake provider (tests/notifications/fake_sms.py) or, where a
# test asks for it, to a temporary folder: never to the developer's .local/sms.
SMS_FILE_PATH = ""
