"""Web page URLs. Only the pseudonymous case reference and screening ids appear in them."""

from django.urls import path, register_converter

from screening import views
from screening.views import account as account_views
from screening.views import staff as staff_views
from screening.views.mfa import staff_mfa_reset_page


class CaseReferenceConverter:
    """`C-XXXX-XXXX` (see `models.new_case_reference`): never a name, never a database id."""

    regex = r"C-[A-Z0-9]{4}-[A-Z0-9]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseReferenceConverter, "caseref")

app_name = "screening"

urlpatterns = [
    path("", views.my_cases, name="my-cases"),
    path("quick-exit", views.quick_exit, name="quick-exit"),
    path("cases/agency/", views.agency_cases, name="agency-cases"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/break-glass/", views.break_glass, name="break-glass"),
    path("cases/<caseref:reference>/", views.case_detail, name="case-detail"),
    path(
        "cases/<caseref:reference>/access-history/",
        views.case_access_history,
        name="case-access-history",
    ),
    path("cases/<caseref:reference>/changes/", views.case_changes, name="case-changes"),
    path("cases/<caseref:reference>/access/", views.case_who_can_see, name="case-who-can-see"),
    path("cases/<caseref:reference>/legal-hold", views.case_legal_hold, name="case-legal-hold"),
    path("cases/<caseref:reference>/consents/new", views.consent_new, name="consent-new"),
    path(
        "cases/<caseref:reference>/consents/<int:consent_id>/withdraw",
        views.consent_withdraw,
        name="consent-withdraw",
    ),
    path("cases/<caseref:reference>/screenings/new/", views.screening_gate, name="screening-gate"),
    path(
        "cases/<caseref:reference>/screenings/new/consent",
        views.screening_consent,
        name="screening-consent",
    ),
    path(
        "screenings/<int:screening_id>/step/<int:step>/",
        views.screening_section,
        name="screening-section",
    ),
    path(
        "screenings/<int:screening_id>/review/",
        views.screening_review_page,
        name="screening-review",
    ),
    path("screenings/<int:screening_id>/", views.screening_result, name="screening-result"),
    path(
        "screenings/<int:screening_id>/override",
        views.screening_override,
        name="screening-override",
    ),
    path(
        "screenings/<int:screening_id>/reviewed",
        views.screening_review,
        name="screening-mark-reviewed",
    ),
    path("agency/break-glass/", views.break_glass_reviews, name="break-glass-reviews"),
    path(
        "agency/break-glass/<int:grant_id>/review",
        views.break_glass_review_submit,
        name="break-glass-review",
    ),
    path("agency/refusals/", views.refusal_flags, name="refusal-flags"),
    path("agency/lockouts/", staff_views.agency_lockouts, name="agency-lockouts"),
    path("staff/<int:member_id>/unlock", staff_views.staff_unlock_page, name="staff-unlock"),
    path(
        "staff/<int:member_id>/deactivate/",
        staff_views.staff_deactivate_page,
        name="staff-deactivate",
    ),
    path("account/", account_views.account, name="account"),
    path("account/password/", account_views.password_change, name="password-change"),
    path(
        "account/sign-out-everywhere",
        account_views.sign_out_everywhere,
        name="sign-out-everywhere",
    ),
    path("staff/<int:member_id>/mfa-reset/", staff_mfa_reset_page, name="staff-mfa-reset"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
    path(
        "account/api-tokens/<str:prefix>/revoke",
        views.api_token_revoke,
        name="api-token-revoke",
    ),
]
