"""A URL configuration for the error-page tests: the project's, plus a page that fails."""

from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


def failing_page(request):
    raise RuntimeError("a fictional failure for the error-page test")


urlpatterns = [path("test-failure/", failing_page), *project_urlpatterns]
