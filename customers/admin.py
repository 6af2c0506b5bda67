from django.contrib import admin

from common.admin import ReadOnlyAdmin
from customers.models import ApplicantProfile, Company, CompanyBinding


class CompanyBindingInline(admin.TabularInline):
    """Who acts for the company on the portal (read only: branch staff confirm and revoke on
    the company bindings page, audited)."""

    model = CompanyBinding
    fk_name = "company"
    extra = 0
    can_delete = False
    fields = ["user", "status", "pending_reason", "created_at", "decided_at", "decided_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "industry_code", "home_branch", "registration_date"]
    list_filter = ["industry_code", "home_branch"]
    search_fields = [
        "name",
        "credit_code",
        "legal_representative",
        "controlling_shareholder",
        "controlling_shareholder_id",
    ]
    inlines = [CompanyBindingInline]


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "company"]
    search_fields = ["user__username", "company__name"]
    list_select_related = ["user", "company"]
    # The company the owner acts for is one of their bindings, chosen on the portal.
    readonly_fields = ["company"]


@admin.register(CompanyBinding)
class CompanyBindingAdmin(ReadOnlyAdmin):
    """Read only: confirming and revoking are the branch's, on the company bindings page."""

    list_display = ["company", "user", "status", "pending_reason", "created_at", "decided_by"]
    list_filter = ["status", "pending_reason"]
    search_fields = ["company__name", "company__credit_code", "user__username"]
    list_select_related = ["company", "user", "decided_by"]
