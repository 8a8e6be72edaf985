"""Read-mostly admin: the directory and rule versions for administrators to inspect. Writes go
through the seed command and the services; referrals show no case data beyond the reference."""

from django.contrib import admin

from referrals.models import Referral, RoutingRuleSet, ServiceProvider


@admin.register(ServiceProvider)
class ServiceProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "channel", "capacity", "response_due_hours", "is_active")
    list_filter = ("channel", "capacity", "is_active")
    search_fields = ("name", "slug")
    exclude = ("webhook_secret",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoutingRuleSet)
class RoutingRuleSetAdmin(admin.ModelAdmin):
    list_display = ("slug", "number", "agency", "status", "content_hash", "published_at")
    list_filter = ("status", ("agency", admin.EmptyFieldListFilter))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ("pk", "service_type", "status", "priority", "due_at", "mandatory")
    list_filter = ("status", "service_type", "mandatory")
    fields = (
        "service_type",
        "status",
        "priority",
        "mandatory",
        "due_at",
        "fields_disclosed",
        "delivery_attempts",
        "last_delivery_error",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
