"""The screening wizard: safety gate → consent → one page per section → review → submit.

An observation checklist of a place (an instrument version with `subject: place`) starts on
its own page instead of the gate and consent, and its questions are answered observed / not
observed / could not check (docs/observation-checklists.md).

Every page works without JavaScript: each section page's POST saves the draft through
`screening_save_answers` (the autosave); `static/screening.js` only adds saving on change by
posting the same form to the same URL with an `X-Autosave` header (JSON answer).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from config.errors import (
    ActionNotAllowed,
    ApplicationError,
    ConflictError,
    SafetyStop,
    ValidationError,
)
from indicators.selectors import (
    InstrumentVersionNotFound,
    instrument_definition,
    instrument_list,
    instrument_version_get,
)
from screening import selectors, services
from screening.forms import (
    ObservationStartForm,
    SafetyGateForm,
    ScreeningConsentForm,
    SectionAnswersForm,
    add_service_errors,
    answer_label,
    answer_words,
)
from screening.models import Case, Screening
from screening.permissions import CaseAction, ScreeningAction, case_access, screening_access
from screening.views._common import (
    SESSION_LANGUAGES,
    error_summary,
    language_links,
    render_page,
    screening_language,
)

SESSION_GATE = "screening_gate"
# The last version of each draft this browser saved: tabs of one browser share the session,
# so a conflict with a version saved here was the same person in another tab.
SESSION_SAVES = "screening_saves"
SAVED_IN_ANOTHER_TAB = (
    "You saved this screening in another tab or window since this page was opened. Reload "
    "the page to carry on from the answers saved there."
)
SAVED_ELSEWHERE = (
    "This screening was saved since you opened this page, by a colleague or by you on another "
    "device. Reload the page to see the answers saved."
)
DEFAULT_INSTRUMENT = "frontline-adult-conversation"
SUBMITTED_MESSAGE = "This screening has been submitted; submitted screenings cannot be edited."
NOT_SAFE_MESSAGE = (
    "The person is not able to talk safely now. Stop here: nothing has been recorded. "
    "If you can, agree a safe way and time to talk again."
)


# --- step 1: safety gate -----------------------------------------------------------------


def _instrument_choices(*, observation: bool = False) -> tuple[list[tuple[str, str]], str | None]:
    """The newest published version of each instrument: the person questionnaires for the
    safety gate, or the observation checklists of a place (which have no gate)."""
    choices = []
    default = None
    for instrument in instrument_list():
        newest = instrument.listed_versions[-1]
        if instrument_definition(newest).is_observation != observation:
            continue
        value = f"{instrument.slug}/{newest.number}"
        choices.append((value, f"{newest.title} (version {newest.number})"))
        if instrument.slug == DEFAULT_INSTRUMENT:
            default = value
    return choices, default


def _instrument_version(choice: str):
    slug, _, number = choice.partition("/")
    return instrument_version_get(slug=slug, number=int(number))


def _open_case_for_change(request: HttpRequest, reference: str) -> Case:
    return case_access(user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE)


# What to do next: not safe to talk now (come back when it is) is not the same as a person who
# does not agree (their decision, to be respected without pressure).
NOT_SAFE_ADVICE = (
    "Keep calm and end the conversation in a way that does not draw attention to it.",
    "If you can do so safely, agree a time and a safe way to talk again — somewhere the "
    "person can be alone.",
    "If someone is in immediate danger, follow your emergency procedure.",
    "When it is safe, come back to this case and start the screening again from the case page.",
)
DECLINED_ADVICE = (
    "Thank the person and accept the answer: do not ask again why, and do not make help "
    "depend on answering.",
    "Tell them they can change their mind at any time, and how to reach you if they do.",
    "If it is safe for them to keep it, offer information about where to get help "
    "(a hotline number, a service's address).",
    "If someone is in immediate danger, or the person is under 18, follow your emergency or "
    "child-protection procedure: that does not need their answers.",
)


def _stop_page(
    request: HttpRequest,
    case: Case,
    message: str,
    *,
    title: str,
    advice: tuple[str, ...] = NOT_SAFE_ADVICE,
) -> HttpResponse:
    _forget_gate(request, case)
    return render_page(
        request,
        "screening/wizard/stop.html",
        {"case": case, "message": message, "title": title, "advice": advice},
    )


def _forget_gate(request: HttpRequest, case: Case) -> None:
    gates = request.session.get(SESSION_GATE, {})
    if case.reference in gates:
        request.session[SESSION_GATE] = {
            key: value for key, value in gates.items() if key != case.reference
        }


@login_required
def screening_gate(request: HttpRequest, reference: str) -> HttpResponse:
    case = _open_case_for_change(request, reference)
    if not case.is_open:
        messages.error(request, "This case is closed: no new screening can start.")
        return redirect("screening:case-detail", reference=case.reference)
    choices, default = _instrument_choices()
    has_observations = bool(_instrument_choices(observation=True)[0])
    form = SafetyGateForm(
        request.POST or None,
        instrument_choices=choices,
        initial={"instrument_version": default, "interpreter_used": "no"},
    )
    if request.method == "POST":
        form.is_valid()
        if form.says_stop:
            message = _safety_stop_message(request, case, form)
            return _stop_page(request, case, message, title="Stop")
        if form.is_valid():
            data = form.cleaned_data
            interpreter = data["interpreter_used"] == "yes"
            gates = request.session.get(SESSION_GATE, {})
            request.session[SESSION_GATE] = {
                **gates,
                case.reference: {
                    "instrument": data["instrument_version"],
                    "setting": data["setting"],
                    "safe_to_talk": data["safe_to_talk"],
                    "alone": data["alone"],
                    "interpreter_used": interpreter,
                    "interpreter_language": data["interpreter_language"] if interpreter else "",
                    "interpreter_independent": interpreter
                    and data["interpreter_independent"] == "yes",
                },
            }
            return redirect("screening:screening-consent", reference=case.reference)
    return render_page(
        request,
        "screening/wizard/gate.html",
        {
            "case": case,
            "form": form,
            "errors": error_summary(form),
            "screening_page": True,
            "has_observations": has_observations,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def observation_start_page(request: HttpRequest, reference: str) -> HttpResponse:
    """Start an observation checklist of a place: no safety gate, no consent script."""
    case = _open_case_for_change(request, reference)
    if not case.is_open:
        messages.error(request, "This case is closed: no new screening can start.")
        return redirect("screening:case-detail", reference=case.reference)
    choices, _ = _instrument_choices(observation=True)
    form = ObservationStartForm(
        request.POST or None,
        instrument_choices=choices,
        initial={"instrument_version": choices[0][0] if len(choices) == 1 else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = _instrument_version(form.cleaned_data["instrument_version"])
            screening = services.observation_start(
                case=case, by=request.user, instrument_version=version
            )
        except (InstrumentVersionNotFound, ValueError):
            form.add_error("instrument_version", "That checklist is no longer available.")
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            add_service_errors(form, error)
        else:
            return redirect("screening:screening-section", screening_id=screening.pk, step=1)
    return render_page(
        request,
        "screening/wizard/observation_start.html",
        {"case": case, "form": form, "errors": error_summary(form), "screening_page": True},
        status=400 if form.is_bound else 200,
    )


def _safety_stop_message(request: HttpRequest, case: Case, form: SafetyGateForm) -> str:
    """The service's own words for why to stop (it records nothing when the gate says stop)."""
    try:
        version = _instrument_version(form.cleaned_data.get("instrument_version") or "")
    except (InstrumentVersionNotFound, ValueError):
        return NOT_SAFE_MESSAGE
    try:
        services.screening_start(
            case=case,
            by=request.user,
            instrument_version=version,
            setting=form.cleaned_data.get("setting", ""),
            safe_to_talk=form.cleaned_data.get("safe_to_talk", "no"),
            alone=form.cleaned_data.get("alone", "no"),
        )
    except SafetyStop as stop:
        return stop.message
    raise AssertionError("screening_start started a screening the gate said to stop")


