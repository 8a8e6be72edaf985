from django.urls import path

from screening.api import access, views

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
