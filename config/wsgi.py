"""WSGI entry point for gunicorn: ``gunicorn config.wsgi``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.startup import exit_on_bad_configuration, freeze_loaded_objects  # noqa: E402

exit_on_bad_configuration()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# After the application is loaded: full garbage collections then skip it (config/startup.py).
freeze_loaded_objects()
