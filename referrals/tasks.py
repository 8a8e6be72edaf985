"""Celery tasks: thin. Ids in, call a service. Stable names, `**kwargs` for rolling deploys,
retries only on `DeliveryRetry` (the service decides when to give up, from the database).

The outbox (config/outbox.py) calls the subscribers of referrals/events.py with the subject's
id and `outbox_message_id`, the row they complete once their work is done."""

from __future__ import annotations

from celery import shared_task

from config.outbox import outbox_message_complete
from referrals import services
from referrals.errors import DeliveryRetry
from referrals.services.retention import expired_records_purge


@shared_task(name="referrals.route_screening", ignore_result=True)
def route_screening(screening_id: int, outbox_message_id: int | None = None, **kwargs: object):
    services.referral_route_screening(screening_id=screening_id)
    outbox_message_complete(message_id=outbox_message_id)


@shared_task(name="referrals.route_for_consent", ignore_result=True)
def route_for_consent(consent_id: int, outbox_message_id: int | None = None, **kwargs: object):
    services.referral_route_for_consent(consent_id=consent_id)
    outbox_message_complete(message_id=outbox_message_id)


@shared_task(name="referrals.cancel_for_withdrawn_consent", ignore_result=True)
def cancel_for_withdrawn_consent(
    consent_id: int, outbox_message_id: int | None = None, **kwargs: object
) -> None:
    services.referrals_cancel_for_withdrawn_consent(consent_id=consent_id)
    outbox_message_complete(message_id=outbox_message_id)


@shared_task(name="referrals.move_case_agency", ignore_result=True)
def move_case_agency(case_id: int, outbox_message_id: int | None = None, **kwargs: object):
    services.referrals_case_agency_move(case_id=case_id)
    outbox_message_complete(message_id=outbox_message_id)


@shared_task(name="referrals.relay_outbox", ignore_result=True)
def relay_outbox(**kwargs: object) -> None:
    services.outbox_relay()


# The delivery services complete their own rows (by referral), in the transaction that
# records the outcome.
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
