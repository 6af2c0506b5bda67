from django.db.models import Q, QuerySet

from applications.models import LoanApplication
from common.errors import NotFound
from org.roles import Role, has_role
from org.selectors import branch_scope_q, is_sme_owner, is_staff_member


def applicant_company_id(user) -> int | None:
    """The company the SME owner acts for now: their profile's, which customers.services
    keeps to one of their active bindings (none before their first binding is active, or
    once the last is revoked). Read with the user (org.auth): no query."""
    profile = getattr(user, "applicant_profile", None)
    if profile is None or not has_role(user, Role.APPLICANT):
        return None
    return profile.company_id


def is_portal_user(user) -> bool:
    """An SME owner with a company: the portal is their whole product."""
    return is_sme_owner(user) and applicant_company_id(user) is not None


def application_scope_q(user, *, prefix: str = "") -> Q:
    """What the user may see: staff their branch subtree (head office all); an SME owner
    their own company's applications; anyone else nothing. With `prefix` (say
    "application__"), the same filter on a model that points to its application, applied
    on the join rather than through a subquery."""
    if is_staff_member(user):
        return branch_scope_q(user, field=f"{prefix}branch")
    company_id = applicant_company_id(user)
    if company_id is not None:
        return Q(**{f"{prefix}company_id": company_id})
    return Q(pk__in=[])


def company_visible_to(*, user, company) -> bool:
    """Whether staff `user` may see the company's details: it is a customer of a branch in
    their scope, or has an application they may see."""
    if not is_staff_member(user):
        return False
    in_scope = branch_scope_q(user, field="home_branch")
    return (
        type(company).objects.filter(in_scope, pk=company.pk).exists()
        or LoanApplication.objects.filter(application_scope_q(user), company=company).exists()
    )


def application_list(*, user, filters: dict | None = None) -> QuerySet[LoanApplication]:
    filters = filters or {}
    qs = LoanApplication.objects.filter(application_scope_q(user)).select_related(
        "company", "branch", "product", "relationship_manager"
    )
    if filters.get("status"):
        qs = qs.filter(status__in=str(filters["status"]).split(","))
    if filters.get("branch"):
        qs = qs.filter(branch_id=filters["branch"])
    if filters.get("product"):
        qs = qs.filter(product_id=filters["product"])
    if filters.get("mine"):
        qs = qs.filter(relationship_manager=user)
    if filters.get("q"):
        term = filters["q"].strip()
        qs = qs.filter(
            Q(reference__iexact=term)
            | Q(company__name__icontains=term)
            | Q(company__credit_code__iexact=term)
        )
    return qs.order_by("-created_at", "-id")


def application_get(*, user, pk, for_update: bool = False) -> LoanApplication:
    """The application if the user may see it (NotFound otherwise, as for no such row). With
    `for_update` (inside a transaction), its row is locked, and only its own: the joined rows
    are read, not locked."""
    qs = LoanApplication.objects.filter(application_scope_q(user))
    if for_update:
        # The branch comes along for the SLA clocks a transition starts or stops.
        qs = qs.select_related("branch").select_for_update(of=("self",))
    else:
        qs = qs.select_related(
            "company", "branch", "product", "relationship_manager", "filed_by", "investigator"
        )
    try:
        return qs.get(pk=pk)
    except (LoanApplication.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
