"""Web page URLs. Only the pseudonymous case reference and screening ids appear in them."""

from django.urls import path, register_converter

from screening import views
from screening.views import account as account_views
from screening.views import casework as casework_views
from screening.views import contacts as contact_views
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
    path(
        "cases/<caseref:reference>/timeline/",
        casework_views.case_timeline,
        name="case-timeline",
    ),
    *(
        path(f"cases/<caseref:reference>/{action}", view, name=f"case-{action}")
        for action, view in (
            ("assign", casework_views.case_assign_page),
            ("share", casework_views.case_share_page),
            ("transfer", casework_views.case_transfer_page),
            ("close", casework_views.case_close_page),
            ("reopen", casework_views.case_reopen_page),
        )
    ),
    path(
        "cases/<caseref:reference>/unassign/<int:worker_id>",
        casework_views.case_unassign_page,
        name="case-unassign",
    ),
    path("cases/<caseref:reference>/notes/new", casework_views.case_note_new, name="note-new"),
    path("cases/<caseref:reference>/tasks/new", casework_views.case_task_new, name="task-new"),
    path(
        "notes/<int:note_id>/correct/", casework_views.case_note_correct_page, name="note-correct"
    ),
    path("tasks/", casework_views.my_tasks, name="my-tasks"),
    path("tasks/<int:task_id>/done", casework_views.case_task_done_page, name="task-done"),
    path("notifications/", casework_views.notifications, name="notifications"),
    path(
        "notifications/<int:notification_id>/open",
        casework_views.notification_open,
        name="notification-open",
    ),
    path(
        "notifications/read-all",
        casework_views.notifications_read_all,
        name="notifications-read-all",
    ),
    path("transfers/", casework_views.transfer_list_page, name="transfers"),
    path(
        "transfers/<int:transfer_id>/",
        casework_views.transfer_detail_page,
        name="transfer-detail",
    ),
    *(
        path(f"transfers/<int:transfer_id>/{action}", view, name=f"transfer-{action}")
        for action, view in (
            ("accept", casework_views.transfer_accept_page),
            ("decline", casework_views.transfer_decline_page),
            ("cancel", casework_views.transfer_cancel_page),
        )
    ),
    path("contacts/", contact_views.contact_list_page, name="contacts"),
    path("contacts/new/", contact_views.contact_new_page, name="contact-new"),
    path("contacts/<int:contact_id>/", contact_views.contact_detail_page, name="contact-detail"),
    path(
        "contacts/<int:contact_id>/finalise",
        contact_views.contact_finalise_page,
        name="contact-finalise",
    ),
    path("cases/<caseref:reference>/screenings/new/", views.screening_gate, name="screening-gate"),
    path(
        "cases/<caseref:reference>/observations/new/",
        views.observation_start_page,
        name="observation-start",
    ),
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
    path("agency/staff/", staff_views.staff_list_page, name="staff-list"),
    path("agency/staff/new/", staff_views.staff_new_page, name="staff-new"),
    path("agency/staff/<int:member_id>/", staff_views.staff_detail_page, name="staff-detail"),
    path("agency/staff/<int:member_id>/roles/", staff_views.staff_roles_page, name="staff-roles"),
    path(
        "agency/staff/<int:member_id>/password-link/",
        staff_views.staff_password_link_page,
        name="staff-password-link",
    ),
    path(
        "agency/staff/<int:member_id>/reactivate",
        staff_views.staff_reactivate_page,
        name="staff-reactivate",
    ),
    # The page a member's one-time set-password link opens (beside the other sign-in pages).
    path(
        "accounts/set-password/<str:uidb64>/<str:token>/",
        staff_views.staff_set_password_page,
        name="staff-set-password",
    ),
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
