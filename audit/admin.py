from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "kind",
        "application",
        "action",
        "from_state",
        "to_state",
        "actor",
        "actor_role",
    ]
    list_filter = ["kind", "action"]
    search_fields = ["application__reference", "comment"]
    list_select_related = ["application", "actor"]
    date_hierarchy = "at"

    # The trail is append-only: nobody edits or deletes it, not even a superuser.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
