"""The form an agency administrator edits a provider's directory entry with: shape and type
only. What a valid entry is, is decided once, by the directory's validation, through the
services (`referrals/services/providers.py`); their field errors come back onto this form.

The choices offered are the directory's own vocabularies (`referrals.directory.Population`,
`ServiceType`), the languages the service names, and the regions already in use; values an
entry already holds are always offered, so saving never drops one silently."""

from __future__ import annotations

from typing import get_args

from django import forms

from config.labels import label
from referrals.directory import Population
from referrals.models import ServiceProvider, ServiceType
from screening.labels import LANGUAGE_NAMES

NATIONAL = "national"
ROOM_CHOICES = [
    (code, text)
    for code, text in ServiceProvider.Capacity.choices
    if code != ServiceProvider.Capacity.CLOSED
]


def _literal_codes(field: str) -> list[str]:
    """The codes a `Population` list field allows (its `list[Literal[...]]` annotation)."""
    (literal,) = get_args(Population.model_fields[field].annotation)
    return list(get_args(literal))


def _with_current(choices: list[tuple[str, str]], current, kind: str) -> list[tuple[str, str]]:
    known = {code for code, _ in choices}
    return choices + [(code, label(code, kind)) for code in current or () if code not in known]


class ProviderForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name of the service")
    service_types = forms.MultipleChoiceField(
        choices=ServiceType.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Services offered",
        help_text="Routing proposes this provider only for the services ticked.",
    )
    regions = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Regions covered",
        help_text='"National" covers every region.',
    )
    other_regions = forms.CharField(
        required=False,
        max_length=300,
        label="Other regions",
        help_text="Regions not listed above, separated by commas.",
    )
    languages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Languages spoken",
        help_text="A shared language ranks the provider higher for a person.",
    )
    min_age = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=120,
        label="Youngest age served",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    max_age = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=120,
        label="Oldest age served",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    genders = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Genders served",
        help_text="None ticked: every gender.",
    )
    exploitation_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Kinds of exploitation served",
        help_text="None ticked: every kind.",
    )
    accepting = forms.BooleanField(
        required=False,
        label="Accepting referrals now",
        help_text="Untick to stop new referrals at once: routing then proposes others.",
    )
    room = forms.ChoiceField(
        choices=ROOM_CHOICES,
        widget=forms.RadioSelect,
        label="Room for new referrals",
        help_text="A full provider is proposed only when no other serves the person.",
    )
    response_due_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 30,
        label="Answers a referral within (hours)",
        help_text="A referral not answered by then is escalated to the referring supervisor.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    channel = forms.ChoiceField(
        choices=ServiceProvider.Channel.choices,
        widget=forms.RadioSelect,
        label="How referrals reach you",
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook address",
        help_text="For a signed webhook: the https address your system receives referrals at.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.CharField(
        required=False,
        max_length=254,
        label="Email address for referrals",
        help_text="For email: the mailbox that gets a notice of each referral.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, known_regions=(), provider: ServiceProvider | None = None, **kw):
        if provider is not None and not kw.get("initial"):
            kw["initial"] = self.initial_for(provider)
        super().__init__(*args, **kw)
        current = provider or ServiceProvider()
        regions = sorted({NATIONAL, *known_regions, *(current.regions or ())}, key=str.lower)
        self.fields["regions"].choices = [
            (region, "National" if region == NATIONAL else region) for region in regions
        ]
        self.fields["languages"].choices = _with_current(
            sorted(((code, name) for code, name in LANGUAGE_NAMES.items()), key=lambda c: c[1]),
            current.languages,
            "language",
        )
        self.fields["genders"].choices = [
            (code, label(code, "gender")) for code in _literal_codes("genders")
        ]
        self.fields["exploitation_types"].choices = [
            (code, label(code, "exploitation_type"))
            for code in _literal_codes("exploitation_types")
        ]

    @staticmethod
    def initial_for(provider: ServiceProvider) -> dict:
        closed = provider.capacity == ServiceProvider.Capacity.CLOSED
        return {
            "name": provider.name,
            "service_types": provider.service_types,
            "regions": provider.regions,
            "languages": provider.languages,
            "min_age": provider.min_age,
            "max_age": provider.max_age,
            "genders": provider.genders,
            "exploitation_types": provider.exploitation_types,
            "accepting": not closed,
            "room": ServiceProvider.Capacity.AVAILABLE if closed else provider.capacity,
            "response_due_hours": provider.response_due_hours,
            "channel": provider.channel,
            "webhook_url": provider.webhook_url,
            "email": provider.email,
        }

    def service_values(self) -> dict:
        """The cleaned form as the services' keyword arguments."""
        data = self.cleaned_data
        others = [region.strip() for region in data["other_regions"].split(",")]
        return {
            "name": data["name"],
            "service_types": data["service_types"],
            "regions": [*data["regions"], *(region for region in others if region)],
            "languages": data["languages"],
            "min_age": data["min_age"],
            "max_age": data["max_age"],
            "genders": data["genders"],
            "exploitation_types": data["exploitation_types"],
            "capacity": data["room"] if data["accepting"] else ServiceProvider.Capacity.CLOSED,
            "response_due_hours": data["response_due_hours"],
            "channel": data["channel"],
            "webhook_url": data["webhook_url"],
            "email": data["email"],
        }
