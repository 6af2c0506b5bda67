from django.contrib import admin

from common.admin import ReadOnlyAdmin
from complaints.models import Complaint, ComplaintCategory


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "order", "is_active"]
    list_filter = ["is_active"]
    list_editable = ["order", "is_active"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Kept as received and answered: complaints change only through their services
    (audited), never in the admin."""

    list_display = [
        "reference",
        "company",
        "branch",
        "category",
        "channel",
        "status",
        "received_at",
    ]
    list_filter = ["status", "channel", "category"]
    search_fields = ["reference", "company__name", "company__credit_code"]
    list_select_related = ["company", "branch", "category"]
