from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path(
        "callbacks/providers/<slug:provider_slug>/answers",
        views.provider_callback,
        name="provider-callback",
    ),
]
