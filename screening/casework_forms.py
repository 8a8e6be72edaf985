"""Forms of the case-work pages (issue 14) and the hotline contact pages: shape and type only.
The rules are the services'; their errors are copied on with `forms.add_service_errors`."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from screening.models import Case, CaseCloseReason, CaseNote, CaseTask, Contact

NO_NAMES = "No names or contact details: the reference is enough."


class _ChoiceOfPeople(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class AssignForm(forms.Form):
    worker = _ChoiceOfPeople(
        queryset=None, label="Who should work on this case?", empty_label="Choose a person"
    )

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, prefix="assign", **kwargs)
        self.fields["worker"].queryset = workers


class ShareForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=None, label="Which agency?", empty_label="Choose an agency"
    )
    reason = forms.CharField(
        label="Why share it with them?",
        help_text=NO_NAMES,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    identifying = forms.BooleanField(
        required=False,
        label="Include the person's name, phone, documents and the account of what happened",
        help_text="Only with the person's written consent naming that agency.",
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, prefix="share", **kwargs)
        self.fields["agency"].queryset = agencies


class TransferForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=None, label="Which agency should take the case over?", empty_label="Choose"
    )
    reason = forms.CharField(
        label="What should their supervisor know?",
        help_text="They read this before they decide. " + NO_NAMES,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, prefix="transfer", **kwargs)
        self.fields["agency"].queryset = agencies


class TransferAcceptForm(forms.Form):
    assign_to = _ChoiceOfPeople(
        queryset=None,
        required=False,
        label="Give the case to",
        empty_label="Nobody yet (I will assign it later)",
    )

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, prefix="accept", **kwargs)
        self.fields["assign_to"].queryset = workers


class TransferDeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why can your agency not take it?",
        help_text="The other agency's supervisors read this.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="decline", **kwargs)


class CloseForm(forms.Form):
    reason_code = forms.ChoiceField(
        choices=CaseCloseReason.choices,
        widget=forms.RadioSelect,
        label="Why is the case closing?",
    )
    note = forms.CharField(
        required=False,
        label="Anything to add",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="close", **kwargs)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        choices=CaseNote.Kind.choices, widget=forms.RadioSelect, label="What is the note about?"
    )
    text = forms.CharField(
        label="Note",
        max_length=CaseNote.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Write what happened and what was agreed. Others working on the case read it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "note")
        super().__init__(*args, **kwargs)


class TaskForm(forms.Form):
    description = forms.CharField(
        label="What needs doing?", max_length=CaseTask.MAX_LENGTH, help_text=NO_NAMES
    )
    kind = forms.ChoiceField(choices=CaseTask.Kind.choices, label="Kind of task")
    due_date = forms.DateField(
        label="Due by", widget=forms.DateInput(attrs={"type": "date"}), help_text="Day month year"
    )
    assignee = _ChoiceOfPeople(
        queryset=None, required=False, label="Who will do it?", empty_label="Me"
    )

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, prefix="task", **kwargs)
        self.fields["assignee"].queryset = workers

    def due_at(self) -> datetime.datetime:
        """The end of the due day, in the service's time zone."""
        day = self.cleaned_data["due_date"]
        end = datetime.datetime.combine(day, datetime.time(17, 0))
        return timezone.make_aware(end)


class ContactForm(forms.Form):
    """A hotline contact as the web logs it (the API takes the same fields)."""

    channel = forms.ChoiceField(choices=Contact.Channel.choices, label="How did they get in touch?")
    contact_type = forms.ChoiceField(
        choices=Contact.ContactType.choices, label="What kind of contact is it?"
    )
    caller_type = forms.ChoiceField(
        choices=Contact.CallerType.choices, label="Who is getting in touch?", initial="anonymous"
    )
    immediate_danger = forms.BooleanField(required=False, label="Someone is in danger now")
    minor_involved = forms.BooleanField(required=False, label="A child (under 18) is involved")
    exploitation_type = forms.ChoiceField(
        choices=Case.ExploitationType.choices, label="What kind of exploitation, if known?"
    )
    language = forms.CharField(required=False, max_length=32, label="Language of the contact")
    caller_region = forms.CharField(required=False, max_length=100, label="Caller's region")
    situation_location = forms.CharField(
        required=False,
        max_length=2000,
        label="Where is the situation?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    summary = forms.CharField(
        required=False,
        max_length=20000,
        label="What did they tell you?",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    caller_name = forms.CharField(
        required=False,
        max_length=200,
        label="Caller's name",
        help_text="Only if they want to give it.",
    )
    caller_phone = forms.CharField(
        required=False,
        max_length=100,
        label="Caller's phone number",
        help_text="Only if it is safe to call back.",
    )
    case = forms.RegexField(
        required=False,
        regex=r"^\s*[Cc]-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}\s*$",
        max_length=16,
        label="Link to a case (reference)",
        help_text="For example C-ABCD-EFGH. Leave empty if there is none.",
        error_messages={"invalid": "Give a case reference like C-ABCD-EFGH."},
    )
    create_case = forms.BooleanField(required=False, label="Open a new case for this contact")

    def clean(self):
        data = super().clean()
        if data.get("case") and data.get("create_case"):
            self.add_error("create_case", "Link a case or open a new one, not both.")
        return data

    def service_arguments(self, *, for_update: bool = False) -> dict:
        data = dict(self.cleaned_data)
        reference = (data.pop("case", "") or "").strip().upper()
        create_case = data.pop("create_case", False)
        if for_update:
            data["case"] = reference or None
        else:
            data["case_reference"] = reference or None
            data["create_case"] = create_case
        return data


class ContactEditForm(ContactForm):
    """A draft contact's changes: the same questions, no new case (link one instead)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["create_case"]