# --- step 2: consent ---------------------------------------------------------------------


@login_required
def screening_consent(request: HttpRequest, reference: str) -> HttpResponse:
    case = _open_case_for_change(request, reference)
    gate = request.session.get(SESSION_GATE, {}).get(case.reference)
    if gate is None:
        messages.info(request, "Start with the safety questions.")
        return redirect("screening:screening-gate", reference=case.reference)
    try:
        version = _instrument_version(gate["instrument"])
    except (InstrumentVersionNotFound, ValueError):
        _forget_gate(request, case)
        messages.error(request, "That questionnaire is no longer available; choose another.")
        return redirect("screening:screening-gate", reference=case.reference)
    form = ScreeningConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.declined:
            return _stop_page(
                request,
                case,
                "The person does not want to answer questions now. That is their right, and it "
                "is a valid outcome: nothing has been recorded. Offer information about where to "
                "get help if it is safe for them to keep it.",
                title="The person does not agree",
                advice=DECLINED_ADVICE,
            )
        screening = _record_consent_and_start(request, case, version, gate, form)
        if screening is not None:
            _forget_gate(request, case)
            definition = instrument_definition(version)
            language = gate["interpreter_language"].strip().lower()
            if language in definition.languages:
                remembered = request.session.get(SESSION_LANGUAGES, {})
                request.session[SESSION_LANGUAGES] = {**remembered, str(screening.pk): language}
            return redirect("screening:screening-section", screening_id=screening.pk, step=1)
    return render_page(
        request,
        "screening/wizard/consent.html",
        {
            "case": case,
            "form": form,
            "gate": gate,
            "instrument_title": version.title,
            "errors": error_summary(form),
            "screening_page": True,
        },
        status=400 if form.is_bound else 200,
    )


