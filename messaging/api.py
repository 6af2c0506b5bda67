"""The thread and the survey over the API. The owner's operations are under /api/v1/portal/
(OwnersOnly, their company's applications only: another's is a 404); the bank's under the
application's own path (the default StaffOnly: an owner's token gets 403), for staff who may
see the application."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.http import stored_file_response
from messaging import selectors, services
from messaging.models import BODY_MAX_LENGTH, SURVEY_COMMENT_MAX_LENGTH, Side, SurveyStage
from org.permissions import OwnersOnly

TAG_PORTAL = "portal"
TAG_STAFF = "messages"


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX_LENGTH)
    file = serializers.FileField(required=False, allow_empty_file=True)


class PortalMessageOutput(serializers.Serializer):
    """A message as the owner reads it: the bank's side is signed by their relationship
    manager, or by "the bank", never by other staff."""

    id = serializers.IntegerField()
    side = serializers.ChoiceField(choices=Side.choices)
    author_name = serializers.SerializerMethodField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    attachment_name = serializers.CharField()
    attachment_url = serializers.SerializerMethodField()

    def get_author_name(self, message) -> str:
        return str(selectors.message_author_name(message, for_owner=True))

    def get_attachment_url(self, message) -> str:
        if not message.attachment_name:
            return ""
        return selectors.attachment_url(message, for_owner=True)


class StaffMessageOutput(PortalMessageOutput):
    author = serializers.IntegerField(source="author_id")

    def get_author_name(self, message) -> str:
        return str(selectors.message_author_name(message, for_owner=False))

    def get_attachment_url(self, message) -> str:
        if not message.attachment_name:
            return ""
        return selectors.attachment_url(message, for_owner=False)


def _attachment(request, pk, message_id):
    application = services.thread_application(actor=request.user, application_id=pk)
    message = selectors.message_get(application=application, pk=message_id)
    if message is None or not message.attachment_name:
        raise NotFound()
    return stored_file_response(
        message.attachment,
        filename=message.attachment_name,
        content_type=message.attachment_content_type,
    )


def _thread(request, pk, output):
    application = services.thread_application(actor=request.user, application_id=pk)
    services.message_thread_read(actor=request.user, application=application)
    return Response(output(selectors.message_thread(application=application), many=True).data)


def _post(request, pk, output):
    # The scope first: another company's application is a 404 whatever the body.
    services.thread_application(actor=request.user, application_id=pk)
    serializer = MessageInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    message = services.message_post(
        actor=request.user,
        application_id=pk,
        body=serializer.validated_data["body"],
        file=serializer.validated_data.get("file"),
    )
    return Response(output(message).data, status=status.HTTP_201_CREATED)


class PortalMessageListApi(APIView):
    """The application's message thread, oldest first (GET; the bank's messages are marked
    read); write to the bank (POST, with an optional attachment: PDF, JPEG, PNG, DOCX or
    XLSX, checked by content)."""

    permission_classes = [OwnersOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(tags=[TAG_PORTAL], responses=PortalMessageOutput(many=True))
    def get(self, request, pk: int):
        return _thread(request, pk, PortalMessageOutput)

    @extend_schema(
        tags=[TAG_PORTAL],
        request={"multipart/form-data": MessageInput, "application/json": MessageInput},
        responses={201: PortalMessageOutput},
    )
    def post(self, request, pk: int):
        return _post(request, pk, PortalMessageOutput)


class PortalMessageAttachmentApi(APIView):
    """A message's attachment, as a download."""

    permission_classes = [OwnersOnly]

    @extend_schema(
        tags=[TAG_PORTAL],
        operation_id="portal_message_attachment",
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request, pk: int, message_id: int):
        return _attachment(request, pk, message_id)


class MessageListApi(APIView):
    """The application's message thread with its owner, oldest first (GET; the owner's
    messages are marked read); write to the owner (POST, optional attachment)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(tags=[TAG_STAFF], responses=StaffMessageOutput(many=True))
    def get(self, request, pk: int):
        return _thread(request, pk, StaffMessageOutput)

    @extend_schema(
        tags=[TAG_STAFF],
        request={"multipart/form-data": MessageInput, "application/json": MessageInput},
        responses={201: StaffMessageOutput},
    )
    def post(self, request, pk: int):
        return _post(request, pk, StaffMessageOutput)


class MessageAttachmentApi(APIView):
    """A message's attachment, as a download."""

    @extend_schema(
        tags=[TAG_STAFF],
        operation_id="message_attachment",
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request, pk: int, message_id: int):
        return _attachment(request, pk, message_id)


# --- The satisfaction survey ----------------------------------------------------------------


class SurveyAnswerOutput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=SurveyStage.choices)
    score = serializers.IntegerField()
    comment = serializers.CharField()
    answered_at = serializers.DateTimeField()


class PortalSurveyOutput(serializers.Serializer):
    open_stages = serializers.ListField(
        child=serializers.ChoiceField(choices=SurveyStage.choices),
        help_text="The stages the owner is asked about and has not answered yet.",
    )
    answers = SurveyAnswerOutput(many=True)


class PortalSurveyApi(APIView):
    """The satisfaction survey: what is asked (GET); an answer (POST: a score from 1 to 5 and
    an optional comment, once per stage: a second answer is a 409; a stage not reached yet is
    a 409 too)."""

    permission_classes = [OwnersOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class PortalSurveyInput(serializers.Serializer):
        stage = serializers.ChoiceField(choices=SurveyStage.choices)
        score = serializers.IntegerField(
            min_value=1,
            max_value=5,
            error_messages={
                "min_value": _("Give a score from 1 to 5."),
                "max_value": _("Give a score from 1 to 5."),
                "invalid": _("Give a score from 1 to 5."),
            },
        )
        comment = serializers.CharField(
            max_length=SURVEY_COMMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
        )

    def _data(self, request, pk):
        application = services.thread_application(actor=request.user, application_id=pk)
        return PortalSurveyOutput(
            {
                "open_stages": selectors.survey_open_stages(application=application),
                "answers": selectors.survey_answers(application=application),
            }
        ).data

    @extend_schema(tags=[TAG_PORTAL], responses=PortalSurveyOutput)
    def get(self, request, pk: int):
        return Response(self._data(request, pk))

    @extend_schema(
        tags=[TAG_PORTAL], request=PortalSurveyInput, responses={201: PortalSurveyOutput}
    )
    def post(self, request, pk: int):
        services.thread_application(actor=request.user, application_id=pk)
        serializer = self.PortalSurveyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.survey_answer(actor=request.user, application_id=pk, **serializer.validated_data)
        return Response(self._data(request, pk), status=status.HTTP_201_CREATED)
