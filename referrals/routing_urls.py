"""The routing rule pages of an agency's administrators, under /agency/routing/ (issue 15).
The draft is addressed by the signed-in administrator's agency, never by an id."""

from django.urls import path

from referrals.views import routing_rules as views

app_name = "routing"

urlpatterns = [
    path("", views.routing_rules_page, name="rules"),
    path("versions/<int:rule_set_id>/", views.routing_version_page, name="version"),
    path("versions/<int:rule_set_id>/rules.yaml", views.routing_version_yaml, name="version-yaml"),
    path("draft/new", views.routing_draft_new, name="draft-new"),
    path("draft/", views.routing_draft_page, name="draft"),
    path("draft/upload", views.routing_draft_upload, name="draft-upload"),
    path("draft/changes", views.routing_draft_changes, name="draft-changes"),
    path("draft/dry-run", views.routing_draft_dry_run, name="draft-dry-run"),
    path("draft/publish", views.routing_draft_publish_page, name="draft-publish"),
    path("draft/discard", views.routing_draft_discard_page, name="draft-discard"),
]
