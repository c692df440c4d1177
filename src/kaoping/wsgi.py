"""WSGI entry point (`kaoping serve` runs it under granian; any WSGI server can)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.settings")
application = get_wsgi_application()
