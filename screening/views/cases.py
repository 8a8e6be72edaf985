"""Case pages: my cases, agency cases (supervisors), new case, case detail, consent
withdrawal, a case's access history (supervisors), and the quick exit. Reads go through
selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt

from config.access_log import route_label
from config.errors import (
    ActionNotAllowed,
    ApplicationError,
    ConsentNotFound,
    ValidationError,
)
from config.models import AccessLogEntry
from screening import selectors, services
from screening.duplicates import MATCHED_ON_LABELS, possible_earlier_records
from screening.forms import (
    CaseCreateForm,
    ConsentRecordForm,
    ConsentWithdrawForm,
    add_service_errors,
)
from screening.models import Consent, Screening
from screening.permissions import CaseAction, consent_access
from screening.roles import Role
from screening.views._common import error_summary, list_page, post_only, render_page

CASES_PER_PAGE = 25
ACCESS_ENTRIES_PER_PAGE = 50
# The access history says how many entries a case has up to this many, then "more than".
ACCESS_ENTRIES_COUNTED = 1000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The new case's possible earlier records, kept in the session (references and kinds only)
# until its page is shown once: never in the redirect's URL.
EARLIER_RECORDS_SESSION_KEY = "screening.possible_earlier_records"


def _case_list_page(
    request: HttpRequest, cases, *, title: str, heading: str, intro: str
) -> HttpResponse:
    page = list_page(request, cases, per_page=CASES_PER_PAGE)
    return render_page(
        request,
        "screening/case_list.html",
        {"page": page, "title": title, "heading": heading, "intro": intro},
    )


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    return _case_list_page(
        request,
        selectors.my_case_list(user=request.user),
        title="My cases",
        heading="My cases",
        intro="Cases you opened or are assigned to.",
    )


@login_required
def agency_cases(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(Role.SUPERVISOR):
        raise PermissionDenied("Only supervisors see all of their agency's cases.")
    return _case_list_page(
        request,
        selectors.agency_case_list(user=request.user),
        title="Agency cases",
        heading="Agency cases",
        intro="Every case of your agency.",
    )


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} opened.")
            earlier = possible_earlier_records(
                user=request.user,
                phone=case.identifying_phone,
                name=case.identifying_name,
                documents=case.identifying_documents,
                exclude_case=case,
            )
            if earlier:
                request.session[EARLIER_RECORDS_SESSION_KEY] = {
                    "case": case.reference,
                    "records": [record.as_dict() for record in earlier],
                }
            return redirect("screening:case-detail", reference=case.reference)
    status = 400 if form.is_bound else 200
    return render_page(
        request,
        "screening/case_new.html",
        {"form": form, "errors": error_summary(form)},
        status=status,
    )


def _earlier_records_once(request: HttpRequest, reference: str) -> list[dict]:
    """What `case_new` found for this case, shown on its page once; each record with the
    labels of what matched ("same phone number")."""
    stored = request.session.get(EARLIER_RECORDS_SESSION_KEY)
    if not stored or stored.get("case") != reference:
        return []
    del request.session[EARLIER_RECORDS_SESSION_KEY]
    return [
        {**record, "matched_on_labels": [MATCHED_ON_LABELS[kind] for kind in record["matched_on"]]}
        for record in stored["records"]
    ]


def _service_type_choices() -> list[tuple[str, str]]:
    from referrals.models import ServiceType

    return list(ServiceType.choices)


@login_required
def case_detail(
    request: HttpRequest,
    reference: str,
    consent_form: ConsentRecordForm | None = None,
    work_forms: dict | None = None,
) -> HttpResponse:
    """The case page. A refused form of the page (consent, or one of the case-work forms of
    screening/views/casework.py) is shown bound, with its errors, status 400."""
    from screening.views.casework import case_work_context

    # One access check; the lists and the timeline read from the case it gave.
    case = selectors.case_get(user=request.user, case_reference_or_id=reference)
    consents = selectors.case_page_consent_list(case=case)
    screenings = selectors.case_page_screening_list(case=case)
    if consent_form is None and case.user_can_change:
        consent_form = ConsentRecordForm(service_type_choices=_service_type_choices())
    earlier = _earlier_records_once(request, case.reference)
    work = case_work_context(
        request,
        case,
        bound=work_forms,
        already_read={Screening: screenings, Consent: consents},
    )
    refused = [form for form in (consent_form, *(work_forms or {}).values()) if form is not None]
    return render_page(
        request,
        "screening/case_detail.html",
        {
            "case": case,
            "consents": consents,
            "screenings": screenings,
            "can_change": case.user_can_change,
            "consent_form": consent_form,
            "errors": error_summary(*refused),
            "possible_earlier_records": earlier,
            **work,
        },
        status=400 if any(form.is_bound for form in refused) else 200,
    )


@post_only("screening:case-detail", "reference")
@login_required
def consent_new(request: HttpRequest, reference: str) -> HttpResponse:
    """Record a consent to share (referral or law enforcement) from the case page."""
    case = selectors.case_get(user=request.user, case_reference_or_id=reference)
    form = ConsentRecordForm(request.POST, service_type_choices=_service_type_choices())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                case=case,
                by=request.user,
                scope=data["scope"],
                method=data["method"],
                service_type=data["service_type"],
                provider_name=data["provider_name"],
                interpreter_used=data["interpreter_used"],
                interpreter_language=data["interpreter_language"],
                witness=data["witness"],
                valid_until=data["valid_until"],
            )
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Consent recorded.")
            return redirect("screening:case-detail", reference=reference)
    return case_detail(request, reference, consent_form=form)


@post_only("screening:case-detail", "reference")
@login_required
def consent_withdraw(request: HttpRequest, reference: str, consent_id: int) -> HttpResponse:
    consent = consent_access(user=request.user, consent_id=consent_id, action=CaseAction.VIEW)
    if consent.case.reference != reference:
        raise ConsentNotFound()
    form = ConsentWithdrawForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.consent_withdraw(consent=consent, by=request.user, note=note)
    except ActionNotAllowed:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Consent withdrawn. It no longer covers anything from now on.")
    return redirect("screening:case-detail", reference=reference)


def _access_row(entry: AccessLogEntry) -> dict[str, Any]:
    user = entry.user
    names = filter(None, entry.roles.split(","))
    roles = [Role(name).label if name in Role.values else name for name in names]
    return {
        "at": entry.at,
        "who": (user.get_full_name() or user.get_username()) if user else "No staff account",
        "roles": ", ".join(sorted(roles)),
        "what": route_label(entry.route),
        "kind": "Read" if entry.method in READ_METHODS else "Change",
        "api_token": entry.api_token_id is not None,
        "outcome": entry.get_outcome_display(),
        "allowed": entry.outcome == AccessLogEntry.Outcome.ALLOWED,
        "break_glass": entry.outcome == AccessLogEntry.Outcome.BREAK_GLASS,
    }


@login_required
def case_access_history(request: HttpRequest, reference: str) -> HttpResponse:
    """Who read or changed the case, when, and how it ended, newest first: for supervisors
    of the case's agency."""
    entries = selectors.case_access_log_list(user=request.user, case_reference_or_id=reference)
    page = list_page(
        request, entries, per_page=ACCESS_ENTRIES_PER_PAGE, count_up_to=ACCESS_ENTRIES_COUNTED
    )
    return render_page(
        request,
        "screening/case_access_history.html",
        {"reference": reference, "page": page, "rows": [_access_row(e) for e in page]},
    )


@csrf_exempt  # it only ends the session; it must work from any page, even a stale one
def quick_exit(request: HttpRequest) -> HttpResponse:
    """Leave at once: end the session (logging out) and show a neutral page."""
    request.session.flush()
    response = HttpResponseRedirect(settings.QUICK_EXIT_URL)
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
