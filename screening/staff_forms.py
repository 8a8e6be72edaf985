"""Forms of the agency administrator's staff pages and of the set-password page: shape and
type only. Which roles may be given, unique usernames and the last administrator are the
services' rules (screening/services/staff.py); their errors are put on these forms."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from screening.roles import Role


def _role_choices(roles: Iterable[str]) -> list[tuple[str, str]]:
    return [(role, Role(role).label) for role in roles]


class StaffCreateForm(forms.Form):
    # A random id per form shown: a second sending of the same form (a reload of the page
    # that showed the link) leads to the member added, not to "username taken".
    request_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What they will sign in with: letters, digits and . @ + - _ (no spaces).",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        required=False,
        help_text=(
            "Their work address, if they have one: the set-password link is sent there too. "
            "Without one, you hand them the link yourself."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        widget=forms.CheckboxSelectMultiple,
        help_text="What they may do. You can change it later.",
        error_messages={"required": "Choose at least one role."},
    )

    def __init__(self, *args, grantable: Iterable[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(grantable)

    def service_arguments(self) -> dict[str, object]:
        return {
            name: self.cleaned_data[name]
            for name in ("username", "first_name", "last_name", "email", "roles")
        }


class StaffRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles",
        widget=forms.CheckboxSelectMultiple,
        required=False,  # none at all is the service's refusal, with its reason
    )

    def __init__(self, *args, choices: Iterable[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(choices)


class StaffSetPasswordForm(SetPasswordForm):
    """Django's form (the two passwords match, the validators pass); the page's service
    saves it, not `save()`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 12 characters. Not a common password, not only digits, and not like "
            "your name or username."
        )
        self.fields["new_password2"].label = "New password again"
        self.fields["new_password2"].help_text = "The same password, to be sure of it."
