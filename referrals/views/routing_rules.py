"""The routing rule pages of an agency's administrators (/agency/routing/): the rules in force
in words, the versions, the draft (typed or uploaded YAML), its changes against the rules in
force, its dry run over the last screenings, publishing and discarding. Thin: the access
functions, services and selectors decide; these render and redirect (post/redirect/get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import InvalidState, ValidationError
from referrals import selectors
from referrals.permissions import (
    routing_admin_agency_id,
    routing_draft_access,
    routing_rule_set_access,
)
from referrals.routing_forms import RoutingDraftTextForm, RoutingDraftUploadForm, RoutingDryRunForm
from referrals.routing_text import routing_text, routing_text_diff
from referrals.routing_words import definition_words, rules_compare
from referrals.services.routing import routing_rule_set_current
from referrals.services.routing_dry_run import DRY_RUN_DEFAULT, routing_dry_run
from referrals.services.rule_sets import (
    definition_of,
    routing_draft_create,
    routing_draft_discard,
    routing_draft_publish,
    routing_draft_update,
)
from screening.forms import add_service_errors
from screening.views._common import post_only, render_page


@login_required
def routing_rules_page(request: HttpRequest) -> HttpResponse:
    agency_id = routing_admin_agency_id(request.user)
    in_force = routing_rule_set_current(agency_id=agency_id)
    return render_page(
        request,
        "referrals/routing/rules.html",
        {
            "in_force": in_force,
            "rules": definition_words(definition_of(in_force)) if in_force else [],
            "own": in_force is not None and in_force.agency_id == agency_id,
            "versions": selectors.routing_rule_set_versions(agency_id=agency_id),
            "draft": selectors.routing_draft_get(agency_id=agency_id),
        },
    )


@login_required
def routing_version_page(request: HttpRequest, rule_set_id: int) -> HttpResponse:
    rule_set = routing_rule_set_access(user=request.user, rule_set_id=rule_set_id)
    in_force = routing_rule_set_current(agency_id=request.user.agency_id)
    return render_page(
        request,
        "referrals/routing/version.html",
        {
            "rule_set": rule_set,
            "rules": definition_words(definition_of(rule_set)),
            "is_in_force": in_force is not None and in_force.pk == rule_set.pk,
        },
    )


@login_required
def routing_version_yaml(request: HttpRequest, rule_set_id: int) -> HttpResponse:
    """A version as a rule file, to keep, edit elsewhere and upload as a draft."""
    rule_set = routing_rule_set_access(user=request.user, rule_set_id=rule_set_id)
    response = HttpResponse(
        routing_text(rule_set.definition), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{rule_set.slug}.v{rule_set.number}.yaml"'
    )
    return response


@post_only("routing:rules")
@login_required
def routing_draft_new(request: HttpRequest) -> HttpResponse:
    routing_draft_create(by=request.user)
    return redirect("routing:draft")


def _draft_page(
    request: HttpRequest,
    draft,
    *,
    text_form: RoutingDraftTextForm | None = None,
    upload_form: RoutingDraftUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render_page(
        request,
        "referrals/routing/draft.html",
        {
            "draft": draft,
            "text_form": text_form or RoutingDraftTextForm(initial={"text": draft.source_text}),
            "upload_form": upload_form or RoutingDraftUploadForm(),
        },
        status=status,
    )


def _saved(request: HttpRequest, saved) -> HttpResponse:
    messages.success(request, f"Draft v{saved.draft.number} saved.")
    if saved.replaced:
        messages.info(request, "Set for you: " + "; ".join(saved.replaced) + ".")
    return redirect("routing:draft")


@login_required
def routing_draft_page(request: HttpRequest) -> HttpResponse:
    draft = routing_draft_access(user=request.user)
    if request.method != "POST":
        return _draft_page(request, draft)
    form = RoutingDraftTextForm(request.POST)
    if form.is_valid():
        try:
            saved = routing_draft_update(by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved(request, saved)
    return _draft_page(request, draft, text_form=form, status=400)


@post_only("routing:draft")
@login_required
def routing_draft_upload(request: HttpRequest) -> HttpResponse:
    draft = routing_draft_access(user=request.user)
    form = RoutingDraftUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            saved = routing_draft_update(by=request.user, text=form.cleaned_data["file"])
        except ValidationError as error:
            for message in error.field_errors.get("text", [error.message]):
                form.add_error("file", message)
        else:
            return _saved(request, saved)
    return _draft_page(request, draft, upload_form=form, status=400)


def _changes_context(request: HttpRequest) -> dict[str, Any]:
    draft = routing_draft_access(user=request.user)
    in_force = routing_rule_set_current(agency_id=draft.agency_id)
    draft_definition = definition_of(draft)
    context: dict[str, Any] = {"draft": draft, "in_force": in_force, "comparison": None}
    if in_force is not None:
        in_force_definition = definition_of(in_force)
        context["comparison"] = rules_compare(in_force_definition, draft_definition)
        context["text_diff"] = routing_text_diff(
            in_force_definition,
            draft_definition,
            before_name=f"{in_force} (in force)",
            after_name=f"{draft} (draft)",
        )
        context["stale"] = draft.based_on_id is not None and draft.based_on_id != in_force.pk
    else:
        context["rules"] = definition_words(draft_definition)
    return context


@login_required
def routing_draft_changes(request: HttpRequest) -> HttpResponse:
    return render_page(request, "referrals/routing/changes.html", _changes_context(request))


@login_required
def routing_draft_dry_run(request: HttpRequest) -> HttpResponse:
    draft = routing_draft_access(user=request.user)
    form = RoutingDryRunForm(request.GET or {"screenings": DRY_RUN_DEFAULT})
    run = None
    in_force = routing_rule_set_current(agency_id=draft.agency_id)
    if form.is_valid():
        run = routing_dry_run(
            agency_id=draft.agency_id,
            draft=definition_of(draft),
            in_force=definition_of(in_force) if in_force else None,
            limit=form.cleaned_data["screenings"],
        )
    return render_page(
        request,
        "referrals/routing/dry_run.html",
        {"draft": draft, "in_force": in_force, "form": form, "run": run},
        status=200 if run is not None else 400,
    )


@post_only("routing:draft-changes")
@login_required
def routing_draft_publish_page(request: HttpRequest) -> HttpResponse:
    try:
        published = routing_draft_publish(by=request.user)
    except InvalidState as refused:
        context = _changes_context(request)
        context["errors"] = [{"anchor": "publish", "text": refused.message}]
        return render_page(request, "referrals/routing/changes.html", context, status=400)
    messages.success(
        request,
        f"Version {published.number} published: your agency's new cases are routed by it from "
        "now on.",
    )
    return redirect("routing:rules")


@post_only("routing:draft")
@login_required
def routing_draft_discard_page(request: HttpRequest) -> HttpResponse:
    routing_draft_discard(by=request.user)
    messages.success(request, "Draft discarded; the rules in force are unchanged.")
    return redirect("routing:rules")
