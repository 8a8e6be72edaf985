"""The signed-in person's own API tokens: list, create (the secret shown once, on the response
to the POST itself: never in a URL, a redirect or the session), revoke after a confirmation."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from config.errors import ValidationError
from config.tokens import (
    ApiTokenFormAlreadySent,
    api_token_get,
    api_token_status,
)
from screening import services
from screening.forms import ApiTokenCreateForm, add_service_errors
from screening.views._common import error_summary, list_page, render_page

TOKENS_PER_PAGE = 25


def _new_form() -> ApiTokenCreateForm:
    return ApiTokenCreateForm(initial={"request_id": secrets.token_urlsafe(16)})


def _list_page(
    request: HttpRequest, form: ApiTokenCreateForm, *, status: int = 200
) -> HttpResponse:
    page = list_page(request, services.api_token_list(user=request.user), per_page=TOKENS_PER_PAGE)
    now = timezone.now()
    tokens = [(token, api_token_status(token, at=now)) for token in page.object_list]
    return render_page(
        request,
        "screening/api_tokens.html",
        {"page": page, "tokens": tokens, "form": form, "errors": error_summary(form)},
        status=status,
    )


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request, _new_form())
    form = ApiTokenCreateForm(request.POST)
    if not form.is_valid():
        if "request_id" in form.errors:  # not a form this page showed: give it a fresh id
            del form.errors["request_id"]
            form.add_error(None, "The form was out of date: check it and send it again.")
            form.data = form.data.copy()
            form.data["request_id"] = secrets.token_urlsafe(16)
        return _list_page(request, form, status=400)
    try:
        created = services.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
            form_request_id=form.cleaned_data["request_id"],
        )
    except ApiTokenFormAlreadySent as sent:
        # A reload of the page that showed the secret, or a double click: nothing new, and
        # the secret is not shown again (it was never kept).
        messages.warning(
            request,
            f"That form was already sent: token {sent.prefix} was created then, and its "
            "secret was shown only once. If you did not copy it, revoke it and create a new one.",
        )
        return redirect("screening:api-tokens")
    except ValidationError as error:
        add_service_errors(form, error)
        return _list_page(request, form, status=400)
    # Rendered here, not redirected to: the secret must not travel through a URL or be kept
    # anywhere to show after a redirect. The page is never cached (NoStoreMiddleware).
    return render_page(
        request,
        "screening/api_token_created.html",
        {"token": created.token, "plaintext": created.plaintext},
    )


@login_required
def api_token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    """GET asks for confirmation; POST revokes. Another person's token is a 404."""
    token = api_token_get(user=request.user, prefix=prefix)
    if request.method == "POST":
        services.api_token_revoke(user=request.user, prefix=prefix)
        messages.success(
            request, f"Token {token.prefix} revoked: requests that use it are refused from now."
        )
        return redirect("screening:api-tokens")
    return render_page(
        request,
        "screening/api_token_revoke.html",
        {"token": token, "status": api_token_status(token)},
    )
