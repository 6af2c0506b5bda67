from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.filters import NotificationFilter
from notifications.models import Kind, Notification
from org.permissions import OpenToOwners

_COUNT = inline_serializer("NotificationUnreadCount", {"unread": serializers.IntegerField()})
_UPDATED = inline_serializer("NotificationsUpdated", {"updated": serializers.IntegerField()})
_MUTED = inline_serializer(
    "NotificationMutes", {"muted": serializers.ListField(child=serializers.CharField())}
)


class NotificationListApi(ListAPIView):
    """The user's notifications, newest first; `unread=1`: the unread ones only."""

    permission_classes = [OpenToOwners]

    queryset = Notification.objects.none()  # for the schema; get_queryset() is the user's
    filterset_class = NotificationFilter

    @extend_schema_serializer(component_name="Notification")
    class OutputSerializer(serializers.ModelSerializer):
        application_reference = serializers.CharField(source="application.reference", default=None)

        class Meta:
            model = Notification
            fields = [
                "id",
                "kind",
                "title",
                "body",
                "url",
                "application",
                "application_reference",
                "created_at",
                "read_at",
            ]

    serializer_class = OutputSerializer

    @extend_schema(
        responses=inline_serializer(
            "NotificationPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "unread": serializers.IntegerField(),
                "results": OutputSerializer(many=True),
            },
        ),
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["unread"] = selectors.notification_unread_count(user=request.user)
        return response

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)


class NotificationUnreadCountApi(APIView):
    permission_classes = [OpenToOwners]

    @extend_schema(responses=_COUNT)
    def get(self, request):
        return Response({"unread": selectors.notification_unread_count(user=request.user)})


class NotificationReadApi(APIView):
    permission_classes = [OpenToOwners]

    @extend_schema(request=None, responses=_UPDATED)
    def post(self, request, pk: int):
        return Response(
            {"updated": services.notification_mark_read(user=request.user, notification_id=pk)}
        )


class NotificationReadAllApi(APIView):
    permission_classes = [OpenToOwners]

    @extend_schema(request=None, responses=_UPDATED)
    def post(self, request):
        return Response({"updated": services.notification_mark_all_read(user=request.user)})


class NotificationMuteApi(APIView):
    permission_classes = [OpenToOwners]

    @extend_schema_serializer(component_name="NotificationMuteInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Kind.choices)

    @extend_schema(responses=_MUTED)
    def get(self, request):
        return Response({"muted": sorted(selectors.notification_muted_kinds(user=request.user))})

    @extend_schema(request=InputSerializer, responses={201: _MUTED})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.notification_mute(user=request.user, kind=data.validated_data["kind"])
        return Response(
            {"muted": sorted(selectors.notification_muted_kinds(user=request.user))}, status=201
        )

    @extend_schema(request=InputSerializer, responses=_MUTED)
    def delete(self, request):
        data = self.InputSerializer(data=request.data or request.query_params)
        data.is_valid(raise_exception=True)
        services.notification_unmute(user=request.user, kind=data.validated_data["kind"])
        return Response({"muted": sorted(selectors.notification_muted_kinds(user=request.user))})
