"""{% disbursement_panel application %} and {% disbursement_portal_panel application %}: the
stage's panels, included by the staff application page and the portal's application page."""

from django import template

from disbursement.selectors import offer_stage_reached
from disbursement.views import panel_context

register = template.Library()


@register.inclusion_tag("disbursement/_staff_panel.html", takes_context=True)
def disbursement_panel(context, application):
    return panel_context(context.get("request"), application)


@register.inclusion_tag("disbursement/_portal_panel.html", takes_context=True)
def disbursement_portal_panel(context, application):
    return panel_context(context.get("request"), application)


@register.filter
def has_reached_the_offer(application) -> bool:
    return offer_stage_reached(application)
