"""Change-history rows (django-simple-history) for writes that send no signals, and the
acting user for writes made outside a web request.

simple-history writes a historical row from `post_save`; rows inserted with
`config.db.insert_instance` (the contacts hot path) send no signals, so their "+" row is
written here, the way `HistoricalRecords.create_historical_record` builds it, with one plain
INSERT. Its `HistoryRequestMiddleware` names the signed-in user of a web request; API calls
(token authentication happens inside the view), commands and Celery tasks have none, so
services name the acting user on the instance with `history_user_set`.
"""

from __future__ import annotations

import inspect

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.db import insert_instance


def history_user_set(instance: models.Model, user: models.Model | None) -> None:
    """Record `user` as the author of the history row the next save of `instance` writes
    (simple-history reads `_history_user` before the request's user). None leaves it to the
    request, if there is one."""
    if user is not None:
        instance._history_user = user


def history_model(model: type[models.Model]) -> type[models.Model]:
    """The historical model of `model`. Read from simple-history's descriptor itself: going
    through it (`Contact.history`) builds a new manager class each time, about 0.1 ms on
    every logged contact (tests/screening/test_change_history_recording.py pins the two to the
    same model)."""
    descriptor = inspect.getattr_static(model, model._meta.simple_history_manager_attribute)
    return descriptor.model


def history_record_created(instance: models.Model, *, user: models.Model | None) -> None:
    """Insert the "+" history row of `instance`, just inserted without signals, as simple-
    history's `post_save` would have: the tracked fields' values (encrypted ones sealed again
    for the history table), when, who. One INSERT, no query for the user."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    historical = history_model(type(instance))
    values = {
        field.attname: getattr(instance, field.attname) for field in historical.tracked_fields
    }
    insert_instance(
        historical(
            history_date=getattr(instance, "_history_date", timezone.now()),
            history_type="+",
            history_user_id=user.pk if user is not None else None,
            history_change_reason=None,
            **values,
        )
    )
