from django.contrib import admin

from common.admin import ReadOnlyAdmin
from postloan.models import (
    Alert,
    ChangeTerms,
    ClassificationChange,
    ClassificationFloor,
    ExposureSnapshot,
    InspectionRule,
    InspectionTask,
    Loan,
    LoanChange,
    OverdueInterestAccrual,
    OwnerRequest,
    Prepayment,
    Repayment,
    RepaymentImport,
    RepaymentReminder,
    ScheduleRevision,
    ServicingTerms,
    WarningRule,
    WriteOff,
)


@admin.register(ClassificationFloor)
class ClassificationFloorAdmin(admin.ModelAdmin):
    list_display = ["min_days_past_due", "classification", "is_active"]
    list_editable = ["classification", "is_active"]


@admin.register(InspectionRule)
class InspectionRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "name_zh",
        "kind",
        "classification",
        "days",
        "lead_days",
        "method",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_zh",
        "kind",
        "threshold",
        "severity",
        "creates_inspection",
        "freezes_facilities",
        "is_active",
    ]
    list_filter = ["kind", "severity", "freezes_facilities", "is_active"]


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = [
        "application",
        "status",
        "classification",
        "days_past_due",
        "outstanding_principal",
        "next_inspection_due",
    ]
    list_filter = ["status", "classification"]
    list_select_related = ["application"]
    search_fields = ["application__reference"]
    readonly_fields = [f.name for f in Loan._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(InspectionTask)
class InspectionTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "loan", "kind", "status", "due_date", "owner"]
    list_filter = ["kind", "status"]
    list_select_related = ["loan__application", "owner"]
    raw_id_fields = ["loan", "alert", "owner", "completed_by"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "loan", "rule", "severity", "status", "created_at"]
    list_filter = ["status", "severity", "rule"]
    list_select_related = ["loan__application", "rule"]
    raw_id_fields = ["loan", "acknowledged_by", "closed_by"]


@admin.register(Repayment)
class RepaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "loan", "amount", "currency", "value_date", "source", "external_id"]
    list_select_related = ["loan__application"]
    raw_id_fields = ["loan", "batch", "recorded_by"]
    search_fields = ["external_id", "loan__application__reference"]


@admin.register(RepaymentImport)
class RepaymentImportAdmin(admin.ModelAdmin):
    list_display = ["id", "file_name", "row_count", "uploaded_by", "created_at"]


@admin.register(RepaymentReminder)
class RepaymentReminderAdmin(ReadOnlyAdmin):
    """What the nightly job told the owners: read only (a row is what stops a second send)."""

    list_display = ["id", "loan", "instalment_number", "due_date", "kind", "sent_on"]
    list_filter = ["kind", "sent_on"]
    list_select_related = ["loan__application"]
    search_fields = ["loan__application__reference"]


@admin.register(ExposureSnapshot)
class ExposureSnapshotAdmin(ReadOnlyAdmin):
    """The bank's exposure snapshots (postloan.snapshot): when each was taken, by what, how
    long it took, or why it failed. Read only: they are taken by the nightly job or by a
    risk officer's "Refresh now", and deleted as newer ones are kept."""

    list_display = [
        "id",
        "status",
        "trigger",
        "requested_by",
        "requested_at",
        "taken_at",
        "row_count",
        "customer_count",
        "seconds",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["requested_by"]


@admin.register(ClassificationChange)
class ClassificationChangeAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "loan",
        "kind",
        "status",
        "from_classification",
        "to_classification",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["loan__application"]
    raw_id_fields = ["loan", "proposed_by", "decided_by"]
    readonly_fields = ["status"]  # changed by its transitions only (postloan.services)


@admin.register(WriteOff)
class WriteOffAdmin(admin.ModelAdmin):
    list_display = ["id", "loan", "status", "amount", "currency", "created_at"]
    list_select_related = ["loan__application"]
    raw_id_fields = ["loan", "proposed_by", "decided_by"]
    readonly_fields = ["status"]  # changed by its transitions only (postloan.services)


@admin.register(ServicingTerms)
class ServicingTermsAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "allow_full_prepayment",
        "allow_shorten_term",
        "allow_lower_instalment",
        "prepayment_fee_rate",
        "overdue_surcharge_rate",
        "compound_overdue_interest",
    ]


@admin.register(ChangeTerms)
class ChangeTermsAdmin(admin.ModelAdmin):
    """A product's rules for changes to its loans (postloan.changes; docs/changes.md)."""

    list_display = [
        "product",
        "max_extensions",
        "max_extension_months",
        "renewal_requires_normal",
        "renewal_clean_months",
        "renewal_no_open_alerts",
        "restructured_floor",
        "monitoring_months",
        "restructuring_arrears",
    ]


@admin.register(Prepayment)
class PrepaymentAdmin(ReadOnlyAdmin):
    list_display = ["loan", "kind", "status", "value_date", "total", "currency", "created_at"]
    list_filter = ["kind", "status"]


@admin.register(ScheduleRevision)
class ScheduleRevisionAdmin(ReadOnlyAdmin):
    list_display = ["loan", "number", "prepayment", "change", "created_at"]


@admin.register(OverdueInterestAccrual)
class OverdueInterestAccrualAdmin(ReadOnlyAdmin):
    list_display = ["loan", "accrued_on", "overdue_principal", "annual_rate", "amount"]
    date_hierarchy = "accrued_on"


@admin.register(LoanChange)
class LoanChangeAdmin(ReadOnlyAdmin):
    list_display = ["application", "loan", "reviewed_at", "agreement_reference", "applied_on"]


@admin.register(OwnerRequest)
class OwnerRequestAdmin(ReadOnlyAdmin):
    """The owners' requests, prepayments and changes alike: read only (the services file,
    decline and withdraw them, audited)."""

    list_display = ["loan", "kind", "status", "created_at", "prepayment", "change", "handled_at"]
    list_filter = ["status", "kind"]
    date_hierarchy = "created_at"
