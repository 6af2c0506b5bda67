"""The staff application list at a bank's size: read newest first through an index."""

import pytest
from django.db import connection
from django.urls import reverse

from applications.models import LoanApplication
from applications.selectors import application_list
from tests.factories import ApplicationFactory, BranchFactory

pytestmark = pytest.mark.django_db


def _many(template, branches, n):
    """n applications like `template`, spread over `branches`, without the factory's cost."""
    fields = {
        f.attname: getattr(template, f.attname)
        for f in LoanApplication._meta.concrete_fields
        if not f.primary_key and f.attname not in ("reference", "branch_id")
    }
    LoanApplication.objects.bulk_create(
        LoanApplication(**fields, reference=f"LT{i:08d}", branch_id=branches[i % len(branches)].pk)
        for i in range(n)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE applications_loanapplication")


def test_a_branch_list_and_the_head_office_list_are_read_newest_first_from_an_index(
    staff, company, branch, head_office
):
    # A bank of twenty branches: one branch's list is a twentieth of the table.
    branches = [branch] + [
        BranchFactory(code=f"X{i:02d}", name=f"X{i:02d}", parent=head_office) for i in range(19)
    ]
    _many(ApplicationFactory(company=company, filed_by=staff["rm"]), branches, 6000)
    for user, index in ((staff["rm"], "app_branch_recent"), (staff["risk"], "app_recent")):
        plan = application_list(user=user)[:25].explain()
        assert index in plan, plan
        assert "Sort" not in plan, plan  # no sort of the whole branch (or bank) per page


def test_a_list_row_says_what_the_detail_says_of_the_same_application(api, staff, company):
    application = ApplicationFactory(company=company, filed_by=staff["rm"], risk_grade="B")
    client = api(staff["rm"])
    rows = client.get(reverse("api-applications")).json()["results"]
    detail = client.get(reverse("api-application", args=[application.pk])).json()
    (row,) = [row for row in rows if row["id"] == application.pk]
    assert row == {key: detail[key] for key in row}
    assert row["company_name"] == company.name and row["risk_grade"] == "B"
    assert row["relationship_manager_name"] == detail["relationship_manager_name"] != ""
    # A summary: the detail's documents and terms stay on the detail.
    assert "product_snapshot" not in row and "allowed_actions" not in row
