from django import template

from customers.models import CompanyBinding

register = template.Library()


@register.simple_tag(takes_context=True)
def acting_for_choices(context) -> list:
    """The companies the signed-in owner may act for, when there are several to choose from
    (the company switcher); empty otherwise."""
    user = getattr(context.get("request"), "user", None)
    if user is None or getattr(user, "applicant_profile", None) is None:
        return []
    companies = [
        binding.company
        for binding in CompanyBinding.objects.filter(user=user, status=CompanyBinding.Status.ACTIVE)
        .select_related("company")
        .only("company__id", "company__name")
        .order_by("company__name")
    ]
    return companies if len(companies) > 1 else []
