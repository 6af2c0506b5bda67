from django import template

from notifications.models import Notification

register = template.Library()


@register.simple_tag
def unread_notification_count(user) -> int:
    """One COUNT over the partial index of unread rows."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
