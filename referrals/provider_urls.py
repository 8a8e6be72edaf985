"""The provider directory for its agencies' administrators: /agency/providers/ (issue 15)."""

from django.urls import path

from referrals.views import providers as views

app_name = "providers"

urlpatterns = [
    path("", views.provider_list_page, name="list"),
    path("new", views.provider_new_page, name="new"),
    path("<int:provider_id>/", views.provider_edit_page, name="edit"),
    path(
        "<int:provider_id>/rotate-secret", views.provider_secret_rotate_page, name="rotate-secret"
    ),
    path("<int:provider_id>/history", views.provider_history_page, name="history"),
]
