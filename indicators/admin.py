from django.contrib import admin

from indicators.models import Instrument, InstrumentVersion, Item


class ReadOnlyAdmin(admin.ModelAdmin):
    """Instruments change only by loading a new version file (manage.py load_instruments)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["slug", "title", "audience"]


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(ReadOnlyAdmin):
    list_display = ["instrument", "number", "status", "content_hash", "loaded_at"]
    list_filter = ["status", "instrument__audience"]
    list_select_related = ["instrument"]
    exclude = ["definition"]


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ["key", "version", "section", "domain", "dimension", "strength"]
    list_filter = ["domain", "dimension", "strength"]
    list_select_related = ["version__instrument"]
