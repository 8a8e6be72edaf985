"""The server-rendered web pages. Thin: they fetch through selectors and access functions,
write through services, and turn domain errors into form errors or 404/403."""

from screening.views.access import (
    break_glass,
    break_glass_review_submit,
    break_glass_reviews,
    case_who_can_see,
    refusal_flags,
)
from screening.views.cases import (
    agency_cases,
    case_access_history,
    case_detail,
    case_new,
    consent_new,
    consent_withdraw,
    my_cases,
    quick_exit,
)
from screening.views.history import case_changes
from screening.views.legal_hold import case_legal_hold
from screening.views.result import screening_override, screening_result, screening_review
from screening.views.tokens import api_token_revoke, api_tokens
from screening.views.wizard import (
    observation_start_page,
    screening_consent,
    screening_gate,
    screening_review_page,
    screening_section,
)

__all__ = [
    "agency_cases",
    "api_token_revoke",
    "api_tokens",
    "break_glass",
    "break_glass_review_submit",
    "break_glass_reviews",
    "case_access_history",
    "case_changes",
    "case_detail",
    "case_legal_hold",
    "case_new",
    "case_who_can_see",
    "consent_new",
    "consent_withdraw",
    "my_cases",
    "observation_start_page",
    "quick_exit",
    "refusal_flags",
    "screening_consent",
    "screening_gate",
    "screening_override",
    "screening_result",
    "screening_review",
    "screening_review_page",
    "screening_section",
]
