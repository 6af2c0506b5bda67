from django import template

from complaints.selectors import complaint_list

register = template.Library()


@register.simple_tag
def application_complaints(application, user) -> list:
    """The complaints about the application the staff member may see, open ones first."""
    return list(complaint_list(user=user).filter(application=application))
