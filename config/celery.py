"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix.

Run a worker: ``celery -A config.celery:app worker``; beat: ``celery -A config.celery:app beat``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("screening_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="system.ping", acks_late=True)
def ping(**kwargs: object) -> dict[str, object]:
    """Round-trip probe: proves a worker picked the message from the broker and answered."""
    return {"pong": True, "pid": os.getpid()}
