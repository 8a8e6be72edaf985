"""Celery tasks of the project-wide pieces: thin, call a service, stable explicit names."""

from __future__ import annotations

from celery import shared_task

from config import access_log
from config.api.idempotency import idempotency_record_purge


@shared_task(name="core.access_log_purge", ignore_result=True)
def access_log_purge(**kwargs: object) -> None:
    access_log.access_log_purge()


@shared_task(name="api.idempotency_purge", ignore_result=True)
def idempotency_purge(**kwargs: object) -> None:
    idempotency_record_purge()
