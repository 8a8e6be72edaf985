"""System checks for settings whose wrong values fail only under load or after an outage."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def celery_time_limits(app_configs, **kwargs):  # noqa: ARG001 - Django's check signature
    errors = []
    visibility = settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    hard_limit = settings.CELERY_TASK_TIME_LIMIT
    # Redis redelivers an unacknowledged message after the visibility timeout; with acks_late a
    # task still running then would run twice at once. Keep a wide margin.
    if hard_limit * 2 > visibility:
        errors.append(
            Error(
                "CELERY_TASK_TIME_LIMIT must be at most half of CELERY_VISIBILITY_TIMEOUT",
                hint=f"time limit {hard_limit}s, visibility timeout {visibility}s",
                id="config.E001",
            )
        )
    return errors
