"""Post-loan reacts to the loan record's transitions (inside the transition's transaction)."""

from django.dispatch import receiver

from applications.signals import application_transitioned


@receiver(application_transitioned, dispatch_uid="postloan_open_on_disbursement")
def open_postloan_record(sender, application, transition, from_state, to_state, actor=None,
                         data=None, **kwargs):
    if to_state == "disbursed":
        from postloan.services import loan_open

        loan_open(application=application, actor=actor, data=data or {})
