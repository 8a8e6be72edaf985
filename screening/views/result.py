"""The result page of a submitted screening, and the supervisor's review and override."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ActionNotAllowed, ApplicationError
from config.labels import label
from indicators.engine import INDETERMINATE, InstrumentDefinition
from indicators.engine.fidelity import (
    validation_age_caution,
    validation_setting_caution,
    version_fidelity,
)
from indicators.engine.models import LocalPolicy
from indicators.selectors import instrument_definition
from referrals.selectors import referral_list_for_screening
from screening import selectors, services
from screening.forms import (
    ScreeningOverrideForm,
    ScreeningReviewForm,
    add_service_errors,
    answer_label,
)
from screening.models import Agency, Screening
from screening.views._common import (
    error_summary,
    language_links,
    post_only,
    render_page,
    screening_language,
)
from screening.views.result_picture import dimension_picture, result_summary, rule_bars

MANDATORY_REPORT_FLAGS = frozenset({"minor", "mandatory_report", "child_welfare_referral"})
REASON_GROUPS = (
    ("met", "What led to this outcome"),
    ("undecided", "Open questions that could change it"),
    ("not_met", "Why a more concerning outcome was not reached"),
)


def _band(definition: InstrumentDefinition, key: str, language: str) -> dict[str, str]:
    try:
        outcome = definition.outcome(key)
    except KeyError:
        return {"key": key, "label": key.replace("_", " ").capitalize(), "description": ""}
    return {
        "key": key,
        "label": outcome.label.get(language),
        "description": outcome.description.get(language),
    }


def _localised_action(
    definition: InstrumentDefinition, action: dict[str, Any], language: str
) -> str:
    """Engine actions are stored in English; show them in the screening's language."""
    try:
        outcome = definition.outcome(action["band"])
    except KeyError:
        return action["text"]
    for text in outcome.actions:
        if text.en == action["text"]:
            return text.get(language)
    return action["text"]


def _reason_items(
    definition: InstrumentDefinition, reason: dict[str, Any], language: str
) -> list[dict[str, str]]:
    items = []
    for entry in reason.get("items", ()):
        try:
            prompt = definition.item(entry["key"]).prompt.get(language)
        except KeyError:
            prompt = entry.get("prompt", entry["key"])
        items.append(
            {
                "prompt": prompt,
                "answer": answer_label(definition, entry["key"], entry.get("answer"), language),
                "strength": entry.get("strength") or "",
            }
        )
    return items


def _reason_text(reason: dict[str, Any], dimensions: dict[str, Any]) -> str:
    """A dimension's reason in a few words: the picture shows its indicators and the page
    states the ILO/EC rule once (the engine's text repeats the rule for every dimension)."""
    if reason.get("basis") != "dimension" or reason.get("key") not in dimensions:
        return reason["text"]
    status = dimensions[reason["key"]].get("status", "negative")
    return f"{label(reason['key'], 'ilo_dimension')}: {label(status, 'dimension_status').lower()}."


def _referral_counts(referrals: list[Any]) -> list[dict[str, Any]]:
    """How many referrals are in each status, in the list's order: one line on the page, the
    list itself folded when it is long."""
    counts: dict[str, dict[str, Any]] = {}
    for referral in referrals:
        entry = counts.setdefault(
            referral.status,
            {"status": referral.status, "label": referral.get_status_display(), "count": 0},
        )
        entry["count"] += 1
    return list(counts.values())


def _concerning(definition: InstrumentDefinition, key: str) -> bool:
    """Above the least concerning band: trafficking is indicated or possible."""
    try:
        return definition.outcome_rank(key) > 0
    except KeyError:
        return False


def _local_policies(
    definition: InstrumentDefinition, result: dict[str, Any], language: str
) -> list[dict[str, str]]:
    """The rules of this service (not of the publication) that the result rests on."""
    keys = [result["outcome_policy"]] if result.get("outcome_policy") else []
    for reason in result.get("reasons", ()):
        source = reason.get("source") or {}
        if source.get("local_policy") and reason.get("status") in ("met", "undecided"):
            keys.append(source["key"])
    policies = []
    for key in dict.fromkeys(keys):
        entry = definition.index.citations.get(key)
        if isinstance(entry, LocalPolicy):
            policies.append({"key": key, "text": entry.text.get(language)})
    return policies


