from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as static_serve
from django.urls import include, path, re_path
from django.views.generic import RedirectView, TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health

password_forgotten = TemplateView.as_view(template_name="registration/password_forgotten.html")

api_v1 = [
    path("", include("indicators.api.urls")),
    path("", include("screening.api.urls")),
    path("", include("referrals.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its script served as a file (the split view): no inline script. Its
    # stylesheet draws icons as data: URLs, so this one page also allows data: images.
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("referrals/", include("referrals.urls")),
    # An agency administrator's routing rules (referrals/routing_urls.py).
    path("agency/routing/", include("referrals.routing_urls")),
    path("agency/providers/", include("referrals.provider_urls")),
    path("admin/", admin.site.urls),
    # The second sign-in step (screening/mfa.py): the code, setting up an app, backup codes.
    path("accounts/mfa/", include("screening.mfa_urls")),
    # Django's password change would leave the API tokens: ours (/account/password/) revokes them.
    path(
        "accounts/password_change/",
        RedirectView.as_view(pattern_name="screening:password-change"),
    ),
    # No self-service password reset (an address typed by anyone): an agency administrator
    # makes a member a one-time set-password link (docs/staff-management.md), which revokes
    # API tokens and lands in the change history as Django's reset would not.
    *(
        path(route, password_forgotten, name=name)
        for route, name in (
            ("accounts/password_reset/", "password-forgotten"),
            ("accounts/password_reset/done/", None),
            ("accounts/reset/<uidb64>/<token>/", None),
            ("accounts/reset/done/", None),
        )
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("screening.urls")),
]

# The embedded demo's mailbox and webhook receiver pages: only where the demo app is installed
# (the local and test profiles, never production).
if "demo" in settings.INSTALLED_APPS:
    urlpatterns.insert(-1, path("demo/", include("demo.urls")))

# The local profile only (`make run`, DEBUG off so that its error pages are the service's own):
# the stylesheet and script from the app's folders, as runserver would with DEBUG on.
if getattr(settings, "SERVE_STATIC_FILES", False):
    urlpatterns.append(
        re_path(
            rf"^{settings.STATIC_URL.lstrip('/')}(?P<path>.*)$",
            static_serve,
            {"insecure": True},
        )
    )

# API paths answer problem+json even where no route matched (config/api/exceptions.py).
handler404 = "config.api.exceptions.page_not_found"
handler500 = "config.api.exceptions.server_error"