def _record_consent_and_start(
    request: HttpRequest, case: Case, version, gate: dict[str, Any], form: ScreeningConsentForm
) -> Screening | None:
    """Record the consent and start the screening together: both or neither."""
    try:
        return services.screening_start_with_consent(
            case=case,
            by=request.user,
            instrument_version=version,
            setting=gate["setting"],
            safe_to_talk=gate["safe_to_talk"],
            alone=gate["alone"],
            consent_method=form.cleaned_data["method"],
            witness=form.cleaned_data["witness"],
            interpreter_used=gate["interpreter_used"],
            interpreter_language=gate["interpreter_language"],
            interpreter_independent=gate["interpreter_independent"]
            if gate["interpreter_used"]
            else None,
        )
    except ActionNotAllowed:
        raise
    except ApplicationError as error:
        add_service_errors(form, error)
    return None


# --- step 3: one section per page --------------------------------------------------------


def _editable_screening(request: HttpRequest, screening_id: int) -> Screening | HttpResponse:
    """The draft screening the user may fill in, or a redirect for one that cannot change."""
    screening = selectors.screening_get(user=request.user, screening_id=screening_id)
    if screening.has_result:
        messages.info(request, SUBMITTED_MESSAGE)
        return redirect("screening:screening-result", screening_id=screening.pk)
    if screening.status == Screening.Status.VOIDED:
        messages.info(request, "This screening was voided and cannot be edited.")
        return redirect("screening:case-detail", reference=screening.case.reference)
    return screening_access(
        user=request.user, screening_id=screening_id, action=ScreeningAction.CHANGE
    )


def _wizard_context(request: HttpRequest, screening: Screening) -> dict[str, Any]:
    definition = instrument_definition(screening.instrument_version)
    language = screening_language(request, definition, screening.pk)
    return {
        "case": screening.case,
        "screening": screening,
        "definition": definition,
        "observation": definition.is_observation,
        "language": language,
        "languages": language_links(definition, language),
        "words": answer_words(language, observation=definition.is_observation),
        "total_steps": len(definition.sections),
        "screening_page": True,
    }


def _questions(form: SectionAnswersForm, section, language: str) -> list[dict[str, Any]]:
    questions = []
    for item in section.items:
        questions.append(
            {
                "key": item.key,
                "prompt": item.prompt.get(language),
                "why": item.why.get(language) if item.why else "",
                "response_type": item.response_type,
                "field": form[item.key],
                "none_field": form[item.key + SectionAnswersForm.NONE_SUFFIX]
                if item.response_type in ("number", "date")
                else None,
            }
        )
    return questions


