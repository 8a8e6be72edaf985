"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix.

Run a worker: ``celery -A config.celery:app worker``; beat: ``celery -A config.celery:app beat``.
"""

import gc
import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init

from config.startup import freeze_loaded_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("screening_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connections_check(task=None, **kwargs: object) -> None:
    """Before each task, what Django does before each request: close a connection that broke
    or outlived CONN_MAX_AGE (the next query opens a new one; a kept one is health-checked).
    Celery's fixup no longer closes them after every task (CELERY_DB_REUSE_MAX).

    Not for a task run eagerly (embedded mode, tests): it runs inside the caller's request
    and transaction, whose connection is not in autocommit, which Django would read as
    unusable and close under the caller."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_process_init.connect
def _freeze_loaded_objects(**kwargs: object) -> None:
    """In each pool process as it starts (prefork, the default and what production runs):
    what the web entry points do once loaded, for the same reason. The loaded application
    is over 100,000 objects that a full garbage collection would otherwise re-walk inside
    whichever task crosses the collector's threshold (config/startup.py)."""
    freeze_loaded_objects()


@app.task(name="system.ping", acks_late=True)
def ping(**kwargs: object) -> dict[str, object]:
    """Round-trip probe: proves a worker picked the message from the broker and answered.
    ``frozen``: how many objects the worker process keeps out of the garbage collector's
    walks (``gc.freeze``, done as the pool process started)."""
    return {"pong": True, "pid": os.getpid(), "frozen": gc.get_freeze_count()}
