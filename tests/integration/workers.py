"""A real Celery worker for integration tests that need one of their own (its own Redis
database, fast retry settings, a worker that can be killed and restarted), and the switch
that sends this process's publishes to it. Used by test_referral_reliability.py and
test_delivery_latency.py; the suite-wide worker is tests/conftest.py's `celery_worker_process`.

The worker must read the same database as the test, so these run on PostgreSQL only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

from tests.conftest import _unavailable

ROOT = Path(__file__).resolve().parents[2]
# Short backoff and lease so each test finishes well inside two minutes.
FAST = {
    "REFERRAL_RETRY_BASE_SECONDS": "1",
    "REFERRAL_RETRY_MAX_SECONDS": "2",
    "REFERRAL_OUTBOX_LEASE_SECONDS": "6",
    "REFERRAL_WEBHOOK_TIMEOUT_SECONDS": "5",
}


def require_postgresql(why: str) -> None:
    if connection.vendor != "postgresql":
        _unavailable(
            f"{why} need PostgreSQL: the worker process must share the test database, and "
            "SQLite's test database lives in the test process's memory"
        )


def database_url() -> str:
    db = connection.settings_dict
    password = quote(db.get("PASSWORD") or "", safe="")
    user = quote(db.get("USER") or "", safe="")
    auth = f"{user}:{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_broker(url: str, database: int) -> str:
    """`url` on Redis database number `database`: no other worker takes these messages."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


class Worker:
    """A `celery worker` process (prefork, `concurrency` children) in its own process group."""

    def __init__(
        self,
        broker_url: str,
        database_url: str,
        ready_file: Path,
        *,
        concurrency: int = 4,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.broker_url = broker_url
        self.ready_file = ready_file
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            **(settings if settings is not None else FAST),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "REFERRAL_WORKER_READY_FILE": str(ready_file),
        }
        self.process: subprocess.Popen | None = None
        self.generation = 0
        self.hostname = ""

    def start(self) -> None:
        self.generation += 1
        self.ready_file.unlink(missing_ok=True)
        hostname = f"referrals-{os.getpid()}-{self.generation}@localhost"
        self.hostname = hostname
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.referrals.celery_worker_app:app",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                hostname,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("the referral worker exited at start-up")
            if self.ready_file.exists():
                return
            time.sleep(0.2)
        self.kill()
        pytest.fail("the referral worker was not ready within 60 s")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def clear_queue(broker_url: str) -> None:
    client = redis.Redis.from_url(broker_url)
    try:
        client.delete("default", "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """This process's Celery app publishes to `broker_url` (not eager): what the outbox
    publishes right after a commit goes to the test's worker, or to a dead broker.

    It is the app's write URL that changes (`broker_url` reads CELERY_BROKER_URL from the
    environment first), and its connection pools are dropped so the next publish connects
    anew; kombu keeps the old pools for whoever asks for the old URL."""
    from config.celery import app

    def reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    previous = (app.conf.broker_write_url, app.conf.task_always_eager)
    app.conf.broker_write_url, app.conf.task_always_eager = broker_url, False
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_write_url, app.conf.task_always_eager = previous
