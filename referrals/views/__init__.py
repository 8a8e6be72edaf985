"""The referral web pages (supervisor queue, referral detail, provider inbox) and the signed
provider callback. Thin: reads through selectors and the access function, writes through
services, domain errors turned into form errors or 404/403."""

from referrals.views.callback import provider_callback
from referrals.views.case_referrals import case_referrals_page, referral_propose_page
from referrals.views.pages import (
    referral_answer,
    referral_case_work,
    referral_decide,
    referral_detail,
    referral_inbox_page,
    referral_queue_page,
)

__all__ = [
    "case_referrals_page",
    "provider_callback",
    "referral_answer",
    "referral_case_work",
    "referral_propose_page",
    "referral_decide",
    "referral_detail",
    "referral_inbox_page",
    "referral_queue_page",
]
