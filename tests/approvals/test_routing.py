"""The authority matrix gives each application its route, at and around every threshold."""

from decimal import Decimal

import pytest

from approvals.models import ApprovalRecord, ApprovalTask, MatrixRule, MatrixStep, MatrixVersion
from approvals.selectors import route_compute, short_amount
from tests.factories import ApplicationFactory, ProductFactory

pytestmark = pytest.mark.django_db

T1 = ["credit_review", "tier1"]
T2 = ["credit_review", "tier1", "tier2"]
COMMITTEE = ["credit_review", "tier1", "tier2", "committee"]
FAST = []


@pytest.mark.parametrize(
    ("amount", "grade", "route", "flags", "expected"),
    [
        # Fast track: up to 300,000, grade A/B, fast_track recommendation, no flags.
        ("299999.99", "A", "fast_track", 0, FAST),
        ("300000.00", "B", "fast_track", 0, FAST),
        ("300000.01", "A", "fast_track", 0, T1),
        ("300000.00", "C", "fast_track", 0, T1),
        ("300000.00", "A", "standard", 0, T1),
        ("300000.00", "A", "fast_track", 1, T1),
        # Tier 1 up to 3M inclusive; tier 2 above.
        ("2999999.99", "B", "standard", 0, T1),
        ("3000000.00", "B", "standard", 0, T1),
        ("3000000.01", "B", "standard", 0, T2),
        ("3200000.00", "C", "enhanced", 2, T2),
        # Committee above 10M, or at grade D/E whatever the amount.
        ("10000000.00", "A", "standard", 0, T2),
        ("10000000.01", "A", "standard", 0, COMMITTEE),
        ("100000.00", "D", "standard", 0, COMMITTEE),
        ("100000.00", "E", "fast_track", 0, COMMITTEE),
        ("100000.00", "C", "standard", 0, T1),
    ],
)
def test_the_matrix_gives_the_route_at_and_around_every_threshold(
    matrix, company, amount, grade, route, flags, expected
):
    product = ProductFactory(code="BIG", max_amount=Decimal("50000000"))
    application = ApplicationFactory(
        company=company,
        product=product,
        amount=Decimal(amount),
        risk_grade=grade,
        route_recommendation=route,
        flag_count=flags,
        status="investigation",
    )
    computed = route_compute(application=application)
    assert [s["code"] for s in computed.steps] == expected
    assert computed.fast_track is (expected == FAST)
    assert computed.version == matrix
    assert computed.reason


def test_fast_track_needs_a_fast_track_eligible_product(matrix, company):
    product = ProductFactory(code="NOFT", fast_track_eligible=False)
    application = ApplicationFactory(
        company=company,
        product=product,
        amount=Decimal("100000"),
        risk_grade="A",
        route_recommendation="fast_track",
    )
    assert [s["code"] for s in route_compute(application=application).steps] == T1


def test_the_reason_names_the_rule_and_the_threshold(matrix, company, product):
    application = ApplicationFactory(
        company=company, product=product, amount=Decimal("3200000"), risk_grade="B"
    )
    reason = route_compute(application=application).reason
    assert "3.2M above 3M" in reason
    assert "tier-1 limit of 3M" in reason
    assert short_amount(Decimal("300000")) == "300K"


def test_without_an_active_matrix_the_default_route_applies(company, product):
    application = ApplicationFactory(company=company, product=product)
    computed = route_compute(application=application)
    assert [s["code"] for s in computed.steps] == T1
    assert computed.version is None


def test_the_route_is_fixed_on_entering_approval_with_its_first_task(matrix, in_approval, staff):
    application = in_approval(amount="3200000", grade="B")
    record = ApprovalRecord.objects.get(application=application)
    assert [s["code"] for s in record.route] == T2
    assert record.matrix_version == matrix
    assert "3.2M above 3M" in record.reason
    task = ApprovalTask.objects.get(application=application)
    assert (task.step, task.role, task.status) == ("credit_review", "credit_reviewer", "open")
    assert task.branch == application.branch and task.due_at > record.created_at


def test_a_matrix_change_leaves_fixed_routes_alone(matrix, in_approval, staff, api):
    before = in_approval(amount="3200000", grade="B")
    # v2: everything above 1M goes to the committee.
    v2 = MatrixVersion.objects.create(number=2, name="Stricter")
    for step in matrix.steps.all():
        MatrixStep.objects.create(
            version=v2,
            code=step.code,
            name=step.name,
            role=step.role,
            checks_limit=step.checks_limit,
            is_committee=step.is_committee,
        )
    MatrixRule.objects.create(
        version=v2,
        priority=1,
        name="Committee above 1M",
        amount_above=Decimal("1000000"),
        steps=COMMITTEE,
    )
    MatrixRule.objects.create(version=v2, priority=2, name="Tier 1", steps=T1)
    MatrixVersion.objects.filter(pk=matrix.pk).update(is_active=False)
    MatrixVersion.objects.filter(pk=v2.pk).update(is_active=True)
    # Editing the old version's rules does not touch its fixed routes either.
    MatrixRule.objects.filter(version=matrix).update(steps=["tier1"])

    after = in_approval(amount="3200000", grade="B")
    old = ApprovalRecord.objects.get(application=before)
    new = ApprovalRecord.objects.get(application=after)
    assert [s["code"] for s in old.route] == T2 and old.matrix_version == matrix
    assert [s["code"] for s in new.route] == COMMITTEE and new.matrix_version == v2
    shown = api(staff["reviewer"]).get(f"/api/v1/approvals/applications/{before.pk}/").data
    assert shown["route"] == T2 and shown["matrix_version"] == 1
    assert "3.2M" in shown["reason"]


def test_only_one_matrix_version_can_be_active(matrix):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MatrixVersion.objects.create(number=9, is_active=True)


def test_the_demo_configuration_is_idempotent_and_limits_every_approver(matrix, staff):
    from approvals import demo
    from approvals.models import ApproverLimit, DeclineReason

    demo.seed()
    assert MatrixVersion.objects.count() == 1 and MatrixVersion.objects.get().is_active
    assert MatrixRule.objects.count() == 5
    assert DeclineReason.objects.filter(code="committee_decline").exists()
    assert ApproverLimit.objects.filter(
        user=staff["approver"], grade="A"
    ).get().max_amount == Decimal("5000000")
    assert ApproverLimit.objects.filter(user=staff["committee"]).count() == 5
    assert not ApproverLimit.objects.filter(user=staff["rm"]).exists()


def test_the_approval_panel_names_the_matrix_version_once(matrix, in_approval, staff):
    from django.test import Client
    from django.urls import reverse

    application = in_approval()
    client = Client()
    client.force_login(staff["rm"])
    page = client.get(
        reverse("application-detail", args=[application.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    panel = page[page.index('id="approval-panel-title"') :].split("</section>", 1)[0]
    assert panel.count("matrix v1") == 1
