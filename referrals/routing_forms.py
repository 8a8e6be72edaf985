"""Forms of the routing rule pages: shape only. What the rules mean is checked by the
services (referrals/routing_text.py), whose problems, each with its line and field, are
copied onto the text field."""

from __future__ import annotations

from django import forms

from referrals.routing_text import TEXT_MAX_BYTES
from referrals.services.routing_dry_run import DRY_RUN_DEFAULT, DRY_RUN_MAX

TEXT_HELP = (
    "The rule file's format (docs/routing-rules.md): a title and rules, each with a key, a "
    "sentence, when it applies and what it refers to. Slug, version and status are set for "
    f"you. At most {TEXT_MAX_BYTES // 1024} KB."
)


class RoutingDraftTextForm(forms.Form):
    text = forms.CharField(
        label="Rules (YAML)",
        strip=False,
        max_length=TEXT_MAX_BYTES,
        help_text=TEXT_HELP,
        widget=forms.Textarea(
            attrs={
                "rows": 28,
                "spellcheck": "false",
                "autocapitalize": "off",
                "autocomplete": "off",
                "class": "code-input",
            }
        ),
    )


class RoutingDraftUploadForm(forms.Form):
    file = forms.FileField(
        label="Rules file (.yaml)",
        help_text=f"A rule file as in seeds/routing/; at most {TEXT_MAX_BYTES // 1024} KB. "
        "It replaces the draft's rules.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml"}),
    )

    def clean_file(self) -> str:
        """The file's text (the service validates what it says)."""
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".yaml", ".yml")):
            raise forms.ValidationError("Choose a file whose name ends in .yaml or .yml.")
        if upload.size > TEXT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {TEXT_MAX_BYTES // 1024} KB: rule files are small."
            )
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


class RoutingDryRunForm(forms.Form):
    screenings = forms.IntegerField(
        label="How many of your agency's last screenings",
        min_value=1,
        max_value=DRY_RUN_MAX,
        initial=DRY_RUN_DEFAULT,
        help_text=f"From 1 to {DRY_RUN_MAX}; the newest submitted screenings first.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
