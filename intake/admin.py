from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from applications.models import GuaranteeType, Product, RepaymentMethod
from common.admin import ReadOnlyAdmin
from intake.models import (
    ChecklistItem,
    Document,
    DocumentType,
    InfoRequest,
    NegativeListEntry,
    PrescreenResult,
    PrescreenRule,
)


class ProductForm(forms.ModelForm):
    repayment_methods = forms.MultipleChoiceField(
        choices=RepaymentMethod.choices, widget=forms.CheckboxSelectMultiple
    )
    guarantee_types = forms.MultipleChoiceField(
        choices=GuaranteeType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "name_zh",
            "description",
            "description_zh",
            "currency",
            "min_amount",
            "max_amount",
            "min_term_months",
            "max_term_months",
            "min_rate",
            "max_rate",
            "repayment_methods",
            "business_day_convention",
            "day_count",
            "repayment_day",
            "guarantee_types",
            "fast_track_eligible",
            "active_from",
            "active_until",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        for low, high in (
            ("min_amount", "max_amount"),
            ("min_term_months", "max_term_months"),
            ("min_rate", "max_rate"),
            ("active_from", "active_until"),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(
                    high,
                    forms.ValidationError(
                        _("Must not be below %(low)s."), params={"low": data[low]}
                    ),
                )
        return data


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    autocomplete_fields = ["document_type"]


# Products are configured here, with their checklist (the foundation registered a plain admin).
if admin.site.is_registered(Product):
    admin.site.unregister(Product)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = [
        "code",
        "name",
        "min_amount",
        "max_amount",
        "min_term_months",
        "max_term_months",
        "day_count",
        "fast_track_eligible",
        "is_active",
        "active_from",
        "active_until",
        "version",
    ]
    list_filter = ["is_active", "fast_track_eligible", "business_day_convention", "day_count"]
    search_fields = ["code", "name", "name_zh"]
    readonly_fields = ["version", "updated_at"]
    inlines = [ChecklistItemInline]


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh"]
    search_fields = ["code", "name", "name_zh"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "stage",
        "document_type",
        "required",
        "only_for_guarantee_type",
        "per_guarantor",
        "position",
    ]
    list_filter = ["product", "stage", "required"]
    list_select_related = ["product", "document_type"]


@admin.register(PrescreenRule)
class PrescreenRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "name_zh",
        "kind",
        "product",
        "min_years",
        "industry_codes",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    list_select_related = ["product"]


@admin.register(NegativeListEntry)
class NegativeListEntryAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "credit_code", "id_number", "reason", "is_active", "added_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "credit_code", "id_number"]


@admin.register(PrescreenResult)
class PrescreenResultAdmin(ReadOnlyAdmin):
    list_display = ["application", "passed", "checked_at"]
    list_filter = ["passed"]
    list_select_related = ["application"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "document_type",
        "version",
        "is_current",
        "status",
        "uploaded_at",
    ]
    list_filter = ["status", "is_current"]
    list_select_related = ["application", "document_type"]
    exclude = ["file"]


@admin.register(InfoRequest)
class InfoRequestAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "text", "due_date", "status"]
    list_filter = ["status", "kind"]
    list_select_related = ["application"]
