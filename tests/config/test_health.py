import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_services(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_ready_with_database_and_eager_celery(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "eager", "cache": "local"}


def test_readyz_is_503_with_a_reason_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unreachable", "cache": "local"},
    }
    assert "Traceback" not in response.content.decode()


def test_readyz_is_503_when_the_database_fails(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("config.health.connection.cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert "connection refused" not in response.content.decode()


def _redis_cache(location: str) -> dict:
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    }


def test_readyz_is_503_when_the_shared_cache_is_unreachable(client, settings):
    """The API's throttle counters live in the cache: without it, token requests fail."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "eager",
        "cache": "unreachable",
    }
    assert "127.0.0.1:1" not in response.content.decode()


@pytest.mark.integration
def test_readyz_is_ready_against_a_real_redis(client, settings, redis_url):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    settings.CACHES = _redis_cache(redis_url)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "cache": "ok"}
