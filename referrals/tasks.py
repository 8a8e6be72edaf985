"""Celery tasks: thin. Ids in, call a service. Stable names, `**kwargs` for rolling deploys,
retries only on `DeliveryRetry` (the service decides when to give up, from the database)."""

from __future__ import annotations

from celery import shared_task

from referrals import services
from referrals.errors import DeliveryRetry
from referrals.services.retention import expired_records_purge


@shared_task(name="referrals.route_screening", ignore_result=True)
def route_screening(screening_id: int, **kwargs: object) -> None:
    services.referral_route_screening(screening_id=screening_id)


@shared_task(name="referrals.relay_outbox", ignore_result=True)
def relay_outbox(**kwargs: object) -> None:
    services.outbox_relay()


@shared_task(bind=True, name="referrals.dispatch_referral", ignore_result=True, max_retries=None)
def dispatch_referral(self, referral_id: int, **kwargs: object) -> None:
    while True:
        try:
            services.referral_dispatch(referral_id=referral_id)
            return
        except DeliveryRetry as retry:
            if not self.request.is_eager:
                raise self.retry(countdown=retry.countdown, exc=retry) from None
            # Embedded mode (no broker to come back through): try again at once; the
            # service's attempt counter in the database ends the loop.


@shared_task(
    bind=True, name="referrals.notify_referral_discard", ignore_result=True, max_retries=None
)
def notify_referral_discard(self, referral_id: int, **kwargs: object) -> None:
    while True:
        try:
            services.referral_discard_notify(referral_id=referral_id)
            return
        except DeliveryRetry as retry:
            if not self.request.is_eager:
                raise self.retry(countdown=retry.countdown, exc=retry) from None
            # Embedded mode (no broker to come back through): try again at once; the
            # service's attempt counter in the database ends the loop.


@shared_task(name="referrals.escalate_overdue_referrals", ignore_result=True)
def escalate_overdue_referrals(**kwargs: object) -> None:
    services.referrals_escalate_overdue()


@shared_task(name="referrals.purge_expired", ignore_result=True)
def purge_expired(**kwargs: object) -> None:
    expired_records_purge(trigger="schedule")
