from django.db.models import QuerySet

from notifications.models import Notification, NotificationMute


def notification_list(
    *, user, unread_only: bool = False, kind: str | None = None
) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user).select_related("application")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_muted_kinds(*, user) -> set[str]:
    return set(NotificationMute.objects.filter(user=user).values_list("kind", flat=True))