def _fidelity(definition: InstrumentDefinition, screening: Screening) -> dict[str, Any]:
    """What the officer should know about the list itself: unchecked grades or items, the
    published accuracy and whether this person is in the population it was measured in."""
    fidelity = version_fidelity(definition)
    citations = {source.key: source for source in definition.sources}
    validations = [
        {
            "source": citations.get(validation.source),
            "population": validation.population,
            "n": validation.n,
            "sensitivity": validation.sensitivity,
            "specificity": validation.specificity,
        }
        for validation in definition.validation
    ]
    case = screening.case
    age = (screening.context or {}).get("age", case.age)
    caution = validation_age_caution(definition, age=age, age_band=case.age_band)
    settings = validation_setting_caution(definition, setting=screening.setting)
    return {
        "unconfirmed_grades": len(fidelity.unconfirmed_grades),
        "graded": sum(1 for item in definition.items if item.strength is not None),
        "unconfirmed_items": len(fidelity.unconfirmed_items),
        "validations": validations,
        "age_caution": caution,
        "validated_ages": ", ".join(f"{low}–{high}" for low, high in caution.ranges)
        if caution
        else "",
        "setting_caution": [_setting_label(key) for key in settings] if settings else [],
    }


def _setting_label(key: str) -> str:
    try:
        return Screening.Setting(key).label.lower()
    except ValueError:
        return key.replace("_", " ")


def _result_context(
    request: HttpRequest,
    screening: Screening,
    *,
    override_form: ScreeningOverrideForm | None = None,
    review_form: ScreeningReviewForm | None = None,
) -> dict[str, Any]:
    definition = instrument_definition(screening.instrument_version)
    language = screening_language(request, definition, screening.pk)
    result = screening.result or {}
    outcome = result.get("outcome", screening.outcome)
    indeterminate = outcome == INDETERMINATE
    override = selectors.screening_override_current(screening=screening)
    in_force = override.outcome if override else outcome
    flags = set(result.get("flags", ()))
    possible_flags = set(result.get("possible_flags", ())) - flags
    reasons = result.get("reasons", ())
    reason_groups = []
    for status, heading in REASON_GROUPS:
        entries = [
            {
                "text": _reason_text(reason, result.get("dimensions") or {}),
                "items": _reason_items(definition, reason, language),
                "local_policy": bool((reason.get("source") or {}).get("local_policy")),
            }
            for reason in reasons
            if reason.get("status") == status
        ]
        if entries:
            reason_groups.append({"status": status, "heading": heading, "reasons": entries})
    trafficking_indicated = (
        _concerning(definition, in_force)
        or (in_force == INDETERMINATE and _concerning(definition, result.get("worst_case", "")))
        or "law_enforcement_notice" in flags
    )
    user_agency = request.user.agency
    supervises = bool(screening.case.user_supervises)
    if supervises and override_form is None:
        override_form = _override_form(definition, in_force, language)
    actions = [
        {"text": _localised_action(definition, action, language), **action}
        for action in result.get("actions", ())
    ]
    mandatory_report = (
        bool(flags & MANDATORY_REPORT_FLAGS) or screening.case.mandatory_report_required
    )
    possible_minor = bool(possible_flags & MANDATORY_REPORT_FLAGS)
    best_case = _band(definition, result.get("best_case", ""), language)
    worst_case = _band(definition, result.get("worst_case", ""), language)
    picture = dimension_picture(definition, result, language)
    referrals = list(referral_list_for_screening(screening=screening))
    summary = result_summary(
        definition=definition,
        result=result,
        picture=picture,
        best_case=best_case["label"],
        worst_case=worst_case["label"] if indeterminate else best_case["label"],
        minor="known" if mandatory_report else "possible" if possible_minor else "",
    )
    return {
        "case": screening.case,
        "screening": screening,
        "definition": definition,
        "language": language,
        "languages": language_links(definition, language),
        "screening_page": True,
        "indeterminate": indeterminate,
        "outcome": None if indeterminate else _band(definition, outcome, language),
        "best_case": best_case,
        "worst_case": worst_case,
        "summary": summary,
        "picture": picture,
        "rule_bars": rule_bars(definition, result, language),
        "override": override,
        "override_band": _band(definition, override.outcome, language) if override else None,
        "reason_groups": reason_groups,
        "local_policies": _local_policies(definition, result, language),
        "fidelity": _fidelity(definition, screening),
        "coverage": result.get("coverage", {}),
        "actions": actions,
        "flags": sorted(flags),
        "possible_flags": sorted(possible_flags),
        "mandatory_report": mandatory_report,
        "possible_minor": possible_minor,
        "urgent": bool(flags & {"immediate_danger", "urgent"}) or screening.case.urgent,
        "non_punishment": trafficking_indicated
        and user_agency is not None
        and user_agency.kind == Agency.Kind.LAW_ENFORCEMENT,
        "referrals": referrals,
        "referral_counts": _referral_counts(referrals),
        "supervises": supervises,
        "override_form": override_form if supervises else None,
        "review_form": (review_form or ScreeningReviewForm())
        if supervises
        and screening.status == Screening.Status.SUBMITTED
        and screening.submitted_by_id != request.user.pk
        else None,
        "errors": error_summary(*(form for form in (override_form, review_form) if form)),
    }


