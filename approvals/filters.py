"""The queue's filters, for its page and its API alike."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from approvals.models import ApprovalTask
from org.roles import Role


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.Filter):
    """A checkbox: "1", "on", "yes" or "true" turn it on; "0", "false" or nothing leave the
    filter unapplied."""

    field_class = forms.BooleanField

    def __init__(self, *args, **kwargs):
        # A checkbox widget would read any value it does not know ("0") as on.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class TaskQueueFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    product = django_filters.NumberFilter(field_name="application__product_id")
    branch = django_filters.NumberFilter(field_name="branch_id")
    amount_min = django_filters.NumberFilter(field_name="application__amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="application__amount", lookup_expr="lte")
    grade = django_filters.CharFilter(method="filter_grade")
    overdue = FlagFilter(method="filter_overdue")
    mine = FlagFilter(method="filter_mine")
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = ApprovalTask
        fields = []

    def filter_grade(self, qs, name, value):
        return qs.filter(application__risk_grade=value.strip().upper())

    def filter_overdue(self, qs, name, value):
        return qs.filter(due_at__lt=timezone.now()) if value else qs

    def filter_mine(self, qs, name, value):
        return qs.filter(claimed_by=self.request.user) if value else qs

    def filter_search(self, qs, name, value):
        term = value.strip()
        if not term:
            return qs
        return qs.filter(
            Q(application__reference__iexact=term) | Q(application__company__name__icontains=term)
        )
