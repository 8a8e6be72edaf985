from django.urls import path

from screening.api import views

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
]
