"""The application list's filters, one definition for the staff page and the API.

django-filter parses and validates the query string (a bad value is a field error: 400 in the
API, a form error on the page); the filtering itself is applications.selectors.application_list,
which takes the cleaned values as its `filters` dict."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from applications.models import LoanApplication, Status


class StatusInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`status=submitted,investigation`: one or more statuses, comma-separated."""


class IdFilter(django_filters.Filter):
    """A primary key: a whole number."""

    field_class = forms.IntegerField


class FlagFilter(django_filters.Filter):
    """ "1" or "true" (a checkbox on the page); "0" and "false" read as False."""

    field_class = forms.BooleanField


class ApplicationFilter(django_filters.FilterSet):
    status = StatusInFilter(label=_("Status"), choices=Status.choices)
    product = IdFilter(label=_("Product"))
    branch = IdFilter(label=_("Branch"))
    q = django_filters.CharFilter(label=_("Search"))
    mine = FlagFilter(label=_("Mine only"), widget=forms.TextInput)

    class Meta:
        model = LoanApplication
        fields: list[str] = []

    def selector_filters(self) -> dict:
        """The valid values as application_list's `filters` (an invalid one is left out)."""
        data = self.form.cleaned_data if self.is_valid() else self._valid_fields()
        return {
            "status": ",".join(data.get("status") or []),
            "product": data.get("product"),
            "branch": data.get("branch"),
            "q": (data.get("q") or "").strip(),
            "mine": bool(data.get("mine")),
        }

    def _valid_fields(self) -> dict:
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name not in self.form.errors
        }
