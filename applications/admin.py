from django.contrib import admin

from applications.models import LoanApplication, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "min_amount",
        "max_amount",
        "min_term_months",
        "max_term_months",
        "fast_track_eligible",
        "is_active",
        "version",
    ]
    list_filter = ["is_active", "fast_track_eligible"]
    search_fields = ["code", "name", "name_zh"]


@admin.register(LoanApplication)
class LoanApplicationAdmin(admin.ModelAdmin):
    """Read-only: applications change only through their transitions (the services)."""

    list_display = [
        "reference",
        "company",
        "branch",
        "product",
        "amount",
        "currency",
        "status",
        "created_at",
    ]
    list_filter = ["status", "branch", "product", "channel"]
    search_fields = ["reference", "company__name", "company__credit_code"]
    list_select_related = ["company", "branch", "product"]
    readonly_fields = [f.name for f in LoanApplication._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
