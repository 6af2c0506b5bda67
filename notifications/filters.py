"""The notification list's filter, one definition for the page and the API: a bad value is a
field error (400 in the API, a form error on the page)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from notifications.models import Kind, Notification


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[("1", _("Unread only"))],
        empty_label=_("All"),
        method="filter_unread",
    )

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Kind.choices, empty_label=_("All"))

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=True) if value == "1" else queryset
