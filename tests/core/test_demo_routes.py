"""The demo bank walks: every approval route its authority matrix gives to an application the
demo can produce is finished by the demo's own staff. Each step needs someone who holds its
role, sees the application's branch, has a limit at the grade that covers the amount where the
step checks one, and has acted at no other step of it; a committee needs its quorum of such
members. Everything is read from what `seed_demo` loaded: products, companies, the matrix,
the people and their limits."""

from decimal import Decimal
from io import StringIO
from itertools import product as combinations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from applications.models import LoanApplication, Product, RouteRecommendation
from approvals.models import DEFAULT_ROUTE
from approvals.selectors import approver_limit, matrix_active, route_compute
from customers.models import Company
from org.models import Branch
from org.roles import Role, roles_of
from org.selectors import branch_scope_ids

pytestmark = pytest.mark.django_db

GRADES = "ABCDE"
APPROVAL_ROLES = {Role.CREDIT_REVIEWER, Role.APPROVER, Role.COMMITTEE_MEMBER}
# The review of an automatic (fast-track) approval: any approver in scope, no limit.
POST_REVIEW = {"code": "post_review", "role": Role.APPROVER, "checks_limit": False}


class Person:
    """A demo staff member as the approval rules see them."""

    def __init__(self, user: User):
        self.username = user.username
        self.roles = roles_of(user)
        self.scope = branch_scope_ids(user)  # None: every branch
        currencies = set(Product.objects.values_list("currency", flat=True))
        self.limits = {
            (grade, currency): approver_limit(user=user, grade=grade, currency=currency)
            for grade in GRADES
            for currency in currencies
        }

    def may_take(self, step: dict, case: LoanApplication) -> bool:
        return (
            step["role"] in self.roles
            and (self.scope is None or case.branch_id in self.scope)
            and (
                not step["checks_limit"]
                or self.limits[case.risk_grade, case.currency] >= case.amount
            )
        )


def finishers(steps: list[dict], quorum: int, case, people: list[Person]) -> list | None:
    """One way the route's steps are taken by different people (a committee step by `quorum`
    members), or None when there is none."""
    if not steps:
        return []
    step, rest = steps[0], steps[1:]
    able = [p for p in people if p.may_take(step, case)]
    if step.get("is_committee"):
        if len(able) < quorum:
            return None
        members = able[:quorum]
        after = finishers(rest, quorum, case, [p for p in people if p not in members])
        return None if after is None else [[p.username for p in members], *after]
    for person in able:
        after = finishers(rest, quorum, case, [p for p in people if p is not person])
        if after is not None:
            return [person.username, *after]
    return None


def demo_cases():
    """An application at each amount that matters (each product's bounds and the matrix's
    amount bounds within them, on both sides), each grade, recommended route and flag count,
    without a branch yet."""
    bounds = {
        bound
        for rule in matrix_active().rules.all()
        for bound in (rule.amount_above, rule.amount_up_to)
        if bound is not None
    }
    for product in Product.objects.all():
        amounts = {product.min_amount, product.max_amount} | {
            amount
            for bound in bounds
            for amount in (bound, bound + Decimal("0.01"))
            if product.min_amount <= amount <= product.max_amount
        }
        for amount, grade, recommended, flags in combinations(
            sorted(amounts), GRADES, RouteRecommendation.values, (0, 1)
        ):
            yield LoanApplication(
                product=product,
                amount=amount,
                currency=product.currency,
                risk_grade=grade,
                route_recommendation=recommended,
                flag_count=flags,
            )


def test_every_route_of_the_demo_matrix_can_be_finished_by_the_demo_staff():
    call_command("seed_demo", applications=12, stdout=StringIO(), stderr=StringIO())
    version = matrix_active()
    staff = User.objects.filter(staff_profile__isnull=False).order_by("username")
    people = [Person(user) for user in staff]
    # 审贷分离: the relationship manager who files and investigates holds no approval role.
    assert not [
        p.username
        for p in people
        if Role.RELATIONSHIP_MANAGER in p.roles and p.roles & APPROVAL_ROLES
    ]
    branches = list(Branch.objects.filter(pk__in=Company.objects.values("home_branch")))
    assert len(branches) > 3 and version.committee_quorum == 3

    unfinished, routes_seen = [], set()
    for case in demo_cases():
        route = route_compute(application=case, version=version)
        # A fast-track approval is the system's; a tenth is reviewed by an approver, and one
        # that stops being eligible before the decision goes to people on the default route.
        routes = [[POST_REVIEW], DEFAULT_ROUTE] if route.fast_track else [route.steps]
        for steps, branch in combinations(routes, branches):
            case.branch = branch
            routes_seen.add(tuple(step["code"] for step in steps))
            if finishers(steps, version.committee_quorum, case, people) is None:
                unfinished.append(
                    f"{case.product.code} {case.amount} grade {case.risk_grade} "
                    f"{case.route_recommendation} at {branch.code}: "
                    f"{[step['code'] for step in steps]}"
                )
    assert unfinished == [], f"{len(unfinished)} cases stall, e.g. {unfinished[:10]}"
    # The check saw every kind of route the demo matrix has, the committee's included.
    assert ("credit_review", "tier1", "tier2", "committee") in routes_seen
    assert ("credit_review", "tier1", "tier2") in routes_seen
    assert ("credit_review", "tier1") in routes_seen


def test_the_committee_reaches_its_quorum_and_a_grade_e_case_above_500k_finds_its_approvers():
    call_command("seed_demo", applications=12, stdout=StringIO(), stderr=StringIO())
    version = matrix_active()
    people = [Person(user) for user in User.objects.filter(staff_profile__isnull=False)]
    members = [p for p in people if Role.COMMITTEE_MEMBER in p.roles and p.scope is None]
    assert len(members) >= version.committee_quorum
    case = LoanApplication(
        product=Product.objects.get(code="SME-EQP"),
        amount=Decimal("900000"),
        currency="CNY",
        risk_grade="E",
        route_recommendation="enhanced",
        branch=Branch.objects.get(code="GZ01"),
    )
    route = route_compute(application=case, version=version)
    assert [step["code"] for step in route.steps][-1] == "committee"
    taken = finishers(route.steps, version.committee_quorum, case, people)
    assert taken is not None
    assert len(taken[-1]) == version.committee_quorum


def test_the_demo_takes_a_case_bound_for_the_committee_up_to_its_vote():
    from approvals import demo
    from approvals.models import ApprovalTask
    from tests.factories import ApplicationFactory, CompanyFactory

    call_command("seed_demo", applications=12, stdout=StringIO(), stderr=StringIO())
    rm = User.objects.get(username="rm_gz")
    application = ApplicationFactory(
        company=CompanyFactory(home_branch=Branch.objects.get(code="GZ01")),
        product=Product.objects.get(code="SME-EQP"),
        status="in_approval",
        filed_by=rm,
        relationship_manager=rm,
        investigator=rm,
        amount=Decimal("900000"),
        risk_grade="E",
        route_recommendation="enhanced",
    )
    demo.seed_history([application])
    tasks = ApprovalTask.objects.filter(application=application).order_by("step_index")
    assert [(t.step, t.status) for t in tasks] == [
        ("credit_review", "done"),
        ("tier1", "done"),
        ("tier2", "done"),
        ("committee", "open"),
    ]
    deciders = [t.decided_by.username for t in tasks[:3]]
    assert deciders[0] == "reviewer" and set(deciders[1:]) == {"approver2", "approver3"}
