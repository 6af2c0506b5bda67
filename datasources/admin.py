"""Read-only views of the external data: consents, calls with their answers, facts. They change
only through the services (transitions, audited)."""

from django.contrib import admin

from datasources.models import Consent, SourceFact, SourceQuery


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["application", "scope", "status", "channel", "valid_until", "granted_at"]
    list_filter = ["status", "channel"]


@admin.register(SourceQuery)
class SourceQueryAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "source",
        "status",
        "purpose",
        "requested_by",
        "requested_at",
        "answered_at",
        "attempts",
    ]
    list_filter = ["source", "status", "purpose"]
    search_fields = ["credit_code"]


@admin.register(SourceFact)
class SourceFactAdmin(ReadOnlyAdmin):
    list_display = ["application", "source", "key", "value", "observed_at", "status"]
    list_filter = ["source", "key", "status"]
