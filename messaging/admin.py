from django.contrib import admin

from common.admin import ReadOnlyAdmin
from messaging.models import Message, SurveyAnswer


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
