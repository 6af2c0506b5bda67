from django.contrib import admin

from audit.models import AuditEvent
from common.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # The trail is append-only: nobody edits or deletes it, not even a superuser.
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
