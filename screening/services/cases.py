"""Writes for cases: create, assign and unassign, share, close and reopen."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.access_log import CASE, access_log_note
from config.errors import ConsentRequired, InvalidState, ValidationError
from config.history import history_user_set
from screening.consent_gate import agency_disclosure_check
from screening.models import (
    Agency,
    Case,
    CaseActivity,
    CaseAssignment,
    CaseCloseReason,
    CaseShare,
    Notification,
    Screening,
    User,
    new_case_reference,
)
from screening.permissions import CaseAction, case_access
from screening.querysets import CASE_WORKER_ROLES
from screening.services._common import (
    clean_text,
    full_clean,
    grant_worker,
    raise_if,
    require_case_worker,
    revoke_worker,
)
from screening.services.identifiers import identifier_digests_store
from screening.services.notifications import notification_send

MAX_LANGUAGES = 20
# A reference is 40 random bits: among a million cases two share one with odds of about 1 in 3
# (the birthday bound), so an insert may meet a taken one; each retry draws a fresh one.
REFERENCE_ATTEMPTS = 5


class CaseReferenceExhausted(ValidationError):
    """Every reference drawn for a new case was taken already (five collisions in a row at a
    million cases has odds of about 1 in 10^30). A ValidationError without fields, so the web
    form shows it at the top and the API answers 400 with it: nothing was saved."""


def _age_band(age: int | None, age_band: str | None, problems: dict[str, list[str]]) -> str:
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= Case.MAX_AGE:
            problems.setdefault("age", []).append(
                f"Give the age as a whole number of years from 0 to {Case.MAX_AGE}."
            )
            return Case.AgeBand.UNKNOWN
        band = Case.AgeBand.MINOR if age < 18 else Case.AgeBand.ADULT
        if age_band not in (None, "", Case.AgeBand.UNKNOWN, band):
            problems.setdefault("age_band", []).append("The age band does not match the age.")
        return band
    if age_band in (None, ""):
        return Case.AgeBand.UNKNOWN
    if age_band not in Case.AgeBand.values:
        problems.setdefault("age_band", []).append(
            f"Choose one of: {', '.join(Case.AgeBand.values)}."
        )
        return Case.AgeBand.UNKNOWN
    return age_band


def _languages(languages: Sequence[str], problems: dict[str, list[str]]) -> list[str]:
    if isinstance(languages, str) or not all(
        isinstance(language, str) and language.strip() for language in languages
    ):
        problems.setdefault("languages", []).append("Give a list of language names or codes.")
        return []
    cleaned = list(dict.fromkeys(language.strip() for language in languages))
    if len(cleaned) > MAX_LANGUAGES:
        problems.setdefault("languages", []).append(f"At most {MAX_LANGUAGES} languages.")
    return cleaned


@transaction.atomic
def case_create(
    *,
    created_by: User,
    age: int | None = None,
    age_band: str | None = None,
    gender: str = Case.Gender.NOT_STATED,
    languages: Sequence[str] = (),
    nationality: str = "",
    region: str = "",
    exploitation_type: str = Case.ExploitationType.UNKNOWN,
    safe_to_contact: str = "unknown",
    do_not_contact: bool = False,
    identifying_name: str = "",
    identifying_phone: str = "",
    identifying_documents: str = "",
    narrative: str = "",
) -> Case:
    """Open a case owned by the creator's agency; the creator may view and change it.

    A known age under 18 raises `mandatory_report_required` at once. The identifying phone,
    name and documents are digested for duplicate detection (screening/duplicates.py).
    """
    require_case_worker(created_by)
    problems: dict[str, list[str]] = {}
    band = _age_band(age, age_band, problems)
    cleaned_languages = _languages(languages, problems)
    raise_if(problems)
    case = Case(
        reference=new_case_reference(),
        agency_id=created_by.agency_id,
        created_by=created_by,
        age=age,
        age_band=band,
        gender=gender,
        languages=cleaned_languages,
        nationality=clean_text(nationality),
        region=clean_text(region),
        exploitation_type=exploitation_type,
        safe_to_contact=safe_to_contact,
        do_not_contact=do_not_contact,
        identifying_name=clean_text(identifying_name),
        identifying_phone=clean_text(identifying_phone),
        identifying_documents=clean_text(identifying_documents),
        narrative=(narrative or "").strip(),
        # Under 18: child welfare must be told whatever the screening finds (practice guide).
        mandatory_report_required=band == Case.AgeBand.MINOR,
    )
    full_clean(case, exclude=["reference"])
    history_user_set(case, created_by)
    _case_insert(case)
    identifier_digests_store(case=case, created=True)
    grant_worker(case=case, user=created_by)
    access_log_note(object_type=CASE, object_ref=case.reference, case_id=case.pk)
    return case


def _case_insert(case: Case) -> None:
    """Insert a new case, drawing a fresh reference when the one it holds is taken. Each
    attempt runs in a savepoint, so a collision leaves the caller's transaction usable."""
    for _attempt in range(REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                case.save()
            return
        except IntegrityError:
            # Only a taken reference is retried; any other integrity error is the caller's.
            if not Case.objects.filter(reference=case.reference).exists():
                raise
            case.reference = new_case_reference()
    raise CaseReferenceExhausted(
        "A new case reference could not be found; nothing was saved. Try again."
    )


@transaction.atomic
def case_assign(*, case: Case, worker: User, by: User) -> CaseAssignment:
    """A supervisor assigns a worker of the case's own agency; the worker may then view and
    change it. Assigning someone already assigned returns the existing assignment."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.ASSIGN, for_update=True
    )
    if not case.is_open:
        raise InvalidState("This case is closed; reopen it before assigning workers.")
    # Only people who could be given this case at all: never a side door to another agency.
    # Checked in the database, not on the caller's (possibly stale) user object.
    eligible = User.objects.filter(
        pk=worker.pk,
        is_active=True,
        agency_id=case.agency_id,
        groups__name__in=list(CASE_WORKER_ROLES),
    ).exists()
    raise_if({} if eligible else {"worker": ["Choose an active case worker of the case's agency."]})
    assignment, created = CaseAssignment.objects.get_or_create(
        case=case, worker=worker, defaults={"assigned_by": by}
    )
    if created:
        grant_worker(case=case, user=worker)
        CaseActivity.objects.create(
            case=case, kind=CaseActivity.Kind.ASSIGNED, by=by, worker=worker
        )
        if worker.pk != by.pk:
            notification_send(
                users=[worker],
                kind=Notification.Kind.CASE_ASSIGNED,
                text=f"You were given case {case.reference}.",
                link=f"/cases/{case.reference}/",
                case=case,
            )
    return assignment


@transaction.atomic
def case_unassign(*, case: Case, worker: User, by: User) -> None:
    """A supervisor takes a worker off a case; the creator keeps their own grants."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.ASSIGN, for_update=True
    )
    deleted, _ = CaseAssignment.objects.filter(case=case, worker=worker).delete()
    if not deleted:
        return
    if worker.pk != case.created_by_id:
        revoke_worker(case=case, user=worker)
    CaseActivity.objects.create(case=case, kind=CaseActivity.Kind.UNASSIGNED, by=by, worker=worker)


