"""Applicants hear, in plain language, when their application changes status."""

from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from applications.models import Status
from applications.signals import application_transitioned

# What an SME owner is told, per new status (plain language, no internal jargon).
APPLICANT_MESSAGES = {
    Status.SUBMITTED: ("status_change", _("We have received your application"),
                       _("Your application %(ref)s has been received. We will check it and "
                         "let you know what happens next.")),
    Status.INVESTIGATION: ("status_change", _("We are looking at your application"),
                           _("A relationship manager is now looking into application %(ref)s. "
                             "They may visit you or ask for documents.")),
    Status.IN_APPROVAL: ("status_change", _("Your application is being decided"),
                         _("Application %(ref)s is now with the people who decide on loans.")),
    Status.INFO_REQUESTED: ("info_request", _("We need something from you"),
                            _("To continue with application %(ref)s we need more information "
                              "from you. Please sign in to see what is missing.")),
    Status.APPROVED: ("decision", _("Good news: your loan was approved"),
                      _("Application %(ref)s was approved. We will send you the contract to "
                        "sign.")),
    Status.DECLINED: ("decision", _("Your application was not approved"),
                      _("We are sorry: application %(ref)s was not approved. Sign in to see "
                        "the reasons, or talk to your relationship manager.")),
    Status.CONTRACT_SIGNED: ("status_change", _("Your contract is signed"),
                             _("The contract for application %(ref)s is signed. We are "
                               "preparing the payment.")),
    Status.DISBURSED: ("status_change", _("Your loan has been paid out"),
                       _("The money for application %(ref)s has been paid into your account. "
                         "Sign in to see your repayment schedule.")),
    Status.CLOSED: ("status_change", _("Your loan is fully repaid"),
                    _("Loan %(ref)s is fully repaid and closed. Thank you.")),
    Status.WITHDRAWN: ("status_change", _("Your application was withdrawn"),
                       _("Application %(ref)s was withdrawn.")),
}


class _Formatted:
    """A lazy message formatted when rendered (so in the recipient's language)."""

    def __init__(self, message, **params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params


@receiver(application_transitioned, dispatch_uid="notifications_applicant_status")
def tell_applicants(sender, application, transition, from_state, to_state, **kwargs):
    from customers.models import ApplicantProfile
    from notifications.services import notify

    entry = APPLICANT_MESSAGES.get(to_state)
    if entry is None:
        return
    kind, title, body = entry
    profiles = ApplicantProfile.objects.filter(company_id=application.company_id,
                                               user__is_active=True).select_related("user")
    for profile in profiles:
        notify(user=profile.user, kind=kind, title=title,
               body=_Formatted(body, ref=application.reference),
               url=f"/portal/applications/{application.pk}/", application=application)
