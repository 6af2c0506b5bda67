"""The admin of versioned configuration (pricing parameters, contract templates): a version
that has been active is frozen, as the records that name it must keep reading what they read;
an administrator copies it as a new version, edits the copy, then activates it."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _


class VersionedAdmin(admin.ModelAdmin):
    """Subclasses name the services that copy and activate a version (`version_copy`,
    `version_activate`: each takes the version and returns the copy or nothing); the model
    says whether a version is frozen (`is_frozen`)."""

    readonly_fields = ["is_active", "activated_at", "created_at"]
    actions = ["copy_as_new_version", "activate"]

    def version_copy(self, version):
        raise NotImplementedError

    def version_activate(self, version) -> None:
        raise NotImplementedError

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
            new = self.version_copy(old)
            messages.success(request, _("Created %(v)s.") % {"v": new})

    @admin.action(description=_("Activate (and freeze) this version"))
    @transaction.atomic
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Choose one version to activate."))
            return
        self.version_activate(queryset.get())
        messages.success(request, _("Activated."))
