"""The provider directory as a provider agency's administrators keep it (/agency/providers/):
their agency's providers, adding one, editing one, rotating a webhook's secret (shown once,
on the response to the POST itself: never in a URL, a redirect or the session) and a
provider's change history. Access: `referrals.permissions`; writes:
`referrals.services.providers`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ValidationError
from referrals.permissions import provider_access, provider_add_check
from referrals.provider_forms import ProviderForm
from referrals.providers import (
    provider_change_history,
    provider_list_managed,
    provider_regions_known,
)
from referrals.services.providers import (
    ProviderSaved,
    provider_create,
    provider_secret_rotate,
    provider_update,
)
from referrals.signing import fingerprint_display
from screening.forms import add_service_errors
from screening.views._common import post_only, render_page


def _form_page(request, *, form: ProviderForm, provider=None, status: int = 200) -> HttpResponse:
    return render_page(
        request,
        "referrals/providers/form.html",
        {
            "form": form,
            "provider": provider,
            "fingerprint": fingerprint_display(provider.webhook_secret_fingerprint)
            if provider
            else "",
        },
        status=status,
    )


def _secret_page(request: HttpRequest, saved: ProviderSaved, *, rotated: bool) -> HttpResponse:
    # Rendered here, not redirected to: the secret is kept nowhere in plain text to show
    # after a redirect. Pages are never cached (NoStoreMiddleware).
    return render_page(
        request,
        "referrals/providers/secret.html",
        {
            "provider": saved.provider,
            "secret": saved.new_secret,
            "fingerprint": fingerprint_display(saved.provider.webhook_secret_fingerprint),
            "rotated": rotated,
        },
    )


def _service_errors(form: ProviderForm, error: ValidationError) -> None:
    if "capacity" in error.field_errors:
        error.field_errors["room"] = error.field_errors.pop("capacity")
    add_service_errors(form, error)


@login_required
def provider_list_page(request: HttpRequest) -> HttpResponse:
    providers = list(provider_list_managed(user=request.user))
    return render_page(request, "referrals/providers/list.html", {"providers": providers})


@login_required
def provider_new_page(request: HttpRequest) -> HttpResponse:
    provider_add_check(user=request.user)
    regions = provider_regions_known()
    if request.method != "POST":
        form = ProviderForm(
            known_regions=regions,
            initial={"accepting": True, "room": "available", "response_due_hours": 72},
        )
        return _form_page(request, form=form)
    form = ProviderForm(request.POST, known_regions=regions)
    if form.is_valid():
        try:
            saved = provider_create(by=request.user, **form.service_values())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            if saved.new_secret:
                return _secret_page(request, saved, rotated=False)
            messages.success(request, f"{saved.provider.name} is in the directory now.")
            return redirect("providers:edit", provider_id=saved.provider.pk)
    return _form_page(request, form=form, status=400)


@login_required
def provider_edit_page(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_access(user=request.user, provider_id=provider_id)
    regions = provider_regions_known()
    if request.method != "POST":
        return _form_page(
            request, form=ProviderForm(provider=provider, known_regions=regions), provider=provider
        )
    form = ProviderForm(request.POST, provider=provider, known_regions=regions)
    if form.is_valid():
        try:
            saved = provider_update(
                provider_id=provider.pk, by=request.user, **form.service_values()
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            if saved.new_secret:
                return _secret_page(request, saved, rotated=False)
            messages.success(
                request, "Saved. Routing uses the new entry from the next referral on."
            )
            return redirect("providers:edit", provider_id=provider.pk)
    provider.refresh_from_db()  # the page shows the entry as stored, the form as sent
    return _form_page(request, form=form, provider=provider, status=400)


@post_only("providers:edit", "provider_id")
@login_required
def provider_secret_rotate_page(request: HttpRequest, provider_id: int) -> HttpResponse:
    try:
        saved = provider_secret_rotate(provider_id=provider_id, by=request.user)
    except ValidationError as error:
        messages.error(request, error.message)
        return redirect("providers:edit", provider_id=provider_id)
    return _secret_page(request, saved, rotated=True)


@login_required
def provider_history_page(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_access(user=request.user, provider_id=provider_id)
    return render_page(
        request,
        "referrals/providers/history.html",
        {"provider": provider, "changes": provider_change_history(provider=provider)},
    )
