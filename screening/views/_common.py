"""Helpers shared by the screening pages: rendering with the navigation's facts, the error
summary, and the language a screening's questions are shown in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from config.keyset import CursorInvalid, KeysetPage, keyset_page
from indicators.engine import InstrumentDefinition
from screening.roles import Role
from screening.services.break_glass import may_break_glass

SESSION_LANGUAGES = "screening_languages"


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Render with what every page's header needs (one query, whatever the page shows)."""
    roles = request.user.role_names
    if "errors" not in context:
        context = {**context, "errors": error_summary(*_bound_forms(context))}
    context = {
        "is_supervisor": Role.SUPERVISOR in roles,
        "is_provider_staff": Role.PROVIDER_STAFF in roles,
        "is_agency_admin": Role.AGENCY_ADMIN in roles and request.user.agency_id is not None,
        "is_contact_staff": bool({Role.HOTLINE_STAFF, Role.SUPERVISOR} & roles),
        "may_break_glass": may_break_glass(request.user),
        **context,
    }
    return render(request, template, context, status=status)


def post_only(page: str, *keep: str) -> Callable:
    """For an address a form posts to: any other method (a reload of the address bar after a
    failed post, a bookmark, a shared link) goes to the page the form is on, the URL `page`
    with the view's arguments named in `keep`, instead of an empty 405. A failed post still
    answers at the action address with the page and its errors (status 400)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return redirect(page, **{name: kwargs[name] for name in keep})
            return view(request, *args, **kwargs)

        wrapped.post_only_page = page  # type: ignore[attr-defined]
        return wrapped

    return decorate


def list_page(
    request: HttpRequest,
    queryset: Any,
    *,
    per_page: int,
    ordering: Any = None,
    count_up_to: int | None = None,
) -> KeysetPage:
    """The page of a list that the request's `after` or `before` cursor names (neither: the
    first), in the list's own order unless `ordering` says; no COUNT, no OFFSET. A cursor the
    list did not give out (edited, damaged, from another list) shows the first page and says
    so."""
    try:
        return keyset_page(
            queryset,
            per_page=per_page,
            ordering=ordering,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            count_up_to=count_up_to,
        )
    except CursorInvalid:
        messages.warning(request, "That page link did not work, so this is the first page.")
        return keyset_page(queryset, per_page=per_page, ordering=ordering, count_up_to=count_up_to)


def _bound_forms(context: dict[str, Any]) -> list[forms.BaseForm]:
    """The bound forms a page's context holds, directly or in a dict of forms by name."""
    found: list[forms.BaseForm] = []
    for value in context.values():
        candidates = value.values() if isinstance(value, dict) else (value,)
        found.extend(
            form for form in candidates if isinstance(form, forms.BaseForm) and form.is_bound
        )
    return found


def error_summary(*forms_: forms.BaseForm | None) -> list[dict[str, str]]:
    """Every error of the forms, each naming the question it is about and linked to its
    control (GOV.UK pattern): "Is it safe to talk now?: Choose an answer." rather than
    "This field is required." three times. Errors of no one field link to the page."""
    summary = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            if name == forms.forms.NON_FIELD_ERRORS or name not in form.fields:
                anchor, label = "main-content", ""
            else:
                bound = form[name]
                choice_widget = isinstance(
                    bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple
                )
                anchor = f"{bound.auto_id}_0" if choice_widget else bound.auto_id
                label = str(bound.label)
            for message in errors:
                text = f"{label}: {message}" if label else str(message)
                summary.append(
                    {"anchor": anchor, "label": label, "message": str(message), "text": text}
                )
    return summary


def screening_language(
    request: HttpRequest, definition: InstrumentDefinition, screening_id: int
) -> str:
    """`?lang=xx` when the instrument has that language (remembered for this screening in the
    session), else the remembered one, else the instrument's first language."""
    remembered = request.session.get(SESSION_LANGUAGES, {})
    requested = request.GET.get("lang")
    if requested in definition.languages:
        if remembered.get(str(screening_id)) != requested:
            request.session[SESSION_LANGUAGES] = {**remembered, str(screening_id): requested}
        return requested
    stored = remembered.get(str(screening_id))
    return stored if stored in definition.languages else definition.languages[0]


LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}


def language_links(definition: InstrumentDefinition, current: str) -> list[dict[str, Any]]:
    return [
        {"code": code, "name": LANGUAGE_NAMES.get(code, code), "current": code == current}
        for code in definition.languages
    ]
