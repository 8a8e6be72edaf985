"""Who may do what with cases and screenings. Every page, endpoint and service fetches a case
or screening through `case_access` / `screening_access`; nothing else decides.

The rules (issue 4):
- The creator and assigned workers hold guardian `view_case` + `change_case` grants (rows in
  the direct-FK table `CaseUserObjectPermission`): they may view, change and close the case.
- Supervisors may view, change, close, assign and share every case of their own agency, and
  put it on legal hold or release it. That is agency scope, a queryset filter, not
  per-object rows.
- Staff of an agency a case was shared with (`CaseShare`) may view it, nothing more.
- Case-work staff (not provider staff) who asked for emergency access with a reason hold a
  `BreakGlassGrant` and may view the case, nothing more, until it expires (BREAK_GLASS_HOURS);
  a supervisor of the case's agency reviews it afterwards (screening/services/break_glass.py).
- Case work (issue 14): notes and tasks need what changing the case needs; reopening what
  closing needs; transferring the case to another agency needs what sharing it needs
  (`CaseAction.SHARE`: supervisors of the owning agency). A transfer request
  (`transfer_access`) is seen by supervisors of the agency that sent it and of the agency
  asked to take the case; only the latter answer it, and only the former withdraw it. Until
  it is accepted the receiving agency sees the request, not the case.
- "Who can see this case" (`CaseAction.SEE_ACCESS`) is for the case's own workers, that is
  holders of a `change_case` grant (the creator and assigned workers), and supervisors of
  the owning agency: exactly those who may change it.
- Nobody else sees the case. All of the above need an active account with an agency and a
  case-work role (agency administrators manage staff, not cases).
- Staff accounts (issue 15): an active agency administrator manages the members of their
  own agency, and only those (`staff_member_access`: another agency's member is a 404, as a
  missing one is; a colleague who is not an administrator gets a 403). They grant only the
  roles of their agency's kind (`staff_roles_grantable`), never superuser status.

Errors: a case the user cannot view raises `CaseNotFound`, exactly as a missing one does (404).
A case the user *can* view but may not act on in the way asked raises `ActionNotAllowed`
(403): e.g. a shared-to agency changing it, or a worker assigning or sharing it.

Each access function names the object it let the user see in the request's access log entry
(`config.access_log.access_log_note`), and an object that exists but that it refused
(`access_log_note_refused`): the refusal then shows in the case's access history, while the
answer stays the 404 of a missing object.
"""

from __future__ import annotations

from django.db import models
from rest_framework.permissions import BasePermission

from config.access_log import CASE, CONSENT, SCREENING, access_log_note, access_log_note_refused
from config.errors import (
    ActionNotAllowed,
    CaseNotFound,
    ConsentNotFound,
    NotFound,
    ScreeningNotFound,
)
from screening.models import Case, CaseTransfer, Consent, Screening, User
from screening.querysets import CASE_WORKER_ROLES
from screening.roles import Role


class CaseAction(models.TextChoices):
    VIEW = "view", "View"
    CHANGE = "change", "Change"
    ASSIGN = "assign", "Assign workers"
    SHARE = "share", "Share with another agency"
    CLOSE = "close", "Close"
    LEGAL_HOLD = "legal_hold", "Change the legal hold of"
    SEE_ACCESS = "see_access", "See who can see"


class ScreeningAction(models.TextChoices):
    VIEW = "view", "View"
    CHANGE = "change", "Start, fill in, submit"
    REVIEW = "review", "Review"
    OVERRIDE = "override", "Override the outcome"
    VOID = "void", "Void"


# The case-level action each screening action needs. Voiding a *submitted* screening needs a
# supervisor too; the service checks that against the screening's state.
_SCREENING_NEEDS: dict[str, str] = {
    ScreeningAction.VIEW: CaseAction.VIEW,
    ScreeningAction.CHANGE: CaseAction.CHANGE,
    ScreeningAction.REVIEW: CaseAction.ASSIGN,
    ScreeningAction.OVERRIDE: CaseAction.ASSIGN,
    ScreeningAction.VOID: CaseAction.CHANGE,
}


def is_agency_staff(user) -> bool:
    """An active account that belongs to an agency and holds at least one staff role."""
    if not (user and user.is_authenticated and user.is_active and user.agency_id):
        return False
    return user.has_any_role(Role.values)


class IsAgencyStaff(BasePermission):
    message = "Only agency staff with a role may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_agency_staff(request.user)


def is_case_worker(user) -> bool:
    """Agency staff whose role works with case data (agency administrators manage staff, not
    cases)."""
    if not (user and user.is_authenticated and user.is_active and user.agency_id):
        return False
    return user.has_any_role(CASE_WORKER_ROLES)


class IsCaseWorker(BasePermission):
    message = "Only staff who work with cases may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_case_worker(request.user)


