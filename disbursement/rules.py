"""Gates, segregation-of-duties rules and signal receivers of the disbursement stage
(registered from DisbursementConfig.ready)."""

from django.dispatch import receiver
from django.utils.translation import gettext as _

from applications.rules import duty_rule, gate
from applications.signals import application_transitioned


@gate("sign_contract")
def a_contract_is_recorded(application, *, data) -> list[str]:
    from disbursement.models import Contract

    if Contract.objects.filter(application=application).exists():
        return []
    return [_("The signed contract (accept the offer on the portal, or record it).")]


@gate("disburse")
def a_disbursement_is_recorded_and_conditions_are_met(application, *, data) -> list[str]:
    from disbursement.models import Disbursement
    from disbursement.services import unsatisfied_conditions

    missing = []
    if not Disbursement.objects.filter(application=application).exists():
        missing.append(_("A disbursement recorded by a disbursement officer."))
    missing.extend(_("Condition precedent not satisfied: %(text)s") % {"text": text}
                   for text in unsatisfied_conditions(application))
    return missing


@duty_rule("disburse")
def maker_never_checks(application, *, actor, data) -> str | None:
    from disbursement.models import Disbursement

    if actor is None:
        return None
    maker_id = (Disbursement.objects.filter(application=application)
                .values_list("maker_id", flat=True).first())
    if maker_id is not None and maker_id == actor.pk:
        return _("You recorded this disbursement, so another person must confirm it "
                 "(maker-checker).")
    return None


@receiver(application_transitioned, dispatch_uid="disbursement.offer_on_approval")
def make_offer_on_approval(sender, *, application, to_state, **kwargs) -> None:
    if to_state != "approved":
        return
    from disbursement.services import offer_create

    offer_create(application=application)
