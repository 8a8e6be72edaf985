"""Reading the outbox in tests (config/outbox.py): rows by topic and subject."""

from __future__ import annotations

from django.db import models

from config.models import OutboxMessage
from config.outbox import subject_type


def outbox_rows(
    topic: str | None = None, subject: models.Model | None = None, **filters
) -> models.QuerySet[OutboxMessage]:
    """Outbox rows of `topic` (any when None) about `subject` (any when None)."""
    rows = OutboxMessage.objects.all()
    if topic is not None:
        rows = rows.filter(topic=topic)
    if subject is not None:
        rows = rows.filter(subject_type=subject_type(subject), subject_id=subject.pk)
    return rows.filter(**filters)