def _case_lookup(case_reference_or_id: str | int) -> models.Q | None:
    if isinstance(case_reference_or_id, int) and not isinstance(case_reference_or_id, bool):
        return models.Q(pk=case_reference_or_id)
    if isinstance(case_reference_or_id, str):
        text = case_reference_or_id.strip()
        if text.isascii() and text.isdigit():  # "¹" is a digit to str.isdigit, not to int()
            return models.Q(pk=int(text))
        return models.Q(reference=text.upper()) if text else None
    return None


def _check_action(case: Case, action: str) -> None:
    """`case` carries the annotations of `CaseQuerySet.with_access`."""
    if action == CaseAction.VIEW:
        return
    if action in (CaseAction.CHANGE, CaseAction.CLOSE, CaseAction.SEE_ACCESS):
        allowed = case.user_can_change
    else:  # assign, share (and transfer), legal hold: supervisors of the owning agency only
        allowed = case.user_supervises
    if not allowed:
        raise ActionNotAllowed(f"You may not {CaseAction(action).label.lower()} this case.")


def case_access(
    *, user: User, case_reference_or_id: str | int, action: str, for_update: bool = False
) -> Case:
    """The case, if `user` may do `action` with it (see the module docstring).

    Raises `CaseNotFound` when it does not exist or the user may not view it, and
    `ActionNotAllowed` when they may view it but not do `action`. One query.
    `for_update=True` locks the row for the caller's transaction.
    """
    action = CaseAction(action)
    lookup = _case_lookup(case_reference_or_id)
    if lookup is None:
        raise CaseNotFound()
    cases = (
        Case.objects.visible_to(user)
        .with_access(user)
        .with_break_glass(user)
        .select_related("agency")
    )
    if for_update:
        cases = cases.select_for_update(of=("self",))
    case = cases.filter(lookup).first()
    if case is None:
        _note_refused_case(lookup)
        raise CaseNotFound()
    # Noted as soon as the user may see it: a refused action (403) belongs in its history too.
    access_log_note(
        object_type=CASE,
        object_ref=case.reference,
        case_id=case.pk,
        break_glass=case.user_by_break_glass,
    )
    _check_action(case, action)
    return case


def _note_refused_case(lookup: models.Q) -> None:
    """A case that exists but is out of the user's sight goes in the refusal's entry (one
    query, on refusals only); the caller answers exactly as for a missing case."""
    found = Case.objects.filter(lookup).values_list("pk", "reference").first()
    if found is not None:
        access_log_note_refused(object_type=CASE, object_ref=found[1], case_id=found[0])


def screening_access(
    *, user: User, screening_id: int | str, action: str, for_update: bool = False
) -> Screening:
    """The screening, if `user` may do `action` with it: decided by its case's access.

    Raises `ScreeningNotFound` for a missing screening or one on a case the user cannot view,
    `ActionNotAllowed` as `case_access` does. `screening.case` is the checked case.
    """
    action = ScreeningAction(action)
    try:
        screening_pk = int(screening_id)
    except (TypeError, ValueError):
        raise ScreeningNotFound() from None
    screenings = Screening.objects.visible_to(user).select_related("instrument_version")
    screening = screenings.filter(pk=screening_pk).first()
    if screening is None:
        refused_case_id = (
            Screening.objects.filter(pk=screening_pk).values_list("case_id", flat=True).first()
        )
        if refused_case_id is not None:
            access_log_note_refused(
                object_type=SCREENING, object_ref=str(screening_pk), case_id=refused_case_id
            )
        raise ScreeningNotFound()
    access_log_note(object_type=SCREENING, object_ref=str(screening_pk), case_id=screening.case_id)
    try:
        # Lock order everywhere: the case first, then its screenings.
        case = case_access(
            user=user,
            case_reference_or_id=screening.case_id,
            action=_SCREENING_NEEDS[action],
            for_update=for_update,
        )
    except CaseNotFound:
        raise ScreeningNotFound() from None
    if for_update:
        screening = screenings.select_for_update(of=("self",)).get(pk=screening_pk)
    screening.case = case
    return screening


def consent_access(
    *, user: User, consent_id: int | str, action: str, for_update: bool = False
) -> Consent:
    """The consent, if `user` may do `action` (a `CaseAction`) with its case; otherwise
    `ConsentNotFound` (missing or not visible) or `ActionNotAllowed`."""
    try:
        consent_pk = int(consent_id)
    except (TypeError, ValueError):
        raise ConsentNotFound() from None
    case_id = (
        Consent.objects.filter(pk=consent_pk, case__in=Case.objects.visible_to(user).values("pk"))
        .values_list("case_id", flat=True)
        .first()
    )
    if case_id is None:
        refused_case_id = (
            Consent.objects.filter(pk=consent_pk).values_list("case_id", flat=True).first()
        )
        if refused_case_id is not None:
            access_log_note_refused(
                object_type=CONSENT, object_ref=str(consent_pk), case_id=refused_case_id
            )
        raise ConsentNotFound()
    access_log_note(object_type=CONSENT, object_ref=str(consent_pk), case_id=case_id)
    case = case_access(
        user=user, case_reference_or_id=case_id, action=action, for_update=for_update
    )
    consents = Consent.objects.filter(pk=consent_pk)
    if for_update:
        consents = consents.select_for_update()
    consent = consents.get()
    consent.case = case
    return consent


