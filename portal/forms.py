"""The portal's sign-up and company forms: what the owner types, with labels; the rules
(codes, passwords, credit codes, ID numbers) are the services'."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from applications.models import GuaranteeType
from common.errors import InvalidInput
from intake.selectors import product_list_published
from org.models import Branch
from portal.verification import address_parse


class PortalLoginForm(AuthenticationForm):
    """The portal's login: an owner's login name is the address they signed up with, stored
    as sign-up normalises it (an e-mail address in lower case, a mobile number as its 11
    digits), so what they type is normalised the same way before the password is checked
    (and before django-axes counts a failure). Other login names are taken as typed."""

    def clean_username(self):
        typed = self.cleaned_data["username"]
        try:
            _channel, address = address_parse(typed)
        except InvalidInput:
            return typed
        return address


class SignUpForm(forms.Form):
    address = forms.CharField(
        label=_("Mobile number or e-mail address"),
        max_length=254,
        help_text=_("We send a six-digit code to it; it is your login name afterwards."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class SignUpVerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 8 characters, not only digits, not a common password and not like your "
            "mobile number or e-mail address."
        ),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class CompanyBindForm(forms.Form):
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        help_text=_("18 characters, on your business licence."),
    )
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    legal_representative = forms.CharField(label=_("Legal representative's name"), max_length=100)
    legal_representative_id = forms.CharField(
        label=_("Legal representative's resident ID number"), max_length=30
    )
    registration_date = forms.DateField(
        label=_("Registration date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("On your business licence."),
    )
    home_branch = forms.ModelChoiceField(
        label=_("Your nearest branch"),
        queryset=Branch.objects.exclude(level=Branch.Level.HEAD_OFFICE).order_by("path"),
        help_text=_("Used if your company is new to the bank."),
    )


class OfferAcceptForm(forms.Form):
    """Accepting the offer on the portal. The rules (the box ticked, the code right, the
    documents unchanged) are disbursement.services.offer_accept's, with its messages."""

    read_confirmed = forms.BooleanField(
        label=_("I have read the offer, its terms and the schedule"), required=False
    )
    otp = forms.CharField(
        label=_("Confirmation code"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    documents_sha256 = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class EligibilityForm(forms.Form):
    """The facts the eligibility check looks at; the company's prefilled where known."""

    product = forms.ChoiceField(label=_("Loan"))
    registration_date = forms.DateField(
        label=_("Registration date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("On your business licence."),
    )
    industry_code = forms.CharField(
        label=_("Industry code"),
        max_length=10,
        help_text=_("GB/T 4754 industry classification, e.g. C13."),
    )
    amount = forms.DecimalField(
        label=_("Amount you need"), max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600)
    guarantee_type = forms.ChoiceField(label=_("Guarantee"), choices=GuaranteeType.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [
            (product.code, product.display_name) for product in product_list_published()
        ]


def apply_errors(form: forms.Form, exc) -> None:
    """A service's InvalidInput as the form's field messages (the rest above the form)."""
    details = getattr(exc, "details", None) or {}
    if not details:
        form.add_error(None, str(exc.message))
    for field, messages in details.items():
        form.add_error(field if field in form.fields else None, [str(m) for m in messages])
