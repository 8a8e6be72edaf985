"""Read-only admin for the access log: entries are written by the middleware and deleted only
by the retention purge, never by hand."""

from django.contrib import admin

from config.models import AccessLogEntry


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "user",
        "roles",
        "method",
        "route",
        "object_type",
        "object_ref",
        "case_id",
        "status_code",
        "outcome",
    )
    list_filter = ("outcome", "method", "object_type")
    list_select_related = ("user",)
    date_hierarchy = "at"
    # `case` is left out: it may name a purged case; `case_id` is shown instead.
    fields = (
        "at",
        "user",
        "agency",
        "roles",
        "api_token",
        "method",
        "route",
        "object_type",
        "object_ref",
        "case_id",
        "status_code",
        "outcome",
        "client_ip",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
