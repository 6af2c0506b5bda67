from django.contrib import admin

from messaging.models import Message, SurveyAnswer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Kept with the case as written: messages and answers change only through their
    services (audited), never in the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("application", "side", "author", "created_at", "attachment_name", "read_at")
    list_filter = ("side",)
    search_fields = ("application__reference",)
    list_select_related = ("application", "author")


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyAdmin):
    list_display = ("application", "stage", "score", "answered_by", "answered_at")
    list_filter = ("stage", "score")
    search_fields = ("application__reference",)
    list_select_related = ("application", "answered_by")
