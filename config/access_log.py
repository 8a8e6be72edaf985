"""The access log (audit trail): which routes it covers, how access functions name what a
request touched, and the retention purge. `config.middleware.AccessLogMiddleware` writes the
entries, one INSERT per request; docs/access-log.md says what is and is never recorded.

The access function of each resource (`case_access`, `screening_access`, `consent_access`,
`contact_access`, `referral_access`) and the services that create objects call
`access_log_note` with the object they let through, and `access_log_note_refused` with an
object that exists but that they refused (answered 404 like a missing one): the entry of a
refused request names it, so the object's history shows the attempt. The notes go to a draft
held in a context variable for the current request only: outside a request (commands, Celery
tasks, tests that call services) there is no draft and noting does nothing.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import ResolverMatch
from django.utils import timezone

from config.models import AccessLogEntry

# Never recorded, whatever their status: probes and the API's own documentation.
UNRECORDED_ROUTES = frozenset({"healthz", "readyz", "api-schema", "api-docs"})
# Every page of these apps (URL namespaces) shows or changes case data (the routing rules'
# dry run names cases by reference with the services their screenings raise)...
CASE_DATA_NAMESPACES = frozenset({"screening", "referrals", "routing"})
# ...as does every route under /api/v1/, except these (reference data, no case data; the
# quick exit only ends the session).
NOT_CASE_DATA_ROUTES = frozenset(
    {
        "screening:quick-exit",
        "instrument-list",
        "instrument-version-detail",
        "instrument-version-score",
        "api-provider-list",
    }
)
API_ROUTE_PREFIX = "api/v1/"

# Object types named in entries.
CASE, SCREENING, CONSENT, CONTACT, REFERRAL = "case", "screening", "consent", "contact", "referral"

# The route names in the words the access history page uses; others are shown as they are.
ROUTE_LABELS: dict[str, str] = {
    "login": "Sign in",
    "mfa:verify": "Sign in: code from the app",
    "mfa:setup": "Set up two-step sign-in",
    "screening:staff-mfa-reset": "Reset a member's two-step sign-in",
    "screening:agency-lockouts": "Paused sign-ins",
    "screening:staff-unlock": "Lift a member's sign-in pause",
    "screening:staff-deactivate": "Deactivate a member's account",
    "screening:staff-list": "Staff list",
    "screening:staff-new": "Add a member of staff",
    "screening:staff-detail": "A member of staff's page",
    "screening:staff-roles": "Change a member's roles",
    "screening:staff-password-link": "Make a member's set-password link",
    "screening:staff-reactivate": "Reactivate a member's account",
    "screening:staff-set-password": "Set own password with a one-time link",
    "screening:account": "Account",
    "screening:password-change": "Change own password",
    "screening:sign-out-everywhere": "Sign out everywhere",
    "screening:my-cases": "My cases",
    "screening:agency-cases": "Agency cases",
    "screening:case-new": "New case",
    "screening:case-detail": "Case page",
    "screening:case-access-history": "Access history",
    "screening:case-changes": "Change history",
    "screening:case-legal-hold": "Legal hold",
    "screening:case-who-can-see": "Who can see this case",
    "screening:break-glass": "Emergency access (break-glass) asked",
    "screening:break-glass-reviews": "Emergency access reviews",
    "screening:break-glass-review": "Emergency access reviewed",
    "screening:refusal-flags": "Staff refused often",
    "screening:consent-new": "Record a consent",
    "screening:consent-withdraw": "Withdraw a consent",
    "screening:screening-gate": "Screening: safety questions",
    "screening:screening-consent": "Screening: consent",
    "screening:screening-section": "Screening: questions",
    "screening:screening-review": "Screening: check answers",
    "screening:screening-result": "Screening result",
    "screening:screening-override": "Override a screening outcome",
    "screening:screening-mark-reviewed": "Mark a screening reviewed",
    "screening:case-timeline": "Case timeline",
    "screening:case-assign": "Assign a worker",
    "screening:case-unassign": "Take a worker off a case",
    "screening:case-share": "Share a case",
    "screening:case-transfer": "Ask for a transfer",
    "screening:case-close": "Close a case",
    "screening:case-reopen": "Reopen a case",
    "screening:note-new": "Add a note",
    "screening:note-correct": "Correct a note",
    "screening:task-new": "Add a task",
    "screening:task-done": "Mark a task done",
    "screening:my-tasks": "My tasks",
    "screening:transfers": "Transfers",
    "screening:transfer-detail": "Transfer request",
    "screening:transfer-accept": "Accept a transfer",
    "screening:transfer-decline": "Decline a transfer",
    "screening:transfer-cancel": "Withdraw a transfer",
    "screening:contacts": "Hotline contacts",
    "screening:contact-new": "Log a contact",
    "screening:contact-detail": "Contact page",
    "screening:contact-finalise": "Finalise a contact",
    "referrals:queue": "Referral queue",
    "referrals:inbox": "Referral inbox",
    "referrals:answer": "Provider answer (inbox)",
    "referrals:detail": "Referral page",
    "referrals:approve": "Approve a referral",
    "referrals:decline": "Decline a referral",
    "referrals:retry": "Retry a referral delivery",
    "referrals:provider-callback": "Provider answer (signed callback)",
    "routing:rules": "Routing rules",
    "routing:version": "Routing rules: a version",
    "routing:version-yaml": "Routing rules: a version's file",
    "routing:draft-new": "Routing rules: start a draft",
    "routing:draft": "Routing rules: edit the draft",
    "routing:draft-upload": "Routing rules: upload a draft",
    "routing:draft-changes": "Routing rules: the draft's changes",
    "routing:draft-dry-run": "Routing rules: dry run",
    "routing:draft-publish": "Routing rules: publish",
    "routing:draft-discard": "Routing rules: discard the draft",
    "api-contact-list": "API: contacts",
    "api-contact-detail": "API: contact",
    "api-contact-finalise": "API: finalise a contact",
    "api-case-list": "API: cases",
    "api-case-detail": "API: case",
    "api-case-access": "API: who can see the case",
    "api-screening-start": "API: start a screening",
    "api-screening-detail": "API: screening",
    "api-screening-answers": "API: screening answers",
    "api-screening-submit": "API: submit a screening",
    "api-screening-result": "API: screening result",
    "api-referral-queue": "API: referral queue",
    "api-referral-detail": "API: referral",
    "api-referral-approve": "API: approve a referral",
    "api-referral-decline": "API: decline a referral",
    "api-referral-answer": "API: provider answer",
    "api-case-assign": "API: assign a worker",
    "api-case-unassign": "API: take a worker off a case",
    "api-case-share": "API: share a case",
    "api-case-close": "API: close a case",
    "api-case-reopen": "API: reopen a case",
    "api-case-transfer": "API: ask for a transfer",
    "api-case-notes": "API: case notes",
    "api-case-timeline": "API: case timeline",
    "api-case-tasks": "API: case tasks",
    "api-note-detail": "API: note",
    "api-task-list": "API: my tasks",
    "api-task-done": "API: mark a task done",
    "api-transfer-list": "API: transfers",
    "api-transfer-detail": "API: transfer",
    "api-transfer-accept": "API: accept a transfer",
    "api-transfer-decline": "API: decline a transfer",
    "api-transfer-cancel": "API: withdraw a transfer",
}


@dataclass
class AccessLogDraft:
    """What the current request touched, as far as the access functions said so."""

    object_type: str = ""
    object_ref: str = ""
    case_id: int | None = None
    login_failed: bool = False
    # The user saw the case through a break-glass grant only.
    break_glass: bool = False
    # An existing object the request was refused (404 as if missing), named only in the
    # entry of a request that was not let through to anything.
    refused_object_type: str = ""
    refused_object_ref: str = ""
    refused_case_id: int | None = None


_draft: contextvars.ContextVar[AccessLogDraft | None] = contextvars.ContextVar(
    "access_log_draft", default=None
)


@contextmanager
def access_log_draft() -> Iterator[AccessLogDraft]:
    """A fresh draft for the duration of one request (used by the middleware)."""
    draft = AccessLogDraft()
    token = _draft.set(draft)
    try:
        yield draft
    finally:
        _draft.reset(token)


def access_log_note(
    *, object_type: str, object_ref: str, case_id: int | None = None, break_glass: bool = False
) -> None:
    """Name the object the current request was let through to (`case_id`: its case, if any;
    `break_glass`: the user sees that case through a break-glass grant only, and the entry's
    outcome says so). Pseudonymous handles only: a case reference or a database id, never a
    field of the case. Does nothing outside a request.

    The entry names the most specific object: a case noted after a screening, contact or
    referral (checked through its case, or a contact linked to a case) only sets the case."""
    draft = _draft.get()
    if draft is None:
        return
    if object_type != CASE or draft.object_type in ("", CASE):
        draft.object_type = object_type
        draft.object_ref = object_ref
    if case_id is not None:
        draft.case_id = case_id
    if break_glass:
        draft.break_glass = True


def access_log_note_refused(
    *, object_type: str, object_ref: str, case_id: int | None = None
) -> None:
    """Name an object that exists but that the current request may not see (the caller
    answers 404 exactly as for a missing one). The entry names it only if the request ended
    refused and was let through to nothing else. Same handles and specificity rule as
    `access_log_note`; does nothing outside a request."""
    draft = _draft.get()
    if draft is None:
        return
    if object_type != CASE or draft.refused_object_type in ("", CASE):
        draft.refused_object_type = object_type
        draft.refused_object_ref = object_ref
    if case_id is not None:
        draft.refused_case_id = case_id


def access_log_object(draft: AccessLogDraft, *, outcome: str) -> tuple[str, str, int | None]:
    """What the entry names: the object let through, else for a refused request the
    existing object it was refused."""
    if draft.object_type or outcome == AccessLogEntry.Outcome.ALLOWED:
        return draft.object_type, draft.object_ref, draft.case_id
    return draft.refused_object_type, draft.refused_object_ref, draft.refused_case_id


def access_log_note_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: a failed sign-in re-renders the form with 200, so the
    status alone cannot tell. The credentials (username included) are never looked at."""
    draft = _draft.get()
    if draft is not None:
        draft.login_failed = True


def is_recorded_route(match: ResolverMatch | None, *, status_code: int, login_failed: bool) -> bool:
    """Case data (read or written, whatever the outcome), and refusals anywhere: 401, 403
    and failed sign-ins (OWASP ASVS: log authentication and authorization failures)."""
    if match is None or match.view_name in UNRECORDED_ROUTES:
        return False
    if login_failed or status_code in (401, 403):
        return True
    if match.view_name in NOT_CASE_DATA_ROUTES:
        return False
    return match.namespace in CASE_DATA_NAMESPACES or match.route.startswith(API_ROUTE_PREFIX)


def route_label(route: str) -> str:
    return ROUTE_LABELS.get(route, route)


def access_log_purge(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete entries older than ACCESS_LOG_RETENTION_DAYS (read now, not at import).
    Returns how many were deleted (would be, changing nothing, when `dry_run`)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    expired = AccessLogEntry.objects.filter(at__lt=cutoff)
    if dry_run:
        return expired.count()
    deleted, _ = expired.delete()
    return deleted