@transaction.atomic
def case_share(
    *, case: Case, agency: Agency, reason: str, by: User, identifying: bool = False
) -> CaseShare:
    """A supervisor lets another agency's staff view the case (read only), with a reason.

    Without `identifying`, the agency sees the case without its identifying data and
    narrative (as anyone who may not change it); sharing with law enforcement even so needs
    the person's active `law_enforcement_sharing` consent, unless the case carries a mandatory
    report (a minor), where the law requires reporting. With `identifying`, the share is a
    disclosure of identifying data and passes the consent gate
    (`screening.consent_gate.agency_disclosure_check`): a consent naming the agency (law
    enforcement: the sharing consent), or the mandatory-report exception for child welfare
    and law enforcement. The data shows only while that consent stays active.
    """
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.SHARE, for_update=True
    )
    agency = Agency.objects.get(pk=agency.pk)
    problems: dict[str, list[str]] = {}
    if not clean_text(reason):
        problems["reason"] = ["Say why the case is shared."]
    if agency.pk == case.agency_id:
        problems["agency"] = ["The case already belongs to this agency."]
    elif not agency.is_active:
        problems["agency"] = ["This agency is no longer active."]
    raise_if(problems)
    if CaseShare.objects.filter(case=case, shared_with_agency=agency).exists():
        raise InvalidState("The case is already shared with this agency.")
    decision = agency_disclosure_check(case=case, agency=agency)
    if not decision.allowed and agency.kind == Agency.Kind.LAW_ENFORCEMENT:
        raise ConsentRequired(
            "Sharing with law enforcement needs the person's consent to that sharing."
        )
    if identifying and not decision.allowed:
        raise ConsentRequired(f"Sharing the identifying data needs {decision.missing}.")
    share = CaseShare.objects.create(
        case=case,
        # Copied for the index "cases shared with my agency" walks in list order.
        case_created_at=case.created_at,
        shared_with_agency=agency,
        reason=clean_text(reason),
        shared_by=by,
        identifying=identifying,
        consent=decision.consent if identifying else None,
    )
    CaseActivity.objects.create(case=case, kind=CaseActivity.Kind.SHARED, by=by, agency=agency)
    return share


