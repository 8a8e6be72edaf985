from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from screening.models import Agency, User


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "agency", "is_active", "last_login"]
    list_select_related = ["agency"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Agency", {"fields": ["agency"]}))