def may_manage_staff(user: User, member: User) -> bool:
    """Superusers, and active administrators of the member's own agency, manage staff: their
    roles, and the history of their account."""
    if user.is_superuser:
        return True
    return bool(
        user.is_active
        and user.agency_id is not None
        and user.agency_id == member.agency_id
        and user.has_role(Role.AGENCY_ADMIN)
    )


# The object type access log entries name a member of staff by (their account's id).
STAFF_MEMBER = "staff"


def staff_member_access(*, user: User, member_id: int | str) -> User:
    """A member of staff whose account `user` manages (`may_manage_staff`). A member of
    another agency, or none, is `NotFound` (404) alike; a colleague of the same agency whom
    `user` may not manage (not an agency administrator) is `ActionNotAllowed` (403)."""
    try:
        member_pk = int(member_id)
    except (TypeError, ValueError):
        raise NotFound("No such member of staff.") from None
    members = User.objects.select_related("agency").filter(pk=member_pk)
    if not user.is_superuser:
        if user.agency_id is None:
            raise NotFound("No such member of staff.")
        members = members.filter(agency_id=user.agency_id)
    member = members.first()
    if member is None:
        raise NotFound("No such member of staff.")
    access_log_note(object_type=STAFF_MEMBER, object_ref=str(member.pk))
    if not may_manage_staff(user, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    return member


# The roles an agency administrator may grant in their own agency, by the agency's kind: a
# service provider's staff take referrals, they do not screen people; a hotline answers
# contacts. Removing a role is always allowed; only a superuser (the Django admin) grants a
# role outside this list.
STAFF_ROLES_BY_AGENCY_KIND: dict[str, tuple[str, ...]] = {
    "service_provider": (Role.PROVIDER_STAFF, Role.AGENCY_ADMIN),
    "hotline": (Role.HOTLINE_STAFF, Role.SUPERVISOR, Role.AGENCY_ADMIN),
}
STAFF_ROLES_CASE_WORK_AGENCY: tuple[str, ...] = (
    Role.FRONTLINE_OFFICER,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.AGENCY_ADMIN,
)


def staff_roles_grantable(agency_kind: str) -> tuple[str, ...]:
    """The roles an administrator of an agency of `agency_kind` may give its members, in the
    order forms list them (law enforcement, NGOs and child welfare: the case-work roles)."""
    return STAFF_ROLES_BY_AGENCY_KIND.get(agency_kind, STAFF_ROLES_CASE_WORK_AGENCY)


def is_agency_admin(user) -> bool:
    """An active account of an agency holding the agency administrator role: the people who
    manage that agency's staff (the staff pages ask this before anything else)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.agency_id is not None
        and user.has_role(Role.AGENCY_ADMIN)
    )


def require_agency_admin(user) -> None:
    """`ActionNotAllowed` (403) unless `user` administers an agency (`is_agency_admin`)."""
    if not is_agency_admin(user):
        raise ActionNotAllowed("Only an agency's administrators manage its staff.")


class TransferAction(models.TextChoices):
    VIEW = "view", "See"
    DECIDE = "decide", "Accept or decline"
    CANCEL = "cancel", "Withdraw"


class TransferNotFound(NotFound):
    def __init__(self, message: str = "No such transfer request.") -> None:
        super().__init__(message)


def transfer_access(
    *, user: User, transfer_id: int | str, action: str, for_update: bool = False
) -> CaseTransfer:
    """The transfer request, if `user` may do `action` with it (module docstring): supervisors
    of the sending or the receiving agency see it; others get `TransferNotFound` as for a
    missing one. Deciding one's own agency's outgoing request, or withdrawing an incoming one,
    is `ActionNotAllowed`. The case itself is not checked here: the receiving agency may not
    see it yet."""
    action = TransferAction(action)
    try:
        transfer_pk = int(transfer_id)
    except (TypeError, ValueError):
        raise TransferNotFound() from None
    if not (is_case_worker(user) and user.has_role(Role.SUPERVISOR)):
        raise TransferNotFound()
    transfers = CaseTransfer.objects.filter(pk=transfer_pk).filter(
        models.Q(from_agency_id=user.agency_id) | models.Q(to_agency_id=user.agency_id)
    )
    if for_update:
        transfers = transfers.select_for_update(of=("self",))
    transfer = transfers.select_related("case", "from_agency", "to_agency", "requested_by").first()
    if transfer is None:
        raise TransferNotFound()
    access_log_note(object_type="transfer", object_ref=str(transfer.pk), case_id=transfer.case_id)
    if action == TransferAction.DECIDE and transfer.to_agency_id != user.agency_id:
        raise ActionNotAllowed("Only the receiving agency's supervisors answer a transfer.")
    if action == TransferAction.CANCEL and transfer.from_agency_id != user.agency_id:
        raise ActionNotAllowed("Only the sending agency's supervisors withdraw a transfer.")
    return transfer
