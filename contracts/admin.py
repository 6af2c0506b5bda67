from django.contrib import admin

from common.admin import ReadOnlyAdmin
from common.admin_versions import VersionedAdmin
from contracts.models import (
    ArchiveEntry,
    ContractDocument,
    ContractTemplate,
    RetentionPeriod,
    Signature,
)
from contracts.services import contract_template_activate, contract_template_copy


@admin.register(ContractTemplate)
class ContractTemplateAdmin(VersionedAdmin):
    """A version that has been active is frozen (contracts name it): copy it as a new
    version, edit the copy, then activate it. Every version's text is kept."""

    list_display = ["kind", "product", "language", "version", "name", "is_active", "activated_at"]
    list_filter = ["kind", "language", "is_active"]

    def version_copy(self, version):
        return contract_template_copy(template=version)

    def version_activate(self, version) -> None:
        contract_template_activate(template=version)


@admin.register(ContractDocument)
class ContractDocumentAdmin(ReadOnlyAdmin):
    list_display = ["number", "application", "kind", "status", "pdf_status", "signed_at"]
    list_filter = ["kind", "status"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["contract", "party", "method", "signer_name", "signed_at"]


@admin.register(ArchiveEntry)
class ArchiveEntryAdmin(ReadOnlyAdmin):
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
