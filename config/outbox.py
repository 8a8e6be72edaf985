"""The transactional outbox, on the ground floor (DESIGN "Layers point down").

An app says what happened, or asks Celery for work, with `outbox_emit` inside the transaction
that makes the change: one row per subscriber of the topic, committed or rolled back with the
change. Subscribers register a Celery task per topic from their AppConfig.ready()
(`outbox_subscribe`); the task receives the subject's id. This module imports no app.

Rows reach Celery twice over:
- right after the commit, `outbox_emit`'s on_commit hook publishes the new rows at once
  (`outbox_publish`), so a delivery starts within milliseconds of the approval;
- the relay (`outbox_relay`, beat every REFERRAL_RELAY_INTERVAL_SECONDS, or `manage.py
  relay_outbox`) publishes whatever is due: rows whose publish failed (broker down), rows of
  a process that died between its commit and the publish, rows whose lease ran out before
  their handler completed them (a worker killed mid-task).

Both claim rows the same way: a short transaction takes them with SELECT … FOR UPDATE SKIP
LOCKED, leases them (`available_at` = now + REFERRAL_OUTBOX_LEASE_SECONDS) and commits; the
broker is called after that, outside any transaction, so neither a slow broker nor an eager
handler (embedded mode) runs under a lock. A publish error gives the lease back and the row is
due for the next relay run. A handler marks its rows completed (`outbox_complete`) once its
work is done for good; handlers are idempotent, since a row can be published more than once.
Each publication is a task id of its own (`outbox-<row>-<count>`), so that a handler that takes
up other rows' work along with its own (`outbox_take_over`, a delivery following another) can
have their waiting tasks revoked, and give the work back to the relay (`outbox_due_again`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection as db_connection
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from kombu import pools
from kombu.exceptions import KombuError

from config.models import OutboxMessage

logger = logging.getLogger(__name__)

# What an unreachable or failing broker raises through kombu; anything else is a bug.
PUBLISH_ERRORS: tuple[type[BaseException], ...] = (KombuError, OSError)

# topic -> names of the Celery tasks subscribed to it, in subscription order.
_subscribers: dict[str, list[str]] = {}


@dataclass(frozen=True)
class RelayReport:
    claimed: int
    published: int
    failed: int


# --- subscribing and emitting --------------------------------------------------------------


def outbox_subscribe(topic: str, *, task: str) -> None:
    """Have the Celery task named `task` called with the subject's id for every `topic` row
    emitted from now on. Call it from the subscribing app's AppConfig.ready()."""
    handlers = _subscribers.setdefault(topic, [])
    if task not in handlers:
        handlers.append(task)


def outbox_subscribers(topic: str) -> tuple[str, ...]:
    return tuple(_subscribers.get(topic, ()))


def subject_type(model: type[models.Model] | models.Model) -> str:
    """How a row names its subject's model: `app_label.model_name`."""
    return model._meta.label_lower


def outbox_emit(*, topic: str, subject: models.Model) -> list[OutboxMessage]:
    """Write one row per subscriber of `topic` about `subject`, in the caller's transaction,
    and publish them right after it commits. Returns the rows (none without a subscriber)."""
    if subject.pk is None:
        raise ValueError("an outbox row names a saved object")
    now = timezone.now()
    rows = [
        OutboxMessage.objects.create(
            topic=topic,
            handler=handler,
            subject_type=subject_type(subject),
            subject_id=subject.pk,
            created_at=now,
            available_at=now,
        )
        for handler in outbox_subscribers(topic)
    ]
    if rows:
        transaction.on_commit(partial(_publish_after_commit, [row.pk for row in rows]))
    return rows


def _publish_after_commit(message_ids: list[int]) -> None:
    if current_app.conf.task_always_eager:
        # Embedded mode (no broker, no beat; handlers run in this process): these rows first,
        # then the relay, for rows an earlier failure left behind.
        outbox_publish(message_ids=message_ids)
        outbox_relay()
        return
    try:
        outbox_publish(message_ids=message_ids)
    except Exception as error:  # noqa: BLE001 - the change is committed; the relay follows up
        logger.warning(
            "outbox: publishing after commit failed (%s); the relay will publish",
            type(error).__name__,
        )


# --- publishing ----------------------------------------------------------------------------


