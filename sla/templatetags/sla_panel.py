from django import template

register = template.Library()


@register.simple_tag
def application_deadlines(application):
    from sla.selectors import deadline_list_for_application
    from sla.services import _step_label

    deadlines = list(deadline_list_for_application(application=application)[:50])
    for deadline in deadlines:
        deadline.step_label = _step_label(deadline.step)
    return deadlines
