"""{% disbursement_panel application %} and {% disbursement_portal_panel application %}: the
stage's panels, included by the staff application page and the portal's application page."""

from django import template
from django.conf import settings

from disbursement.selectors import offer_shown_sha256, offer_stage_reached
from disbursement.views import panel_context

register = template.Library()


@register.inclusion_tag("disbursement/_staff_panel.html", takes_context=True)
def disbursement_panel(context, application):
    return panel_context(context.get("request"), application)


@register.inclusion_tag("disbursement/_portal_panel.html", takes_context=True)
def disbursement_portal_panel(context, application):
    """The owner's offer, and while they may accept it, the acceptance form (`offer_form`
    from the page when it comes back with errors) with the digest of what is shown."""
    panel = panel_context(context.get("request"), application)
    if panel["can_accept"]:
        from portal.forms import OfferAcceptForm

        panel["documents_sha256"] = offer_shown_sha256(application, panel["offer"])
        panel["offer_form"] = context.get("offer_form") or OfferAcceptForm()
        panel["code_minutes"] = settings.LOANFLOW_CODE_MINUTES
    return panel


@register.filter
def has_reached_the_offer(application) -> bool:
    return offer_stage_reached(application)
