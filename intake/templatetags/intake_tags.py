from django import template

register = template.Library()


@register.simple_tag
def intake_panel(application, user):
    """Checklist, documents, pre-screen and information requests for the panels."""
    from intake.views import panel_context

    return panel_context(application, user)
