"""The production URLconf plus the benchmark's comparison views (bench.settings only)."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/minimal/contacts/", views.minimal_contact_create),
    path("bench/bare/", views.bare_json),
    path("bench/floor/contacts/", views.floor_contact_create),
    *production_urlpatterns,
]