@transaction.atomic
def case_close(
    *, case: Case, by: User, reason_code: str = CaseCloseReason.OTHER, reason: str = ""
) -> Case:
    """Close the case with a reason (`CaseCloseReason`) and an optional note (sealed).
    Draft screenings still open on it are voided (never submitted later). Closing a closed
    case changes nothing."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CLOSE, for_update=True
    )
    if not case.is_open:
        return case
    if reason_code not in CaseCloseReason.values:
        raise_if({"reason_code": ["Choose why the case is closed."]})
    now = timezone.now()
    # One save per draft (a case has few): the reason is sealed to its own row and the
    # change history records each voiding.
    for draft in Screening.objects.filter(case=case, status=Screening.Status.DRAFT):
        draft.status = Screening.Status.VOIDED
        draft.voided_at, draft.voided_by = now, by
        draft.void_reason = "Case closed."
        draft.version += 1
        history_user_set(draft, by)
        draft.save(
            update_fields=[
                "status",
                "voided_at",
                "voided_by",
                "void_reason",
                "version",
                "updated_at",
            ]
        )
    case.status = Case.Status.CLOSED
    case.closed_at = now
    case.closed_by = by
    case.close_reason = clean_text(reason)
    case.close_reason_code = reason_code
    history_user_set(case, by)
    case.save(
        update_fields=[
            "status",
            "closed_at",
            "closed_by",
            "close_reason",
            "close_reason_code",
            "updated_at",
        ]
    )
    CaseActivity.objects.create(
        case=case, kind=CaseActivity.Kind.CLOSED, by=by, at=now, close_reason=reason_code
    )
    return case


@transaction.atomic
def case_reopen(*, case: Case, by: User) -> Case:
    """Open a closed case again (whoever may close it may reopen it); the closing stays in
    the change history and on the timeline. Reopening an open case changes nothing."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CLOSE, for_update=True
    )
    if case.is_open:
        return case
    case.status = Case.Status.OPEN
    case.closed_at = None
    case.closed_by = None
    case.close_reason = ""
    case.close_reason_code = ""
    history_user_set(case, by)
    case.save(
        update_fields=[
            "status",
            "closed_at",
            "closed_by",
            "close_reason",
            "close_reason_code",
            "updated_at",
        ]
    )
    CaseActivity.objects.create(case=case, kind=CaseActivity.Kind.REOPENED, by=by)
    return case
