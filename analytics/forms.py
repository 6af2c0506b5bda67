"""The dashboard's filters and the before/after periods, as forms: the page, the CSV export and
the API validate them the same way, and bad input becomes field errors (a 400), never a 500."""

from datetime import timedelta

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import RouteRecommendation

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 3660
BASES = ("business", "calendar")
DATE_FORMATS = ["%Y-%m-%d"]


def _date_field(*, required: bool) -> forms.DateField:
    return forms.DateField(
        required=required,
        input_formats=DATE_FORMATS,
        error_messages={
            "invalid": _("Enter a date as YYYY-MM-DD."),
            "required": _("This date is required."),
        },
    )


class FiltersForm(forms.Form):
    """Period (date_from, date_to, inclusive; the last 90 days by default), branch (its
    subtree), product, route, industry (a GB/T 4754 code or its prefix: "C" is all of
    manufacturing, "C13" one of its divisions) and basis (business or calendar time)."""

    date_from = _date_field(required=False)
    date_to = _date_field(required=False)
    branch = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": _("Choose a branch."), "min_value": _("Choose a branch.")},
    )
    product = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": _("Choose a product."), "min_value": _("Choose a product.")},
    )
    route = forms.ChoiceField(
        required=False,
        choices=RouteRecommendation.choices,
        error_messages={"invalid_choice": _("Choose a route from the list.")},
    )
    industry = forms.CharField(
        required=False,
        max_length=10,
        validators=[
            RegexValidator(
                r"^[A-Za-z][0-9]{0,4}$",
                _("Enter an industry code such as C or C13 (GB/T 4754)."),
            )
        ],
        error_messages={"max_length": _("Enter an industry code such as C or C13 (GB/T 4754).")},
    )
    basis = forms.ChoiceField(
        required=False,
        choices=[(b, b) for b in BASES],
        error_messages={"invalid_choice": _("Choose business or calendar time.")},
    )

    def clean(self):
        data = super().clean()
        if "date_to" in data and data["date_to"] is None:
            data["date_to"] = timezone.localdate()
        if "date_from" in data and data["date_from"] is None:
            end = data.get("date_to") or timezone.localdate()
            data["date_from"] = end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_from", _("The period must start before it ends."))
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("date_from", _("The period may span at most ten years."))
        data["basis"] = data.get("basis") or "business"
        if data.get("industry"):
            data["industry"] = data["industry"].upper()
        return data


class PeriodsForm(forms.Form):
    """The two periods of a before/after comparison (inclusive dates)."""

    before_from = _date_field(required=True)
    before_to = _date_field(required=True)
    after_from = _date_field(required=True)
    after_to = _date_field(required=True)

    def clean(self):
        data = super().clean()
        for side in ("before", "after"):
            start, end = data.get(f"{side}_from"), data.get(f"{side}_to")
            if start and end and start > end:
                self.add_error(f"{side}_from", _("The period must start before it ends."))
        return data


class ComparisonForm(forms.Form):
    """The scorecard's comparison period (date_from2, date_to2, inclusive; both or neither:
    neither is the period just before the filters' period)."""

    date_from2 = _date_field(required=False)
    date_to2 = _date_field(required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from2"), data.get("date_to2")
        if (start is None) != (end is None) and not self.errors:
            missing = "date_to2" if end is None else "date_from2"
            self.add_error(missing, _("Give both dates of the comparison period."))
        elif start and end and start > end:
            self.add_error("date_from2", _("The period must start before it ends."))
        elif start and end and (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("date_to2", _("The period is too long."))
        return data


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """{field: [message, ...]}, as InvalidInput carries them to the API's 400."""
    return {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }
