from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from contracts.models import (
    ArchiveEntry,
    ContractDocument,
    ContractTemplate,
    RetentionPeriod,
    Signature,
)
from contracts.services import contract_template_activate, contract_template_copy


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    """A version that has been active is frozen (contracts name it): copy it as a new
    version, edit the copy, then activate it. Every version's text is kept."""

    list_display = ["kind", "product", "language", "version", "name", "is_active", "activated_at"]
    list_filter = ["kind", "language", "is_active"]
    readonly_fields = ["is_active", "activated_at", "created_at"]
    actions = ["copy_as_new_version", "activate"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Copy as a new version (to edit)"))
    @transaction.atomic
    def copy_as_new_version(self, request, queryset):
        for old in queryset:
            new = contract_template_copy(template=old)
            messages.success(request, _("Created %(v)s.") % {"v": new})

    @admin.action(description=_("Activate (and freeze) this version"))
    @transaction.atomic
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Choose one version to activate."))
            return
        contract_template_activate(template=queryset.get())
        messages.success(request, _("Activated."))


class _ReadOnly(admin.ModelAdmin):
    """Signed records are never edited nor deleted in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ContractDocument)
class ContractDocumentAdmin(_ReadOnly):
    list_display = ["number", "application", "kind", "status", "pdf_status", "signed_at"]
    list_filter = ["kind", "status"]


@admin.register(Signature)
class SignatureAdmin(_ReadOnly):
    list_display = ["contract", "party", "method", "signer_name", "signed_at"]


@admin.register(ArchiveEntry)
class ArchiveEntryAdmin(_ReadOnly):
    list_display = ["application", "kind", "source", "version", "sha256", "retain_until"]
    list_filter = ["kind"]


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(admin.ModelAdmin):
    """How long each kind of document is kept. A change applies to documents filed from now
    on: every entry keeps the retention date it was filed with."""

    list_display = ["kind", "label", "label_zh", "years", "updated_at"]
    readonly_fields = ["updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The kind of a period in use is fixed: change its years, not what it applies to.
        return [*self.readonly_fields, "kind"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False
