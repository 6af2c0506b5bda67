"""The pages' forms: the owner's on the portal, the staff's record form. They check the shape
of the input; complaints.services decides (its field messages come back on the form)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import TEXT_MAX_LENGTH, Complaint
from complaints.selectors import complaint_categories
from complaints.services import STAFF_CHANNELS


def _category_choices() -> list[tuple[str, str]]:
    return [(c.code, c.display_name) for c in complaint_categories()]


class PortalComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("What is it about?"))
    application = forms.TypedChoiceField(
        label=_("Which application or loan (optional)"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    text = forms.CharField(
        label=_("What went wrong, and what would you like us to do?"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, applications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()
        self.fields["application"].choices = [("", _("None: about the bank in general"))] + [
            (a.pk, f"{a.reference} · {a.product.display_name}") for a in applications
        ]


class ComplaintRecordForm(forms.Form):
    credit_code = forms.CharField(label=_("Company's unified social credit code"), max_length=18)
    application = forms.CharField(
        label=_("Application reference (optional)"), max_length=20, required=False
    )
    category = forms.ChoiceField(label=_("Category"))
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(c, label) for c, label in Complaint.Channel.choices if c in STAFF_CHANNELS],
    )
    received_at = forms.DateField(
        label=_("Received on (default: today)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    text = forms.CharField(
        label=_("The complaint, in the customer's words"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()

    def received_moment(self):
        """The day given, at this time of day (today: now)."""
        day = self.cleaned_data.get("received_at")
        now = timezone.localtime()
        if day is None or day == now.date():
            return now
        return now.replace(year=day.year, month=day.month, day=day.day)


class TransitionForm(forms.Form):
    text = forms.CharField(required=False, max_length=TEXT_MAX_LENGTH)
