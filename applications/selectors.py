import functools

from django.db.models import Q, QuerySet

from applications.models import LoanApplication
from loanflow.errors import NotFound
from org.roles import Role, has_role
from org.selectors import branch_scope_q, is_staff_member


def applicant_company_id(user) -> int | None:
    profile = getattr(user, "applicant_profile", None)
    if profile is None or not has_role(user, Role.APPLICANT):
        return None
    return profile.company_id


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


def application_scope_sql(user, *, alias: str) -> tuple[str, list] | None:
    """application_scope_q as SQL on the application table `alias`, with its parameters;
    None when the user sees nothing."""
    from loanflow.rawsql import quote
    from org.selectors import branch_scope_ids

    if is_staff_member(user):
        ids = branch_scope_ids(user)
        if ids is None:
            return "1 = 1", []
        if not ids:
            return None
        return f"{alias}.{quote('branch_id')} IN ({', '.join(['%s'] * len(ids))})", list(ids)
    company_id = applicant_company_id(user)
    if company_id is not None:
        return f"{alias}.{quote('company_id')} = %s", [company_id]
    return None


def application_list(*, user, filters: dict | None = None) -> QuerySet[LoanApplication]:
    filters = filters or {}
    qs = (
        LoanApplication.objects.filter(application_scope_q(user))
        .select_related("company", "branch", "product", "relationship_manager")
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
            Q(reference__iexact=term) | Q(company__name__icontains=term)
            | Q(company__credit_code__iexact=term)
        )
    return qs.order_by("-created_at", "-id")


def application_get(*, user, pk, for_update: bool = False) -> LoanApplication:
    if for_update:
        application = _application_locked(user=user, pk=pk)
        if application is None:
            raise NotFound()
        return application
    qs = LoanApplication.objects.filter(application_scope_q(user)).select_related(
        "company", "branch", "product", "relationship_manager", "filed_by", "investigator")
    try:
        return qs.get(pk=pk)
    except (LoanApplication.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _application_locked(*, user, pk) -> LoanApplication | None:
    """The application, if the user may see it, locked for update (only its own row), with its
    branch (for the SLA clocks): one statement, in plain SQL, as every transition reads it
    first and composing it through the ORM cost more than running it."""
    from django.db import connection, transaction

    from loanflow.rawsql import fetch_instances

    try:
        pk = int(pk)
    except (ValueError, TypeError):
        return None
    if not 0 < pk < 2**63:  # no such row, and beyond the column's range
        return None
    scope = application_scope_sql(user, alias="a")
    if scope is None:
        return None
    if connection.get_autocommit():
        raise transaction.TransactionManagementError(
            "An application is read for update inside a transaction only.")
    select, columns, read = _locked_read()
    sql = f"{select} AND {scope[0]}"
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"
    elif connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    loaded = fetch_instances(sql, [pk, *scope[1]], columns, read)
    if loaded is None:
        return None
    LoanApplication.branch.field.set_cached_value(loaded["a"], loaded["b"])
    return loaded["a"]


@functools.cache
def _locked_read() -> tuple:
    """The SELECT of an application and its branch up to its WHERE (the id); its columns, and
    the models they fill with their aliases."""
    from loanflow.rawsql import Columns, model_columns, quote, table
    from org.models import Branch

    read = ((LoanApplication, "a"), (Branch, "b"))
    columns = Columns(pair for model, alias in read for pair in model_columns(model, alias))
    sql = (f"SELECT {columns.sql} FROM {table(LoanApplication)} a "
           f"JOIN {table(Branch)} b ON b.{quote('id')} = a.{quote('branch_id')} "
           f"WHERE a.{quote('id')} = %s")
    return sql, columns, read
