"""Liveness and readiness probes for load balancers and orchestrators.

/healthz says the process answers. /readyz says it can do its work: the database answers and,
unless Celery runs eagerly, the broker answers. Failures give 503 with a short JSON reason and
never a stack trace or a connection string.
"""

import logging

import redis
from django.conf import settings
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


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        logger.warning("readyz: broker unreachable (%s)", type(error).__name__)
        return "unreachable"
    finally:
        client.close()
    return "ok"


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_status(), "broker": _broker_status()}
    ready = checks["database"] == "ok" and checks["broker"] in {"ok", "eager"}
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