def _claim(rows: models.QuerySet[OutboxMessage], *, now: datetime, limit: int) -> list:
    """Take due rows (skipping those another relay holds) and lease them, in one short
    transaction of its own."""
    lease_until = now + timedelta(seconds=settings.REFERRAL_OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        claimed = list(
            rows.select_for_update(skip_locked=True)
            .filter(completed_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "pk")[:limit]
        )
        if claimed:
            if db_connection.vendor == "postgresql":
                # A lease lost in a crash only has the row published again: its commit need
                # not wait for the disk (the request waits for this one).
                with db_connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            # Leased before publishing: an eager handler completes its row while publishing.
            OutboxMessage.objects.filter(pk__in=[row.pk for row in claimed]).update(
                published_at=now, publish_count=F("publish_count") + 1, available_at=lease_until
            )
            for row in claimed:
                row.publish_count += 1  # as written: the task id names this publication
    return claimed


def _send(message: OutboxMessage, connection: Any) -> None:
    options: dict[str, Any] = {"retry": False, "task_id": outbox_task_id(message)}
    if connection is not None:
        options["connection"] = connection
    # The subject's id, and the row's own id for the handler to complete it by.
    arguments = {"args": [message.subject_id], "kwargs": {"outbox_message_id": message.pk}}
    task = current_app.tasks.get(message.handler)
    if task is None:  # a task this process does not know: the worker may
        current_app.send_task(message.handler, **arguments, **options)
    else:
        task.apply_async(**arguments, **options)


def outbox_task_id(message: OutboxMessage) -> str:
    """The Celery task id of a row's latest publication: the row and its publication count,
    so that a row published again (the relay, after its lease ran out) is a task of its own.
    (A database crash that loses a lease's count, whose commit does not wait for the disk,
    can repeat an id the workers were told to drop: that publication is lost like the lease,
    and the relay's next one, a lease later, has a new id.)"""
    return f"outbox-{message.pk}-{message.publish_count}"


def _release(rows: Sequence[OutboxMessage], *, now: datetime) -> None:
    """Give back the lease of claimed rows that were not published: due again at once."""
    if rows:
        OutboxMessage.objects.filter(
            pk__in=[row.pk for row in rows], completed_at__isnull=True
        ).update(publish_count=F("publish_count") - 1, available_at=now)


def _publish_claimed(
    rows: Sequence[OutboxMessage], *, now: datetime, connection: Any, retry_at: datetime
) -> RelayReport:
    published = 0
    for index, message in enumerate(rows):
        try:
            _send(message, connection)
        except PUBLISH_ERRORS as error:
            OutboxMessage.objects.filter(pk=message.pk).update(
                publish_count=F("publish_count") - 1,
                publish_failures=F("publish_failures") + 1,
                available_at=retry_at,
                last_error=type(error).__name__[:200],
            )
            _release(rows[index + 1 :], now=now)
            failed = len(rows) - index
            logger.warning(
                "outbox: broker unavailable (%s); %s row(s) left for the relay",
                type(error).__name__,
                failed,
            )
            return RelayReport(claimed=len(rows), published=published, failed=failed)
        except BaseException:
            # An eager handler's own error: its row stays leased (the handler may have done
            # part of its work); the rows after it were never published.
            _release(rows[index + 1 :], now=now)
            raise
        published += 1
    return RelayReport(claimed=len(rows), published=published, failed=0)


# Right after a commit the request is still waiting: one try of at most this long to reach
# the broker, then the relay's turn (a connection refused fails at once).
AFTER_COMMIT_CONNECT_TIMEOUT = 1.0


def _after_commit_connection() -> Any:
    """A broker connection from a pool of connections that try the broker once, briefly
    (kombu's default retries a refused connection for seconds). The app's own pool, used by
    workers and beat, keeps its retries."""
    options = {**(current_app.conf.broker_transport_options or {}), "max_retries": 0}
    connection = current_app.connection_for_write(
        connect_timeout=AFTER_COMMIT_CONNECT_TIMEOUT, transport_options=options
    )
    return pools.connections[connection].acquire(block=True, timeout=AFTER_COMMIT_CONNECT_TIMEOUT)


def outbox_publish(*, message_ids: Iterable[int], connection: Any = None) -> RelayReport:
    """Publish these rows now if they are still due (right after their commit): claimed and
    leased exactly as the relay does, so the relay publishes them again only if their handler
    does not complete them within the lease. A broker error leaves them due for the relay."""
    ids = list(message_ids)
    now = timezone.now()
    rows = _claim(OutboxMessage.objects.filter(pk__in=ids), now=now, limit=len(ids))
    if not rows or connection is not None or current_app.conf.task_always_eager:
        return _publish_claimed(rows, now=now, connection=connection, retry_at=now)
    try:
        pooled = _after_commit_connection()
    except PUBLISH_ERRORS:
        _release(rows, now=now)
        raise
    with pooled as connection:
        return _publish_claimed(rows, now=now, connection=connection, retry_at=now)


def outbox_relay(*, batch_size: int | None = None, connection: Any = None) -> RelayReport:
    """Publish up to `batch_size` due rows (REFERRAL_RELAY_BATCH_SIZE). After a broker error
    the failing row waits one relay interval; the rows after it stay due."""
    now = timezone.now()
    rows = _claim(
        OutboxMessage.objects.all(),
        now=now,
        limit=batch_size or settings.REFERRAL_RELAY_BATCH_SIZE,
    )
    retry_at = now + timedelta(seconds=settings.REFERRAL_RELAY_INTERVAL_SECONDS)
    report = _publish_claimed(rows, now=now, connection=connection, retry_at=retry_at)
    if report.published:
        logger.info("outbox relay: published %s row(s)", report.published)
    return report


# --- what handlers call --------------------------------------------------------------------


def _open_rows(*, topic: str, subject_id: Any) -> models.QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        topic=topic, subject_id=subject_id, completed_at__isnull=True
    )


