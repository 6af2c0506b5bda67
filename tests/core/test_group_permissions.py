"""A role's permissions are its group's in the database: editing the group in the admin changes
what its people may do, and segregation of duties applies whatever the group holds."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from applications.services import application_transition
from common.errors import SegregationOfDuties
from org.roles import ROLE_PERMISSIONS, Role, sync_role_groups
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _withdraw(api, user, application):
    url = reverse("api-application-withdraw", args=[application.pk])
    return api(User.objects.get(pk=user.pk)).post(
        url, {"comment": "client withdrew"}, format="json"
    )


def test_a_role_group_is_created_with_its_default_permissions():
    group = Group.objects.get(name=Role.RELATIONSHIP_MANAGER)
    held = {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert held == ROLE_PERMISSIONS[Role.RELATIONSHIP_MANAGER]


def test_a_permission_removed_from_the_group_removes_the_ability(api, staff, company):
    Group.objects.get(name=Role.RELATIONSHIP_MANAGER).permissions.remove(
        _permission("applications.withdraw_application")
    )
    application = ApplicationFactory(company=company, status="submitted", filed_by=staff["rm"])
    response = _withdraw(api, staff["rm"], application)
    assert response.status_code == 403, response.data
    application.refresh_from_db()
    assert application.status == "submitted"


def test_a_permission_added_to_the_group_grants_the_ability(api, staff, company):
    application = ApplicationFactory(company=company, status="submitted", filed_by=staff["rm"])
    assert _withdraw(api, staff["head"], application).status_code == 403
    Group.objects.get(name=Role.BRANCH_HEAD).permissions.add(
        _permission("applications.withdraw_application")
    )
    response = _withdraw(api, staff["head"], application)
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "withdrawn"


def test_the_admins_group_page_changes_what_the_role_may_do(client, staff, company, branch):
    root = User.objects.create_superuser("root", "root@example.com", "pw-Loanflow-2026")
    client.force_login(root)
    group = Group.objects.get(name=Role.BRANCH_HEAD)
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": [_permission("applications.withdraw_application").pk]},
    )
    assert response.status_code == 302
    from org.permissions import has_role_perm

    head = User.objects.get(pk=staff["head"].pk)
    assert has_role_perm(head, "applications.withdraw_application")


def test_segregation_refuses_the_filer_even_if_his_group_may_decide(staff, company):
    Group.objects.get(name=Role.RELATIONSHIP_MANAGER).permissions.add(
        _permission("applications.decide_application")
    )
    rm = User.objects.get(pk=staff["rm"].pk)
    application = ApplicationFactory(company=company, status="in_approval", filed_by=rm)
    with pytest.raises(SegregationOfDuties, match="You filed or manage this application"):
        application_transition(application_id=application.pk, transition="approve", actor=rm)
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_migrating_again_keeps_what_the_admin_set_and_recreates_a_missing_group():
    rm_group = Group.objects.get(name=Role.RELATIONSHIP_MANAGER)
    rm_group.permissions.clear()
    Group.objects.filter(name=Role.RISK_OFFICER).delete()
    sync_role_groups()
    assert not rm_group.permissions.exists()
    risk = Group.objects.get(name=Role.RISK_OFFICER)
    assert risk.permissions.count() == len(ROLE_PERMISSIONS[Role.RISK_OFFICER])


def test_an_api_guarded_by_a_rule_follows_the_group(api, staff):
    url = reverse("api-postloan-daily-job")
    assert api(staff["rm"]).post(url).status_code == 403
    assert api(User.objects.get(pk=staff["risk"].pk)).post(url).status_code == 200
    Group.objects.get(name=Role.RISK_OFFICER).permissions.remove(
        _permission("postloan.triage_alert")
    )
    response = api(User.objects.get(pk=staff["risk"].pk)).post(url)
    assert response.status_code == 403
    assert response.data["code"] == "forbidden"
