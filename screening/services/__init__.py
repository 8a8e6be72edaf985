"""Writes for the screening app, by topic. Views, commands and tasks call these; they hold the
rules, the permission checks and the transactions."""

from screening.services.cases import (
    case_assign,
    case_close,
    case_create,
    case_share,
    case_unassign,
)
from screening.services.consents import consent_record, consent_withdraw
from screening.services.screenings import (
    screening_override,
    screening_review,
    screening_save_answers,
    screening_start,
    screening_submit,
    screening_void,
)
from screening.services.staff import EnsureResult, agency_ensure, staff_ensure

__all__ = [
    "EnsureResult",
    "agency_ensure",
    "case_assign",
    "case_close",
    "case_create",
    "case_share",
    "case_unassign",
    "consent_record",
    "consent_withdraw",
    "screening_override",
    "screening_review",
    "screening_save_answers",
    "screening_start",
    "screening_submit",
    "screening_void",
    "staff_ensure",
]
