from django.urls import path

from screening.api import access, casework, views

urlpatterns = [
    path("contacts/", views.ContactsApi.as_view(), name="api-contact-list"),
    path("contacts/<int:contact_id>/", views.ContactItemApi.as_view(), name="api-contact-detail"),
    path(
        "contacts/<int:contact_id>/finalise",
        views.ContactFinaliseApi.as_view(),
        name="api-contact-finalise",
    ),
    path("cases/", views.CasesApi.as_view(), name="api-case-list"),
    path("cases/<str:reference>/", views.CaseDetailApi.as_view(), name="api-case-detail"),
    path(
        "cases/<str:reference>/access/",
        access.CaseAccessListApi.as_view(),
        name="api-case-access",
    ),
    path("cases/<str:reference>/assign", casework.CaseAssignApi.as_view(), name="api-case-assign"),
    path(
        "cases/<str:reference>/unassign",
        casework.CaseUnassignApi.as_view(),
        name="api-case-unassign",
    ),
    path("cases/<str:reference>/share", casework.CaseShareApi.as_view(), name="api-case-share"),
    path("cases/<str:reference>/close", casework.CaseCloseApi.as_view(), name="api-case-close"),
    path("cases/<str:reference>/reopen", casework.CaseReopenApi.as_view(), name="api-case-reopen"),
    path(
        "cases/<str:reference>/transfers/",
        casework.CaseTransferRequestApi.as_view(),
        name="api-case-transfer",
    ),
    path("cases/<str:reference>/notes/", casework.CaseNotesApi.as_view(), name="api-case-notes"),
    path(
        "cases/<str:reference>/timeline/",
        casework.CaseTimelineApi.as_view(),
        name="api-case-timeline",
    ),
    path("cases/<str:reference>/tasks/", casework.CaseTasksApi.as_view(), name="api-case-tasks"),
    path("notes/<int:note_id>/", casework.NoteItemApi.as_view(), name="api-note-detail"),
    path("tasks/", casework.MyTaskListApi.as_view(), name="api-task-list"),
    path("tasks/<int:task_id>/done", casework.TaskDoneApi.as_view(), name="api-task-done"),
    path("transfers/", casework.TransferListApi.as_view(), name="api-transfer-list"),
    path(
        "transfers/<int:transfer_id>/",
        casework.TransferDetailApi.as_view(),
        name="api-transfer-detail",
    ),
    *(
        path(
            f"transfers/<int:transfer_id>/{action}",
            view.as_view(),
            name=f"api-transfer-{action}",
        )
        for action, view in (
            ("accept", casework.TransferAcceptApi),
            ("decline", casework.TransferDeclineApi),
            ("cancel", casework.TransferCancelApi),
        )
    ),
    path("notifications/", casework.NotificationListApi.as_view(), name="api-notification-list"),
    path(
        "notifications/<int:notification_id>/read",
        casework.NotificationReadApi.as_view(),
        name="api-notification-read",
    ),
    path(
        "cases/<str:reference>/screenings/",
        views.ScreeningStartApi.as_view(),
        name="api-screening-start",
    ),
    path(
        "screenings/<int:screening_id>/",
        views.ScreeningDetailApi.as_view(),
        name="api-screening-detail",
    ),
    path(
        "screenings/<int:screening_id>/answers",
        views.ScreeningAnswersUpdateApi.as_view(),
        name="api-screening-answers",
    ),
    path(
        "screenings/<int:screening_id>/submit",
        views.ScreeningSubmitApi.as_view(),
        name="api-screening-submit",
    ),
    path(
        "screenings/<int:screening_id>/result",
        views.ScreeningResultApi.as_view(),
        name="api-screening-result",
    ),
    path("tokens/", views.ApiTokensApi.as_view(), name="api-token-list"),
    path(
        "tokens/<str:prefix>/revoke",
        views.ApiTokenRevokeApi.as_view(),
        name="api-token-revoke",
    ),
]
