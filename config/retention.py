"""Deleting rows together with everything that hangs off them, their change history included,
for the retention purge (docs/retention.md). The apps decide what has expired; this module
only knows Django's relations, so it imports no app.

Django's deletion collector finds the rows that cascade from the roots (and lifts a RESTRICT
when the row it protects goes too). Change-history tables (django-simple-history) have no
foreign keys, so their rows are found here: every history row of a deleted row, and every
history row whose foreign-key column names one (a contact's past link to a purged case).
Idempotency-Key records, outbox rows and access-log entries name objects by type and id: the
records and the outbox rows go, and the entries keep only their case id (`object_ref` is
emptied).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from django.apps import apps
from django.db import models, router
from django.db.models.deletion import Collector
from tqdm import tqdm

from config.encrypted import encrypted_fields
from config.models import AccessLogEntry, IdempotencyRecord
from config.outbox import outbox_messages_naming


def history_models() -> list[type[models.Model]]:
    """Every change-history model (simple-history gives each one `instance_type`)."""
    return [model for model in apps.get_models() if hasattr(model, "instance_type")]


def _history_filter(
    history: type[models.Model], deleted: dict[type[models.Model], set[Any]]
) -> models.Q | None:
    condition = models.Q()
    original = history.instance_type
    if original in deleted:
        condition |= models.Q(**{f"{original._meta.pk.attname}__in": deleted[original]})
    for field in history._meta.concrete_fields:
        if field.many_to_one and field.related_model in deleted and field.name != "history_user":
            condition |= models.Q(**{f"{field.attname}__in": deleted[field.related_model]})
    return condition or None


def cascade_purge(
    *,
    roots: Sequence[models.QuerySet],
    dry_run: bool = False,
    handles: Mapping[str, Collection[str]] | None = None,
) -> Counter[str]:
    """Delete the rows of `roots` and everything that cascades from them, with their change
    history and the Idempotency-Key records and outbox rows naming them; returns row counts
    per table (what would go, changing nothing, when `dry_run`). Call it inside the caller's
    transaction.

    `handles` are other names of the deleted objects by object type (a case's reference:
    the cases API and the access log name a case by it rather than by its id).

    Counts are of the rows that existed: the history rows simple-history writes while the
    rows are deleted (the "-" records) are deleted too, and not counted."""
    counts: Counter[str] = Counter()
    if not roots:
        return counts
    using = router.db_for_write(roots[0].model)
    collector = Collector(using=using, origin=roots[0])
    for queryset in roots:
        collector.collect(queryset)

    # Rows the collector loaded (models with delete signals: every model with history).
    deleted: dict[type[models.Model], set[Any]] = {}
    for model, instances in collector.data.items():
        if instances:
            deleted[model] = {instance.pk for instance in instances}
            counts[model._meta.db_table] += len(instances)
    # Rows it deletes with one statement each, never loaded.
    for queryset in collector.fast_deletes:
        if count := queryset.count():
            counts[queryset.model._meta.db_table] += count

    history_rows = []
    for history in history_models():
        condition = _history_filter(history, deleted)
        if condition is None:
            continue
        rows = history._default_manager.using(using).filter(condition)
        if count := rows.count():
            counts[history._meta.db_table] += count
        history_rows.append((history, condition))

    records = IdempotencyRecord.objects.using(using).filter(_named(deleted, "object_id", handles))
    if count := records.count():
        counts[IdempotencyRecord._meta.db_table] += count
    outbox = outbox_messages_naming(deleted).using(using)
    if count := outbox.count():
        counts[outbox.model._meta.db_table] += count
    if dry_run:
        return counts

    # simple-history writes a "-" row from each deleted instance, copying its values, which
    # would decrypt every sealed one (and stop at one that does not decrypt) only for the row
    # to be deleted below: the instances go with their sealed values emptied instead.
    for instances in collector.data.values():
        for instance in instances:
            for sealed in encrypted_fields(type(instance)):
                setattr(instance, sealed.attname, None if sealed.null else "")
    collector.delete()
    for history, condition in history_rows:
        # Again after the delete: the "-" rows written meanwhile match the same ids.
        history._default_manager.using(using).filter(condition).delete()
    records.delete()
    outbox.delete()
    AccessLogEntry.objects.using(using).filter(_named(deleted, "object_ref", handles)).exclude(
        object_ref=""
    ).update(object_ref="")
    return counts


def _named(
    deleted: dict[type[models.Model], set[Any]],
    column: str,
    handles: Mapping[str, Collection[str]] | None,
) -> models.Q:
    """Rows naming a deleted object as (`object_type` = model name, `column` = its id or one
    of its `handles`)."""
    condition = models.Q(pk__in=[])
    for model, pks in deleted.items():
        condition |= models.Q(object_type=model._meta.model_name, **{f"{column}__in": _texts(pks)})
    for object_type, names in (handles or {}).items():
        condition |= models.Q(object_type=object_type, **{f"{column}__in": list(names)})
    return condition


def _texts(values: Iterable[Any]) -> list[str]:
    return [str(value) for value in values]


# --- running the rules in batches ----------------------------------------------------------


@dataclass(frozen=True)
class RetentionRule:
    """One kind of record with a lifetime: `expired(now)` is the queryset of rows past it;
    `purge(ids=, now=, dry_run=)` deletes those of `ids` still expired (checked again under a
    lock, so a legal hold or an edit made meanwhile wins) and returns counts per table."""

    name: str
    expired: Callable[[datetime], models.QuerySet]
    purge: Callable[..., Counter[str]]


def retention_rules_run(
    rules: Sequence[RetentionRule],
    *,
    now: datetime,
    dry_run: bool,
    batch_size: int,
    progress: TextIO | None = None,
) -> Counter[str]:
    """Apply each rule in batches of `batch_size` rows (one transaction each), in primary-key
    order, with a progress bar per rule on the `progress` stream, if any. Returns counts per
    table."""
    counts: Counter[str] = Counter()
    for rule in rules:
        expired = rule.expired(now).order_by("pk")
        with tqdm(
            total=expired.count(),
            desc=rule.name,
            unit="row",
            file=progress,
            disable=progress is None,
        ) as bar:
            last_pk = None
            while True:
                batch = expired if last_pk is None else expired.filter(pk__gt=last_pk)
                ids = list(batch.values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                counts.update(rule.purge(ids=ids, now=now, dry_run=dry_run))
                last_pk = ids[-1]
                bar.update(len(ids))
    return counts
