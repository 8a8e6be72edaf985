"""Fail fast, in one line, when the environment is missing or malformed.

Settings modules raise ``ImproperlyConfigured`` naming the variable; the entry points
(manage.py, wsgi, asgi, the Celery app) call ``exit_on_bad_configuration`` so the operator
sees that one line instead of a traceback.
"""

import sys

from django.core.exceptions import ImproperlyConfigured


def exit_on_bad_configuration() -> None:
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings module to load
    except ImproperlyConfigured as error:
        sys.stderr.write(f"configuration error: {error}\n")
        raise SystemExit(2) from None
