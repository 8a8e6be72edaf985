"""Fixtures for the whole suite, including the real services integration tests need.

Integration tests talk to the Redis named by CELERY_BROKER_URL and to a Celery worker the
fixture starts. Where no Redis is reachable they skip and say why; with REQUIRE_SERVICES=1
(set by .ci/run) they fail instead, so CI can never pass by skipping them.
"""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def _unavailable(reason: str):
    if _services_required():
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: integration services are mandatory here)")
    pytest.skip(reason)


def pytest_report_header(config):
    from django.db import connection

    broker = "redis" if settings.CELERY_BROKER_URL else "none (eager)"
    return f"database: {connection.vendor}; broker: {broker}"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Close the database connections a test opened while an asyncio loop ran in this thread,
    before its fixtures (and the loop) are torn down.

    Playwright's sync API (the browser tests) keeps a loop running in the main thread. While it
    runs, Django keeps this thread's connections in a separate, context-local storage (asgiref's
    thread-critical `Local`); once the loop stops they are out of reach, and one stayed open
    to the end: on PostgreSQL the run could not drop the test database ("There is 1 other
    session using the database"). On SQLite's in-memory test database, closing is a no-op."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        _unavailable("no Redis: CELERY_BROKER_URL is not set")
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"no Redis reachable at CELERY_BROKER_URL ({type(error).__name__})")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def celery_worker_process(redis_url):
    """A real `celery worker` process on the real broker, for the whole session."""
    from config.celery import app

    env = {
        **os.environ,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    hostname = f"pytest-{os.getpid()}@localhost"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery:app",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=WARNING",
            "-n",
            hostname,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited early: {process.stderr.read().decode()[-2000:]}")
        replies = app.control.ping(destination=[hostname], timeout=1.0)
        if replies:
            break
    else:
        process.kill()
        pytest.fail("celery worker did not answer a control ping within 60 s")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def real_celery(celery_worker_process):
    """Send tasks through Redis to the worker and wait on their results (no eager mode)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous
