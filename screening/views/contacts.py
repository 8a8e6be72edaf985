"""Hotline contact pages (issue 14 point 6): hotline staff and supervisors list their
agency's contacts, log a new one, open one, change it while it is a draft (linking it to a
case), and finalise it. The same services as the API (screening/services/contacts.py); the
contact's id is the only handle in the address."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ActionNotAllowed, ApplicationError, ConflictError
from screening import services
from screening.casework_forms import ContactEditForm, ContactForm
from screening.contacts import contact_get, contact_list, require_contact_role
from screening.forms import add_service_errors
from screening.views._common import list_page, post_only, render_page

CONTACTS_PER_PAGE = 25
EDITABLE = (
    "channel",
    "contact_type",
    "caller_type",
    "immediate_danger",
    "minor_involved",
    "exploitation_type",
    "language",
    "caller_region",
    "situation_location",
    "summary",
    "caller_name",
    "caller_phone",
)


@login_required
def contact_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status")
    filters = {"status": status} if status in ("draft", "finalised") else {}
    page = list_page(
        request, contact_list(user=request.user, filters=filters), per_page=CONTACTS_PER_PAGE
    )
    return render_page(request, "screening/contacts.html", {"page": page, "status": status})


@login_required
def contact_new_page(request: HttpRequest) -> HttpResponse:
    require_contact_role(request.user)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(created_by=request.user, **form.service_arguments())
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Contact logged as a draft. Finalise it when it is complete.")
            return redirect("screening:contact-detail", contact_id=contact.pk)
    return render_page(
        request,
        "screening/contact_form.html",
        {"form": form, "contact": None},
        status=400 if form.is_bound else 200,
    )


@login_required
def contact_detail_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The contact; while a draft, its answers in a form to change them."""
    contact = contact_get(user=request.user, contact_id=contact_id)
    form = None
    if contact.is_draft:
        initial = {field: getattr(contact, field) for field in EDITABLE}
        initial["case"] = contact.case.reference if contact.case_id else ""
        initial["version"] = contact.version
        form = ContactEditForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            changes = form.service_arguments(for_update=True)
            version = changes.pop("version")
            try:
                contact = services.contact_update(
                    contact=contact, by=request.user, expected_version=version, changes=changes
                )
            except ConflictError:
                form.add_error(
                    None, "Someone changed this contact since you opened it. Reload to see it."
                )
            except ActionNotAllowed:
                raise
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Contact saved.")
                return redirect("screening:contact-detail", contact_id=contact.pk)
    return render_page(
        request,
        "screening/contact_detail.html",
        {"contact": contact, "form": form},
        status=400 if form is not None and form.is_bound else 200,
    )


@post_only("screening:contact-detail", "contact_id")
@login_required
def contact_finalise_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(user=request.user, contact_id=contact_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.contact_finalise(contact=contact, by=request.user, expected_version=version)
    except ConflictError:
        messages.error(request, "Someone changed this contact since you opened it. Check it again.")
    else:
        messages.success(request, "Contact finalised. It can no longer be changed.")
    return redirect("screening:contact-detail", contact_id=contact.pk)
