"""An owner binds the companies they act for: at once when the bank's records agree (or the
company is new to the bank), after the branch's confirmation when someone else already acts
for it or the details differ; staff revoke, and the owner of two companies sees only the
company they chose to act for."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from audit.models import AuditEvent
from customers.models import ApplicantProfile, Company, CompanyBinding
from customers.uscc import with_check_character
from notifications.models import EmailDelivery, Notification
from org.roles import Role
from tests.factories import (
    ApplicationFactory,
    CompanyFactory,
    UserFactory,
    make_applicant,
    make_resident_id,
    make_staff,
)

pytestmark = pytest.mark.django_db

NEW_CODE = with_check_character("91310115MA1K4XY80")


@pytest.fixture
def newcomer(db) -> User:
    """Signed up on the portal, no company yet."""
    user = UserFactory(username="13800138000", roles=[Role.APPLICANT])
    ApplicantProfile.objects.create(user=user, phone="13800138000")
    return user


def _claim(client, company_or_code, branch, **changes):
    if isinstance(company_or_code, Company):
        company = company_or_code
        data = {
            "credit_code": company.credit_code,
            "company_name": company.name,
            "legal_representative": company.legal_representative,
            "legal_representative_id": company.legal_representative_id,
        }
    else:
        data = {
            "credit_code": company_or_code,
            "company_name": "Shanghai Lotus Foods Co., Ltd.",
            "legal_representative": "Wang Fang",
            "legal_representative_id": make_resident_id(4242),
        }
    data |= {"registration_date": "2019-05-20", "home_branch": branch.pk}
    data |= changes
    return client.post(reverse("portal-companies"), data)


def test_an_owner_binds_a_company_new_to_the_bank_at_once(client, newcomer, branch):
    client.force_login(newcomer)
    response = _claim(client, NEW_CODE.lower(), branch)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-home")
    company = Company.objects.get(credit_code=NEW_CODE)
    assert company.home_branch == branch
    assert company.legal_representative_id == make_resident_id(4242)
    binding = CompanyBinding.objects.get(user=newcomer)
    assert (binding.company, binding.status, binding.details_matched) == (company, "active", None)
    newcomer.applicant_profile.refresh_from_db()
    assert newcomer.applicant_profile.company == company
    assert client.get(reverse("portal-home")).status_code == 200
    event = AuditEvent.objects.get(action="company_binding_claim")
    assert (event.subject_type, event.subject_id, event.actor_id) == (
        "customers.company",
        company.pk,
        newcomer.pk,
    )
    assert event.data["company_created"] is True and event.to_state == "active"
    assert make_resident_id(4242) not in str(event.data)


def test_matching_legal_representative_binds_a_known_company_at_once(client, newcomer, company):
    client.force_login(newcomer)
    response = _claim(client, company, company.home_branch, legal_representative_id="")
    assert response.status_code == 400  # the ID number is required
    response = _claim(client, company, company.home_branch)
    assert response.status_code == 302
    binding = CompanyBinding.objects.get(user=newcomer)
    assert (binding.status, binding.details_matched) == ("active", True)


def test_bad_credit_code_and_id_number_are_refused_with_field_messages(client, newcomer, branch):
    client.force_login(newcomer)
    response = _claim(
        client,
        NEW_CODE[:-1] + ("0" if NEW_CODE[-1] != "0" else "1"),
        branch,
        legal_representative_id="110101199003071234",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The check character of this unified social credit code is wrong" in page
    assert "The check digit of this resident ID number is wrong" in page
    assert 'id="id_credit_code_error"' in page and 'id="id_legal_representative_id_error"' in page
    assert not CompanyBinding.objects.exists()
    assert not Company.objects.filter(name="Shanghai Lotus Foods Co., Ltd.").exists()


def test_a_second_claimant_waits_for_the_branch_and_sees_nothing_meanwhile(
    client, newcomer, company, owner, staff
):
    ApplicationFactory(company=company, status="submitted")
    client.force_login(newcomer)
    response = _claim(client, company, company.home_branch)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-companies")
    binding = CompanyBinding.objects.get(user=newcomer)
    assert (binding.status, binding.pending_reason) == ("pending", "another_owner")
    # The branch's relationship managers and head hear of it; other roles do not.
    told = set(
        Notification.objects.filter(kind="assignment", url__contains="bindings").values_list(
            "user__username", flat=True
        )
    )
    assert told >= {"alice_rm", "bob_rm", "ivan_head"}
    assert not told & {"carol_reviewer", "dave_approver", "heidi_risk", "olivia_owner"}
    newcomer.applicant_profile.refresh_from_db()
    assert newcomer.applicant_profile.company is None
    assert client.get(reverse("portal-home"))["Location"] == reverse("portal-companies")
    page = client.get(reverse("portal-companies")).content.decode()
    assert "Waiting for the bank" in page
    # A second claim of the same company is a conflict, not a second row.
    assert _claim(client, company, company.home_branch).status_code == 409
    assert CompanyBinding.objects.filter(user=newcomer).count() == 1


def test_a_claim_whose_details_differ_from_the_banks_waits(client, newcomer, company):
    client.force_login(newcomer)
    response = _claim(client, company, company.home_branch, legal_representative="Li Lei")
    assert response.status_code == 302
    binding = CompanyBinding.objects.get(user=newcomer)
    assert (binding.status, binding.pending_reason, binding.details_matched) == (
        "pending",
        "details_differ",
        False,
    )


def test_guessing_a_legal_representatives_details_is_locked_out_by_axes(
    client, newcomer, company, settings
):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    client.force_login(newcomer)
    for n in range(5):
        other = CompanyFactory(home_branch=company.home_branch)
        response = _claim(
            client, other, other.home_branch, legal_representative_id=make_resident_id(9000 + n)
        )
        assert response.status_code in (302, 429)
    response = _claim(client, company, company.home_branch)
    assert response.status_code == 429
    assert not CompanyBinding.objects.filter(user=newcomer, company=company).exists()


@pytest.fixture
def waiting(client, newcomer, company, owner) -> CompanyBinding:
    client.force_login(newcomer)
    _claim(client, company, company.home_branch)
    client.logout()
    return CompanyBinding.objects.get(user=newcomer)


def _decide(client, binding, decision, reason="Met the legal representative at the branch"):
    return client.post(
        reverse("company-binding-decide", args=[binding.pk, decision]), {"reason": reason}
    )


def test_branch_staff_confirm_a_waiting_claim_with_a_reason(client, staff, waiting, newcomer):
    client.force_login(staff["rm"])
    page = client.get(reverse("company-bindings")).content.decode()
    assert f'id="binding-{waiting.pk}"' in page
    assert _decide(client, waiting, "confirm", reason=" ").status_code == 400
    response = _decide(client, waiting, "confirm")
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by) == ("active", staff["rm"])
    assert waiting.reason == "Met the legal representative at the branch"
    newcomer.applicant_profile.refresh_from_db()
    assert newcomer.applicant_profile.company_id == waiting.company_id
    event = AuditEvent.objects.get(action="company_binding_confirm")
    assert (event.actor_id, event.actor_role, event.subject_id) == (
        staff["rm"].pk,
        "relationship_manager",
        waiting.company_id,
    )
    assert event.comment == "Met the legal representative at the branch"
    assert Notification.objects.filter(user=newcomer, kind="decision").count() == 1
    assert _decide(client, waiting, "confirm").status_code == 409


def test_staff_without_the_permission_or_outside_the_branch_cannot_decide(
    client, staff, waiting, other_branch
):
    client.force_login(staff["reviewer"])
    assert client.get(reverse("company-bindings")).status_code == 403
    assert _decide(client, waiting, "confirm").status_code == 403
    elsewhere = make_staff(Role.BRANCH_HEAD, other_branch, username="sam_head")
    client.force_login(elsewhere)
    assert (
        f'id="binding-{waiting.pk}"' not in client.get(reverse("company-bindings")).content.decode()
    )
    assert _decide(client, waiting, "confirm").status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == "pending"


def test_revoking_a_binding_removes_the_owners_access_at_once(client, api, staff, company, owner):
    application = ApplicationFactory(company=company, status="submitted")
    client.force_login(owner)
    assert client.get(reverse("portal-application", args=[application.pk])).status_code == 200
    binding = CompanyBinding.objects.get(user=owner, company=company)
    staff_client = client.__class__()
    staff_client.force_login(staff["head"])
    assert _decide(staff_client, binding, "revoke", reason="Left the company").status_code == 302
    binding.refresh_from_db()
    assert binding.status == "revoked"
    response = client.get(reverse("portal-application", args=[application.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-companies")
    owner_api = api(User.objects.get(pk=owner.pk))
    assert (
        owner_api.get(reverse("api-portal-application", args=[application.pk])).status_code == 403
    )
    event = AuditEvent.objects.get(action="company_binding_revoke")
    assert (event.actor_id, event.to_state, event.comment) == (
        staff["head"].pk,
        "revoked",
        "Left the company",
    )


def test_an_owner_of_two_companies_sees_only_the_company_they_act_for(
    client, api, owner, company, branch
):
    second = CompanyFactory(home_branch=branch, name="Second Trading Co., Ltd.")
    client.force_login(owner)
    assert _claim(client, second, branch).status_code == 302
    assert CompanyBinding.objects.get(user=owner, company=second).status == "active"
    first_app = ApplicationFactory(company=company, status="submitted")
    second_app = ApplicationFactory(company=second, status="submitted")

    def seen(user_client):
        listed = api(User.objects.get(pk=owner.pk)).get(reverse("api-online-application"))
        return {row["id"] for row in listed.data}

    # Still acting for the first company: binding another does not switch.
    assert seen(client) == {first_app.pk}
    assert client.get(reverse("portal-application", args=[second_app.pk])).status_code == 404
    home = client.get(reverse("portal-home")).content.decode()
    assert 'id="company-switcher"' in home and second.name in home

    response = client.post(reverse("portal-company-choose"), {"company": second.pk})
    assert response.status_code == 302
    assert seen(client) == {second_app.pk}
    assert client.get(reverse("portal-application", args=[first_app.pk])).status_code == 404
    assert client.get(reverse("portal-application", args=[second_app.pk])).status_code == 200
    owner_api = api(User.objects.get(pk=owner.pk))
    assert owner_api.get(reverse("api-portal-application", args=[first_app.pk])).status_code == 404

    # A company the owner is not bound to cannot be chosen.
    stranger = CompanyFactory(home_branch=branch)
    assert (
        client.post(reverse("portal-company-choose"), {"company": stranger.pk}).status_code == 404
    )
    assert client.post(reverse("portal-company-choose"), {"company": "x"}).status_code == 404
    assert AuditEvent.objects.filter(action="company_act_for", actor=owner).count() == 1


def test_the_company_is_told_through_every_owner_who_acts_for_it(company, owner, newcomer):
    from notifications.services import applicant_users

    CompanyBinding.objects.create(
        user=newcomer, company=company, status="pending", representative_name="x"
    )
    assert list(applicant_users(company_id=company.pk)) == [owner]
    CompanyBinding.objects.filter(user=newcomer).update(status="active")
    assert list(applicant_users(company_id=company.pk)) == [owner, newcomer]


def test_the_owners_who_act_for_a_company_hear_of_a_second_claim_in_their_language(
    client, newcomer, company, owner, django_capture_on_commit_callbacks
):
    chinese = make_applicant(company, username="zhang_owner")
    chinese.email = "zhang@example.cn"
    chinese.save(update_fields=["email"])
    chinese.applicant_profile.preferred_language = "zh-hans"
    chinese.applicant_profile.save()
    owner.applicant_profile.preferred_language = "en"
    owner.applicant_profile.save()
    other = CompanyFactory(home_branch=company.home_branch)
    stranger = make_applicant(other, username="charlie_owner")  # acts for another company
    client.force_login(newcomer)
    with django_capture_on_commit_callbacks(execute=False):
        assert _claim(client, company, company.home_branch).status_code == 302

    told = Notification.objects.filter(kind="system", url=reverse("portal-companies"))
    assert {(n.user.username, n.title) for n in told} == {
        ("olivia_owner", f"Someone else claims to act for {company.name}"),
        ("zhang_owner", f"有人申请代表{company.name}"),
    }
    english = told.get(user=owner)
    assert "The bank checks the claim with the company before it takes effect." in english.body
    assert newcomer.username not in english.body  # the claimant is not named
    assert not Notification.objects.filter(user__in=[newcomer, stranger], kind="system").exists()
    mails = EmailDelivery.objects.filter(notification__in=told)
    assert {(m.to, m.language) for m in mails} == {
        (owner.email, "en"),
        ("zhang@example.cn", "zh-hans"),
    }


def test_a_claim_that_binds_at_once_or_waits_for_other_reasons_tells_no_owner(
    client, newcomer, company, branch
):
    client.force_login(newcomer)
    assert _claim(client, NEW_CODE, branch).status_code == 302  # new to the bank: at once
    assert _claim(client, company, company.home_branch, legal_representative="Somebody Else")
    assert not Notification.objects.filter(kind="system").exists()
