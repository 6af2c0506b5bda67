"""The staff pages and the portal, rendered for real users through the test client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import LoanApplication, Status
from audit.models import AuditEvent
from tests.factories import ApplicationFactory, CompanyFactory
from tests.lifecycle import file_draft

pytestmark = pytest.mark.django_db


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "who",
    ["rm", "reviewer", "approver", "committee", "disburser", "checker", "risk", "head", "admin"],
)
def test_it_renders_home_list_and_application_for_every_role(
    client, staff, company, product, api, who
):
    pk = file_draft(api, staff, company, product)
    client_for(client, staff[who])
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "My work" in home.content.decode()
    listing = client.get(reverse("application-list"))
    assert listing.status_code == 200
    page = client.get(reverse("application-detail", args=[pk]))
    assert page.status_code == 200
    assert LoanApplication.objects.get(pk=pk).reference in page.content.decode()


def test_the_home_page_shows_each_role_where_its_work_is(client, staff):
    body = client_for(client, staff["approver"]).get(reverse("home")).content.decode()
    assert "/approvals/queue/" in body
    body = client_for(client, staff["risk"]).get(reverse("home")).content.decode()
    assert "/postloan/" in body
    body = client_for(client, staff["head"]).get(reverse("home")).content.decode()
    assert "/analytics/" in body
    body = client_for(client, staff["rm"]).get(reverse("home")).content.decode()
    assert "Needs my action" in body and "/approvals/queue/" not in body


def test_the_rm_home_lists_my_drafts(client, staff, company, product, api):
    pk = file_draft(api, staff, company, product)
    body = client_for(client, staff["rm"]).get(reverse("home")).content.decode()
    assert reverse("application-detail", args=[pk]) in body


def test_the_list_costs_the_same_queries_for_3_or_30_rows(
    client, staff, branch, product, django_assert_num_queries
):
    def make(n):
        for _ in range(n):
            ApplicationFactory(
                company=CompanyFactory(home_branch=branch),
                product=product,
                filed_by=staff["rm"],
                relationship_manager=staff["rm"],
            )

    make(3)
    client_for(client, staff["approver"])
    url = reverse("application-list")
    client.get(url)  # warm up: the first request may also write the session
    # session, user, groups, staff profile, branch, count, page, products, branches, and
    # whatever the header's optional includes (the notification bell) need: a fixed number.
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    assert len(few) <= 12
    make(27)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert response.content.decode().count('class="badge status-') == 25


def test_the_list_filters_by_status_product_branch_and_search(
    client, staff, branch, other_branch, product
):
    alpha = ApplicationFactory(
        company=CompanyFactory(home_branch=branch, name="Alpha Mill"),
        product=product,
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
    )
    beta = ApplicationFactory(
        company=CompanyFactory(home_branch=branch, name="Beta Foods"),
        product=product,
        status=Status.SUBMITTED,
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
    )
    client_for(client, staff["rm"])
    url = reverse("application-list")
    body = client.get(url, {"status": "submitted"}).content.decode()
    assert beta.reference in body and alpha.reference not in body
    body = client.get(url, {"q": "alpha"}).content.decode()
    assert alpha.reference in body and beta.reference not in body
    body = client.get(url, {"branch": other_branch.pk}).content.decode()
    assert alpha.reference not in body and beta.reference not in body
    body = client.get(url, {"product": product.pk, "status": "nonsense"}).content.decode()
    assert alpha.reference in body and beta.reference in body
    assert "Select a valid choice" in body  # the bad filter is shown, the valid one applied


def test_the_application_page_shows_the_timeline_and_the_allowed_actions(
    client, staff, company, product, api
):
    pk = file_draft(api, staff, company, product)
    body = (
        client_for(client, staff["rm"])
        .get(reverse("application-detail", args=[pk]))
        .content.decode()
    )
    assert 'id="timeline"' in body and "Filed the application" in body
    assert reverse("application-action", args=[pk, "submit"]) in body
    assert reverse("application-action", args=[pk, "withdraw"]) in body
    assert reverse("application-action", args=[pk, "approve"]) not in body


def test_posting_an_action_form_takes_the_transition(client, staff, company, product, api):
    pk = file_draft(api, staff, company, product)
    client_for(client, staff["rm"])
    response = client.post(
        reverse("application-action", args=[pk, "submit"]),
        {"comment": "All papers in"},
        follow=True,
    )
    assert response.status_code == 200
    assert LoanApplication.objects.get(pk=pk).status == Status.SUBMITTED
    event = AuditEvent.objects.filter(application_id=pk, action="submit").get()
    assert event.comment == "All papers in" and event.actor == staff["rm"]
    assert "All papers in" in response.content.decode()


def test_a_forbidden_action_shows_the_refusal_without_a_500(client, staff, company, product, api):
    pk = file_draft(api, staff, company, product)
    client_for(client, staff["approver"])
    response = client.post(reverse("application-action", args=[pk, "submit"]), {})
    assert response.status_code == 403
    assert "may not take the action" in response.content.decode()
    assert LoanApplication.objects.get(pk=pk).status == Status.DRAFT


def test_an_action_not_allowed_in_this_state_answers_409_on_the_page(
    client, staff, company, product, api
):
    pk = file_draft(api, staff, company, product)
    client_for(client, staff["rm"])
    response = client.post(reverse("application-action", args=[pk, "resume"]), {})
    assert response.status_code == 409
    assert 'class="messages"' in response.content.decode()
    assert LoanApplication.objects.get(pk=pk).status == Status.DRAFT


def test_the_simple_form_files_a_draft(client, staff, company, product):
    client_for(client, staff["rm"])
    response = client.post(
        reverse("application-create-simple"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "300000",
            "term_months": 12,
            "interest_rate": "4.35",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
            "purpose": "Stock",
        },
    )
    application = LoanApplication.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == reverse("application-detail", args=[application.pk])
    assert application.status == Status.DRAFT and application.filed_by == staff["rm"]


def test_the_simple_form_shows_the_products_limits_as_field_errors(client, staff, company, product):
    client_for(client, staff["rm"])
    response = client.post(
        reverse("application-create-simple"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "10",
            "term_months": 12,
            "interest_rate": "4.35",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
    )
    assert response.status_code == 400
    assert "The amount must be between" in response.content.decode()
    assert not LoanApplication.objects.exists()


def test_staff_cannot_see_another_branchs_application(client, staff, other_branch, product):
    foreign = ApplicationFactory(company=CompanyFactory(home_branch=other_branch), product=product)
    response = client_for(client, staff["rm"]).get(reverse("application-detail", args=[foreign.pk]))
    assert response.status_code == 404


def test_an_owner_sees_their_own_application_in_the_portal(
    client, owner, staff, company, product, api
):
    pk = file_draft(api, staff, company, product)
    client_for(client, owner)
    home = client.get(reverse("portal-home")).content.decode()
    assert reverse("portal-application", args=[pk]) in home
    page = client.get(reverse("portal-application", args=[pk]))
    assert page.status_code == 200
    assert "Being prepared with your relationship manager." in page.content.decode()


def test_an_owner_gets_404_for_another_companys_application(
    client, owner, staff, branch, product, api
):
    other = CompanyFactory(home_branch=branch)
    pk = file_draft(api, staff, other, product)
    client_for(client, owner)
    assert client.get(reverse("portal-application", args=[pk])).status_code == 404
    assert (
        reverse("portal-application", args=[pk])
        not in client.get(reverse("portal-home")).content.decode()
    )
    assert client.get("/portal/applications/999999/").status_code == 404


def test_an_owner_is_kept_out_of_the_staff_pages(client, owner, staff, company, product, api):
    pk = file_draft(api, staff, company, product)
    client_for(client, owner)
    assert client.get(reverse("home"))["Location"] == reverse("portal-home")
    assert client.get(reverse("application-detail", args=[pk]))["Location"] == reverse(
        "portal-home"
    )


def test_staff_are_redirected_out_of_the_portal(client, staff):
    response = client_for(client, staff["rm"]).get(reverse("portal-home"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_portal_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("portal-home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal-login"))


def test_both_login_pages_log_a_user_in(client, staff, owner):
    response = client.post(
        reverse("login"), {"username": "alice_rm", "password": "pw-Loanflow-2026"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    client.logout()
    response = client.post(
        reverse("portal-login"), {"username": "olivia_owner", "password": "pw-Loanflow-2026"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal-home")


def test_the_language_switch_renders_the_page_in_chinese(client, staff):
    client_for(client, staff["rm"])
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert response.status_code == 200
    assert "我的工作" in response.content.decode()


def test_the_favicon_is_found_and_the_bell_is_drawn_without_an_emoji_font(client, staff):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("loanflow/favicon.svg")
    client.force_login(staff["rm"])
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page and "loanflow/favicon.svg" in page
    assert 'class="bell-icon"' in page and "&#128276;" not in page


def test_the_application_page_names_the_recommended_route_in_words(client, staff, branch):
    application = ApplicationFactory(
        company=CompanyFactory(home_branch=branch),
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        route_recommendation="enhanced",
    )
    client.force_login(staff["rm"])
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "Enhanced review" in page and ">enhanced<" not in page
