from django import template

from approvals.selectors import approval_panel

register = template.Library()


@register.simple_tag
def approval_panel_for(application):
    """The approval panel's data for an application (route, steps, conditions, votes)."""
    return approval_panel(application=application)
