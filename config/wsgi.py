"""WSGI entry point for gunicorn: ``gunicorn config.wsgi``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.startup import exit_on_bad_configuration  # noqa: E402

exit_on_bad_configuration()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
