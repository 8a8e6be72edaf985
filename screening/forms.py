"""Forms of the screening web pages: shape and type only. Business rules live in the services;
their `ValidationError.field_errors` are copied onto these forms by `add_service_errors`."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms

from config.errors import ApplicationError, ValidationError
from config.tokens import MAX_TOKEN_DAYS
from indicators.engine import InstrumentDefinition, Section
from screening.models import Case, Consent, Screening, ScreeningOverride

YES_NO = [("yes", "Yes"), ("no", "No")]

# "Unknown is not No": every question offers these two, in the instrument's language.
NO_ANSWER_KEYS = ("unknown", "declined")
ANSWER_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "yes": "Yes",
        "no": "No",
        "unknown": "Don't know",
        "declined": "Prefer not to say",
        "not_answered": "Not answered",
        "value": "Answer",
        "why": "Why we ask",
    },
    "es": {
        "yes": "Sí",
        "no": "No",
        "unknown": "No sabe",
        "declined": "Prefiere no decirlo",
        "not_answered": "Sin responder",
        "value": "Respuesta",
        "why": "Por qué lo preguntamos",
    },
}


# An observation checklist of a place: the engine's yes / no / unknown, in the words of what an
# officer records. There is no "prefer not to say": nobody is asked anything.
OBSERVATION_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "yes": "Observed",
        "no": "Not observed",
        "unknown": "Could not check",
        "not_answered": "Not recorded",
        "why": "Why it matters",
    },
    "es": {
        "yes": "Observado",
        "no": "No observado",
        "unknown": "No se pudo comprobar",
        "not_answered": "Sin registrar",
        "why": "Por qué importa",
    },
}


def answer_words(language: str, *, observation: bool = False) -> dict[str, str]:
    words = ANSWER_WORDS.get(language, ANSWER_WORDS["en"])
    if not observation:
        return words
    observed = OBSERVATION_WORDS.get(language, OBSERVATION_WORDS["en"])
    return {key: value for key, value in {**words, **observed}.items() if key != "declined"}


def add_service_errors(form: forms.Form, error: ApplicationError) -> None:
    """Put a service's refusal on the form: a `ValidationError`'s messages on their fields (the
    rest, and the summary message when no field is named, at the top of the form); any other
    refusal's message at the top."""
    field_errors = error.field_errors if isinstance(error, ValidationError) else {}
    for field, messages in field_errors.items():
        for text in messages:
            form.add_error(field if field in form.fields else None, text)
    if not field_errors:
        form.add_error(None, error.message)


# --- cases ---------------------------------------------------------------------------------


