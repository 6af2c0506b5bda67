"""The predicates the permission rules and the duty rules are written with (org.permissions,
applications.permissions, approvals.permissions)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from applications.permissions import (
    filed_it,
    investigated_it,
    manages_it,
    recorded_the_disbursement,
)
from disbursement.models import Disbursement
from org.permissions import PERMISSIONS, has_role_perm, is_approver, is_relationship_manager
from org.roles import ROLE_PERMISSIONS, Role
from tests.factories import ApplicationFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(company, staff):
    return ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        relationship_manager=staff["rm2"],
        investigator=staff["reviewer"],
    )


def test_a_role_predicate_reads_the_users_groups(staff):
    assert is_relationship_manager(staff["rm"])
    assert not is_relationship_manager(staff["approver"])
    assert is_approver(staff["approver"])
    assert not is_approver(AnonymousUser())


def test_filed_it_manages_it_and_investigated_it_name_who_the_person_is_to_the_application(
    application, staff
):
    assert filed_it(staff["rm"], application) and not filed_it(staff["rm2"], application)
    assert manages_it(staff["rm2"], application) and not manages_it(staff["rm"], application)
    assert investigated_it(staff["reviewer"], application)
    assert not investigated_it(staff["approver"], application)


def test_nobody_investigated_an_application_without_an_investigator(company, staff):
    application = ApplicationFactory(company=company, filed_by=staff["rm"], investigator=None)
    assert not investigated_it(staff["approver"], application)
    assert not investigated_it(AnonymousUser(), application)


def test_the_object_predicates_are_false_without_an_application(staff):
    for predicate in (filed_it, manages_it, investigated_it, recorded_the_disbursement):
        assert not predicate(staff["rm"], None)


def test_recorded_the_disbursement_is_the_maker_only(application, staff):
    assert not recorded_the_disbursement(staff["disburser"], application)
    Disbursement.objects.create(
        application=application,
        account_number="6222000011112222",
        amount=application.amount,
        currency=application.currency,
        value_date=date.today(),
        maker=staff["disburser"],
    )
    assert recorded_the_disbursement(staff["disburser"], application)
    assert not recorded_the_disbursement(staff["checker"], application)


def test_every_permission_a_role_is_created_with_is_a_rule():
    for permissions in ROLE_PERMISSIONS.values():
        for permission in permissions:
            assert PERMISSIONS.rule_exists(permission)


def test_deciding_an_application_is_refused_to_whoever_filed_manages_or_investigated_it(
    application, staff, branch
):
    for key in ("rm", "rm2", "reviewer"):
        user = staff[key]
        user.groups.add(*Group.objects.filter(name=Role.APPROVER))
        user.__dict__.pop("_loanflow_roles", None)
        assert has_role_perm(user, "applications.decide_application")
        assert not has_role_perm(user, "applications.decide_application", application)
    assert has_role_perm(staff["approver"], "applications.decide_application", application)


def test_the_maker_may_not_confirm_the_disbursement_the_checker_may(application, staff):
    staff["disburser"].groups.add(Group.objects.get(name=Role.DISBURSEMENT_CHECKER))
    Disbursement.objects.create(
        application=application,
        account_number="6222000011112222",
        amount=Decimal("1000"),
        currency=application.currency,
        value_date=date.today(),
        maker=staff["disburser"],
    )
    assert has_role_perm(staff["disburser"], "applications.disburse_application")
    assert not has_role_perm(staff["disburser"], "applications.disburse_application", application)
    assert has_role_perm(staff["checker"], "applications.disburse_application", application)


def test_a_superuser_holds_no_rule_without_a_role(branch):
    root = make_staff([], branch, username="root_super", is_superuser=True, is_staff=True)
    assert not any(has_role_perm(root, permission) for permission in PERMISSIONS)


def test_an_unknown_permission_is_refused(staff):
    assert not has_role_perm(staff["rm"], "applications.no_such_thing")


def test_the_roles_and_their_permissions_are_read_in_one_query_per_request(
    staff, django_assert_num_queries
):
    from django.contrib.auth.models import User

    user = User.objects.get(pk=staff["risk"].pk)
    with django_assert_num_queries(1):
        for permission in sorted(PERMISSIONS):
            has_role_perm(user, permission)
        assert is_relationship_manager(user) is False
