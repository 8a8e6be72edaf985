from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from config.tokens import api_token_revoke_all
from screening.models import Agency, User
from screening.services.staff import staff_sessions_end


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "agency", "is_active", "last_login"]
    list_select_related = ["agency"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Agency", {"fields": ["agency"]}))

    def save_model(self, request, obj, form, change) -> None:
        """Deactivating here ends the member's sessions and API tokens, as `staff_deactivate`
        does: reactivating the account later must revive none of them."""
        deactivated = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivated:
            staff_sessions_end(member=obj)
            api_token_revoke_all(user=obj)

    def user_change_password(self, request, id, form_url=""):
        """A password set here revokes the member's API tokens, as `staff_password_set` does
        (their other sessions end by themselves: the session hash follows the password)."""
        members = User.objects.filter(pk__in=[unquote(id)] if str(unquote(id)).isdigit() else [])
        before = members.values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        member = members.first()
        if member is not None and member.password != before:
            api_token_revoke_all(user=member)
        return response
