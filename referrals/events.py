"""The referral app's outbox topics and subscriptions (config/outbox.py).

Referrals listens to the screening app's events, and uses the outbox for its own delivery
work; `ReferralsConfig.ready()` calls `subscribe()`. Each subscriber is a Celery task that
takes the subject's id (referrals/tasks.py)."""

from __future__ import annotations

from config.outbox import outbox_subscribe
from screening.events import (
    CASE_TRANSFERRED,
    CONSENT_RECORDED,
    CONSENT_WITHDRAWN,
    SCREENING_OVERRIDDEN,
    SCREENING_SUBMITTED,
)

# Deliver an approved referral (subject: the referral).
REFERRAL_DISPATCH = "referral.dispatch"
# Tell a provider to discard a referral it received (subject: the referral).
REFERRAL_DISCARD = "referral.discard"

SUBSCRIPTIONS: tuple[tuple[str, str], ...] = (
    (SCREENING_SUBMITTED, "referrals.route_screening"),
    (SCREENING_OVERRIDDEN, "referrals.route_screening"),
    (CONSENT_RECORDED, "referrals.route_for_consent"),
    (CONSENT_WITHDRAWN, "referrals.cancel_for_withdrawn_consent"),
    (CASE_TRANSFERRED, "referrals.move_case_agency"),
    (REFERRAL_DISPATCH, "referrals.dispatch_referral"),
    (REFERRAL_DISCARD, "referrals.notify_referral_discard"),
)


def subscribe() -> None:
    for topic, task in SUBSCRIPTIONS:
        outbox_subscribe(topic, task=task)