class CaseCreateForm(forms.Form):
    age = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=Case.MAX_AGE,
        label="Age in years (if known)",
        help_text="Leave empty if not known. Under 18 raises a mandatory report at once.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    age_band = forms.ChoiceField(
        choices=Case.AgeBand.choices,
        initial=Case.AgeBand.UNKNOWN,
        label="Age band",
        help_text="If the exact age is not known. If the person may be under 18, say so.",
    )
    gender = forms.ChoiceField(choices=Case.Gender.choices, initial=Case.Gender.NOT_STATED)
    languages = forms.CharField(
        required=False,
        max_length=300,
        label="Languages the person speaks",
        help_text="Separate with commas, e.g. es, en.",
    )
    nationality = forms.CharField(required=False, max_length=64)
    region = forms.CharField(required=False, max_length=100, label="Region (where met)")
    exploitation_type = forms.ChoiceField(
        choices=Case.ExploitationType.choices,
        initial=Case.ExploitationType.UNKNOWN,
        label="Suspected type of exploitation",
    )
    safe_to_contact = forms.ChoiceField(
        choices=Case.safe_to_contact.field.choices,
        initial="unknown",
        label="Is it safe to contact the person later?",
        help_text="Someone may be watching their phone.",
    )
    do_not_contact = forms.BooleanField(
        required=False, label="Do not contact (blocks every outbound message)"
    )
    identifying_name = forms.CharField(required=False, max_length=200, label="Name")
    identifying_phone = forms.CharField(required=False, max_length=64, label="Phone")
    identifying_documents = forms.CharField(
        required=False, max_length=200, label="Identity documents"
    )

    def clean_languages(self) -> list[str]:
        text = self.cleaned_data.get("languages") or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class ConsentRecordForm(forms.Form):
    """A consent to share: one recipient (a type of service, a named provider, or law
    enforcement) per release, written and time-limited (VAWA good practice)."""

    SCOPES = [
        (Consent.Scope.REFERRAL_SERVICE_TYPE, Consent.Scope.REFERRAL_SERVICE_TYPE.label),
        (Consent.Scope.REFERRAL_PROVIDER, Consent.Scope.REFERRAL_PROVIDER.label),
        (Consent.Scope.LAW_ENFORCEMENT_SHARING, Consent.Scope.LAW_ENFORCEMENT_SHARING.label),
    ]

    scope = forms.ChoiceField(choices=SCOPES, label="What the person agreed to")
    service_type = forms.ChoiceField(
        required=False,
        choices=[("", "—")],  # filled from the provider directory's service types
        label="Type of service",
        help_text="For a referral to a type of service.",
    )
    provider_name = forms.CharField(
        required=False,
        max_length=200,
        label="Named provider",
        help_text="For a referral to one provider, as named in the directory.",
    )
    method = forms.ChoiceField(
        choices=Consent.Method.choices,
        initial=Consent.Method.WRITTEN,
        label="How consent was given",
        help_text="Sharing needs written consent.",
    )
    valid_until = forms.DateField(
        label="Valid until",
        help_text="Consent to share is time-limited. The person may withdraw it at any time.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    interpreter_used = forms.BooleanField(required=False, label="An interpreter was used")
    interpreter_language = forms.CharField(
        required=False, max_length=32, label="Interpreter language"
    )
    witness = forms.CharField(required=False, max_length=200, label="Witness")

    def __init__(self, *args: Any, service_type_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [("", "—"), *service_type_choices]

    def clean_valid_until(self) -> datetime.datetime:
        day = self.cleaned_data["valid_until"]
        if day < datetime.date.today():
            raise forms.ValidationError("Choose a date from today on.")
        # Valid through the whole of the chosen day.
        end_of_day = datetime.datetime.combine(day, datetime.time(23, 59, 59))
        return end_of_day.replace(tzinfo=datetime.UTC)


class ConsentWithdrawForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, label="Note")


# --- the screening wizard ------------------------------------------------------------------


class SafetyGateForm(forms.Form):
    """The first step: nothing is asked about the person's situation until this says go."""

    # The page's order, so that the error summary lists problems as the page shows them.
    field_order = [
        "safe_to_talk",
        "alone",
        "interpreter_used",
        "interpreter_independent",
        "interpreter_language",
        "setting",
        "instrument_version",
    ]

    instrument_version = forms.ChoiceField(label="Questionnaire")
    setting = forms.ChoiceField(
        choices=Screening.Setting.choices, label="Where are you?", widget=forms.RadioSelect
    )
    safe_to_talk = forms.ChoiceField(
        choices=YES_NO,
        label="Ask the person: is it safe for you to talk now?",
        widget=forms.RadioSelect,
    )
    alone = forms.ChoiceField(
        choices=YES_NO,
        label="Is the person alone with you (no companion, employer or family member present)?",
        help_text="An independent interpreter may stay.",
        widget=forms.RadioSelect,
    )
    interpreter_used = forms.ChoiceField(
        choices=YES_NO, label="Is an interpreter needed?", widget=forms.RadioSelect
    )
    interpreter_independent = forms.ChoiceField(
        choices=YES_NO,
        required=False,
        label="If so, is the interpreter independent: not a family member, companion or "
        "someone from the person's community?",
        widget=forms.RadioSelect,
    )
    interpreter_language = forms.CharField(
        required=False,
        max_length=32,
        label="Interpreter's language",
        help_text="If an interpreter is used: the language they interpret, e.g. es.",
    )

    def __init__(self, *args: Any, instrument_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["instrument_version"].choices = instrument_choices

    @property
    def says_stop(self) -> bool:
        """Not safe to talk, or not alone: stop, whatever else the form says."""
        data = getattr(self, "cleaned_data", {})
        return data.get("safe_to_talk") == "no" or data.get("alone") == "no"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.says_stop:
            return data
        if data.get("interpreter_used") == "yes":
            if not (data.get("interpreter_language") or "").strip():
                self.add_error("interpreter_language", "Say which language the interpreter uses.")
            if data.get("interpreter_independent") != "yes":
                self.add_error(
                    "interpreter_independent",
                    "Use an independent interpreter: never a family member, a companion or "
                    "someone from the person's community.",
                )
        return data


class ObservationStartForm(forms.Form):
    """An observation checklist of a place starts here: no safety questions and no consent,
    because no person is asked anything."""

    instrument_version = forms.ChoiceField(label="Checklist", widget=forms.RadioSelect)

    def __init__(self, *args: Any, instrument_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["instrument_version"].choices = instrument_choices


class ScreeningConsentForm(forms.Form):
    explained = forms.BooleanField(
        label="I have explained what the screening is, that they can skip any question or stop "
        "at any time, and the limits of confidentiality, in a language the person understands."
    )
    agrees = forms.ChoiceField(
        choices=YES_NO,
        label="Does the person agree to answer some questions?",
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        choices=Consent.Method.choices,
        initial=Consent.Method.VERBAL,
        label="How was consent given?",
        widget=forms.RadioSelect,
    )
    witness = forms.CharField(
        required=False,
        max_length=200,
        label="Witness (their role)",
        help_text='For example "duty nurse". Do not write the person\'s name here.',
    )

    @property
    def declined(self) -> bool:
        return getattr(self, "cleaned_data", {}).get("agrees") == "no"


class ScreeningReviewForm(forms.Form):
    # The result page holds this form and the override form, both with a note: each form's
    # prefix keeps its ids (and so its labels) its own.
    prefix = "review"

    note = forms.CharField(
        required=False, max_length=2000, label="Review note", widget=forms.Textarea
    )


class ScreeningOverrideForm(forms.Form):
    prefix = "override"  # see ScreeningReviewForm

    outcome = forms.ChoiceField(label="Outcome you decide")
    reason_code = forms.ChoiceField(
        choices=ScreeningOverride.ReasonCode.choices, label="Reason", widget=forms.RadioSelect
    )
    note = forms.CharField(
        max_length=2000,
        label="Explain the override",
        help_text="No names: describe what the questions missed.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, outcome_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = outcome_choices


class SectionAnswersForm(forms.Form):
    """One section of an instrument: one field per item, named by its key.

    Nothing is required (any question may be skipped); every question offers "don't know" and
    "prefer not to say". An observation checklist of a place offers observed / not observed /
    could not check instead (the engine's yes / no / unknown) and never "prefer not to say".
    A posted key that is not a question of this section is an error, and then nothing is saved.
    """

    VERSION_FIELD = "_version"
    ACTION_FIELD = "_action"
    NONE_SUFFIX = "__none"  # number/date items: the "don't know / prefer not to say" radios
    CONTROL_FIELDS = frozenset({"csrfmiddlewaretoken", VERSION_FIELD, ACTION_FIELD})

    _version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        section: Section,
        language: str,
        answers: dict[str, Any],
        observation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.section = section
        self.language = language
        words = answer_words(language, observation=observation)
        self.no_answer_choices = [(key, words[key]) for key in NO_ANSWER_KEYS if key in words]
        for item in section.items:
            saved = answers.get(item.key)
            kind = item.response_type
            options = [(option.key, option.label.get(language)) for option in item.options or ()]
            if kind == "yes_no":
                self.fields[item.key] = forms.ChoiceField(
                    choices=[("yes", words["yes"]), ("no", words["no"]), *self.no_answer_choices],
                    required=False,
                    widget=forms.RadioSelect,
                    initial=saved,
                )
            elif kind == "single_choice":
                self.fields[item.key] = forms.ChoiceField(
                    choices=[*options, *self.no_answer_choices],
                    required=False,
                    widget=forms.RadioSelect,
                    initial=saved,
                )
            elif kind == "multiple_choice":
                initial = saved if isinstance(saved, list) else ([saved] if saved else [])
                self.fields[item.key] = forms.MultipleChoiceField(
                    choices=[*options, *self.no_answer_choices],
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    initial=initial,
                )
            else:  # number, date: a value, or one of the no-answer choices
                if kind == "number":
                    value_field: forms.Field = forms.DecimalField(
                        required=False, widget=forms.NumberInput(attrs={"inputmode": "decimal"})
                    )
                else:
                    value_field = forms.DateField(
                        required=False, widget=forms.DateInput(attrs={"type": "date"})
                    )
                value_field.label = words["value"]
                value_field.initial = saved if saved not in NO_ANSWER_KEYS else None
                self.fields[item.key] = value_field
                self.fields[item.key + self.NONE_SUFFIX] = forms.ChoiceField(
                    choices=self.no_answer_choices,
                    required=False,
                    widget=forms.RadioSelect,
                    initial=saved if saved in NO_ANSWER_KEYS else None,
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        strays = sorted(
            key for key in self.data if key not in self.fields and key not in self.CONTROL_FIELDS
        )
        for key in strays:
            self.add_error(None, f"“{key[:60]}” is not a question on this page; nothing was saved.")
        for item in self.section.items:
            value = data.get(item.key)
            kind = item.response_type
            if kind == "multiple_choice" and value and len(value) > 1:
                if set(value) & set(NO_ANSWER_KEYS):
                    self.add_error(
                        item.key,
                        "Choose options, or “don't know” / “prefer not to say”, not both.",
                    )
            elif kind in ("number", "date") and value not in (None, ""):
                both = bool(data.get(item.key + self.NONE_SUFFIX))
                if both:
                    self.add_error(
                        item.key, "Give an answer or choose a no-answer option, not both."
                    )
        return data

    def answers(self) -> dict[str, Any]:
        """The answers given on this page, in the engine's format (untouched questions left out)."""
        data = self.cleaned_data
        answers: dict[str, Any] = {}
        for item in self.section.items:
            value = data.get(item.key)
            kind = item.response_type
            if kind in ("yes_no", "single_choice"):
                if value:
                    answers[item.key] = value
            elif kind == "multiple_choice":
                if value:
                    no_answer = [key for key in value if key in NO_ANSWER_KEYS]
                    answers[item.key] = no_answer[0] if no_answer else list(value)
            else:
                none = data.get(item.key + self.NONE_SUFFIX)
                if none:
                    answers[item.key] = none
                elif isinstance(value, Decimal):
                    answers[item.key] = int(value) if value == value.to_integral() else float(value)
                elif isinstance(value, datetime.date):
                    answers[item.key] = value.isoformat()
        return answers


def answer_label(definition: InstrumentDefinition, key: str, value: Any, language: str) -> str:
    """An answer as the worker would read it, in `language`."""
    words = answer_words(language, observation=definition.is_observation)
    if value is None:
        return words["not_answered"]
    if isinstance(value, str) and value in words:
        return words[value]
    try:
        item = definition.item(key)
    except KeyError:
        return str(value)
    labels = {option.key: option.label.get(language) for option in item.options or ()}
    if isinstance(value, list):
        return ", ".join(labels.get(entry, str(entry)) for entry in value)
    return labels.get(value, str(value)) if isinstance(value, str) else str(value)


# --- API tokens ----------------------------------------------------------------------------


class ApiTokenCreateForm(forms.Form):
    """A personal API token: what it is for and how long it lives. `request_id` is a fresh
    random value per form shown; a form sent twice (a reload of the page showing the secret,
    a double click) creates one token, and the secret is never shown again."""

    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="The system that will use it, e.g. contact-centre.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=90,
        label="Days until it expires",
        help_text=f"From 1 to {MAX_TOKEN_DAYS}. Create the next token before then.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    request_id = forms.CharField(max_length=64, widget=forms.HiddenInput)


# --- legal hold ----------------------------------------------------------------------------


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        label="Why must this case be kept?",
        help_text="E.g. the proceedings or records request it is needed for. No names.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the case must be kept."},
    )


# --- emergency access (break-glass) ----------------------------------------------------------


class BreakGlassRequestForm(forms.Form):
    reference = forms.CharField(
        max_length=16,
        label="Case reference",
        help_text="As it was given to you, e.g. C-ABCD-2345.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"required": "Enter the case reference."},
    )
    reason = forms.CharField(
        max_length=2000,
        label="Why do you need to see this case now?",
        help_text="A supervisor of the case's agency will read this. No names.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why you need to see this case now."},
    )


class BreakGlassReviewForm(forms.Form):
    """One grant's review on the supervisors' list; prefixed with the grant's id so that every
    row's controls have ids of their own."""

    outcome = forms.ChoiceField(
        choices=[("justified", "Justified"), ("not_justified", "Not justified")],
        widget=forms.RadioSelect,
        label="Was this emergency access justified?",
        error_messages={"required": "Choose justified or not justified."},
    )
    note = forms.CharField(
        max_length=2000,
        required=False,
        label="Note",
        help_text="Needed when it was not justified. No names.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- two-step sign-in ----------------------------------------------------------------------


class MfaCodeForm(forms.Form):
    """The code asked for after the password: 6 digits from the app, or a backup code."""

    code = forms.CharField(
        max_length=32,
        strip=True,
        label="Code",
        help_text="The 6 digits your authenticator app shows now, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        error_messages={"required": "Enter the 6-digit code from your authenticator app."},
    )


class MfaSetupForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        strip=True,
        label="Code from the app",
        help_text="After adding the account, the app shows 6 digits that change every 30 s.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Enter the 6 digits your authenticator app shows."},
    )
