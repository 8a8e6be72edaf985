"""ASGI entry point."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.startup import exit_on_bad_configuration, freeze_loaded_objects  # noqa: E402

exit_on_bad_configuration()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

# After the application is loaded: full garbage collections then skip it (config/startup.py).
freeze_loaded_objects()
