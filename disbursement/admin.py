from django.contrib import admin

from disbursement.models import Contract, Disbursement, Instalment, Offer


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["application", "status", "amount", "currency", "created_at", "accepted_at"]
    list_filter = ["status"]
    search_fields = ["application__reference"]
    raw_id_fields = ["application"]
    exclude = ["pdf"]
    # The acceptance is evidence: recorded by disbursement.services.offer_accept only.
    readonly_fields = [
        "render_seconds",
        "error",
        "rendered_at",
        "accepted_at",
        "accepted_by",
        "accepted_from",
        "accepted_user_agent",
        "accepted_documents_sha256",
    ]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["application", "number", "signed_on", "channel", "recorded_by"]
    search_fields = ["application__reference", "number"]
    raw_id_fields = ["application", "recorded_by"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Disbursement)
class DisbursementAdmin(admin.ModelAdmin):
    """Read-only: disbursements are made and confirmed only through maker-checker."""

    list_display = ["application", "status", "amount", "currency", "value_date", "maker", "checker"]
    list_filter = ["status"]
    search_fields = ["application__reference", "account_number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Instalment)
class InstalmentAdmin(admin.ModelAdmin):
    list_display = [
        "application",
        "number",
        "due_date",
        "principal",
        "interest",
        "total",
        "currency",
    ]
    search_fields = ["application__reference"]
    list_select_related = ["application"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
