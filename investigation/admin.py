from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from investigation.models import (
    CreditMemo,
    Flag,
    InvestigationPolicy,
    Question,
    Questionnaire,
    Scorecard,
    ScorecardFactor,
    ScoreResult,
)


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    """A questionnaire that has answers is frozen: copy it as a new version to change it."""

    list_display = ["product", "version", "is_active", "created_at"]
    list_filter = ["product", "is_active"]
    inlines = [QuestionInline]
    actions = ["copy_as_new_version"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.pk and _questionnaire_used(obj):
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Copy as a new version (and deactivate the old one)"))
    @transaction.atomic
    def copy_as_new_version(self, request, queryset):
        for old in queryset:
            version = (
                Questionnaire.objects.filter(product=old.product).aggregate(v=Max("version"))["v"]
                or 0
            ) + 1
            new = Questionnaire.objects.create(product=old.product, version=version)
            Question.objects.bulk_create(
                [
                    Question(
                        questionnaire=new,
                        code=q.code,
                        text=q.text,
                        text_zh=q.text_zh,
                        answer_type=q.answer_type,
                        choices=q.choices,
                        required=q.required,
                        order=q.order,
                    )
                    for q in old.questions.all()
                ]
            )
            Questionnaire.objects.filter(product=old.product).exclude(pk=new.pk).update(
                is_active=False
            )
            messages.success(request, _("Created %(q)s.") % {"q": new})


def _questionnaire_used(questionnaire) -> bool:
    from investigation.models import Answer

    return Answer.objects.filter(question__questionnaire=questionnaire).exists()


class FactorInline(admin.TabularInline):
    model = ScorecardFactor
    extra = 0


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    """A scorecard that has scored anything is frozen; copy it as a new version to change it.
    Existing results keep their version and are never rescored."""

    list_display = ["name", "version", "is_active", "created_at"]
    inlines = [FactorInline]
    actions = ["copy_as_new_version"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.pk and obj.results.exists():
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Copy as a new version (and deactivate the old one)"))
    @transaction.atomic
    def copy_as_new_version(self, request, queryset):
        for old in queryset:
            version = (Scorecard.objects.aggregate(v=Max("version"))["v"] or 0) + 1
            new = Scorecard.objects.create(
                version=version, name=old.name, grade_bands=old.grade_bands
            )
            ScorecardFactor.objects.bulk_create(
                [
                    ScorecardFactor(
                        scorecard=new,
                        kind=f.kind,
                        code=f.code,
                        source=f.source,
                        field_path=f.field_path,
                        name=f.name,
                        name_zh=f.name_zh,
                        bins=f.bins,
                        missing_points=f.missing_points,
                        order=f.order,
                    )
                    for f in old.factors.all()
                ]
            )
            Scorecard.objects.exclude(pk=new.pk).update(is_active=False)
            messages.success(request, _("Created %(s)s.") % {"s": new})


@admin.register(InvestigationPolicy)
class InvestigationPolicyAdmin(admin.ModelAdmin):
    """Saving a policy always stores a new version; the newest is in force, older ones are
    its history."""

    list_display = [
        "version",
        "revenue_bank_gap_pct",
        "revenue_tax_gap_pct",
        "industry_share_limit_pct",
        "guarantor_exposure_limit",
        "related_party_limit",
        "created_at",
        "created_by",
    ]
    readonly_fields = ["version", "created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            InvestigationPolicy.objects.select_for_update().all().first()
            obj.pk = None
            obj.version = (InvestigationPolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1
            obj.created_by = request.user
            obj._state.adding = True
            obj.save()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoreResult)
class ScoreResultAdmin(admin.ModelAdmin):
    list_display = [
        "application",
        "scorecard_version",
        "score",
        "grade",
        "route",
        "is_current",
        "created_at",
    ]
    list_select_related = ["application"]
    readonly_fields = [f.name for f in ScoreResult._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["application", "code", "severity", "message", "created_at"]
    list_filter = ["severity", "code"]
    list_select_related = ["application"]
    readonly_fields = [f.name for f in Flag._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CreditMemo)
class CreditMemoAdmin(admin.ModelAdmin):
    list_display = ["application", "version", "status", "language", "render_ms", "created_at"]
    list_filter = ["status"]
    list_select_related = ["application"]
    readonly_fields = [f.name for f in CreditMemo._meta.fields]

    def has_add_permission(self, request):
        return False
