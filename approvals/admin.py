from django.contrib import admin

from approvals.models import (
    ApprovalCondition,
    ApprovalRecord,
    ApprovalTask,
    ApproverLimit,
    CommitteeVote,
    DeclineReason,
    MatrixRule,
    MatrixStep,
    MatrixVersion,
)
from common.admin import ReadOnlyAdmin


class MatrixStepInline(admin.TabularInline):
    model = MatrixStep
    extra = 0


class MatrixRuleInline(admin.StackedInline):
    model = MatrixRule
    extra = 0


@admin.register(MatrixVersion)
class MatrixVersionAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "is_active",
        "fast_track_review_percent",
        "committee_quorum",
        "committee_majority_percent",
        "single_customer_limit",
        "group_limit",
        "net_capital",
        "single_customer_limit_percent",
        "group_limit_percent",
        "created_at",
    ]
    list_filter = ["is_active"]
    inlines = [MatrixStepInline, MatrixRuleInline]


@admin.register(ApproverLimit)
class ApproverLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "grade", "max_amount", "currency"]
    list_filter = ["grade", "currency"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(DeclineReason)
class DeclineReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "label_zh", "is_active"]
    list_filter = ["is_active"]


@admin.register(ApprovalRecord)
class ApprovalRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "application",
        "status",
        "matrix_version",
        "rule_name",
        "fast_track",
        "created_at",
    ]
    list_filter = ["status", "fast_track"]


@admin.register(ApprovalTask)
class ApprovalTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "application", "step", "role", "branch", "status", "claimed_by", "due_at"]
    list_filter = ["status", "role", "kind"]
    list_select_related = ["application", "branch", "claimed_by"]


@admin.register(CommitteeVote)
class CommitteeVoteAdmin(ReadOnlyAdmin):
    list_display = ["task", "member", "vote", "cast_at"]


@admin.register(ApprovalCondition)
class ApprovalConditionAdmin(admin.ModelAdmin):
    list_display = ["application", "text", "created_by", "satisfied_at"]
    readonly_fields = ["application", "task", "created_by", "created_at"]
