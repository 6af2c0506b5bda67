"""What a request learns about its user before anything else: roles and branch scope."""

import pytest
from rest_framework.authtoken.models import Token

from org.auth import ProfileModelBackend, TokenAuthentication
from org.roles import Role, role_permissions, roles_of
from org.selectors import branch_scope_ids
from tests.factories import BranchFactory, make_staff


def test_a_branch_code_with_an_underscore_scopes_only_its_own_subtree(head_office):
    own = BranchFactory(code="B_1", name="B_1", parent=head_office)
    below = BranchFactory(code="S1", name="S1", parent=own)
    sibling = BranchFactory(code="BX1", name="BX1", parent=head_office)
    user = make_staff([Role.APPROVER, Role.CREDIT_REVIEWER], own, username="uma_approver")
    key = Token.objects.create(user=user).key

    by_token, _token = TokenAuthentication().authenticate_credentials(key)
    by_session = ProfileModelBackend().get_user(user.pk)
    for loaded in (by_token, by_session):
        assert roles_of(loaded) == {Role.APPROVER, Role.CREDIT_REVIEWER}
        assert sorted(branch_scope_ids(loaded)) == sorted([own.pk, below.pk])
        assert sibling.pk not in branch_scope_ids(loaded)


def test_head_office_and_applicants_keep_their_scopes(staff, owner, branch):
    risk = ProfileModelBackend().get_user(staff["risk"].pk)
    assert roles_of(risk) == {Role.RISK_OFFICER}
    assert branch_scope_ids(risk) is None  # head office: every branch
    applicant = ProfileModelBackend().get_user(owner.pk)
    assert Role.RISK_OFFICER not in roles_of(applicant)
    assert branch_scope_ids(applicant) == []


def test_a_token_loads_the_user_with_profile_branch_roles_and_scope_in_one_query(
    staff, branch, django_assert_num_queries
):
    from django.core.exceptions import ObjectDoesNotExist

    key = Token.objects.create(user=staff["approver"]).key
    with django_assert_num_queries(1):
        user, token = TokenAuthentication().authenticate_credentials(key)
        # Read afterwards without a query: the profile, its branch, the missing applicant
        # profile, and the token's user.
        assert user.staff_profile.branch == branch
        assert user.staff_profile.user is user
        assert token.user is user and token.key == key
        with pytest.raises(ObjectDoesNotExist):
            user.applicant_profile  # noqa: B018
    # The roles and the branch scope every scoped request asks for next came in the same
    # query, and are kept on the user for the rest of the request.
    with django_assert_num_queries(0):
        for _ in range(3):
            assert roles_of(user) == {Role.APPROVER}
            assert branch_scope_ids(user) == [branch.pk]
    assert user == staff["approver"] and user.username == "dave_approver"
    # What came with the token is what the groups hold: read again, the same grants.
    with_token = role_permissions(user)
    user.__dict__.pop("_loanflow_roles")
    assert "applications.decide_application" in with_token
    assert role_permissions(user) == with_token


def test_an_applicants_session_user_comes_with_the_applicant_profile(
    owner, company, django_assert_num_queries
):
    from django.core.exceptions import ObjectDoesNotExist

    with django_assert_num_queries(1):
        user = ProfileModelBackend().get_user(str(owner.pk))
        assert user.applicant_profile.company_id == company.pk
        with pytest.raises(ObjectDoesNotExist):
            user.staff_profile  # noqa: B018
    assert roles_of(user) == {Role.APPLICANT} and branch_scope_ids(user) == []


def test_an_unknown_token_or_an_inactive_user_is_refused(staff):
    from rest_framework.exceptions import AuthenticationFailed

    user = staff["approver"]
    key = Token.objects.create(user=user).key
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(key[:-1] + ("0" if key[-1] != "0" else "1"))
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(key)
    assert ProfileModelBackend().get_user(user.pk) is None
    assert ProfileModelBackend().get_user("not-a-number") is None


@pytest.mark.django_db
def test_an_application_read_for_a_transition_is_scoped_and_locks_only_its_own_row(
    staff, owner, company, other_branch, django_assert_num_queries
):
    from django.db import transaction

    from applications.models import LoanApplication
    from applications.selectors import application_get
    from common.errors import NotFound
    from tests.factories import ApplicationFactory

    mine = ApplicationFactory(company=company, filed_by=staff["rm"])
    elsewhere = ApplicationFactory(company=company, filed_by=staff["rm"], branch=other_branch)

    def columns(obj):
        return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}

    expected = LoanApplication.objects.select_related("branch").get(pk=mine.pk)
    for user in (staff["rm"], staff["risk"], owner):
        roles_of(user), branch_scope_ids(user)  # the user's access, as a request loads it
        with transaction.atomic(), django_assert_num_queries(1) as ctx:
            got = application_get(user=user, pk=str(mine.pk), for_update=True)
            assert columns(got) == columns(expected)
            assert columns(got.branch) == columns(expected.branch)  # loaded with it
        sql = ctx.captured_queries[0]["sql"]
        assert sql.endswith('FOR UPDATE OF "applications_loanapplication"'), sql
    with transaction.atomic():
        assert application_get(user=staff["risk"], pk=elsewhere.pk, for_update=True)
        for user, pk in (
            (staff["rm"], elsewhere.pk),
            (staff["rm"], "x"),
            (staff["rm"], 2**63),
            (staff["rm"], 0),
        ):
            with pytest.raises(NotFound):
                application_get(user=user, pk=pk, for_update=True)
