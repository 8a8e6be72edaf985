from django.contrib import admin
from django.urls import include, path

from config import health

api_v1 = [
    path("", include("indicators.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]
