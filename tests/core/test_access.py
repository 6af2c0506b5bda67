"""What a request learns about its user before anything else: roles and branch scope."""

from rest_framework.authtoken.models import Token

from org.auth import ProfileModelBackend, TokenAuthentication
from org.roles import Role, roles_of
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
