"""Expired Idempotency-Key records (their stored responses may hold case data) are purged every
hour by beat, through a thin task the worker finds by its stable name."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from config.models import IdempotencyRecord
from config.tasks import idempotency_purge
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _record(user, key: str, *, age: timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        user=user,
        key=key,
        fingerprint="0" * 64,
        response_status=201,
        response_body={"id": 1},
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_the_task_purges_expired_records_and_keeps_fresh_ones(settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    user = UserFactory()
    _record(user, "expired", age=timedelta(hours=25))
    _record(user, "fresh", age=timedelta(hours=23))

    idempotency_purge.delay()

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_beat_runs_it_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["api-idempotency-purge"]
    assert entry["task"] == idempotency_purge.name == "api.idempotency_purge"
    assert entry["schedule"] == 3600


def test_a_worker_finds_the_task_by_autodiscovery():
    """In a fresh process, as a worker starts: nothing imported config.tasks beforehand."""
    code = (
        "import django; django.setup();"
        "from config.celery import app;"
        "app.loader.import_default_modules();"
        "print('api.idempotency_purge' in app.tasks)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
