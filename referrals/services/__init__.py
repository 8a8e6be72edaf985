"""Writes for referrals, by topic. Views, commands and tasks call these."""

from config.outbox import outbox_relay
from referrals.services.answers import referral_provider_answer
from referrals.services.case_transfer import referrals_case_agency_move
from referrals.services.decisions import (
    referral_approve,
    referral_decline,
    referral_retry_delivery,
)
from referrals.services.delivery import referral_discard_notify, referral_dispatch
from referrals.services.escalation import referrals_escalate_overdue
from referrals.services.outcomes import referral_close, referral_escalate
from referrals.services.proposals import referral_propose, referral_providers_for
from referrals.services.routing import referral_route_for_consent, referral_route_screening
from referrals.services.transitions import referral_transition
from referrals.services.withdrawal import referrals_cancel_for_withdrawn_consent

__all__ = [
    "outbox_relay",
    "referral_approve",
    "referral_close",
    "referral_escalate",
    "referral_propose",
    "referral_providers_for",
    "referral_decline",
    "referral_discard_notify",
    "referral_dispatch",
    "referral_provider_answer",
    "referral_retry_delivery",
    "referral_route_for_consent",
    "referral_route_screening",
    "referral_transition",
    "referrals_case_agency_move",
    "referrals_cancel_for_withdrawn_consent",
    "referrals_escalate_overdue",
]
