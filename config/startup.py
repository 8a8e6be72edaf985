"""What the entry points do once at start.

Fail fast, in one line, when the environment is missing or malformed: settings modules raise
``ImproperlyConfigured`` naming the variable; the entry points (manage.py, wsgi, asgi, the
Celery app) call ``exit_on_bad_configuration`` so the operator sees that one line instead of
a traceback.

Then the web entry points (wsgi, asgi) call ``freeze_loaded_objects`` once the application is
loaded, and the Celery app in each pool process as it starts, so that Python's cyclic garbage
collector stops re-walking the loaded application inside requests and tasks.
"""

import gc
import sys

from django.core.exceptions import ImproperlyConfigured


def exit_on_bad_configuration() -> None:
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings module to load
    except ImproperlyConfigured as error:
        sys.stderr.write(f"configuration error: {error}\n")
        raise SystemExit(2) from None


def freeze_loaded_objects() -> int:
    """Load the URLconf (so every view module is imported), collect what start-up left
    behind, then move every object the process now holds into the collector's permanent
    generation (``gc.freeze``). Returns how many objects were frozen.

    Why: a full (generation 2) collection walks every tracked object of the process. The
    loaded application is about 146,000 of them, and a full collection of those took 94-164 ms
    of CPU on the bench machine (docs/benchmarks.md, "The queue's deep-page spike is the
    cyclic garbage collector"), inside whichever request happened to cross the collector's
    threshold: the slowest 5 % of a list page were those requests. Frozen objects are left out
    of every later collection, so a full collection walks only what requests have made since.

    What it costs: a frozen object that later becomes part of an unreachable cycle is never
    collected (reference counting still frees everything else). What start-up builds lives
    for the whole process (modules, classes, URL patterns, settings), so little or nothing is
    lost. Under gunicorn this runs in each worker as it imports ``config.wsgi``; with
    ``--preload`` it runs once in the master before the fork, which also keeps the frozen
    pages shared between workers, as the ``gc.freeze`` documentation describes.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and, through it, the views
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
