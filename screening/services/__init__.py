"""Writes for the screening app, by topic. Views, commands and tasks call these; they hold the
rules, the permission checks and the transactions."""

from config.tokens import (
    CreatedToken,
    api_token_authenticate,
    api_token_create,
    api_token_list,
    api_token_revoke,
)
from screening.services.cases import (
    case_assign,
    case_close,
    case_create,
    case_reopen,
    case_share,
    case_unassign,
)
from screening.services.consents import consent_record, consent_withdraw
from screening.services.contacts import contact_create, contact_finalise, contact_update
from screening.services.followups import case_task_add, case_task_done, case_task_reminders_send
from screening.services.notes import case_note_add, case_note_correct
from screening.services.notifications import (
    notification_mark_read,
    notification_send,
    notifications_mark_all_read,
)
from screening.services.screenings import (
    observation_start,
    screening_override,
    screening_review,
    screening_save_answers,
    screening_start,
    screening_start_with_consent,
    screening_submit,
    screening_void,
)
from screening.services.staff import EnsureResult, agency_ensure, staff_ensure, staff_roles_set
from screening.services.transfers import (
    case_transfer_accept,
    case_transfer_cancel,
    case_transfer_decline,
    case_transfer_request,
)

__all__ = [
    "CreatedToken",
    "EnsureResult",
    "agency_ensure",
    "api_token_authenticate",
    "api_token_create",
    "api_token_list",
    "api_token_revoke",
    "case_assign",
    "case_close",
    "case_create",
    "case_note_add",
    "case_note_correct",
    "case_reopen",
    "case_share",
    "case_task_add",
    "case_task_done",
    "case_task_reminders_send",
    "case_transfer_accept",
    "case_transfer_cancel",
    "case_transfer_decline",
    "case_transfer_request",
    "case_unassign",
    "consent_record",
    "consent_withdraw",
    "contact_create",
    "contact_finalise",
    "contact_update",
    "notification_mark_read",
    "notification_send",
    "notifications_mark_all_read",
    "screening_override",
    "screening_review",
    "screening_save_answers",
    "observation_start",
    "screening_start",
    "screening_start_with_consent",
    "screening_submit",
    "screening_void",
    "staff_ensure",
    "staff_roles_set",
]
