"""The SME owner sees where their paid-out loan stands on the portal: what is paid, what is
due next, what is overdue and since when, the principal still owed; the class in plain words
only where the bank shows it; another company's loan is a 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan.services import repayment_record
from tests.factories import CompanyFactory, make_applicant

from .conftest import TODAY

pytestmark = pytest.mark.django_db

PRINCIPAL, INTEREST = Decimal("1000.00"), Decimal("100.00")


@pytest.fixture
def missed(make_loan, staff, owner):
    """Four instalments of 1,100.00: the first paid, the second (30 days ago) paid 300.00 of,
    the third due in two days, the fourth in a month."""
    loan = make_loan(
        [
            (TODAY - timedelta(days=60), PRINCIPAL, INTEREST),
            (TODAY - timedelta(days=30), PRINCIPAL, INTEREST),
            (TODAY + timedelta(days=2), PRINCIPAL, INTEREST),
            (TODAY + timedelta(days=32), PRINCIPAL, INTEREST),
        ],
        start=TODAY - timedelta(days=90),
    )
    for amount, days_ago in (("1100.00", 60), ("300.00", 10)):
        repayment_record(
            application_id=loan.application_id,
            actor=staff["rm"],
            amount=Decimal(amount),
            value_date=TODAY - timedelta(days=days_ago),
        )
    owner.applicant_profile.preferred_language = "en"
    owner.applicant_profile.save()
    return loan


def test_the_owner_sees_paid_next_due_overdue_since_and_outstanding_of_a_missed_instalment(
    client, api, missed, owner
):
    client.force_login(owner)
    page = client.get(
        reverse("portal-application", args=[missed.application_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    section = page.split('id="loan"')[1].split("</section>")[0]

    # Paid: the first instalment and 300.00 of the second.
    paid = section.split('id="loan-paid">')[1].split("</dd>")[0]
    assert "1,400.00 CNY" in paid and "1 of 4 instalments" in paid
    # Next: the third instalment, in full, on its due date.
    upcoming = section.split('id="loan-next">')[1].split("</dd>")[0]
    assert "1,100.00 CNY" in upcoming
    assert (TODAY + timedelta(days=2)).isoformat() in upcoming
    # Overdue: what is left of the second, since its due date, 30 days.
    missed_on = (TODAY - timedelta(days=30)).isoformat()
    overdue = section.split('id="loan-overdue-amount">')[1].split("</dd>")[0]
    assert "800.00 CNY" in overdue and missed_on in overdue
    notice = section.split('id="loan-overdue">')[1].split("</p>")[0]
    assert "800.00 CNY is overdue" in notice and missed_on in notice and "30 days" in notice
    # Principal still owed: 4,000.00 less 1,000.00 and the 200.00 of principal in the 300.00.
    assert "2,800.00 CNY" in section.split('id="loan-outstanding">')[1].split("</dd>")[0]
    # The repayment history, oldest first.
    history = section.split('id="repayments"')[1]
    assert history.index("1,100.00 CNY") < history.index("300.00 CNY")
    # The bank keeps the class to itself unless it chooses otherwise.
    assert 'id="loan-standing"' not in section

    # The list of their applications shows it too.
    home = client.get(reverse("portal-home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"800.00 CNY overdue since {missed_on}" in home

    data = api(owner).get(reverse("api-portal-application", args=[missed.application_id])).data
    assert {
        key: str(data["loan"][key])
        for key in (
            "paid_total",
            "paid_instalments",
            "next_due_date",
            "next_due_amount",
            "overdue_amount",
            "overdue_since",
            "days_overdue",
            "outstanding_principal",
            "outstanding_total",
        )
    } == {
        "paid_total": "1400.00",
        "paid_instalments": "1",
        "next_due_date": (TODAY + timedelta(days=2)).isoformat(),
        "next_due_amount": "1100.00",
        "overdue_amount": "800.00",
        "overdue_since": missed_on,
        "days_overdue": "30",
        "outstanding_principal": "2800.00",
        "outstanding_total": "3000.00",
    }


def test_where_the_bank_chooses_the_owner_reads_the_class_in_plain_words(
    client, missed, owner, settings
):
    settings.LOANFLOW_PORTAL_SHOWS_CLASSIFICATION = True
    missed.classification = "special_mention"
    missed.save(update_fields=["classification"])
    client.force_login(owner)
    url = reverse("portal-application", args=[missed.application_id])

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    standing = page.split('id="loan-standing">')[1].split("</p>")[0]
    assert (
        standing
        == "The bank is watching your loan more closely. Please talk to your relationship manager."
    )

    client.post(reverse("set_language"), {"language": "zh-hans"})
    page = client.get(url).content.decode()
    assert "银行正在密切关注您的贷款" in page.split('id="loan-standing">')[1].split("</p>")[0]


def test_another_companys_loan_is_a_404_to_the_owner(client, api, make_loan, owner, branch):
    theirs = make_loan(company_=CompanyFactory(home_branch=branch))
    make_applicant(theirs.application.company, username="oscar_owner")
    client.force_login(owner)
    assert (
        client.get(reverse("portal-application", args=[theirs.application_id])).status_code == 404
    )
    response = api(owner).get(reverse("api-portal-application", args=[theirs.application_id]))
    assert response.status_code == 404