@login_required
def screening_section(request: HttpRequest, screening_id: int, step: int) -> HttpResponse:
    screening = _editable_screening(request, screening_id)
    if isinstance(screening, HttpResponse):
        if request.headers.get("X-Autosave"):
            return JsonResponse({"saved": False, "errors": [SUBMITTED_MESSAGE]}, status=409)
        return screening
    context = _wizard_context(request, screening)
    definition, language = context["definition"], context["language"]
    if not 1 <= step <= len(definition.sections):
        raise Http404("No such step.")
    section = definition.sections[step - 1]
    form = SectionAnswersForm(
        request.POST or None,
        section=section,
        language=language,
        answers=screening.answers,
        observation=definition.is_observation,
        initial={SectionAnswersForm.VERSION_FIELD: screening.version},
    )
    status = 200
    if request.method == "POST":
        saved, status = _save_section(request, screening, form)
        if request.headers.get("X-Autosave"):
            if saved is not None:
                return JsonResponse({"saved": True, "version": saved.version})
            return JsonResponse(
                {"saved": False, "errors": [entry["text"] for entry in error_summary(form)]},
                status=status,
            )
        if saved is not None:
            return _after_save(request, saved, step, len(definition.sections))
    return render_page(
        request,
        "screening/wizard/section.html",
        {
            **context,
            "form": form,
            "version_field": form[SectionAnswersForm.VERSION_FIELD],
            "step": step,
            "section_title": section.title.get(language),
            "section_intro": section.intro.get(language) if section.intro else "",
            "questions": _questions(form, section, language),
            "errors": error_summary(form),
        },
        status=status,
    )


def _save_section(
    request: HttpRequest, screening: Screening, form: SectionAnswersForm
) -> tuple[Screening | None, int]:
    if not form.is_valid():
        return None, 400
    try:
        saved = services.screening_save_answers(
            screening=screening,
            by=request.user,
            answers=form.answers(),
            expected_version=form.cleaned_data[SectionAnswersForm.VERSION_FIELD],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None, 400
    except ConflictError as error:
        form.add_error(None, _conflict_message(request, screening, error))
        return None, 409
    except ActionNotAllowed:
        raise
    except ApplicationError as error:
        form.add_error(None, error.message)
        return None, 400
    saves = request.session.get(SESSION_SAVES, {})
    request.session[SESSION_SAVES] = {**saves, str(saved.pk): saved.version}
    return saved, 200


def _conflict_message(request: HttpRequest, screening: Screening, error: ConflictError) -> str:
    """Who saved in between, as far as this browser can tell: itself (another tab) or not."""
    saved_here = request.session.get(SESSION_SAVES, {}).get(str(screening.pk))
    return SAVED_IN_ANOTHER_TAB if saved_here == error.current_version else SAVED_ELSEWHERE


def _after_save(request: HttpRequest, screening: Screening, step: int, total: int) -> HttpResponse:
    action = request.POST.get(SectionAnswersForm.ACTION_FIELD, "next")
    if action == "stop":
        messages.success(
            request, "Answers saved. You can continue this screening later from the case page."
        )
        return redirect("screening:case-detail", reference=screening.case.reference)
    if action == "back":
        if step == 1:
            return redirect("screening:case-detail", reference=screening.case.reference)
        return redirect("screening:screening-section", screening_id=screening.pk, step=step - 1)
    if step >= total:
        return redirect("screening:screening-review", screening_id=screening.pk)
    return redirect("screening:screening-section", screening_id=screening.pk, step=step + 1)


# --- step 4 and 5: review and submit -----------------------------------------------------


@login_required
def screening_review_page(request: HttpRequest, screening_id: int) -> HttpResponse:
    screening = _editable_screening(request, screening_id)
    if isinstance(screening, HttpResponse):
        return screening
    context = _wizard_context(request, screening)
    definition, language = context["definition"], context["language"]
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            expected = int(request.POST.get("_version", ""))
        except ValueError:
            expected = None
        try:
            submitted = services.screening_submit(
                screening=screening, by=request.user, expected_version=expected
            )
        except ValidationError as error:
            problems = [error.message, *(m for ms in error.field_errors.values() for m in ms)]
            status = 400
        except ConflictError as error:
            problems, status = [_conflict_message(request, screening, error)], 409
        except ActionNotAllowed:
            raise
        except ApplicationError as error:
            problems, status = [error.message], 400
        else:
            return redirect(
                reverse("screening:screening-result", kwargs={"screening_id": submitted.pk})
            )
    sections = []
    for number, section in enumerate(definition.sections, start=1):
        sections.append(
            {
                "step": number,
                "title": section.title.get(language),
                "answers": [
                    {
                        "prompt": item.prompt.get(language),
                        "answer": answer_label(
                            definition, item.key, screening.answers.get(item.key), language
                        ),
                        "answered": item.key in screening.answers,
                    }
                    for item in section.items
                ],
            }
        )
    return render_page(
        request,
        "screening/wizard/review.html",
        {
            **context,
            "sections": sections,
            "errors": [{"anchor": "submit", "text": text} for text in problems],
        },
        status=status,
    )
