"""Who acts for which company: an owner's own bindings, and the bindings staff may see (the
companies of their branch subtree)."""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from customers.models import CompanyBinding
from org.selectors import branch_scope_q, is_staff_member


def owner_bindings(*, owner) -> QuerySet[CompanyBinding]:
    """The owner's active and waiting bindings, by company name."""
    return (
        CompanyBinding.objects.filter(user=owner)
        .exclude(status=CompanyBinding.Status.REVOKED)
        .select_related("company")
        .order_by("company__name", "id")
    )


def company_binding_list(*, user, status: str = "") -> QuerySet[CompanyBinding]:
    """Bindings of the companies in the staff member's branch subtree, those waiting first,
    then by company; nothing for anyone else."""
    if not is_staff_member(user):
        return CompanyBinding.objects.none()
    qs = CompanyBinding.objects.filter(branch_scope_q(user, field="company__home_branch"))
    if status in CompanyBinding.Status.values:
        qs = qs.filter(status=status)
    return qs.select_related("company", "user", "decided_by").order_by(
        Case(
            When(status=CompanyBinding.Status.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "company__name",
        "created_at",
        "id",
    )