def _override_form(
    definition: InstrumentDefinition, in_force: str, language: str, data=None
) -> ScreeningOverrideForm:
    choices = [
        (band.key, band.label.get(language)) for band in definition.outcomes if band.key != in_force
    ]
    return ScreeningOverrideForm(data, outcome_choices=choices)


def _submitted_screening(request: HttpRequest, screening_id: int) -> Screening | HttpResponse:
    screening = selectors.screening_get(user=request.user, screening_id=screening_id)
    if screening.is_draft:
        return redirect("screening:screening-review", screening_id=screening.pk)
    if not screening.has_result:
        messages.info(request, "This screening was voided; it has no result.")
        return redirect("screening:case-detail", reference=screening.case.reference)
    return screening


@login_required
def screening_result(request: HttpRequest, screening_id: int) -> HttpResponse:
    screening = _submitted_screening(request, screening_id)
    if isinstance(screening, HttpResponse):
        return screening
    return render_page(request, "screening/result.html", _result_context(request, screening))


@post_only("screening:screening-result", "screening_id")
@login_required
def screening_override(request: HttpRequest, screening_id: int) -> HttpResponse:
    screening = _submitted_screening(request, screening_id)
    if isinstance(screening, HttpResponse):
        return screening
    if not screening.case.user_supervises:
        raise ActionNotAllowed("Only a supervisor of the case's agency can override an outcome.")
    definition = instrument_definition(screening.instrument_version)
    language = screening_language(request, definition, screening.pk)
    current = selectors.screening_outcome_in_force(screening=screening)
    form = _override_form(definition, current, language, data=request.POST)
    if form.is_valid():
        try:
            services.screening_override(screening=screening, by=request.user, **form.cleaned_data)
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Override recorded. The computed result is kept as it was.")
            return redirect("screening:screening-result", screening_id=screening.pk)
    return render_page(
        request,
        "screening/result.html",
        _result_context(request, screening, override_form=form),
        status=400,
    )


@post_only("screening:screening-result", "screening_id")
@login_required
def screening_review(request: HttpRequest, screening_id: int) -> HttpResponse:
    screening = _submitted_screening(request, screening_id)
    if isinstance(screening, HttpResponse):
        return screening
    if not screening.case.user_supervises:
        raise ActionNotAllowed("Only a supervisor of the case's agency can review a screening.")
    form = ScreeningReviewForm(request.POST)
    if form.is_valid():
        try:
            services.screening_review(
                screening=screening, by=request.user, note=form.cleaned_data["note"]
            )
        except ApplicationError as error:
            if isinstance(error, ActionNotAllowed):
                # The supervisor submitted it themselves: say so rather than a bare 403.
                messages.error(request, error.message)
                return redirect("screening:screening-result", screening_id=screening.pk)
            form.add_error(None, error.message)
        else:
            messages.success(request, "Screening marked as reviewed.")
            return redirect("screening:screening-result", screening_id=screening.pk)
    return render_page(
        request,
        "screening/result.html",
        _result_context(request, screening, review_form=form),
        status=400,
    )
