"""System checks for referral settings whose wrong values only show after a crash."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def referral_outbox_lease(app_configs, **kwargs):  # noqa: ARG001 - Django's check signature
    # A published outbox row is published again when its lease runs out. A lease shorter than
    # a task may run would have a slow delivery published twice while it is still running.
    lease = settings.REFERRAL_OUTBOX_LEASE_SECONDS
    if lease <= settings.CELERY_TASK_TIME_LIMIT and not settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            Error(
                "REFERRAL_OUTBOX_LEASE_SECONDS must exceed CELERY_TASK_TIME_LIMIT",
                hint=f"lease {lease}s, task time limit {settings.CELERY_TASK_TIME_LIMIT}s",
                id="referrals.E001",
            )
        ]
    return []
