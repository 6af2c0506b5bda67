"""The demo bank's approvers may approve a rate below the floor (with a reason), so that its
below-floor cases on approver-only routes can be finished; the product's default keeps that
authority for the committee and the risk officers."""

import pytest

from org.permissions import has_role_perm
from org.roles import Role
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_the_demo_gives_its_approvers_the_authority_to_approve_below_the_floor(branch):
    from pricing import demo

    approver = make_staff([Role.APPROVER], branch, username="floor_approver")
    assert not has_role_perm(approver, "pricing.approve_below_floor")
    demo.seed()
    approver = type(approver).objects.get(pk=approver.pk)  # roles are read once per load
    assert has_role_perm(approver, "pricing.approve_below_floor")
