"""The retention purge (docs/retention.md): every kind of record past its period goes, in
batches, and one `PurgeRecord` says that the purge ran and how many rows of each table it
deleted, never what they held. `manage.py purge_expired` and the daily beat task call
`expired_records_purge`; it lives here, in the top layer, because it composes the rules of
every app: screening's (closed cases with everything hanging off them, referrals included;
abandoned drafts; contacts without a case), the delivery machinery's below, and the access
log's and Idempotency-Key records' own purges.

Disclosure packets are not stored: `referrals.services.delivery` builds each one from the
case when it is sent and keeps only the names of the fields it disclosed, so a packet goes
with its case. What the provider received is out of reach once sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from config.access_log import access_log_purge
from config.api.idempotency import idempotency_record_purge
from config.models import AccessLogEntry, IdempotencyRecord, OutboxMessage, PurgeRecord
from config.retention import RetentionRule, retention_rules_run
from referrals.models import ProviderCallbackReceipt
from screening.services.retention import screening_retention_rules

TRIGGERS = ("schedule", "command")


def completed_outbox_messages(now: datetime) -> models.QuerySet[OutboxMessage]:
    """Outbox rows done for good more than RETENTION_OUTBOX_DAYS ago (ids only, no case data)."""
    cutoff = now - timedelta(days=settings.RETENTION_OUTBOX_DAYS)
    return OutboxMessage.objects.filter(completed_at__lt=cutoff)


def old_callback_receipts(now: datetime) -> models.QuerySet[ProviderCallbackReceipt]:
    """Provider callback receipts older than RETENTION_CALLBACK_RECEIPT_DAYS: long past the
    signature window (REFERRAL_CALLBACK_WINDOW_SECONDS), so no replay needs them any more."""
    cutoff = now - timedelta(days=settings.RETENTION_CALLBACK_RECEIPT_DAYS)
    return ProviderCallbackReceipt.objects.filter(received_at__lt=cutoff)


def _rows_purge(
    expired: Callable[[datetime], models.QuerySet],
) -> Callable[..., Counter[str]]:
    """A rule's purge for rows nothing else hangs off (no history, no dependants)."""

    @transaction.atomic
    def purge(*, ids: Sequence[int], now: datetime, dry_run: bool) -> Counter[str]:
        rows = expired(now).filter(pk__in=ids)
        table = rows.model._meta.db_table
        if dry_run:
            return Counter({table: rows.count()})
        deleted, _ = rows.delete()
        return Counter({table: deleted})

    return purge


def referral_retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            "completed outbox rows",
            completed_outbox_messages,
            _rows_purge(completed_outbox_messages),
        ),
        RetentionRule(
            "provider callback receipts", old_callback_receipts, _rows_purge(old_callback_receipts)
        ),
    ]


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    # Rows deleted (or that would be) per table; tables with none are left out.
    deleted: dict[str, int]
    record: PurgeRecord | None


def expired_records_purge(
    *,
    trigger: str,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: TextIO | None = None,
    now: datetime | None = None,
) -> PurgeReport:
    """Delete every record past its retention period (see the module docstring), in batches
    of `batch_size` rows per transaction (default RETENTION_PURGE_BATCH_SIZE), with progress
    bars on the `progress` stream, and record the run. `dry_run` counts what would go and
    changes nothing, the record included."""
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}")
    now = now or timezone.now()
    counts = retention_rules_run(
        [*screening_retention_rules(), *referral_retention_rules()],
        now=now,
        dry_run=dry_run,
        batch_size=batch_size or settings.RETENTION_PURGE_BATCH_SIZE,
        progress=progress,
    )
    counts[AccessLogEntry._meta.db_table] += access_log_purge(now=now, dry_run=dry_run)
    counts[IdempotencyRecord._meta.db_table] += idempotency_record_purge(dry_run=dry_run)
    deleted = {table: count for table, count in sorted(counts.items()) if count}
    record = None
    if not dry_run:
        record = PurgeRecord.objects.create(at=now, trigger=trigger, deleted=deleted)
    return PurgeReport(dry_run=dry_run, deleted=deleted, record=record)
