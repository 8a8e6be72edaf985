"""The outbox relay: publish due outbox rows to Celery, lease them, and leave them for the next
run when the broker is unreachable. Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so
several relays (beat task, management command) never publish the same row at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import KombuError

from referrals.models import OutboxMessage

logger = logging.getLogger(__name__)

# What an unreachable or failing broker raises through kombu; anything else is a bug.
PUBLISH_ERRORS: tuple[type[BaseException], ...] = (KombuError, OSError)


@dataclass(frozen=True)
class RelayReport:
    claimed: int
    published: int
    failed: int


def _publish(message: OutboxMessage, connection: Any = None) -> None:
    from referrals import tasks

    options: dict[str, Any] = {"retry": False}
    if connection is not None:
        options["connection"] = connection
    if message.topic == OutboxMessage.Topic.DISPATCH_REFERRAL:
        tasks.dispatch_referral.apply_async(args=[message.referral_id], **options)
    elif message.topic == OutboxMessage.Topic.DISCARD_REFERRAL:
        tasks.notify_referral_discard.apply_async(args=[message.referral_id], **options)
    elif message.topic == OutboxMessage.Topic.ROUTE_SCREENING:
        tasks.route_screening.apply_async(args=[message.screening_id], **options)
    else:  # pragma: no cover - the check constraint allows no other topic
        raise ValueError(f"unknown outbox topic {message.topic}")


def outbox_relay(*, batch_size: int | None = None, connection: Any = None) -> RelayReport:
    """Publish up to `batch_size` due rows. Each published row is leased for
    REFERRAL_OUTBOX_LEASE_SECONDS: if its handler has not completed it by then (a worker died
    holding the message), it is published again. Handlers are idempotent."""
    batch_size = batch_size or settings.REFERRAL_RELAY_BATCH_SIZE
    lease = timedelta(seconds=settings.REFERRAL_OUTBOX_LEASE_SECONDS)
    published = failed = 0
    with transaction.atomic():
        now = timezone.now()
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(completed_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "pk")[:batch_size]
        )
        for index, message in enumerate(rows):
            # Lease first: an eager (in-process) handler completes the row while publishing.
            OutboxMessage.objects.filter(pk=message.pk).update(
                published_at=now, publish_count=F("publish_count") + 1, available_at=now + lease
            )
            try:
                _publish(message, connection)
            except PUBLISH_ERRORS as error:
                failed = len(rows) - index
                retry_at = now + timedelta(seconds=settings.REFERRAL_RELAY_INTERVAL_SECONDS)
                # Rows after this one were not touched; they stay due for the next run.
                OutboxMessage.objects.filter(pk=message.pk).update(
                    publish_count=F("publish_count") - 1,
                    publish_failures=F("publish_failures") + 1,
                    available_at=retry_at,
                    last_error=type(error).__name__[:200],
                )
                logger.warning(
                    "outbox relay: broker unavailable (%s); %s row(s) left for the next run",
                    type(error).__name__,
                    failed,
                )
                break
            published += 1
    if published:
        logger.info("outbox relay: published %s row(s)", published)
    return RelayReport(claimed=len(rows), published=published, failed=failed)


def outbox_complete(*, topic: str, referral_id: int) -> None:
    """The handler did its work for good: stop the relay from publishing these rows again."""
    OutboxMessage.objects.filter(
        topic=topic, referral_id=referral_id, completed_at__isnull=True
    ).update(completed_at=timezone.now())


def outbox_postpone(*, topic: str, referral_id: int, seconds: float) -> None:
    """A retry is scheduled in `seconds`: keep the relay away until then plus the lease."""
    available_at = timezone.now() + timedelta(
        seconds=seconds + settings.REFERRAL_OUTBOX_LEASE_SECONDS
    )
    OutboxMessage.objects.filter(
        topic=topic, referral_id=referral_id, completed_at__isnull=True
    ).update(available_at=available_at)


def outbox_kick_on_commit() -> None:
    """Embedded mode (Celery eager, no beat): relay right after the commit so `make run` works
    without a beat process. With a real broker the beat relay picks the rows up within
    REFERRAL_RELAY_INTERVAL_SECONDS, and the request never waits on the broker."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(lambda: outbox_relay())
