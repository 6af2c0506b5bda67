from django import template

from sla.models import step_label

register = template.Library()

register.filter("step_label", step_label)


@register.simple_tag
def application_deadlines(application):
    from sla.selectors import deadline_list_for_application

    deadlines = list(deadline_list_for_application(application=application)[:50])
    for deadline in deadlines:
        deadline.step_label = step_label(deadline.step)
    return deadlines
