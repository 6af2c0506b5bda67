"""The predicates of who may act at an approval step (approvals.permissions)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from approvals.models import ApprovalTask, ApproverLimit
from approvals.permissions import (
    acted_at_another_step,
    holds_the_steps_role,
    may_act_at_the_step,
    within_limit,
)
from approvals.services import task_decide
from org.roles import Role

pytestmark = pytest.mark.django_db


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)


def test_the_reviewer_may_act_at_the_credit_review_and_the_approver_may_not(
    matrix, in_approval, staff
):
    task = ApprovalTask.objects.get(application=in_approval(), step="credit_review")
    assert holds_the_steps_role(staff["reviewer"], task)
    assert may_act_at_the_step(staff["reviewer"], task)
    assert not holds_the_steps_role(staff["approver"], task)
    assert not may_act_at_the_step(staff["approver"], task)


def test_the_filer_may_not_act_at_a_step_even_holding_its_role(matrix, in_approval, staff):
    rm = staff["rm"]
    rm.groups.add(Group.objects.get(name=Role.CREDIT_REVIEWER))
    task = ApprovalTask.objects.get(application=in_approval(), step="credit_review")
    rm = _fresh(rm)
    assert holds_the_steps_role(rm, task)
    assert not may_act_at_the_step(rm, task)


def test_whoever_acted_at_one_step_acted_at_another_step_at_the_next(matrix, in_approval, staff):
    reviewer = staff["reviewer"]
    reviewer.groups.add(Group.objects.get(name=Role.APPROVER))
    application = in_approval()
    review = ApprovalTask.objects.get(application=application, step="credit_review")
    assert not acted_at_another_step(reviewer, review)
    task_decide(task_id=review.pk, actor=_fresh(reviewer), decision="approve", comment="ok")
    tier1 = ApprovalTask.objects.get(application=application, step="tier1")
    assert acted_at_another_step(reviewer, tier1)
    assert not may_act_at_the_step(_fresh(reviewer), tier1)
    assert not acted_at_another_step(staff["approver"], tier1)


def test_within_limit_compares_the_limit_at_the_grade_with_the_amount(matrix, in_approval, staff):
    ApproverLimit.objects.create(user=staff["approver"], grade="C", max_amount=Decimal("500000"))
    application = in_approval(amount="800000", grade="C")
    review = ApprovalTask.objects.get(application=application, step="credit_review")
    assert within_limit(staff["approver"], review)  # the review does not check limits
    task_decide(task_id=review.pk, actor=staff["reviewer"], decision="approve", comment="ok")
    tier1 = ApprovalTask.objects.get(application=application, step="tier1")
    assert not within_limit(staff["approver"], tier1)
    assert within_limit(staff["risk"], tier1)  # the profile's 5M limit
