"""The Celery app the referral reliability tests run their worker with: the project's app, with
eager mode off. The test settings switch eager mode on for in-process unit tests, but a real
worker must send its retries back through the broker like production does.

When `REFERRAL_WORKER_READY_FILE` is set, the worker touches that file once it consumes, so the
test knows when it is up without a remote-control round trip.
"""

import os
from pathlib import Path

from celery.signals import worker_ready

from config.celery import app

app.conf.task_always_eager = False


@worker_ready.connect
def _announce_ready(**kwargs: object) -> None:
    ready_file = os.environ.get("REFERRAL_WORKER_READY_FILE")
    if ready_file:
        Path(ready_file).write_text(str(os.getpid()))


__all__ = ["app"]