def _open_rows_of(*, topic: str, subject_ids: list[int]) -> models.QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        topic=topic, subject_id__in=subject_ids, completed_at__isnull=True
    )


def outbox_message_complete(*, message_id: int | None) -> None:
    """A handler did the work of the row it was published for: the relay stops publishing
    it. (None: the task was called without a row, e.g. by hand.)"""
    if message_id is not None:
        OutboxMessage.objects.filter(pk=message_id, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )


def outbox_complete(*, topic: str, subject_id: int) -> None:
    """The work `topic` asks for on this subject is done for good (or moot): every open row
    of it stops, however many were written (a work topic with one subscriber, its owner)."""
    _open_rows(topic=topic, subject_id=subject_id).update(completed_at=timezone.now())


def outbox_open_exists(*, topic: str, subject_id: Any) -> models.Exists:
    """Whether `topic` has open rows about `subject_id` (an `OuterRef` too): for a read that
    completes them only when there are any."""
    return models.Exists(_open_rows(topic=topic, subject_id=subject_id))


def outbox_complete_all(*, topic: str, subject_ids: list[int]) -> None:
    """`outbox_complete` for several subjects, in one UPDATE."""
    _open_rows_of(topic=topic, subject_ids=subject_ids).update(completed_at=timezone.now())


def outbox_take_over(*, topic: str, subject_ids: list[int]) -> None:
    """In the transaction of a handler that takes up these subjects' work along with its own
    (a delivery following another): their rows' published tasks, most often still waiting in
    the queue, are revoked once it commits (`outbox_tasks_revoke`), so that a worker drops
    them on arrival instead of running each to find the work taken. The handler completes
    the rows when the work is done, or makes them due again (`outbox_due_again`) when it
    gives the work back; if it dies first, the relay publishes them when their lease runs
    out, as it would its own. A task that runs anyway (it started first, or the revoke was
    lost) finds the work taken, as before."""
    rows = (
        _open_rows_of(topic=topic, subject_ids=subject_ids)
        .filter(publish_count__gt=0)
        .only("pk", "publish_count")
    )
    task_ids = [outbox_task_id(row) for row in rows]
    if task_ids:
        transaction.on_commit(partial(outbox_tasks_revoke, task_ids))


def outbox_due_again(*, topic: str, subject_ids: list[int], in_seconds: float = 0.0) -> None:
    """Work taken over (`outbox_take_over`) and given back, or to be tried again later: the
    relay publishes these subjects' open rows in `in_seconds` (no lease to wait out: no task
    of theirs is on its way)."""
    _open_rows_of(topic=topic, subject_ids=subject_ids).update(
        available_at=timezone.now() + timedelta(seconds=in_seconds)
    )


def outbox_tasks_revoke(task_ids: list[str]) -> None:
    """Ask the workers to drop these tasks (Celery's revoke: a broadcast the workers keep in
    memory, without a reply). Best effort, outside any transaction, one brief try at the
    broker: a worker that never hears of it runs the task. Not in embedded mode (no broker;
    handlers run in the caller)."""
    if current_app.conf.task_always_eager:
        return
    try:
        with _after_commit_connection() as connection:
            current_app.control.revoke(task_ids, connection=connection)
    except PUBLISH_ERRORS as error:
        logger.warning(
            "outbox: revoking %s task(s) failed (%s); they will find the work taken",
            len(task_ids),
            type(error).__name__,
        )


def outbox_postpone(*, topic: str, subject_id: int, seconds: float) -> None:
    """A retry is scheduled in `seconds`: keep the relay away until then plus the lease."""
    available_at = timezone.now() + timedelta(
        seconds=seconds + settings.REFERRAL_OUTBOX_LEASE_SECONDS
    )
    _open_rows(topic=topic, subject_id=subject_id).update(available_at=available_at)


def outbox_messages_naming(
    deleted: dict[type[models.Model], set[Any]],
) -> models.QuerySet[OutboxMessage]:
    """The rows whose subject is one of the `deleted` objects (by model), for the retention
    purge: a purged case's events and deliveries go with it."""
    condition = models.Q(pk__in=[])
    for model, pks in deleted.items():
        ids = [pk for pk in pks if isinstance(pk, int)]
        if ids:
            condition |= models.Q(subject_type=subject_type(model), subject_id__in=ids)
    return OutboxMessage.objects.filter(condition)
