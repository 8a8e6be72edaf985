"""Liveness and readiness probes for load balancers and orchestrators.

/healthz says the process answers. /readyz says it can do its work: the database answers,
unless Celery runs eagerly the broker answers, and a shared (Redis) cache answers: the API's
throttle counters live there, and every request with a token needs them. Failures give 503
with a short JSON reason and never a stack trace or a connection string.
"""

import logging
import os

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 1.0


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readyz: database unreachable (%s)", type(error).__name__)
        return "unreachable"
    return "ok"


def _redis_status(url: str, what: str) -> str:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        logger.warning("readyz: %s unreachable (%s)", what, type(error).__name__)
        return "unreachable"
    finally:
        client.close()
    return "ok"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # The embedded demo's broker is a folder (config/settings/local.py): reachable when
        # this process may write where the worker reads.
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
        return "ok" if folder and os.access(folder, os.W_OK) else "unreachable"
    return _redis_status(settings.CELERY_BROKER_URL, "broker")


def _cache_status() -> str:
    """ "ok" or "unreachable" for a Redis cache; "local" for a per-process one (development
    and tests: nothing to reach)."""
    cache = settings.CACHES[DEFAULT_CACHE_ALIAS]
    if not cache["BACKEND"].endswith(".RedisCache"):
        return "local"
    location = cache["LOCATION"]
    first = location[0] if isinstance(location, list | tuple) else location.split(",")[0]
    return _redis_status(first, "cache")


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _database_status(),
        "broker": _broker_status(),
        "cache": _cache_status(),
    }
    ready = (
        checks["database"] == "ok"
        and checks["broker"] in {"ok", "eager"}
        and checks["cache"] in {"ok", "local"}
    )
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
