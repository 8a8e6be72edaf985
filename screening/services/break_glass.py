"""Emergency ("break-glass") access: case-work staff who hold a case's reference but cannot
see the case ask for access with a reason and get a view-only grant for BREAK_GLASS_HOURS; a
supervisor of the case's agency reviews it afterwards. docs/access.md says why it exists and
how it is bounded.

- Not for provider staff (they receive referral packets, never cases) nor for agency
  administrators (who manage staff, not cases).
- At most BREAK_GLASS_MAX_PER_DAY requests a person in 24 hours, counting references that
  matched no case: nobody can try references in bulk.
- A reference that matches no case is answered "no case has this reference" (`CaseNotFound`).
  That tells whether a reference exists only to someone who would have got the case
  itself had it existed, the request being allowed and then reviewed; the limit above caps
  what guessing could find.
- Expiry lives in the visibility rule (`CaseQuerySet.visible_to`): no job ends a grant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.access_log import CASE, access_log_note
from config.errors import ActionNotAllowed, CaseNotFound, InvalidState, NotFound
from config.models import AccessLogEntry
from screening.models import BreakGlassGrant, Case, User
from screening.permissions import is_case_worker
from screening.roles import Role
from screening.services._common import clean_text, raise_if

BREAK_GLASS_ROUTE = "screening:break-glass"
MAX_REASON_LENGTH = BreakGlassGrant._meta.get_field("reason").max_length
MAX_NOTE_LENGTH = BreakGlassGrant._meta.get_field("review_note").max_length


class BreakGlassLimitReached(ActionNotAllowed):
    """The person asked for emergency access as often as BREAK_GLASS_MAX_PER_DAY allows."""


def may_break_glass(user: User) -> bool:
    """Active case-work staff of an agency, provider staff excepted."""
    return is_case_worker(user) and not user.has_role(Role.PROVIDER_STAFF)


def break_glass_requests_today(*, user: User, now: datetime | None = None) -> int:
    """How many times `user` asked in the last 24 hours: grants made, and requests whose
    reference matched no case (the access log's not-found entries of the request page)."""
    since = (now or timezone.now()) - timedelta(hours=24)
    granted = BreakGlassGrant.objects.filter(user_id=user.pk, granted_at__gt=since).count()
    unmatched = AccessLogEntry.objects.filter(
        user_id=user.pk,
        route=BREAK_GLASS_ROUTE,
        outcome=AccessLogEntry.Outcome.NOT_FOUND,
        at__gt=since,
    ).count()
    return granted + unmatched


@transaction.atomic
def break_glass_request(
    *, user: User, case_reference: str, reason: str, now: datetime | None = None
) -> BreakGlassGrant | None:
    """Emergency view access to the case with `case_reference` for BREAK_GLASS_HOURS.

    None when the user can see the case already (nothing to grant). Raises
    `ActionNotAllowed` for staff who may not ask, `BreakGlassLimitReached` past the daily
    limit (checked before the reference is looked at: the answer never depends on it),
    `ValidationError` without a reason, `CaseNotFound` when no case has the reference.
    """
    if not may_break_glass(user):
        raise ActionNotAllowed("Emergency access is for case-work staff of an agency.")
    now = now or timezone.now()
    # One request at a time per person, so two at once cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if break_glass_requests_today(user=user, now=now) >= settings.BREAK_GLASS_MAX_PER_DAY:
        raise BreakGlassLimitReached(
            "You have asked for emergency access as often as a day allows. "
            "Ask a supervisor of the case's agency to assign you instead."
        )
    reason = clean_text(reason)
    if not reason:
        raise_if({"reason": ["Say why you need to see this case now."]})
    if len(reason) > MAX_REASON_LENGTH:
        raise_if({"reason": [f"Keep the reason to {MAX_REASON_LENGTH} characters."]})
    reference = clean_text(case_reference).upper()
    case = Case.objects.filter(reference=reference).first() if reference else None
    if case is None:
        raise CaseNotFound("No case has this reference.")
    if Case.objects.visible_to(user).filter(pk=case.pk).exists():
        access_log_note(object_type=CASE, object_ref=case.reference, case_id=case.pk)
        return None
    grant = BreakGlassGrant.objects.create(
        case=case,
        user=user,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    access_log_note(object_type=CASE, object_ref=case.reference, case_id=case.pk, break_glass=True)
    return grant


def break_glass_grant_access(
    *, user: User, grant_id: int | str, for_update: bool = False
) -> BreakGlassGrant:
    """The grant, if `user` supervises the agency owning its case; else `NotFound`, the
    same for missing grants and other agencies' grants."""
    try:
        grant_pk = int(grant_id)
    except (TypeError, ValueError):
        raise NotFound("No such emergency access.") from None
    if not (is_case_worker(user) and user.has_role(Role.SUPERVISOR)):
        raise NotFound("No such emergency access.")
    grants = BreakGlassGrant.objects.filter(pk=grant_pk, case__agency_id=user.agency_id)
    if for_update:
        grants = grants.select_for_update(of=("self",))
    grant = grants.select_related("case", "user").first()
    if grant is None:
        raise NotFound("No such emergency access.")
    access_log_note(object_type=CASE, object_ref=grant.case.reference, case_id=grant.case_id)
    return grant


@transaction.atomic
def break_glass_review(
    *, grant_id: int | str, by: User, outcome: str, note: str = "", now: datetime | None = None
) -> BreakGlassGrant:
    """A supervisor of the case's agency says whether the emergency access was justified,
    with a note (required when it was not). A grant found not justified ends at once if it
    is still running. Each grant is reviewed once."""
    grant = break_glass_grant_access(user=by, grant_id=grant_id, for_update=True)
    if grant.user_id == by.pk:
        raise ActionNotAllowed("Another supervisor reviews your own emergency access.")
    if grant.is_reviewed:
        raise InvalidState("This emergency access has been reviewed already.")
    note = clean_text(note)
    problems: dict[str, list[str]] = {}
    if outcome not in BreakGlassGrant.ReviewOutcome.values:
        problems["outcome"] = ["Choose justified or not justified."]
    elif outcome == BreakGlassGrant.ReviewOutcome.NOT_JUSTIFIED and not note:
        problems["note"] = ["Say why it was not justified."]
    if len(note) > MAX_NOTE_LENGTH:
        problems["note"] = [f"Keep the note to {MAX_NOTE_LENGTH} characters."]
    raise_if(problems)
    now = now or timezone.now()
    grant.reviewed_by = by
    grant.reviewed_at = now
    grant.review_outcome = outcome
    grant.review_note = note
    fields = ["reviewed_by", "reviewed_at", "review_outcome", "review_note"]
    if outcome == BreakGlassGrant.ReviewOutcome.NOT_JUSTIFIED and grant.expires_at > now:
        grant.expires_at = max(now, grant.granted_at + timedelta(microseconds=1))
        fields.append("expires_at")
    grant.save(update_fields=fields)
    return grant
