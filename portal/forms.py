"""The portal's sign-up and company forms: what the owner types, with labels; the rules
(codes, passwords, credit codes, ID numbers) are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from org.models import Branch


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


def apply_errors(form: forms.Form, exc) -> None:
    """A service's InvalidInput as the form's field messages (the rest above the form)."""
    details = getattr(exc, "details", None) or {}
    if not details:
        form.add_error(None, str(exc.message))
    for field, messages in details.items():
        form.add_error(field if field in form.fields else None, [str(m) for m in messages])
