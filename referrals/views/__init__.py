"""The referral web pages (supervisor queue, referral detail, provider inbox) and the signed
provider callback. Thin: reads through selectors and the access function, writes through
services, domain errors turned into form errors or 404/403."""

from referrals.views.callback import provider_callback
from referrals.views.pages import (
    referral_answer,
    referral_decide,
    referral_detail,
    referral_inbox_page,
    referral_queue_page,
)

__all__ = [
    "provider_callback",
    "referral_answer",
    "referral_decide",
    "referral_detail",
    "referral_inbox_page",
    "referral_queue_page",
]
